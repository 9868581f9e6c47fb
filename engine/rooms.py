"""Classroom rooms: a teacher's room that students join with a short code.

Rooms live in engine.tables' store: the SQLite file PLAYGROUND_CACHE/rooms.sqlite3 for one web server, or the Redis
server named by PLAYGROUND_REDIS_URL for several (a room opened on one server is joined on another). Readers never
wait, one writer at a time, and rooms survive a server restart. A room holds:

- the teacher's secret, kept as its sha256 (the token lives only in the teacher's link), or the server's teacher PIN
  (PLAYGROUND_TEACHER_PIN) when one is set: every teacher action checks it, a student's token never passes;
- the class state every student's page follows: the teacher's page and view (URL query), a counter `seq` that
  moves when the teacher brings the class somewhere, pause, the pages students may open, whether students may
  train, the open poll; `version` moves on any change, so a follower re-reads only when something changed;
- its students (a random token each, an anonymous label such as "Teal Otter", the page they are on, whether they
  follow), their snapshots (view, PNG thumbnail, one-line result) and their poll answers.

Rooms expire after the hours chosen when opened, and can be closed; then every call on them is refused.
"""
import csv
import hashlib
import hmac
import io
import json
import math
import os
import re
import secrets
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field

from engine import store, tables

PIN_ENV = "PLAYGROUND_TEACHER_PIN"
STUDENT_MARK = "student-"         # how a student's token begins: other owners of training jobs need no lookup
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I: read off a projector
CODE_LENGTH = 6
HOURS = (1, 12)                  # how long a room may stay open
DEFAULT_HOURS = 3
MAX_STUDENTS = 200
CONNECTED_WITHIN = 30.0          # a student seen this recently counts as connected
SNAPSHOT_EVERY = 5.0             # at most one snapshot per student per this many seconds
MAX_SNAPSHOTS = 300              # per room
MAX_PNG_BYTES = 300_000          # a thumbnail, not a photo
MAX_QUERY_BYTES = 2_000          # a page's view state is a few short values
MAX_SUMMARY = 200                # characters of a snapshot's one-line result
MAX_OPTIONS = 6
MAX_TEXT = 200                   # characters of a poll's question or option
PURGE_AFTER = 7 * 24 * 3600.0    # expired rooms are deleted a week later (their export is gone with them)

ADJECTIVES = ["Amber", "Azure", "Brave", "Calm", "Coral", "Crimson", "Gentle", "Golden", "Jade", "Keen", "Lively",
              "Lucky", "Mellow", "Misty", "Noble", "Olive", "Plum", "Quick", "Quiet", "Rosy", "Ruby", "Sandy",
              "Silver", "Sunny", "Swift", "Teal", "Violet", "Witty"]
ANIMALS = ["Badger", "Bison", "Crane", "Dolphin", "Falcon", "Fox", "Gecko", "Heron", "Ibex", "Koala", "Lemur", "Lynx",
           "Marten", "Moose", "Newt", "Otter", "Owl", "Panda", "Puffin", "Quokka", "Raven", "Seal", "Stoat", "Tapir",
           "Toucan", "Walrus", "Wombat", "Yak"]

class RoomError(Exception):
    """A room call refused; the message is for the person who made it (no such room, closed, a limit)."""


class NotTeacher(RoomError):
    """A teacher action without the teacher's secret."""


class TrainingLocked(RoomError):
    """A training request from a student whose teacher has turned training off."""


@dataclass(frozen=True)
class Room:
    code: str
    created: float
    expires: float
    closed: bool
    version: int                         # moves on every change of the fields below
    page: str = ""                       # where the teacher last brought the class ("" = Home)
    query: dict = field(default_factory=dict)
    seq: int = 0                         # moves each time the class is brought somewhere
    live: bool = False                   # every move of the teacher's view brings the class along
    paused: bool = False                 # students see a "look up" screen
    pages: tuple = ()                    # the pages students may open; () = all
    training: bool = False               # may students start training (a variant of their own)?
    poll: int | None = None              # the poll students see

    @property
    def open(self) -> bool:
        return not self.closed and time.time() < self.expires


@dataclass(frozen=True)
class Student:
    token: str
    code: str
    label: str
    joined: float
    seen: float
    page: str
    following: bool

    @property
    def connected(self) -> bool:
        return time.time() - self.seen <= CONNECTED_WITHIN


@dataclass(frozen=True)
class Snapshot:
    id: int
    label: str
    created: float
    page: str
    query: dict
    summary: str
    shown: bool


@dataclass(frozen=True)
class Poll:
    id: int
    page: str
    question: str
    options: tuple
    answer: int | None                   # the option the page's measurement supports, when it has one
    answer_note: str                     # what the measurement says, shown when revealed
    open: bool
    revealed: bool
    counts: tuple                        # votes per option

    @property
    def votes(self) -> int:
        return sum(self.counts)


STATE_FIELDS = ("page", "query", "seq", "live", "paused", "pages", "training", "poll")


def db_path():
    return store.cache_root() / "rooms.sqlite3"


@contextmanager
def _usable():
    """The store's own errors (a damaged file, a lock held past its wait, a server that does not answer) as a
    RoomError the pages can show."""
    try:
        yield
    except tables.StoreError as e:
        raise RoomError(str(e)) from None


@contextmanager
def _reading():
    with _usable(), tables.tables(db_path()).reading() as t:
        yield t


@contextmanager
def _writing():
    """One write: the store's single writer until it ends (others wait up to 10 s)."""
    with _usable(), tables.tables(db_path()).writing() as t:
        yield t


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normal_code(code: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(code).upper())[:CODE_LENGTH]


def _room_from(row: dict) -> Room:
    state = json.loads(row["state"])
    state["pages"] = tuple(state.get("pages", ()))
    return Room(row["code"], row["created"], row["expires"], bool(row["closed"]), row["version"],
                **{k: state[k] for k in STATE_FIELDS if k in state})


def _get_room(t, code: str, ended_ok: bool = False) -> Room:
    """The room; RoomError when there is none, or (unless ended_ok) when it is closed or expired."""
    row = t.get("rooms", normal_code(code))
    if row is None:
        raise RoomError(f"there is no room {normal_code(code) or '(empty code)'}; check the code")
    room = _room_from(row)
    if ended_ok:
        return room
    if room.closed:
        raise RoomError(f"room {room.code} is closed")
    if not room.open:
        raise RoomError(f"room {room.code} has expired")
    return room


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(str(a).encode(), str(b).encode())


def _check_teacher(t, code: str, secret: str, ended_ok: bool = False) -> Room:
    room = _get_room(t, code, ended_ok)
    teacher_hash = t.get("rooms", room.code)["teacher_hash"]
    pin = os.environ.get(PIN_ENV, "")
    secret = str(secret or "")
    if secret and (_same(_digest(secret), teacher_hash) or (pin and _same(secret, pin))):
        return room
    raise NotTeacher(f"only the teacher of room {room.code} can do that")


def _set_state(t, room: Room, **changes) -> Room:
    state = {k: getattr(room, k) for k in STATE_FIELDS}
    state.update(changes)
    state["pages"] = list(state["pages"])
    t.update("rooms", room.code, state=json.dumps(state), version=t.get("rooms", room.code)["version"] + 1)
    return _get_room(t, room.code)


def _student_row(t, token: str) -> dict:
    row = t.get("students", str(token))
    if row is None:
        raise RoomError("you are not in a room (join with the teacher's code)")
    return row


def _student_from(row: dict) -> Student:
    return Student(row["token"], row["code"], row["label"], row["joined"], row["seen"], row["page"],
                   bool(row["following"]))


def _purge(t, code: str) -> None:
    """A room and everything in it."""
    for p in t.find("polls", code):
        for v in t.find("votes", p["id"]):
            t.delete("votes", (v["poll"], v["student"]))
        t.delete("polls", p["id"])
    for table, key in (("snapshots", "id"), ("students", "token")):
        for row in t.find(table, code):
            t.delete(table, row[key])
    t.delete("rooms", code)


def _page(page: str) -> str:
    """A page's url path as stored ("" is Home): short, lowercase letters, digits and dashes."""
    page = str(page)
    if not re.fullmatch(r"[a-z0-9-]{0,40}", page):
        raise RoomError("not a page of this playground")
    return page


def _query(query: dict) -> dict:
    """A view state as stored: short string keys and values, or a clear refusal."""
    if not isinstance(query, dict):
        raise RoomError("a view state is a set of named values")
    clean = {str(k): str(v) for k, v in query.items()}
    if len(json.dumps(clean)) > MAX_QUERY_BYTES:
        raise RoomError(f"this view's state is over {MAX_QUERY_BYTES} bytes; it cannot be shared")
    return clean


# ------------------------------------------------------------------------------------------------ the teacher

def open_room(hours: float = DEFAULT_HOURS, pin: str = "") -> tuple[Room, str]:
    """A new room and its teacher's secret. When the server has a teacher PIN, opening a room needs it."""
    server_pin = os.environ.get(PIN_ENV, "")
    if server_pin and not _same(pin, server_pin):
        raise NotTeacher("this server asks for the teacher PIN to open a room")
    hours = min(max(float(hours), HOURS[0]), HOURS[1])
    secret = secrets.token_urlsafe(18)
    now = time.time()
    state = json.dumps({"page": "", "query": {}, "seq": 0, "live": False, "paused": False, "pages": [],
                        "training": False, "poll": None})
    with _writing() as t:
        for old in t.every("rooms"):
            if old["expires"] < now - PURGE_AFTER:
                _purge(t, old["code"])
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if t.get("rooms", code) is None:
                break
        else:
            raise RoomError("could not find a free room code; try again")
        t.insert("rooms", {"code": code, "teacher_hash": _digest(secret), "created": now,
                           "expires": now + hours * 3600, "closed": 0, "version": 0, "state": state})
        return _get_room(t, code), secret


def pin_required() -> bool:
    """Whether this server asks for the teacher PIN to open a room."""
    return bool(os.environ.get(PIN_ENV))


def room(code: str) -> Room:
    """The room's class state (anyone may read it: it is what students follow)."""
    with _reading() as t:
        return _get_room(t, code)


def is_teacher(code: str, secret: str) -> bool:
    try:
        with _reading() as t:
            _check_teacher(t, code, secret)
        return True
    except RoomError:
        return False


def bring(code: str, secret: str, page: str, query: dict) -> Room:
    """Bring the class to a page and view: followers switch to it."""
    query = _query(query)
    with _writing() as t:
        room = _check_teacher(t, code, secret)
        return _set_state(t, room, page=_page(page), query=query, seq=room.seq + 1)


def settle(code: str, secret: str, **changes) -> Room:
    """Change the class's pacing: live (follow every move), paused, pages (allowed; () = all), training."""
    unknown = set(changes) - {"live", "paused", "pages", "training"}
    if unknown:
        raise ValueError(f"not a pacing setting: {sorted(unknown)}")
    if "pages" in changes:
        changes["pages"] = tuple(_page(p) for p in changes["pages"])
    for name in ("live", "paused", "training"):
        if name in changes:
            changes[name] = bool(changes[name])
    with _writing() as t:
        return _set_state(t, _check_teacher(t, code, secret), **changes)


def close(code: str, secret: str) -> None:
    with _writing() as t:
        room = _check_teacher(t, code, secret)
        t.update("rooms", room.code, closed=1, version=room.version + 1)


def students(code: str, secret: str) -> list[Student]:
    with _reading() as t:
        room = _check_teacher(t, code, secret)
        rows = t.find("students", room.code)
    return sorted((_student_from(row) for row in rows), key=lambda s: s.joined)


# ------------------------------------------------------------------------------------------------ students

def join(code: str) -> Student:
    """A new anonymous student in the room, following the teacher."""
    now = time.time()
    with _writing() as t:
        room = _get_room(t, code)
        taken = {row["label"] for row in t.find("students", room.code)}
        if len(taken) >= MAX_STUDENTS:
            raise RoomError(f"room {room.code} is full ({MAX_STUDENTS} students)")
        free = [f"{a} {b}" for a in ADJECTIVES for b in ANIMALS if f"{a} {b}" not in taken]
        label = secrets.choice(free)
        token = STUDENT_MARK + secrets.token_urlsafe(18)
        t.insert("students", {"token": token, "code": room.code, "label": label, "joined": now, "seen": now,
                              "page": "", "following": 1, "last_snapshot": 0.0})
    return Student(token, room.code, label, now, now, "", True)


def student(token: str) -> tuple[Student, Room]:
    """The student and their room's class state; RoomError when the token is unknown or the room is over."""
    with _reading() as t:
        row = _student_row(t, token)
        return _student_from(row), _get_room(t, row["code"])


def seen(token: str, page: str, following: bool) -> None:
    """The student's page and follow mode, and that they are still connected."""
    page = _page(page)
    with _writing() as t:
        t.update("students", str(token), seen=time.time(), page=page, following=int(bool(following)))


def may_train(owner: str) -> None:
    """Raise TrainingLocked when `owner` is a student of an open room whose teacher has turned training off.
    Anyone else (a lone user, the CLI, a teacher) may train."""
    if not str(owner).startswith(STUDENT_MARK):
        return
    with _reading() as t:
        row = t.get("students", str(owner))
        if row is None:
            return
        try:
            room = _get_room(t, row["code"])
        except RoomError:
            return                          # the room is over: the student is on their own again
    if not room.training:
        raise TrainingLocked(f"the teacher of room {room.code} has turned training off for the class")


def seat(owner: str) -> str:
    """The seat a room's student trains into ("" for anyone else): checkpoints of their own, so that what they train
    never replaces the checkpoint the class is using."""
    if not str(owner).startswith(STUDENT_MARK):
        return ""
    with _reading() as t:
        row = t.get("students", str(owner))
    return "" if row is None else row["code"].lower() + _digest(owner)[:16]      # unique to the student, not secret


# ------------------------------------------------------------------------------------------------ snapshots

def send_snapshot(token: str, page: str, query: dict, png: bytes | None, summary: str) -> int:
    """A student's view sent to the class: refused with a clear message past the size, rate or room limits."""
    query, page = _query(query), _page(page)
    if png is not None and (not isinstance(png, bytes) or not png.startswith(b"\x89PNG\r\n\x1a\n")):
        raise RoomError("the thumbnail is not a PNG image")
    if png is not None and len(png) > MAX_PNG_BYTES:
        raise RoomError(f"the thumbnail is {len(png) // 1000} kB; at most {MAX_PNG_BYTES // 1000} kB")
    summary = " ".join(str(summary).split())[:MAX_SUMMARY]
    now = time.time()
    with _writing() as t:
        row = _student_row(t, token)
        label, last = row["label"], row["last_snapshot"]
        room = _get_room(t, row["code"])
        if now - last < SNAPSHOT_EVERY:
            raise RoomError(f"one snapshot every {SNAPSHOT_EVERY:.0f} s: wait {math.ceil(SNAPSHOT_EVERY - (now - last))} s")
        if t.count("snapshots", room.code) >= MAX_SNAPSHOTS:
            raise RoomError(f"room {room.code} holds its {MAX_SNAPSHOTS} snapshots; no more can be sent")
        t.update("students", str(token), last_snapshot=now)
        return t.insert("snapshots", {"code": room.code, "label": label, "created": now, "page": page,
                                      "query": json.dumps(query), "summary": summary, "png": png, "shown": 0})


def snapshots(code: str, secret: str) -> list[Snapshot]:
    """The room's gallery, newest first (without the images: snapshot_png reads one)."""
    with _reading() as t:
        room = _check_teacher(t, code, secret, ended_ok=True)
        rows = t.find("snapshots", room.code)
    return [Snapshot(r["id"], r["label"], r["created"], r["page"], json.loads(r["query"]), r["summary"],
                     bool(r["shown"])) for r in sorted(rows, key=lambda r: -r["id"])]


def snapshot_png(code: str, secret: str, snapshot_id: int) -> bytes | None:
    with _reading() as t:
        room = _check_teacher(t, code, secret, ended_ok=True)
        row = t.get("snapshots", int(snapshot_id))
    return None if row is None or row["code"] != room.code else row["png"]


def show_snapshot(code: str, secret: str, snapshot_id: int) -> Room:
    """Bring the class to a snapshot's view (followers jump to it)."""
    with _writing() as t:
        room = _check_teacher(t, code, secret)
        row = t.get("snapshots", int(snapshot_id))
        if row is None or row["code"] != room.code:
            raise RoomError("no such snapshot in this room")
        t.update("snapshots", int(snapshot_id), shown=1)
        return _set_state(t, room, page=row["page"], query=json.loads(row["query"]), seq=room.seq + 1)


# ------------------------------------------------------------------------------------------------ polls

def ask(code: str, secret: str, page: str, question: str, options: list[str], answer: int | None = None,
        answer_note: str = "") -> Poll:
    """Open a multiple-choice poll (closing the one before); `answer` is the option the page's measurement supports."""
    question = " ".join(str(question).split())[:MAX_TEXT]
    options = [" ".join(str(o).split())[:MAX_TEXT] for o in options]
    options = [o for o in options if o]
    if not question:
        raise RoomError("a poll needs a question")
    if not 2 <= len(options) <= MAX_OPTIONS or len(set(options)) != len(options):
        raise RoomError(f"a poll needs 2 to {MAX_OPTIONS} different options")
    page = _page(page)
    if answer is not None and not 0 <= int(answer) < len(options):
        raise RoomError("the measured answer must be one of the options")
    with _writing() as t:
        room = _check_teacher(t, code, secret)
        for earlier in t.find("polls", room.code):
            if earlier["open"]:
                t.update("polls", earlier["id"], open=0)
        poll_id = t.insert("polls", {"code": room.code, "page": page, "question": question,
                                     "options": json.dumps(options), "answer": answer,
                                     "answer_note": str(answer_note)[:MAX_TEXT * 2], "created": time.time(),
                                     "open": 1, "revealed": 0})
        _set_state(t, room, poll=poll_id)
        return _get_poll(t, room.code, poll_id)


def _get_poll(t, code: str, poll_id: int) -> Poll:
    row = t.get("polls", int(poll_id))
    if row is None or row["code"] != code:
        raise RoomError("no such poll in this room")
    options = tuple(json.loads(row["options"]))
    counts = [0] * len(options)
    for vote in t.find("votes", row["id"]):
        counts[vote["choice"]] += 1
    return Poll(row["id"], row["page"], row["question"], options, row["answer"], row["answer_note"],
                bool(row["open"]), bool(row["revealed"]), tuple(counts))


def poll(code: str, poll_id: int) -> Poll:
    """A poll of the room, with its counts (students see the counts only once the teacher reveals the answer)."""
    with _reading() as t:
        return _get_poll(t, _get_room(t, code).code, poll_id)


def polls(code: str, secret: str) -> list[Poll]:
    with _reading() as t:
        room = _check_teacher(t, code, secret, ended_ok=True)
        return [_get_poll(t, room.code, row["id"]) for row in t.find("polls", room.code)]


def vote(token: str, poll_id: int, choice: int) -> None:
    """A student's answer (a second answer replaces the first while the poll is open)."""
    with _writing() as t:
        row = _student_row(t, token)
        current = _get_poll(t, _get_room(t, row["code"]).code, poll_id)
        if not current.open:
            raise RoomError("this poll is closed")
        if not 0 <= int(choice) < len(current.options):
            raise RoomError("not one of the poll's options")
        t.insert("votes", {"poll": current.id, "student": str(token), "choice": int(choice)}, replace=True)


def my_vote(token: str, poll_id: int) -> int | None:
    with _reading() as t:
        row = t.get("votes", (int(poll_id), str(token)))
    return None if row is None else row["choice"]


def reveal(code: str, secret: str, poll_id: int) -> Poll:
    """Close the poll and show everyone the page's measured answer beside the class's votes."""
    with _writing() as t:
        room = _check_teacher(t, code, secret)
        _get_poll(t, room.code, poll_id)
        t.update("polls", int(poll_id), open=0, revealed=1)
        _set_state(t, room)                     # students' pages re-read the room
        return _get_poll(t, room.code, poll_id)


# ------------------------------------------------------------------------------------------------ export

def _cell(text: str) -> str:
    """Typed text for a CSV cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def export(code: str, secret: str) -> bytes:
    """The class's gallery and polls as a zip: gallery.csv, polls.csv and one PNG per snapshot; still there after
    the room has closed or expired, until it is purged."""
    with _reading() as t:
        room = _check_teacher(t, code, secret, ended_ok=True)
        rows = [(r["id"], r["label"], r["created"], r["page"], r["query"], r["summary"], r["shown"], r["png"])
                for r in sorted(t.find("snapshots", room.code, blobs=True), key=lambda r: r["id"])]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        gallery = io.StringIO()
        writer = csv.writer(gallery)
        writer.writerow(["id", "student", "time_utc", "page", "view", "result", "shown_to_class", "image"])
        for i, label, created, page, query, summary, shown, png in rows:
            image = f"snapshots/{i:04d}-{page or 'home'}.png" if png else ""
            view = "&".join(f"{k}={v}" for k, v in json.loads(query).items())
            writer.writerow([i, label, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created)), f"/{page}", view,
                             _cell(summary), "yes" if shown else "no", image])
            if png:
                archive.writestr(image, png)
        archive.writestr("gallery.csv", gallery.getvalue())
        table = io.StringIO()
        writer = csv.writer(table)
        writer.writerow(["poll", "page", "question", "option", "votes", "measured_answer", "note"])
        for p in polls(code, secret):
            for j, (option, n) in enumerate(zip(p.options, p.counts)):
                writer.writerow([p.id, f"/{p.page}", _cell(p.question), _cell(option), n,
                                 "yes" if p.answer == j else "", _cell(p.answer_note) if p.answer == j else ""])
        archive.writestr("polls.csv", table.getvalue())
    return buffer.getvalue()
