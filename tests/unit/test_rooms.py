"""engine.rooms: a classroom's room (teacher checks, joining, class state, snapshots, polls, export, concurrent
writers) and the training locks and seats it gives engine.api; every test once in SQLite and once in a real Redis."""
import csv
import io
import multiprocessing
import sqlite3
import time
import zipfile

import pytest
from PIL import Image

from engine import api, jobs, rooms, store, tables
from engine.rooms import NotTeacher, RoomError, TrainingLocked
from engine.train import build_model

pytestmark = pytest.mark.usefixtures("cache", "no_shipped", "room_store")


@pytest.fixture
def room():
    opened, secret = rooms.open_room()
    return opened.code, secret


@pytest.fixture
def student(room):
    return rooms.join(room[0])


@pytest.fixture
def no_wait(monkeypatch):
    monkeypatch.setattr(rooms, "SNAPSHOT_EVERY", 0.0)     # a student may send snapshots back to back


def png(color=(200, 30, 30), size=(16, 12)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


# ---- lifecycle ----------------------------------------------------------------------------------------------


def test_open_room_gives_a_code_and_a_secret(room):
    code, secret = room
    assert len(code) == rooms.CODE_LENGTH == 6 and set(code) <= set(rooms.CODE_ALPHABET)
    assert secret and rooms.is_teacher(code, secret)
    opened = rooms.room(code)
    assert opened.open and opened.version == 0 and opened.seq == 0 and not opened.training and opened.poll is None
    assert rooms.room(" " + code[:3].lower() + " " + code[3:].lower() + " ").code == code


def test_closed_room_refuses_reading_and_joining(room):
    code, secret = room
    rooms.close(code, secret)
    for call in (rooms.room, rooms.join):
        with pytest.raises(RoomError, match="closed"):
            call(code)
    with pytest.raises(RoomError, match="no room"):
        rooms.room("")


def test_expired_room(room, student):
    code, _ = room
    with tables.tables(rooms.db_path()).writing() as t:
        t.update("rooms", code, expires=time.time() - 1)
    for call in (lambda: rooms.room(code), lambda: rooms.join(code), lambda: rooms.student(student.token)):
        with pytest.raises(RoomError, match="expired"):
            call()


@pytest.mark.parametrize("hours, kept", [(0, 1), (0.1, 1), (5, 5), (100, 12)])
def test_hours_are_clamped(hours, kept):
    opened, _ = rooms.open_room(hours=hours)
    assert rooms.HOURS == (1, 12)
    assert opened.expires - opened.created == pytest.approx(kept * 3600)


# ---- teacher checks -----------------------------------------------------------------------------------------

TEACHER_ACTIONS = {
    "bring": lambda code, s: rooms.bring(code, s, "gan", {"k": "2"}),
    "settle": lambda code, s: rooms.settle(code, s, training=True),
    "close": lambda code, s: rooms.close(code, s),
    "students": lambda code, s: rooms.students(code, s),
    "snapshots": lambda code, s: rooms.snapshots(code, s),
    "snapshot_png": lambda code, s: rooms.snapshot_png(code, s, 1),
    "show_snapshot": lambda code, s: rooms.show_snapshot(code, s, 1),
    "ask": lambda code, s: rooms.ask(code, s, "gan", "Which?", ["a", "b"]),
    "polls": lambda code, s: rooms.polls(code, s),
    "reveal": lambda code, s: rooms.reveal(code, s, 1),
    "export": lambda code, s: rooms.export(code, s),
}


@pytest.mark.parametrize("action", sorted(TEACHER_ACTIONS))
def test_teacher_actions_refuse_anyone_else(action, room, student):
    code, secret = room
    rooms.send_snapshot(student.token, "gan", {}, png(), "a view")
    rooms.ask(code, secret, "gan", "Q?", ["x", "y"])
    before = rooms.room(code)
    for wrong in (student.token, "", secret + "x", secret.upper() if secret != secret.upper() else "nope"):
        with pytest.raises(NotTeacher):
            TEACHER_ACTIONS[action](code, wrong)
        assert not rooms.is_teacher(code, wrong)
    assert rooms.room(code) == before
    TEACHER_ACTIONS[action](code, secret)          # and the teacher may


def test_teacher_pin(room, student, monkeypatch):
    monkeypatch.setenv(rooms.PIN_ENV, "4711")
    for pin in ("", "0000"):
        with pytest.raises(NotTeacher, match="PIN"):
            rooms.open_room(pin=pin)
    code, secret = room
    assert rooms.open_room(pin="4711")[0].open
    assert rooms.bring(code, "4711", "draw", {}).page == "draw"
    assert rooms.bring(code, secret, "gan", {}).page == "gan"                # the room's own secret still works
    with pytest.raises(NotTeacher):
        rooms.bring(code, student.token, "gan", {})


# ---- joining ------------------------------------------------------------------------------------------------


def test_labels_are_unique_and_tokens_find_their_student(room):
    code, secret = room
    joined = [rooms.join(code) for _ in range(50)]
    assert len({s.label for s in joined}) == 50 and len({s.token for s in joined}) == 50
    assert {s.label for s in rooms.students(code, secret)} == {s.label for s in joined}
    found, in_room = rooms.student(joined[7].token)
    assert found.label == joined[7].label and found.following and in_room.code == code
    rooms.seen(joined[7].token, "draw", False)
    found, _ = rooms.student(joined[7].token)
    assert found.page == "draw" and not found.following and found.connected
    with pytest.raises(RoomError, match="not in a room"):
        rooms.student("not-a-token")


def test_room_is_full_at_max_students(room, monkeypatch):
    monkeypatch.setattr(rooms, "MAX_STUDENTS", 3)
    for _ in range(3):
        rooms.join(room[0])
    with pytest.raises(RoomError, match="full"):
        rooms.join(room[0])


# ---- class state --------------------------------------------------------------------------------------------


def test_bring_moves_seq_and_version(room):
    code, secret = room
    first = rooms.bring(code, secret, "gan", {"k": 2, "seed": "7"})
    second = rooms.bring(code, secret, "draw", {})
    assert (first.seq, first.version, first.page, first.query) == (1, 1, "gan", {"k": "2", "seed": "7"})
    assert (second.seq, second.version, second.page) == (2, 2, "draw")
    assert rooms.room(code) == second


def test_settle_stores_pacing(room):
    code, secret = room
    settled = rooms.settle(code, secret, live=1, paused=True, pages=["gan", "draw"], training=True)
    assert (settled.live, settled.paused, settled.pages, settled.training) == (True, True, ("gan", "draw"), True)
    assert settled.seq == 0 and settled.version == 1
    assert rooms.settle(code, secret, pages=()).pages == () and rooms.room(code).live
    with pytest.raises(ValueError, match="pacing"):
        rooms.settle(code, secret, volume=11)


def test_oversized_view_is_refused(room):
    code, secret = room
    with pytest.raises(RoomError, match=f"over {rooms.MAX_QUERY_BYTES} bytes"):
        rooms.bring(code, secret, "gan", {"x": "a" * rooms.MAX_QUERY_BYTES})
    assert rooms.room(code).version == 0


# ---- training locks and seats -------------------------------------------------------------------------------


def test_student_training_is_locked_while_off(room, student, tiny):
    with pytest.raises(TrainingLocked, match="turned training off"):
        api.start_job("dae2d", tiny, owner=student.token)
    with pytest.raises(TrainingLocked):
        api.cancel_job("dae2d", tiny, owner=student.token)
    root = jobs.jobs_root()
    assert not root.exists() or not [p for p in root.iterdir() if p.is_dir()]
    for anyone in ("", "cli", "some-browser-session", room[1]):
        rooms.may_train(anyone)
        assert rooms.seat(anyone) == ""
    rooms.settle(room[0], room[1], training=True)
    rooms.may_train(student.token)


def test_seats_are_per_student_and_found_first(room, spec, tiny):
    code, secret = room
    rooms.settle(code, secret, training=True)
    seats = {rooms.seat(rooms.join(code).token) for _ in range(5)}
    assert len(seats) == 5
    assert all(s and s.isalnum() and s == s.lower() for s in seats)
    seat = seats.pop()
    assert jobs.job_key("dae2d", tiny, seat) != jobs.job_key("dae2d", tiny) and seat in jobs.job_key("dae2d", tiny, seat)
    state = build_model(spec, tiny).state_dict()
    store.save_cached("dae2d", tiny, state, {"score": 0.1}, [[1, 1.0]], 1.0)
    own = store.save_cached("dae2d", tiny, state, {"score": 0.9}, [[1, 0.5]], 1.0, seat=seat)
    assert own.source == "own" and own.path.is_relative_to(store.checkpoints_root(seat))
    found = store.find("dae2d", tiny, seat)[0]
    assert (found.source, found.metrics, found.path) == ("own", {"score": 0.9}, own.path)
    assert store.find("dae2d", tiny)[0].source == "cached" and store.find("dae2d", tiny)[0].metrics == {"score": 0.1}
    assert store.find("dae2d", tiny, seats.pop())[0].source == "cached"          # another student sees the class's


def test_student_job_trains_into_their_seat(room, student, tiny, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_THREADS", "1")
    monkeypatch.setenv("PLAYGROUND_DEVICE", "cpu")
    monkeypatch.setenv(jobs.SLOTS_ENV, "1")
    rooms.settle(*room, training=True)
    seat = rooms.seat(student.token)
    started = api.start_job("dae2d", tiny, owner=student.token)
    try:
        assert started.key == jobs.job_key("dae2d", tiny, seat) and started.key.startswith(seat + ".")
        assert api.job_status("dae2d", tiny) is None                             # the class has no job
        deadline = time.monotonic() + 60
        while (job := api.job_status("dae2d", tiny, owner=student.token)).active and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job.state == "done", job
    finally:
        api.cancel_job("dae2d", tiny, owner=student.token)
    assert store.find("dae2d", tiny, seat)[0].source == "own"
    assert store.find("dae2d", tiny)[0] is None                                  # the class's checkpoint untouched


# ---- snapshots ----------------------------------------------------------------------------------------------


def test_snapshots_are_stored_listed_and_read(room, student, no_wait):
    code, secret = room
    red, blue = png(), png((0, 0, 255))
    first = rooms.send_snapshot(student.token, "gan", {"k": 3}, red, "  FID   12.5\n\tbetter ")
    second = rooms.send_snapshot(student.token, "draw", {}, blue, "x" * 500)
    listed = rooms.snapshots(code, secret)
    assert [s.id for s in listed] == [second, first]
    assert (listed[1].label, listed[1].page, listed[1].query, listed[1].summary, listed[1].shown) == \
        (student.label, "gan", {"k": "3"}, "FID 12.5 better", False)
    assert listed[0].summary == "x" * rooms.MAX_SUMMARY and not hasattr(listed[0], "png")
    assert rooms.snapshot_png(code, secret, first) == red and rooms.snapshot_png(code, secret, second) == blue
    assert rooms.snapshot_png(code, secret, 10**6) is None


@pytest.mark.parametrize("image, message", [(b"GIF89a" + b"\0" * 20, "not a PNG"), ("text", "not a PNG"),
                                            (b"\x89PNG\r\n\x1a\n" + bytes(rooms.MAX_PNG_BYTES), "at most 300 kB")])
def test_snapshot_refuses_bad_images(room, student, image, message):
    with pytest.raises(RoomError, match=message):
        rooms.send_snapshot(student.token, "gan", {}, image, "")
    assert rooms.snapshots(*room) == []


def test_snapshot_rate_and_room_limits(room, student, monkeypatch):
    rooms.send_snapshot(student.token, "gan", {}, png(), "one")
    with pytest.raises(RoomError, match="one snapshot every 5 s"):
        rooms.send_snapshot(student.token, "gan", {}, png(), "two")
    rooms.send_snapshot(rooms.join(room[0]).token, "gan", {}, None, "another student is not held back")
    monkeypatch.setattr(rooms, "SNAPSHOT_EVERY", 0.0)
    monkeypatch.setattr(rooms, "MAX_SNAPSHOTS", 3)
    rooms.send_snapshot(student.token, "gan", {}, png(), "three")
    with pytest.raises(RoomError, match="holds its 3 snapshots"):
        rooms.send_snapshot(student.token, "gan", {}, png(), "four")
    assert len(rooms.snapshots(*room)) == 3
    with pytest.raises(RoomError, match="not in a room"):
        rooms.send_snapshot("not-a-token", "gan", {}, png(), "")


def test_show_snapshot_brings_the_class_there(room, student):
    code, secret = room
    sent = rooms.send_snapshot(student.token, "landscape", {"lr": "0.1"}, png(), "sharp minimum")
    shown = rooms.show_snapshot(code, secret, sent)
    assert (shown.page, shown.query, shown.seq) == ("landscape", {"lr": "0.1"}, 1)
    assert rooms.snapshots(code, secret)[0].shown
    with pytest.raises(RoomError, match="no such snapshot"):
        rooms.show_snapshot(code, secret, sent + 1)


# ---- polls --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("question, options, answer", [
    ("  ", ["a", "b"], None), ("Q?", ["a"], None), ("Q?", ["a", " ", ""], None), ("Q?", ["a", "a "], None),
    ("Q?", [str(i) for i in range(rooms.MAX_OPTIONS + 1)], None), ("Q?", ["a", "b"], 2), ("Q?", ["a", "b"], -1)])
def test_ask_validates(room, question, options, answer):
    with pytest.raises(RoomError):
        rooms.ask(*room, "gan", question, options, answer)
    assert rooms.polls(*room) == [] and rooms.room(room[0]).poll is None


def test_votes_count_and_replace(room, student):
    code, secret = room
    asked = rooms.ask(code, secret, "gan", "Which wins?", ["GAN", "VAE", "tie"], answer=0, answer_note="FID 12")
    assert rooms.room(code).poll == asked.id and asked.open and asked.counts == (0, 0, 0)
    others = [rooms.join(code) for _ in range(3)]
    rooms.vote(student.token, asked.id, 1)
    for other in others:
        rooms.vote(other.token, asked.id, 0)
    rooms.vote(student.token, asked.id, 2)                                       # changes their mind
    assert rooms.poll(code, asked.id).counts == (3, 0, 1) and rooms.poll(code, asked.id).votes == 4
    assert rooms.my_vote(student.token, asked.id) == 2 and rooms.my_vote(rooms.join(code).token, asked.id) is None
    with pytest.raises(RoomError, match="not one of"):
        rooms.vote(student.token, asked.id, 3)
    revealed = rooms.reveal(code, secret, asked.id)
    assert revealed.revealed and not revealed.open and revealed.counts == (3, 0, 1)
    with pytest.raises(RoomError, match="closed"):
        rooms.vote(student.token, asked.id, 0)


def test_new_poll_closes_the_previous(room, student):
    code, secret = room
    first = rooms.ask(code, secret, "gan", "First?", ["a", "b"])
    second = rooms.ask(code, secret, "gan", "Second?", ["c", "d"])
    assert rooms.room(code).poll == second.id
    assert [(p.id, p.open) for p in rooms.polls(code, secret)] == [(first.id, False), (second.id, True)]
    with pytest.raises(RoomError, match="closed"):
        rooms.vote(student.token, first.id, 0)
    rooms.vote(student.token, second.id, 1)


# ---- export -------------------------------------------------------------------------------------------------


def test_export_holds_gallery_polls_and_images(room, student, no_wait):
    code, secret = room
    images = [png((10, 200, 10)), png((0, 0, 0), (8, 8))]
    ids = [rooms.send_snapshot(student.token, "gan", {"k": i}, image, f"result {i}") for i, image in enumerate(images)]
    rooms.send_snapshot(student.token, "", {}, None, "no image")
    asked = rooms.ask(code, secret, "draw", "Glimpses?", ["3", "8"], answer=1, answer_note="8 is sharper")
    rooms.vote(student.token, asked.id, 1)
    archive = zipfile.ZipFile(io.BytesIO(rooms.export(code, secret)))
    gallery = list(csv.DictReader(io.StringIO(archive.read("gallery.csv").decode())))
    assert [(r["student"], r["result"], r["view"]) for r in gallery] == \
        [(student.label, "result 0", "k=0"), (student.label, "result 1", "k=1"), (student.label, "no image", "")]
    assert gallery[2]["image"] == ""
    for row, image, i in zip(gallery, images, ids):
        assert int(row["id"]) == i and archive.read(row["image"]) == image
    assert len([n for n in archive.namelist() if n.endswith(".png")]) == 2
    table = list(csv.DictReader(io.StringIO(archive.read("polls.csv").decode())))
    assert [(r["option"], r["votes"], r["measured_answer"], r["note"]) for r in table] == \
        [("3", "0", "", ""), ("8", "1", "yes", "8 is sharper")]


# ---- concurrent writers and a restart ------------------------------------------------------------------------


def crowd(code: str, poll_id: int, n: int) -> None:
    """One server process: n students join, look around and vote."""
    # A forked process opens a connection of its own (the parent's is keyed by its pid).
    for i in range(n):
        token = rooms.join(code).token
        rooms.seen(token, "gan", i % 2 == 0)
        rooms.vote(token, poll_id, i % 2)
        rooms.vote(token, poll_id, i % 3)


def test_concurrent_writers_lose_nothing(room, room_store):
    code, secret = room
    asked = rooms.ask(code, secret, "gan", "Q?", ["a", "b", "c"])
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=crowd, args=(code, asked.id, 10)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * 4
    joined = rooms.students(code, secret)
    assert len(joined) == 40 and len({s.label for s in joined}) == 40 and {s.page for s in joined} == {"gan"}
    assert rooms.poll(code, asked.id).counts == (16, 12, 12)            # each student's last vote: i % 3
    if room_store == "sqlite":
        with sqlite3.connect(rooms.db_path()) as con:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_room_survives_a_restart(room, student):
    code, secret = room
    rooms.bring(code, secret, "gan", {"k": "4"})
    asked = rooms.ask(code, secret, "gan", "Q?", ["a", "b"])
    rooms.vote(student.token, asked.id, 1)
    tables.close_all()                                  # the server stops: its connections close
    restarted = rooms.room(code)
    assert (restarted.page, restarted.query, restarted.seq, restarted.poll) == ("gan", {"k": "4"}, 1, asked.id)
    assert rooms.student(student.token)[0].label == student.label and rooms.poll(code, asked.id).counts == (0, 1)
    assert rooms.is_teacher(code, secret)


# ---- typed input that must be refused or made harmless -------------------------------------------------------


def test_non_ascii_secret_or_pin_is_refused_not_crashing(room, monkeypatch):
    code, secret = room
    monkeypatch.setenv(rooms.PIN_ENV, "1234")
    assert not rooms.is_teacher(code, "é") and rooms.is_teacher(code, "1234")
    with pytest.raises(NotTeacher):
        rooms.open_room(pin="é")


@pytest.mark.parametrize("page", ["../../evil", "GAN", "a" * 41, "gan/../x"])
def test_page_names_are_checked(room, student, page, no_wait):
    code, secret = room
    for call in (lambda: rooms.bring(code, secret, page, {}), lambda: rooms.seen(student.token, page, True),
                 lambda: rooms.send_snapshot(student.token, page, {}, None, "x"),
                 lambda: rooms.ask(code, secret, page, "Q?", ["a", "b"]),
                 lambda: rooms.settle(code, secret, pages=[page])):
        with pytest.raises(RoomError, match="not a page"):
            call()


def test_export_outlives_the_room_and_defuses_formulas(room, student):
    code, secret = room
    rooms.send_snapshot(student.token, "gan", {}, png(), "=HYPERLINK(\"http://x\")")
    rooms.close(code, secret)
    archive = zipfile.ZipFile(io.BytesIO(rooms.export(code, secret)))
    row = next(csv.DictReader(io.StringIO(archive.read("gallery.csv").decode())))
    assert row["result"].startswith("'=")
    with pytest.raises(NotTeacher):
        rooms.export(code, "wrong")


def test_a_damaged_database_is_refused_not_crashing(room, tmp_path, monkeypatch, room_store):
    if room_store == "sqlite":
        monkeypatch.setenv("PLAYGROUND_CACHE", str(tmp_path / "other"))
        rooms.db_path().parent.mkdir(parents=True)
        rooms.db_path().write_bytes(b"not a database, " * 100)
    else:                                               # a Redis server that is not there
        from tests.e2e.harness import free_port
        monkeypatch.setattr(tables, "WAIT_SECONDS", 1)
        monkeypatch.setenv(tables.REDIS_ENV, f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(RoomError, match="cannot be used"):
        rooms.join("ABCDEF")
    assert not rooms.is_teacher("ABCDEF", "x")
    with pytest.raises(RoomError, match="cannot be used"):
        rooms.open_room()
