"""The load bench's short form, so that it keeps working: a few simulated users on a real server, over Streamlit's
websocket protocol. It checks that every move was answered and that the moves changed the view; the timings are for
`make bench`, not for a test."""
import random

from tests.bench import follow, load
from tests.e2e.harness import streamlit_server


def test_three_simulated_users_move_the_draw_step_without_errors():
    lines = []
    rows = load.main(["--pages", "draw", "--users", "1", "3", "--moves", "2"], report=lines.append)
    assert [(r["users"], r["moves"], r["errors"]) for r in rows] == [(1, 2, 0), (3, 6, 0)], lines
    assert all(r["p95"] is not None and r["rss_mb"] > 0 for r in rows)
    assert "| /draw | 3 | 6 |" in lines[-1]


def test_a_move_reaches_the_script_and_the_link_and_an_upload_is_captioned():
    with streamlit_server() as (url, _):
        session = load.Session(url, load.CONTROLS["attention"], timeout=120)
        session.open()
        try:
            assert session.widget is not None and session.widget.kind == "slider"
            session.move(random.Random(0))
            assert session.query.startswith("word=")               # the server published the moved value
        finally:
            session.close()
        uploader = load.Session(url, load.CONTROLS["captioning-upload"], timeout=120)
        shown = []
        read = uploader.read_delta
        uploader.read_delta = lambda msg: shown.append(msg.delta.new_element.markdown.body) or read(msg)
        uploader.open()
        try:
            assert uploader.widget.kind == "file_uploader"
            shown.clear()
            uploader.move(random.Random(1))                         # a new photo, uploaded as a browser does
            assert any(body.startswith("### ") for body in shown)  # the photo's caption is the page's heading
            # ... and its pictures (each noun's map, ImageNet's five guesses) loaded from the server, once each
            assert len(uploader.loaded) >= 6 and not uploader.pictures
            assert all(path.startswith("/media/") for path in uploader.loaded)
        finally:
            uploader.close()


def test_three_simulated_students_follow_their_teacher():
    lines = []
    rows = follow.main(["--students", "3", "--moves", "2", "--idle", "2"], report=lines.append)
    (row,) = rows
    assert (row["joined"], row["missed"], row["errors"]) == (3, 0, 0), lines
    assert row["p95"] is not None and row["idle_cores"] >= 0       # six follows timed, one per student and move
    assert "| /manifold | 3 (3) | 2 |" in lines[-1]


def test_uploads_through_two_servers_behind_the_proxy_keep_to_their_server():
    # Each server signs its own XSRF cookie: an upload that reached the other server would be refused (403).
    lines = []
    rows = load.main(["--servers", "2", "--pages", "captioning-upload", "--users", "4", "--moves", "2"],
                     report=lines.append)
    (row,) = rows
    assert (row["users"], row["moves"], row["errors"]) == (4, 8, 0), lines
    assert row["rss_mb"] > 0
