"""The Classroom page through Streamlit's AppTest: the lobby, opening a room (with and without a teacher PIN), joining
by link, the teacher's pacing toggles, and the training lock as a model panel shows it to a student."""
import sqlite3

import pytest
from streamlit.testing.v1 import AppTest

from app.ui.classroom import STUDENT
from engine import rooms
from engine.store import REPO_ROOT
from tests.app.helpers import texts


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """The shipped cpu checkpoints; the cache (and with it the rooms' database) in a folder of this test's own."""
    monkeypatch.setenv("PLAYGROUND_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PLAYGROUND_PRESET", "cpu")
    monkeypatch.delenv(rooms.PIN_ENV, raising=False)


def run(path: str, token: str | None = None, **params) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / path), default_timeout=120)
    if token:
        at.session_state[STUDENT] = token
    for k, v in params.items():
        at.query_params[k] = str(v)
    return at.run()


def room_count() -> int:
    if not rooms.db_path().exists():
        return 0
    with sqlite3.connect(rooms.db_path()) as con:
        return con.execute("SELECT COUNT(*) FROM rooms").fetchone()[0]


def dashboard(code: str, secret: str) -> AppTest:
    at = run("pages/classroom.py", room=code, teacher=secret)
    assert not at.exception
    assert at.title[0].value == f"Class {code}"
    return at


def test_the_lobby_offers_join_and_open_and_explains_a_wrong_code():
    at = run("pages/classroom.py")
    assert not at.exception
    assert at.button(key="classroom:join").label == "Join"
    assert at.button(key="classroom:open").label == "Open a room"
    at.text_input(key="classroom:code").input("zz-zz-zz")
    at.button(key="classroom:join").click().run()
    assert not at.exception
    assert "Could not join: there is no room ZZZZZZ" in texts(at.error)
    assert "room" not in at.query_params


def test_opening_a_room_puts_the_teacher_link_in_the_url_and_shows_the_dashboard():
    at = run("pages/classroom.py")
    at.button(key="classroom:open").click().run()
    assert not at.exception
    code, secret = at.query_params["room"], at.query_params["teacher"]
    assert rooms.is_teacher(code, secret)
    assert at.title[0].value == f"Class {code}"
    assert code in texts(at.markdown)
    assert f"/classroom?room={code}" in texts(at.code)


def test_with_a_teacher_pin_no_room_opens_without_it(monkeypatch):
    monkeypatch.setenv(rooms.PIN_ENV, "4321")
    at = run("pages/classroom.py")
    at.button(key="classroom:open").click().run()
    assert not at.exception
    assert "No room opened" in texts(at.error) and "PIN" in texts(at.error)
    assert "room" not in at.query_params and room_count() == 0
    at.text_input(key="classroom:pin").input("4321")
    at.button(key="classroom:open").click().run()
    assert not at.exception
    assert room_count() == 1 and at.title[0].value == f"Class {at.query_params['room']}"


def test_a_wrong_teacher_key_shows_no_dashboard_and_joins_nobody():
    room, secret = rooms.open_room()
    at = run("pages/classroom.py", room=room.code, teacher="guessed")
    assert not at.exception
    assert "not valid" in texts(at.error)
    assert len(at.title) == 0 and len(at.toggle) == 0
    assert rooms.students(room.code, secret) == []


def test_a_join_link_seats_a_new_student():
    room, secret = rooms.open_room()
    at = run("pages/classroom.py", room=room.code.lower())
    assert not at.exception
    (student,) = rooms.students(room.code, secret)
    assert at.session_state[STUDENT] == student.token
    assert f"You are **{student.label}**" in texts(at.success)
    assert at.query_params["room"] == room.code


def test_the_dashboard_toggles_pace_the_room():
    room, secret = rooms.open_room()
    at = dashboard(room.code, secret)
    assert at.toggle(key="classroom:training").value is False
    at.toggle(key="classroom:training").set_value(True).run()
    assert rooms.room(room.code).training is True
    at.toggle(key="classroom:paused").set_value(True).run()
    assert rooms.room(room.code).paused is True
    at.multiselect(key="classroom:pages").select("manifold").select("draw").run()
    assert not at.exception
    assert set(rooms.room(room.code).pages) == {"manifold", "draw"}
    at.toggle(key="classroom:paused").set_value(False).run()
    assert rooms.room(room.code).paused is False and rooms.room(room.code).training is True
    again = dashboard(room.code, secret)          # a fresh dashboard shows the room as it is
    assert again.toggle(key="classroom:training").value is True
    assert set(again.multiselect(key="classroom:pages").value) == {"manifold", "draw"}


def train_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if str(b.key).endswith(":train")]


def test_a_locked_student_sees_no_train_button_until_the_teacher_allows_it():
    room, secret = rooms.open_room()
    student = rooms.join(room.code)
    at = run("pages/draw.py", student.token)
    assert not at.exception
    assert train_buttons(at) == []
    assert "Training is off in this class" in texts(at.caption)
    rooms.settle(room.code, secret, training=True)
    at = run("pages/draw.py", student.token)
    assert not at.exception
    assert train_buttons(at) == ["Retrain"]
    assert "Training is off in this class" not in texts(at.caption)


def test_a_student_whose_room_closed_is_told_the_class_ended():
    room, secret = rooms.open_room()
    student = rooms.join(room.code)
    rooms.close(room.code, secret)
    at = run("app/main.py", student.token)
    assert not at.exception
    assert "Your class has ended" in texts(at.sidebar.info)
    assert STUDENT not in at.session_state
    assert at.title[0].value == "Deep Learning Playground"      # Home, as for anyone


def test_a_paused_student_gets_the_same_view_back():
    room, secret = rooms.open_room()
    student = rooms.join(room.code)
    at = AppTest.from_file(str(REPO_ROOT / "app" / "main.py"), default_timeout=120)
    at.session_state[STUDENT] = student.token
    at.switch_page("../pages/manifold.py")
    at.query_params["alpha"] = "0.75"
    at.run()
    assert not at.exception
    assert at.slider(key="manifold:alpha").value == 0.75
    rooms.settle(room.code, secret, paused=True)
    at.run()
    assert at.title[0].value.endswith("Look up") and len(at.slider) == 0
    rooms.settle(room.code, secret, paused=False)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Manifold interpolation"
    assert at.slider(key="manifold:alpha").value == 0.75
    assert at.segmented_control(key="manifold:view").value == "interpolate"
