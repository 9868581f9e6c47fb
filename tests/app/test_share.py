"""Send to class on every page, through Streamlit's AppTest on the shipped checkpoints: a classroom student's
snapshot carries the page's view (its URL query), a thumbnail of its main figure and a one-line result."""
import io

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from app.ui.classroom import SNAP_KEY, STUDENT, THUMB_BOX
from engine import rooms
from engine.store import REPO_ROOT
from tests.app.helpers import texts

PNG = b"\x89PNG\r\n\x1a\n"

# (page file, url path, a view other than the default, what the summary says of that view)
PAGES = [
    ("embeddings.py", "embeddings", {"query": "river", "a": "paris", "b": "france", "c": "tokyo"},
     ["GloVe", "river ~ ", "paris : france = tokyo : "]),
    ("manifold.py", "manifold", {"a_cls": 7, "b_cls": 1, "alpha": 0.25}, ["test 7 -> test 1 at 0.25", "looks like a"]),
    ("draw.py", "draw", {"seed": 3, "step": 5}, ["generate, attention on, seed 3 at step 5 of 16"]),
    ("gan.py", "gan", {"t_step": 0}, ["ring, nonsaturating", "ring modes", "at step 0"]),
    ("attention.py", "attention", {"word": 2}, ["RNNsearch, word 2 '", "attends most to '"]),
    ("captioning.py", "captioning", {"scene": 3}, ["object words look inside their object's box", "enlarged: "]),
    ("captioning.py", "captioning", {"src": "photo", "photo": "coffee"}, ["“A cup on a dining table.”",
                                                                          "ImageNet: espresso", "enlarged: “cup”"]),
    ("loss_surface.py", "loss-surface", {"x0": 1.0, "y0": 0.5}, ["saddle from (1, 0.5), step 80 of ", "lowest f"]),
]


@pytest.fixture
def shipped_only(tmp_path, monkeypatch):
    """The shipped cpu checkpoints; the cache (and with it the rooms' database) in a folder of this test's own."""
    monkeypatch.setenv("PLAYGROUND_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PLAYGROUND_PRESET", "cpu")


def page(file: str, token: str | None, params: dict) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "pages" / file), default_timeout=180)
    if token:
        at.session_state[STUDENT] = token
    for k, v in params.items():
        at.query_params[k] = str(v)
    return at.run()


@pytest.mark.usefixtures("shipped_only")
@pytest.mark.parametrize("file,url_path,params,says", PAGES, ids=[p[1] for p in PAGES])
def test_a_student_sends_the_view_its_figure_and_result(file, url_path, params, says):
    room, secret = rooms.open_room()
    student = rooms.join(room.code)
    at = page(file, student.token, params)
    assert not at.exception
    at.sidebar.button(key=SNAP_KEY).click().run()
    assert not at.exception
    assert "Sent to the class." in texts(at.sidebar.success), texts(at.sidebar.warning)
    (shot,) = rooms.snapshots(room.code, secret)
    assert shot.page == url_path and shot.label == student.label
    assert shot.query == dict(at.query_params)
    assert all(str(v) == shot.query[k] for k, v in params.items())
    assert 0 < len(shot.summary) < rooms.MAX_SUMMARY
    for said in says:
        assert said in shot.summary, shot.summary
    png = rooms.snapshot_png(room.code, secret, shot.id)
    assert png.startswith(PNG)
    assert Image.open(io.BytesIO(png)).width <= THUMB_BOX[0] and Image.open(io.BytesIO(png)).height <= THUMB_BOX[1]


@pytest.mark.usefixtures("shipped_only")
def test_no_send_button_outside_a_room():
    at = page("draw.py", None, {})
    assert not at.exception
    assert SNAP_KEY not in [b.key for b in at.sidebar.button]
