"""The classroom as every page sees it: a student's seat and a teacher's bar, in the sidebar of every page.

A student (joined on the Classroom page) follows the teacher: a fragment re-reads the room every FOLLOW_EVERY
seconds (one indexed SQLite read) and, when the teacher has brought the class somewhere new, switches to that page
and view. The student can step away and come back, sees a "look up" screen while the class is paused, only the
pages the teacher allows, no training controls unless the teacher allows training, and can send their view to
the class. A teacher (holding the room's secret in this browser session) brings the class to the page and view
they are on, or turns on live follow: every change of their view is then pushed as they make it.
"""
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

import streamlit as st
from PIL import Image

from app.ui import catalog
from engine import api

FOLLOW_EVERY = 0.6            # seconds between a follower's looks at the room: the class moves within about 1 s
HEARTBEAT_EVERY = 10.0        # seconds between writes of "still here, on this page"
THUMB_BOX = (360, 480)        # a snapshot's thumbnail fits in this many pixels (width, height)

STUDENT = "classroom:student"           # the student's room token
NOW = "classroom:now"                   # the Seat read at the start of this session's latest full run
TEACHER = "classroom:teacher"           # (code, secret) of the room this session teaches
FOLLOWING = "classroom:following"
SEEN = "classroom:seen"                 # (room version, seq) this student's page last acted on
PAGE = "classroom:page"                 # the url path of the page this session is on
RESET = "classroom:reset"               # a page whose view must be taken from the URL alone (a follow landed)
PUSHED = "classroom:pushed"             # the (page, query) the teacher last pushed
BEAT = "classroom:beat"                 # (time, page, following) of the student's last heartbeat
SNAP_KEY = "classroom:send"
BACK = "classroom:back_now"             # follow was turned back on: go where the class is


@dataclass(frozen=True)
class Seat:
    student: api.rooms.Student
    room: api.rooms.Room


def seat() -> Seat | None:
    """This session's place in a room as a student, or None (not in a room, or the room is over)."""
    token = st.session_state.get(STUDENT)
    if not token:
        return None
    try:
        return Seat(*api.rooms.student(token))
    except api.RoomError:
        return None


def seat_now() -> Seat | None:
    """seat() as read by gate() at the start of this run (a page run on its own, without the entry, reads it)."""
    return st.session_state[NOW] if NOW in st.session_state else seat()


def teaching() -> tuple[str, str] | None:
    """(code, secret) when this session is a room's teacher."""
    held = st.session_state.get(TEACHER)
    return held if held and api.rooms.is_teacher(*held) else None


def owner() -> str:
    """Who asks the engine for training: a room's student by their token (the engine applies the room's rules),
    anyone else by an anonymous id of this browser session."""
    return st.session_state.get(STUDENT) or st.session_state.setdefault("classroom:owner", secrets.token_hex(8))


def training_allowed() -> bool:
    """Whether this session may train: anyone but a room's student while their teacher has training off (as the
    room was at the start of this run; the engine checks again when asked)."""
    current = seat_now()
    return current is None or current.room.training


def view_query() -> dict:
    return {k: st.query_params[k] for k in st.query_params}


# ------------------------------------------------------------------------------------------------ following

def page_file(url_path: str) -> str:
    """The entry-relative path st.switch_page takes for a url path ("" is Home, and so is a page not served here)."""
    if url_path == "classroom":
        return "../pages/classroom.py"
    served = {p.url_path: p for p in catalog.available()}
    return f"../pages/{served[url_path].file.name}" if url_path in served else "home.py"


def go(page: str, query: dict) -> None:
    """Show (page, query) as the teacher has it: the page reads its whole view from the URL (values missing from
    it are back at their defaults)."""
    st.session_state[RESET] = page
    if page == st.session_state.get(PAGE):
        st.query_params.from_dict(query)
        st.rerun(scope="app")
    st.switch_page(page_file(page), query_params=query)


def take_reset(page: str) -> bool:
    """True once after a follow landed on `page` (the page kit then resets its view to the URL's)."""
    if st.session_state.get(RESET) == page:
        del st.session_state[RESET]
        return True
    return False


def _heartbeat(current: Seat) -> None:
    now = time.time()
    page, following = st.session_state.get(PAGE, ""), bool(st.session_state.get(FOLLOWING, True))
    last = st.session_state.get(BEAT)
    if last is None or last[1:] != (page, following) or now - last[0] > HEARTBEAT_EVERY:
        api.rooms.seen(current.student.token, page, following)
        st.session_state[BEAT] = (now, page, following)


@st.fragment(run_every=FOLLOW_EVERY)
def _watch() -> None:
    """A follower's look at the room: nothing happens unless the room changed."""
    current = seat()
    if current is None:
        leave()
        st.rerun(scope="app")
    _heartbeat(current)
    room = current.room
    version, seq = st.session_state.get(SEEN, (room.version, room.seq))
    if room.version == version:
        return
    st.session_state[SEEN] = (room.version, room.seq)
    if st.session_state.get(FOLLOWING, True) and room.seq != seq:
        go(room.page, room.query)
    st.rerun(scope="app")


def leave() -> None:
    for name in (STUDENT, NOW, FOLLOWING, SEEN, BEAT):
        st.session_state.pop(name, None)


def join(code: str) -> Seat:
    """Join a room as a new anonymous student, following the teacher (RoomError when it cannot be joined)."""
    student = api.rooms.join(code)
    leave()
    st.session_state[STUDENT] = student.token
    st.session_state[FOLLOWING] = True
    current = seat()
    st.session_state[SEEN] = (current.room.version, current.room.seq)
    return current


def synced_toggle(label: str, key: str, current: bool, on_change: Callable[[bool], None], **kwargs) -> bool:
    """A toggle showing a value kept elsewhere (the room, this session): set from it on every run, and
    on_change(new value) when the user flips it, so that two widgets for one value never disagree."""
    st.session_state[key] = current
    return st.toggle(label, key=key, on_change=lambda: on_change(st.session_state[key]), **kwargs)


def _follow_changed(following: bool) -> None:
    st.session_state[FOLLOWING] = following
    st.session_state[BACK] = following           # turned back on: go where the class is (after the callbacks)


def back_to_class(current: Seat) -> None:
    st.session_state[FOLLOWING] = True
    st.session_state[SEEN] = (current.room.version, current.room.seq)
    go(current.room.page, current.room.query)


def _student_bar(current: Seat, page: str) -> bool:
    room = current.room
    with st.sidebar:
        st.markdown(f"**Class {room.code}** · you are **{current.student.label}**")
        following = synced_toggle("Follow the teacher", "classroom:follow_toggle",
                                  bool(st.session_state.get(FOLLOWING, True)), _follow_changed,
                                  help="On: your page moves with the teacher's. Off: explore on your own.")
        if not following and st.button("Back to class", icon=":material/group:", key="classroom:back"):
            back_to_class(current)
        if st.session_state.pop(BACK, False):
            back_to_class(current)
        _watch()
        if room.poll is not None:
            _poll_box(current.student.token, room)
    if room.paused and page != "classroom":
        st.title(":material/visibility: Look up")
        st.header("The teacher has paused the class.")
        st.caption("Your page comes back when the teacher resumes.")
        return False
    if room.pages and page not in room.pages and page != "classroom":
        st.warning("Your teacher has limited the class to these pages:", icon=":material/lock:")
        for allowed in room.pages:
            st.page_link(page_file(allowed), label=page_title(allowed))
        return False
    return True


def _poll_box(token: str, room) -> None:
    """The class's poll: answer while it is open; once revealed, the class's answers and the page's measurement."""
    poll = api.rooms.poll(room.code, room.poll)
    with st.container(border=True, key="classroom_poll"):
        st.markdown(f"**Poll:** {poll.question}")
        mine = api.rooms.my_vote(token, poll.id)
        if poll.open:
            choice = st.radio("Your answer", range(len(poll.options)), format_func=lambda i: poll.options[i],
                              index=mine, key=f"classroom:poll:{poll.id}", label_visibility="collapsed")
            if choice is not None and choice != mine:
                try:
                    api.rooms.vote(token, poll.id, choice)
                except api.RoomError as e:
                    st.warning(f"Not counted: {e}.")
                else:
                    st.caption("Answer counted; you can change it while the poll is open.")
        elif poll.revealed:
            for i, (option, n) in enumerate(zip(poll.options, poll.counts)):
                mark = " ← measured" if i == poll.answer else ""
                st.markdown(f"{option}: **{n}**{' (you)' if i == mine else ''}{mark}")
            if poll.answer_note:
                st.caption(poll.answer_note)
        else:
            st.caption("The poll is closed; the teacher will reveal the answer.")


def page_title(url_path: str) -> str:
    served = {p.url_path: p.title for p in catalog.available()}
    return {"classroom": "Classroom", **served}.get(url_path, "Home")


# ------------------------------------------------------------------------------------------------ teaching

def _teacher_bar(code: str, secret: str, page: str) -> None:
    room = api.rooms.room(code)
    with st.sidebar:
        st.markdown(f"**Teaching class {room.code}**")
        if page != "classroom" and st.button("Bring class here", icon=":material/campaign:", key="classroom:bring",
                     help="Every following student switches to this page and view."):
            api.rooms.bring(code, secret, page, view_query())
            st.session_state[PUSHED] = (page, view_query())
            st.toast("The class is on its way to your view.")
        synced_toggle("Live follow", "classroom:live", room.live, lambda on: set_live(code, secret, on),
                      help="Bring the class along on every change of your view.")
        st.page_link(page_file("classroom"), label="Class dashboard", icon=":material/dashboard:")


def set_live(code: str, secret: str, on: bool) -> None:
    api.rooms.settle(code, secret, live=on)
    st.session_state.pop(PUSHED, None)           # the next publish brings the class to the current view


def moved(page: str) -> None:
    """The teacher's view changed (the page kit calls this after publishing its URL): with live follow on, the
    class comes along."""
    held = st.session_state.get(TEACHER)
    if not held:
        return
    view = (page, view_query())
    if st.session_state.get(PUSHED) == view:
        return
    try:
        room = api.rooms.room(held[0])
        if room.live:
            api.rooms.bring(*held, *view)
            st.session_state[PUSHED] = view
    except api.RoomError:
        return


def gate(page: str) -> bool:
    """The classroom's part of every page, run before it: the sidebar bar, following, pause and page limits.
    False when the page must not be shown now (the reason is shown instead)."""
    st.session_state[PAGE] = page
    st.session_state[NOW] = None
    held = teaching()
    if held:
        _teacher_bar(*held, page)
        return True
    current = st.session_state[NOW] = seat()
    if current is None:
        if st.session_state.get(STUDENT):
            leave()
            st.sidebar.info("Your class has ended (the room closed or expired).", icon=":material/school:")
        return True
    return _student_bar(current, page)


# ------------------------------------------------------------------------------------------------ snapshots

def thumbnail(png: bytes) -> bytes:
    """The PNG shrunk to fit THUMB_BOX (its proportions kept)."""
    picture = Image.open(BytesIO(png)).convert("RGB")
    picture.thumbnail(THUMB_BOX, Image.LANCZOS)
    buffer = BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def share(page: str, summary: Callable[[], str], figure: Callable[[], bytes | None]) -> None:
    """A student's "Send to class" button for this page (once per run): its view (URL), a thumbnail of its main
    figure and a one-line result, both made only when pressed."""
    current = seat_now()
    if current is None:
        return
    if st.sidebar.button("Send to class", icon=":material/send:", key=SNAP_KEY,
                         help="Your view, its figure and result go to the teacher's gallery."):
        try:
            png = figure()
            api.rooms.send_snapshot(current.student.token, page, view_query(), thumbnail(png) if png else None,
                                    summary())
        except api.RoomError as e:
            st.sidebar.warning(f"Not sent: {e}.", icon=":material/schedule:")
        except OSError as e:                    # PIL could not read the page's figure
            st.sidebar.warning(f"Not sent: the page's figure could not be made into a thumbnail ({e}).")
        else:
            st.sidebar.success("Sent to the class.", icon=":material/check:")
