"""Classroom rooms: a teacher's room that students join with a short code, in one SQLite database.

The database is PLAYGROUND_CACHE/rooms.sqlite3 in WAL mode: readers never wait, one writer at a time (every write
is one `BEGIN IMMEDIATE` transaction), and rooms survive a server restart. A room holds:

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
import sqlite3
import threading
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field

from engine import store

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

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    code TEXT PRIMARY KEY, teacher_hash TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS students (
    token TEXT PRIMARY KEY, code TEXT NOT NULL REFERENCES rooms(code) ON DELETE CASCADE, label TEXT NOT NULL,
    joined REAL NOT NULL, seen REAL NOT NULL, page TEXT NOT NULL DEFAULT '', following INTEGER NOT NULL DEFAULT 1,
    last_snapshot REAL NOT NULL DEFAULT 0, UNIQUE (code, label));
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL REFERENCES rooms(code) ON DELETE CASCADE,
    label TEXT NOT NULL, created REAL NOT NULL, page TEXT NOT NULL, query TEXT NOT NULL, summary TEXT NOT NULL,
    png BLOB, shown INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS polls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL REFERENCES rooms(code) ON DELETE CASCADE,
    page TEXT NOT NULL, question TEXT NOT NULL, options TEXT NOT NULL, answer INTEGER, answer_note TEXT NOT NULL,
    created REAL NOT NULL, open INTEGER NOT NULL DEFAULT 1, revealed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS votes (
    poll INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE, student TEXT NOT NULL, choice INTEGER NOT NULL,
    PRIMARY KEY (poll, student));
CREATE INDEX IF NOT EXISTS students_by_room ON students (code);
CREATE INDEX IF NOT EXISTS snapshots_by_room ON snapshots (code, id);
"""


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


# One open connection per database and process, used by one thread at a time: the web server's sessions are threads,
# and every follower looks at its room about once a second, so opening the file each time would cost more than the
# query. Other processes (another server, the tests' writers) share the file through SQLite's own locking.
_connections: dict[tuple[str, int], sqlite3.Connection] = {}
_lock = threading.RLock()


def _connection() -> sqlite3.Connection:
    path = db_path()
    key = (str(path), os.getpid())          # a forked process opens its own
    con = _connections.get(key)
    if con is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)   # autocommit
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA synchronous=NORMAL")       # WAL: durable at checkpoints, never corrupt
            con.executescript(SCHEMA)
        except sqlite3.DatabaseError:
            con.close()
            raise
        _connections[key] = con
    return con


@contextmanager
def _usable():
    """SQLite's own errors (a damaged file, a lock held past the timeout) as a RoomError the pages can show."""
    try:
        yield
    except sqlite3.DatabaseError as e:
        raise RoomError(f"the classroom database {db_path()} cannot be used ({e}); move it aside to start afresh"
                        ) from None


@contextmanager
def _reading():
    with _lock, _usable():
        yield _connection()


@contextmanager
def _writing():
    """One write transaction: the database's single writer until it commits (others wait up to 10 s)."""
    with _lock, _usable():
        con = _connection()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normal_code(code: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(code).upper())[:CODE_LENGTH]


def _room_from(row) -> Room:
    code, created, expires, closed, version, state = row
    state = json.loads(state)
    state["pages"] = tuple(state.get("pages", ()))
    return Room(code, created, expires, bool(closed), version, **{k: state[k] for k in STATE_FIELDS if k in state})


def _get_room(con, code: str, ended_ok: bool = False) -> Room:
    """The room; RoomError when there is none, or (unless ended_ok) when it is closed or expired."""
    row = con.execute("SELECT code, created, expires, closed, version, state FROM rooms WHERE code = ?",
                      (normal_code(code),)).fetchone()
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


def _check_teacher(con, code: str, secret: str, ended_ok: bool = False) -> Room:
    room = _get_room(con, code, ended_ok)
    (teacher_hash,) = con.execute("SELECT teacher_hash FROM rooms WHERE code = ?", (room.code,)).fetchone()
    pin = os.environ.get(PIN_ENV, "")
    secret = str(secret or "")
    if secret and (_same(_digest(secret), teacher_hash) or (pin and _same(secret, pin))):
        return room
    raise NotTeacher(f"only the teacher of room {room.code} can do that")


def _set_state(con, room: Room, **changes) -> Room:
    state = {k: getattr(room, k) for k in STATE_FIELDS}
    state.update(changes)
    state["pages"] = list(state["pages"])
    con.execute("UPDATE rooms SET state = ?, version = version + 1 WHERE code = ?", (json.dumps(state), room.code))
    return _get_room(con, room.code)


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
    with _writing() as con:
        con.execute("DELETE FROM rooms WHERE expires < ?", (now - PURGE_AFTER,))
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if con.execute("SELECT 1 FROM rooms WHERE code = ?", (code,)).fetchone() is None:
                break
        else:
            raise RoomError("could not find a free room code; try again")
        con.execute("INSERT INTO rooms VALUES (?, ?, ?, ?, 0, 0, ?)",
                    (code, _digest(secret), now, now + hours * 3600, state))
        return _get_room(con, code), secret


def pin_required() -> bool:
    """Whether this server asks for the teacher PIN to open a room."""
    return bool(os.environ.get(PIN_ENV))


def room(code: str) -> Room:
    """The room's class state (anyone may read it: it is what students follow)."""
    with _reading() as con:
        return _get_room(con, code)


def is_teacher(code: str, secret: str) -> bool:
    try:
        with _reading() as con:
            _check_teacher(con, code, secret)
        return True
    except RoomError:
        return False


def bring(code: str, secret: str, page: str, query: dict) -> Room:
    """Bring the class to a page and view: followers switch to it."""
    query = _query(query)
    with _writing() as con:
        room = _check_teacher(con, code, secret)
        return _set_state(con, room, page=_page(page), query=query, seq=room.seq + 1)


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
    with _writing() as con:
        return _set_state(con, _check_teacher(con, code, secret), **changes)


def close(code: str, secret: str) -> None:
    with _writing() as con:
        room = _check_teacher(con, code, secret)
        con.execute("UPDATE rooms SET closed = 1, version = version + 1 WHERE code = ?", (room.code,))


def students(code: str, secret: str) -> list[Student]:
    with _reading() as con:
        room = _check_teacher(con, code, secret)
        rows = con.execute("SELECT token, code, label, joined, seen, page, following FROM students WHERE code = ? "
                           "ORDER BY joined", (room.code,)).fetchall()
    return [Student(*row[:6], bool(row[6])) for row in rows]


# ------------------------------------------------------------------------------------------------ students

def join(code: str) -> Student:
    """A new anonymous student in the room, following the teacher."""
    now = time.time()
    with _writing() as con:
        room = _get_room(con, code)
        taken = {label for (label,) in con.execute("SELECT label FROM students WHERE code = ?", (room.code,))}
        if len(taken) >= MAX_STUDENTS:
            raise RoomError(f"room {room.code} is full ({MAX_STUDENTS} students)")
        free = [f"{a} {b}" for a in ADJECTIVES for b in ANIMALS if f"{a} {b}" not in taken]
        label = secrets.choice(free)
        token = STUDENT_MARK + secrets.token_urlsafe(18)
        con.execute("INSERT INTO students (token, code, label, joined, seen) VALUES (?, ?, ?, ?, ?)",
                    (token, room.code, label, now, now))
    return Student(token, room.code, label, now, now, "", True)


def student(token: str) -> tuple[Student, Room]:
    """The student and their room's class state; RoomError when the token is unknown or the room is over."""
    with _reading() as con:
        row = con.execute("SELECT token, code, label, joined, seen, page, following FROM students WHERE token = ?",
                          (str(token),)).fetchone()
        if row is None:
            raise RoomError("you are not in a room (join with the teacher's code)")
        return Student(*row[:6], bool(row[6])), _get_room(con, row[1])


def seen(token: str, page: str, following: bool) -> None:
    """The student's page and follow mode, and that they are still connected."""
    page = _page(page)
    with _writing() as con:
        con.execute("UPDATE students SET seen = ?, page = ?, following = ? WHERE token = ?",
                    (time.time(), page, int(bool(following)), str(token)))


def may_train(owner: str) -> None:
    """Raise TrainingLocked when `owner` is a student of an open room whose teacher has turned training off.
    Anyone else (a lone user, the CLI, a teacher) may train."""
    if not str(owner).startswith(STUDENT_MARK):
        return
    with _reading() as con:
        row = con.execute("SELECT code FROM students WHERE token = ?", (str(owner),)).fetchone()
        if row is None:
            return
        try:
            room = _get_room(con, row[0])
        except RoomError:
            return                          # the room is over: the student is on their own again
    if not room.training:
        raise TrainingLocked(f"the teacher of room {room.code} has turned training off for the class")


def seat(owner: str) -> str:
    """The seat a room's student trains into ("" for anyone else): checkpoints of their own, so that what they train
    never replaces the checkpoint the class is using."""
    if not str(owner).startswith(STUDENT_MARK):
        return ""
    with _reading() as con:
        row = con.execute("SELECT code FROM students WHERE token = ?", (str(owner),)).fetchone()
    return "" if row is None else row[0].lower() + _digest(owner)[:16]      # unique to the student, not secret


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
    with _writing() as con:
        row = con.execute("SELECT code, label, last_snapshot FROM students WHERE token = ?", (str(token),)).fetchone()
        if row is None:
            raise RoomError("you are not in a room (join with the teacher's code)")
        code, label, last = row
        room = _get_room(con, code)
        if now - last < SNAPSHOT_EVERY:
            raise RoomError(f"one snapshot every {SNAPSHOT_EVERY:.0f} s: wait {math.ceil(SNAPSHOT_EVERY - (now - last))} s")
        (count,) = con.execute("SELECT COUNT(*) FROM snapshots WHERE code = ?", (room.code,)).fetchone()
        if count >= MAX_SNAPSHOTS:
            raise RoomError(f"room {room.code} holds its {MAX_SNAPSHOTS} snapshots; no more can be sent")
        con.execute("UPDATE students SET last_snapshot = ? WHERE token = ?", (now, str(token)))
        cursor = con.execute("INSERT INTO snapshots (code, label, created, page, query, summary, png) VALUES "
                             "(?, ?, ?, ?, ?, ?, ?)", (room.code, label, now, page, json.dumps(query), summary, png))
        return cursor.lastrowid


def snapshots(code: str, secret: str) -> list[Snapshot]:
    """The room's gallery, newest first (without the images: snapshot_png reads one)."""
    with _reading() as con:
        room = _check_teacher(con, code, secret, ended_ok=True)
        rows = con.execute("SELECT id, label, created, page, query, summary, shown FROM snapshots WHERE code = ? "
                           "ORDER BY id DESC", (room.code,)).fetchall()
    return [Snapshot(i, label, created, page, json.loads(query), summary, bool(shown))
            for i, label, created, page, query, summary, shown in rows]


def snapshot_png(code: str, secret: str, snapshot_id: int) -> bytes | None:
    with _reading() as con:
        room = _check_teacher(con, code, secret, ended_ok=True)
        row = con.execute("SELECT png FROM snapshots WHERE code = ? AND id = ?", (room.code, int(snapshot_id))
                          ).fetchone()
    return None if row is None else row[0]


def show_snapshot(code: str, secret: str, snapshot_id: int) -> Room:
    """Bring the class to a snapshot's view (followers jump to it)."""
    with _writing() as con:
        room = _check_teacher(con, code, secret)
        row = con.execute("SELECT page, query FROM snapshots WHERE code = ? AND id = ?", (room.code, int(snapshot_id))
                          ).fetchone()
        if row is None:
            raise RoomError("no such snapshot in this room")
        con.execute("UPDATE snapshots SET shown = 1 WHERE id = ?", (int(snapshot_id),))
        return _set_state(con, room, page=row[0], query=json.loads(row[1]), seq=room.seq + 1)


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
    with _writing() as con:
        room = _check_teacher(con, code, secret)
        con.execute("UPDATE polls SET open = 0 WHERE code = ?", (room.code,))
        cursor = con.execute("INSERT INTO polls (code, page, question, options, answer, answer_note, created) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", (room.code, page, question, json.dumps(options),
                                                              answer, str(answer_note)[:MAX_TEXT * 2], time.time()))
        _set_state(con, room, poll=cursor.lastrowid)
        return _get_poll(con, room.code, cursor.lastrowid)


def _get_poll(con, code: str, poll_id: int) -> Poll:
    row = con.execute("SELECT id, page, question, options, answer, answer_note, open, revealed FROM polls "
                      "WHERE code = ? AND id = ?", (code, int(poll_id))).fetchone()
    if row is None:
        raise RoomError("no such poll in this room")
    options = tuple(json.loads(row[3]))
    counts = [0] * len(options)
    for choice, n in con.execute("SELECT choice, COUNT(*) FROM votes WHERE poll = ? GROUP BY choice", (row[0],)):
        counts[choice] = n
    return Poll(row[0], row[1], row[2], options, row[4], row[5], bool(row[6]), bool(row[7]), tuple(counts))


def poll(code: str, poll_id: int) -> Poll:
    """A poll of the room, with its counts (students see the counts only once the teacher reveals the answer)."""
    with _reading() as con:
        return _get_poll(con, _get_room(con, code).code, poll_id)


def polls(code: str, secret: str) -> list[Poll]:
    with _reading() as con:
        room = _check_teacher(con, code, secret, ended_ok=True)
        ids = [i for (i,) in con.execute("SELECT id FROM polls WHERE code = ? ORDER BY id", (room.code,))]
        return [_get_poll(con, room.code, i) for i in ids]


def vote(token: str, poll_id: int, choice: int) -> None:
    """A student's answer (a second answer replaces the first while the poll is open)."""
    with _writing() as con:
        row = con.execute("SELECT code FROM students WHERE token = ?", (str(token),)).fetchone()
        if row is None:
            raise RoomError("you are not in a room (join with the teacher's code)")
        current = _get_poll(con, _get_room(con, row[0]).code, poll_id)
        if not current.open:
            raise RoomError("this poll is closed")
        if not 0 <= int(choice) < len(current.options):
            raise RoomError("not one of the poll's options")
        con.execute("INSERT OR REPLACE INTO votes VALUES (?, ?, ?)", (current.id, str(token), int(choice)))


def my_vote(token: str, poll_id: int) -> int | None:
    with _reading() as con:
        row = con.execute("SELECT choice FROM votes WHERE poll = ? AND student = ?", (int(poll_id), str(token))
                          ).fetchone()
    return None if row is None else row[0]


def reveal(code: str, secret: str, poll_id: int) -> Poll:
    """Close the poll and show everyone the page's measured answer beside the class's votes."""
    with _writing() as con:
        room = _check_teacher(con, code, secret)
        _get_poll(con, room.code, poll_id)
        con.execute("UPDATE polls SET open = 0, revealed = 1 WHERE id = ?", (int(poll_id),))
        _set_state(con, room)                   # students' pages re-read the room
        return _get_poll(con, room.code, poll_id)


# ------------------------------------------------------------------------------------------------ export

def _cell(text: str) -> str:
    """Typed text for a CSV cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def export(code: str, secret: str) -> bytes:
    """The class's gallery and polls as a zip: gallery.csv, polls.csv and one PNG per snapshot; still there after
    the room has closed or expired, until it is purged."""
    with _reading() as con:
        room = _check_teacher(con, code, secret, ended_ok=True)
        rows = con.execute("SELECT id, label, created, page, query, summary, shown, png FROM snapshots "
                           "WHERE code = ? ORDER BY id", (room.code,)).fetchall()
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
