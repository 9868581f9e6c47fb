"""The classroom's rows (engine.rooms), in one of two stores with the same small interface:

- SQLite, the file PLAYGROUND_CACHE/rooms.sqlite3 (the default, right for one web server): WAL mode, so readers
  never wait; a write is one `BEGIN IMMEDIATE` transaction, one writer at a time across processes.
- Redis, when PLAYGROUND_REDIS_URL names a server (redis://host:6379/0): what several web servers share. A row is
  a JSON document under `playground:<table>:<key>` (a PNG in a key of its own beside it), each table keeps its rows'
  order and the rows of each room (or poll) in sorted sets, and a write holds the store's one lock, so a write is
  one writer at a time across every server, as in SQLite.

Tables, their primary keys and the column their rows are looked up by are fixed below (never user input): rooms
(code), students (token; by code), snapshots (id, numbered; by code), polls (id, numbered; by code), votes ((poll,
student); by poll).
"""
import json
import os
import sqlite3
import threading
from contextlib import contextmanager

REDIS_ENV = "PLAYGROUND_REDIS_URL"
PREFIX = "playground:"
LOCK_SECONDS = 30          # a writer that dies holding the Redis lock loses it after this long
WAIT_SECONDS = 10          # a writer waits this long for the lock (SQLite's busy timeout too)

KEYS = {"rooms": ("code",), "students": ("token",), "snapshots": ("id",), "polls": ("id",),
        "votes": ("poll", "student")}
NUMBERED = ("snapshots", "polls")            # their primary key is a number the store gives each new row
BY = {"students": "code", "snapshots": "code", "polls": "code", "votes": "poll"}
BLOBS = ("png",)                             # bytes columns

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


class StoreError(Exception):
    """The store cannot be used (a damaged file, a lock held past the wait, a Redis server that does not answer)."""


def _key(table: str, key) -> tuple:
    return tuple(key) if isinstance(key, tuple) else (key,)


class SqliteTables:
    """The rows in one SQLite file. One connection per process, used by one thread at a time: the web server's
    sessions are threads, and every follower looks at its room about once a second, so opening the file each time
    would cost more than the query. Other processes share the file through SQLite's own locking."""

    def __init__(self, path):
        self.path = path
        self.where = f"the classroom database {path}"
        self.lock = threading.RLock()
        self.con = None

    def _connection(self) -> sqlite3.Connection:
        if self.con is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=WAIT_SECONDS, isolation_level=None, check_same_thread=False)
            try:
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA foreign_keys=ON")
                con.execute("PRAGMA synchronous=NORMAL")       # WAL: durable at checkpoints, never corrupt
                con.executescript(SCHEMA)
            except sqlite3.DatabaseError:
                con.close()
                raise
            con.row_factory = sqlite3.Row
            self.con = con
        return self.con

    def close(self) -> None:
        with self.lock:
            if self.con is not None:
                self.con.close()
                self.con = None

    @contextmanager
    def _usable(self):
        try:
            yield
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.where} cannot be used ({e}); move it aside to start afresh") from None

    @contextmanager
    def reading(self):
        with self.lock, self._usable():
            self._connection()
            yield self

    @contextmanager
    def writing(self):
        """One write transaction: the database's single writer until it commits (others wait up to 10 s)."""
        with self.lock, self._usable():
            con = self._connection()
            con.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _match(self, table: str, key) -> tuple[str, tuple]:
        columns = KEYS[table]
        return " AND ".join(f"{c} = ?" for c in columns), _key(table, key)

    def get(self, table: str, key) -> dict | None:
        where, values = self._match(table, key)
        row = self.con.execute(f"SELECT * FROM {table} WHERE {where}", values).fetchone()
        return None if row is None else dict(row)

    def find(self, table: str, value, blobs: bool = False) -> list[dict]:
        """The rows whose BY column equals value, oldest first; their bytes columns only when asked for (a room's
        gallery is up to 300 thumbnails)."""
        columns = [c for (_, c, *_) in self.con.execute(f"PRAGMA table_info({table})") if blobs or c not in BLOBS]
        rows = self.con.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {BY[table]} = ? ORDER BY rowid",
                                (value,))
        return [dict(row) for row in rows]

    def count(self, table: str, value) -> int:
        """How many rows find() would give."""
        return self.con.execute(f"SELECT COUNT(*) FROM {table} WHERE {BY[table]} = ?", (value,)).fetchone()[0]

    def every(self, table: str) -> list[dict]:
        return [dict(row) for row in self.con.execute(f"SELECT * FROM {table} ORDER BY rowid")]

    def insert(self, table: str, row: dict, replace: bool = False) -> int:
        """Add a row (or replace the one with its key); returns a numbered table's new id."""
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        cursor = self.con.execute(f"{verb} INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                  tuple(row.values()))
        return cursor.lastrowid if table in NUMBERED else 0

    def update(self, table: str, key, **changes) -> None:
        where, values = self._match(table, key)
        sets = ", ".join(f"{c} = ?" for c in changes)
        self.con.execute(f"UPDATE {table} SET {sets} WHERE {where}", tuple(changes.values()) + values)

    def delete(self, table: str, key) -> None:
        where, values = self._match(table, key)
        self.con.execute(f"DELETE FROM {table} WHERE {where}", values)


class RedisTables:
    """The rows on a Redis server, shared by every web server that names it."""

    def __init__(self, url: str):
        import redis

        self.errors = (redis.RedisError, OSError)
        self.where = f"the classroom store {url}"
        self.client = redis.Redis.from_url(url, socket_timeout=WAIT_SECONDS, socket_connect_timeout=WAIT_SECONDS)
        self.lock = self.client.lock(PREFIX + "lock", timeout=LOCK_SECONDS, blocking_timeout=WAIT_SECONDS)

    def close(self) -> None:
        self.client.close()

    @contextmanager
    def _usable(self):
        try:
            yield
        except self.errors as e:
            raise StoreError(f"{self.where} cannot be used ({e.__class__.__name__}: {e})") from None

    @contextmanager
    def reading(self):
        with self._usable():
            yield self

    @contextmanager
    def writing(self):
        """One writer at a time across every server: the store's lock, held while the write's rows change."""
        with self._usable():
            if not self.lock.acquire(token=os.urandom(16).hex()):
                raise StoreError(f"{self.where} is busy: its write lock was not free within {WAIT_SECONDS} s")
            try:
                yield self
            finally:
                self.lock.release()

    @staticmethod
    def _id(table: str, key) -> str:
        return ":".join(str(part) for part in _key(table, key))

    def _row_key(self, table: str, key) -> str:
        return f"{PREFIX}{table}:{self._id(table, key)}"

    def _order(self, table: str) -> str:
        return f"{PREFIX}{table}"

    def _index(self, table: str, value) -> str:
        return f"{PREFIX}{table}:by:{value}"

    def _rows(self, table: str, ids: list[bytes], blobs: bool = True) -> list[dict]:
        keys = [f"{PREFIX}{table}:{i.decode()}" for i in ids]
        if not keys:
            return []
        found = []
        for key, raw in zip(keys, self.client.mget(keys)):
            if raw is None:
                continue                    # an index entry whose row is being removed
            row = json.loads(raw)
            for column in BLOBS:
                if column in row and not blobs:
                    del row[column]
                elif row.get(column) is True:
                    row[column] = self.client.get(f"{key}:{column}")
            found.append(row)
        return found

    def get(self, table: str, key) -> dict | None:
        rows = self._rows(table, [self._id(table, key).encode()])
        return rows[0] if rows else None

    def find(self, table: str, value, blobs: bool = False) -> list[dict]:
        return self._rows(table, self.client.zrange(self._index(table, value), 0, -1), blobs)

    def count(self, table: str, value) -> int:
        return self.client.zcard(self._index(table, value))

    def every(self, table: str) -> list[dict]:
        return self._rows(table, self.client.zrange(self._order(table), 0, -1))

    def insert(self, table: str, row: dict, replace: bool = False) -> int:
        row = dict(row)
        number = self.client.incr(f"{PREFIX}{table}:counter")        # the row's place in the table's order
        if table in NUMBERED:
            row[KEYS[table][0]] = number
        key = tuple(row[c] for c in KEYS[table])
        if self.client.exists(self._row_key(table, key)) and not replace:
            raise StoreError(f"a row of {table} with key {key} exists already")
        self.delete(table, key)
        self._write(table, key, row)
        ident = self._id(table, key)
        pipe = self.client.pipeline()
        pipe.zadd(self._order(table), {ident: number})
        if table in BY:
            pipe.zadd(self._index(table, row[BY[table]]), {ident: number})
        pipe.execute()
        return number if table in NUMBERED else 0

    def _write(self, table: str, key, row: dict) -> None:
        row_key = self._row_key(table, key)
        pipe = self.client.pipeline()
        for column in BLOBS:
            if row.get(column) is not None:
                pipe.set(f"{row_key}:{column}", row[column])
                row[column] = True
        pipe.set(row_key, json.dumps(row))
        pipe.execute()

    def update(self, table: str, key, **changes) -> None:
        row = self.get(table, key)
        if row is not None:
            row.update(changes)
            self._write(table, key, row)

    def delete(self, table: str, key) -> None:
        row = self.get(table, key)
        if row is None:
            return
        ident, row_key = self._id(table, key), self._row_key(table, key)
        pipe = self.client.pipeline()
        pipe.delete(row_key, *(f"{row_key}:{column}" for column in BLOBS))
        pipe.zrem(self._order(table), ident)
        if table in BY:
            pipe.zrem(self._index(table, row[BY[table]]), ident)
        pipe.execute()


_open: dict[tuple[str, int], SqliteTables | RedisTables] = {}
_open_lock = threading.Lock()


def tables(sqlite_path) -> SqliteTables | RedisTables:
    """This process's store: Redis when PLAYGROUND_REDIS_URL is set, else the SQLite file at sqlite_path."""
    url = os.environ.get(REDIS_ENV, "").strip()
    where = (url or str(sqlite_path), os.getpid())        # a forked process opens its own
    with _open_lock:
        if where not in _open:
            _open[where] = RedisTables(url) if url else SqliteTables(sqlite_path)
        return _open[where]


def close_all() -> None:
    """Close every store this process opened (as a server does when it stops)."""
    with _open_lock:
        for store in _open.values():
            store.close()
        _open.clear()
