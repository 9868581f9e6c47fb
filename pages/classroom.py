"""Classroom: a teacher opens a room and drives the class; students join it with a code, no accounts, no names."""
import functools
import io
from urllib.parse import urlencode

import pandas as pd
import segno
import streamlit as st

from app.ui import catalog, charts, classroom, resources
from engine import api

GALLERY_EVERY = 2.0          # seconds between refreshes of the teacher's live panels
GALLERY_COLUMNS = 4


def base_url() -> str:
    """The server's address as this browser reaches it (what students must type)."""
    url = st.context.url or ""
    if url:
        return url.split("/classroom")[0].rstrip("/")
    host = st.context.headers.get("Host") or "127.0.0.1:8501"
    return f"http://{host}"


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=14, border=2)   # readable from the back of a room
    return buffer.getvalue()


def room_errors_shown(view):
    """The view, with a room that closed, expired or cannot be read shown as a message instead of a traceback."""
    @functools.wraps(view)
    def shown(*args):
        try:
            view(*args)
        except api.RoomError as e:
            st.warning(f"The classroom is not available: {e}.", icon=":material/school:")
    return shown


def all_pages() -> list[str]:
    return [""] + [p.url_path for p in catalog.available()]


# ------------------------------------------------------------------------------------------------ no room yet

def lobby() -> None:
    st.title("Classroom")
    st.markdown("A teacher opens a room and brings the class to a view; students join with the room's code, no "
                "account and no name: each gets an anonymous animal.")
    left, right = st.columns(2)
    with left.container(border=True):
        st.subheader("Join a class")
        code = st.text_input("Room code", max_chars=12, key="classroom:code", placeholder="e.g. K7QX3M")
        if st.button("Join", type="primary", icon=":material/login:", key="classroom:join"):
            join(code)
    with right.container(border=True):
        st.subheader("Teach a class")
        hours = st.slider("Open for (hours)", *api.rooms.HOURS, value=api.rooms.DEFAULT_HOURS, key="classroom:hours")
        pin = ""
        if api.rooms.pin_required():
            pin = st.text_input("Teacher PIN", type="password", key="classroom:pin",
                                help="This server was started with a teacher PIN.")
        if st.button("Open a room", icon=":material/add_circle:", key="classroom:open"):
            try:
                room, secret = api.rooms.open_room(hours, pin)
            except api.RoomError as e:
                st.error(f"No room opened: {e}.")
            else:
                st.session_state[classroom.TEACHER] = (room.code, secret)
                st.query_params.from_dict({"room": room.code, "teacher": secret})
                st.rerun()


def join(code: str) -> None:
    try:
        current = classroom.join(code)
    except api.RoomError as e:
        st.error(f"Could not join: {e}.")
        return
    st.query_params.from_dict({"room": current.room.code})
    st.rerun()


# ------------------------------------------------------------------------------------------------ a student

@room_errors_shown
def student_view(current: classroom.Seat) -> None:
    room = current.room
    st.title(f"Class {room.code}")
    st.success(f"You are **{current.student.label}**. Nobody sees your name; the teacher sees this label with what "
               f"you send.", icon=":material/pets:")
    st.markdown("With **Follow the teacher** on (left), your page moves when the teacher brings the class "
                "somewhere. Turn it off to explore; **Back to class** returns. On any page, **Send to class** sends "
                "your view and its result to the teacher's gallery.")
    if room.page or room.seq:
        st.page_link(classroom.page_file(room.page), label=f"Where the class is: {classroom.page_title(room.page)}",
                     icon=":material/group:")
    if st.button("Leave the class", icon=":material/logout:", key="classroom:leave"):
        classroom.leave()
        st.query_params.clear()
        st.rerun()


# ------------------------------------------------------------------------------------------------ the teacher

@room_errors_shown
def teacher_view(code: str, secret: str) -> None:
    room = api.rooms.room(code)
    st.query_params.from_dict({"room": code, "teacher": secret})       # the dashboard's link stays the teacher's
    st.title(f"Class {room.code}")
    link = f"{base_url()}/classroom?{urlencode({'room': room.code})}"
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"Students open **{base_url()}/classroom** and type the code, or scan the QR code:")
        st.markdown(f"<div style='font-size:5rem;font-weight:700;letter-spacing:0.3rem'>{room.code}</div>",
                    unsafe_allow_html=True)
        st.code(link, language=None)
        if base_url().startswith(("http://127.", "http://localhost")):
            st.warning("This address only works on this machine. To let a room in, start the server with "
                       "`make run HOST=0.0.0.0` and open this page at the machine's network address.",
                       icon=":material/wifi_off:")
        st.caption(f"Open until {pd.Timestamp(room.expires, unit='s', tz='UTC'):%H:%M UTC}. Keep this page's link "
                   f"to yourself: it holds your teacher key.")
    right.image(qr_png(link), caption="Scan to join", width=320, output_format="PNG")
    st.fragment(class_panel, run_every=GALLERY_EVERY)(code, secret)
    pacing(code, secret, room)
    st.divider()
    st.fragment(gallery, run_every=GALLERY_EVERY)(code, secret)
    st.divider()
    st.fragment(polls, run_every=GALLERY_EVERY)(code, secret)
    st.divider()
    st.subheader("End of class")
    left, right = st.columns(2)
    left.download_button("Download gallery and polls (zip)", lambda: api.rooms.export(code, secret),
                         file_name=f"class-{room.code}.zip", mime="application/zip", icon=":material/download:",
                         key="classroom:export", on_click="ignore")
    if right.button("Close the room", icon=":material/door_front:", key="classroom:close"):
        api.rooms.close(code, secret)
        del st.session_state[classroom.TEACHER]
        st.query_params.clear()
        st.rerun()


@room_errors_shown
def class_panel(code: str, secret: str) -> None:
    students = [s for s in api.rooms.students(code, secret) if s.connected]
    following = sum(s.following for s in students)
    a, b, c = st.columns(3)
    a.metric("Connected", len(students))
    b.metric("Following you", following)
    c.metric("Exploring", len(students) - following)
    if students:
        where = pd.Series([classroom.page_title(s.page) for s in students]).value_counts()
        st.markdown("**Where they are:** " + " · ".join(f"{page} **{n}**" for page, n in where.items()))


def pacing(code: str, secret: str, room) -> None:
    st.subheader("Pace the class")
    a, b, c = st.columns(3)
    with a:
        classroom.synced_toggle("Pause the class", "classroom:paused", room.paused,
                                lambda on: api.rooms.settle(code, secret, paused=on),
                                help="Students see a 'look up' screen until you resume.")
    with b:
        classroom.synced_toggle("Live follow", "classroom:live_dash", room.live,
                                lambda on: classroom.set_live(code, secret, on),
                                help="Followers move with every change of your view.")
    with c:
        classroom.synced_toggle("Students may train", "classroom:training", room.training,
                                lambda on: api.rooms.settle(code, secret, training=on),
                                help="Off: no Train / Retrain / Cancel for students, and the engine refuses them. "
                                     "On: a student's training is their own; the class keeps its checkpoints.")
    st.session_state["classroom:pages"] = list(room.pages)
    st.multiselect("Students may open", all_pages(), key="classroom:pages", format_func=classroom.page_title,
                   placeholder="every page", on_change=lambda: api.rooms.settle(
                       code, secret, pages=tuple(st.session_state["classroom:pages"])))
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    target = left.selectbox("Bring the class to", all_pages(), format_func=classroom.page_title,
                            key="classroom:target")
    if right.button("Bring class", icon=":material/campaign:", key="classroom:bring_to"):
        api.rooms.bring(code, secret, target, {})
        st.toast(f"The class is on its way to {classroom.page_title(target)}.")
    st.caption("On any page, **Bring class here** in the sidebar brings them to your exact view.")


@room_errors_shown
def gallery(code: str, secret: str) -> None:
    shots = api.rooms.snapshots(code, secret)
    st.subheader(f"Gallery ({len(shots)})")
    if not shots:
        st.caption("Students' snapshots appear here as they send them (Send to class, in their sidebar).")
        return
    compare = st.session_state.setdefault("classroom:compare", [])
    cols = st.columns(GALLERY_COLUMNS)
    for i, shot in enumerate(shots):
        with cols[i % GALLERY_COLUMNS].container(border=True, key=f"classroom_shot_{shot.id}"):
            png = api.rooms.snapshot_png(code, secret, shot.id)
            if png:
                st.image(png, width="stretch", output_format="PNG")
            st.markdown(f"**{shot.label}** · {classroom.page_title(shot.page)}")
            st.caption(shot.summary or "(no result line)")
            if st.button("Show to class", key=f"classroom:show:{shot.id}", icon=":material/cast:", width="stretch"):
                api.rooms.show_snapshot(code, secret, shot.id)
                st.toast(f"Showing {shot.label}'s view to the class.")
            picked = st.checkbox("Compare", value=shot.id in compare, key=f"classroom:cmp:{shot.id}")
            if picked and shot.id not in compare:
                compare.append(shot.id)
            elif not picked and shot.id in compare:
                compare.remove(shot.id)
    chosen = [s for s in shots if s.id in compare][:2]
    if len(chosen) == 2:
        st.markdown("**Side by side**")
        for col, shot in zip(st.columns(2), chosen):
            png = api.rooms.snapshot_png(code, secret, shot.id)
            if png:
                col.image(png, width="stretch", output_format="PNG")
            col.markdown(f"**{shot.label}**: {shot.summary}")
            col.caption(" · ".join(f"{k}={v}" for k, v in shot.query.items()) or "default view")


@st.cache_data(ttl=600, show_spinner=False)
def suggested_polls(preset: str) -> list[dict]:
    """A yes/no question per measured claim, answered by this machine's measurement."""
    found = []
    for report in api.all_claims(preset):
        for claim in report.claims:
            if claim.holds is None:
                continue
            found.append({"page": report.page, "question": f"Does this hold here: {claim.claim}?",
                          "options": ["Yes", "No"], "answer": 0 if claim.holds else 1,
                          "note": f"Measured here: {claim.ours} (paper: {claim.paper}; {claim.setting})."})
    return found


@room_errors_shown
def polls(code: str, secret: str) -> None:
    st.subheader("Quick poll")
    room = api.rooms.room(code)
    current = api.rooms.poll(code, room.poll) if room.poll is not None else None
    if current is not None:
        with st.container(border=True):
            st.markdown(f"**{current.question}** ({current.votes} answer{'' if current.votes == 1 else 's'})")
            counts = pd.DataFrame({"option": current.options, "answers": current.counts})
            chart = charts.poll_chart(counts, current.options[current.answer] if current.revealed and
                                      current.answer is not None else None)
            st.vega_lite_chart(charts.vega_lite(chart), width="stretch")
            if current.revealed:
                st.success(current.answer_note or "Closed: the class sees its answers.", icon=":material/fact_check:")
            elif st.button("Reveal the measured answer" if current.answer is not None else "Close the poll",
                           key="classroom:reveal", icon=":material/visibility:"):
                api.rooms.reveal(code, secret, current.id)
                st.rerun(scope="fragment")
    with st.expander("Ask a new question", expanded=current is None):
        options = suggested_polls(resources.preset())
        pick = st.selectbox("On a measured claim", range(len(options)), index=None, key="classroom:suggested",
                            format_func=lambda i: f"/{options[i]['page']}: {options[i]['question']}",
                            placeholder="choose a claim, or write your own below")
        question = st.text_input("Or your own question", max_chars=api.rooms.MAX_TEXT, key="classroom:question")
        answers = st.text_input("Its options, separated by |", value="Yes | No", key="classroom:options")
        if st.button("Ask the class", icon=":material/how_to_vote:", key="classroom:ask"):
            try:
                if question.strip():
                    api.rooms.ask(code, secret, st.session_state.get(classroom.PAGE, ""), question,
                                  answers.split("|"))
                elif pick is not None:
                    chosen = options[pick]
                    api.rooms.ask(code, secret, chosen["page"], chosen["question"], chosen["options"],
                                  chosen["answer"], chosen["note"])
                else:
                    st.warning("Choose a claim or write a question.")
                    return
            except api.RoomError as e:
                st.error(f"Not asked: {e}.")
            else:
                st.rerun(scope="fragment")


# ------------------------------------------------------------------------------------------------ the page

def main() -> None:
    code = api.rooms.normal_code(st.query_params.get("room", ""))
    secret = st.query_params.get("teacher", "")
    if code and secret:
        if api.rooms.is_teacher(code, secret):
            st.session_state[classroom.TEACHER] = (code, secret)
        else:
            st.error("This teacher link is not valid (wrong key, or the room has closed or expired).")
            return
    held = classroom.teaching()
    if held:
        teacher_view(*held)
        return
    current = classroom.seat()
    if code and (current is None or current.room.code != code):
        join(code)                        # a join link or a scanned QR code (on failure, the lobby and why)
        current = None
    if current is not None:
        student_view(current)
    else:
        lobby()


main()
