"""A class at the protocol level: N simulated users, each speaking Streamlit's own websocket protocol (no browsers),
open one page and move its main control at a student's pace.

Each user connects to /_stcore/stream, asks for the page as a browser does (a rerun with the page's url path and
query string), finds the control by its widget key in the elements the server sends, then, every 1-3 s (seeded),
sends a new value for it, as the browser does: with the fragment id when the control lives in a fragment, and with
the query string the server last published, then loads the pictures (st.image's media files) the run showed that
it has not loaded before, as the browser does and caches them, over one kept-alive connection. A move is timed from
the message sent to the run's "script finished" and its new pictures loaded.
Errors: exception elements, runs that did not finish successfully, dropped connections, pictures not served,
moves over the timeout.
The server's memory (RSS) and CPU come from /proc.

    .venv/bin/python -m tests.bench.load                       # every page, 1, 10, 30, 60 and 100 users
    .venv/bin/python -m tests.bench.load --pages draw --users 1 10 --moves 10
    .venv/bin/python -m tests.bench.load --servers 2 --pages embeddings     # two servers behind HAProxy
"""
import argparse
import http.client
import io
import os
import random
import statistics
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageEnhance
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileURLsRequest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.sync.client import connect

from engine.data import photos
from tests.e2e.harness import proxied_servers, streamlit_server

FINISHED_OK = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
WORDS = ["frog", "king", "river", "paris", "music", "doctor", "green", "computer", "happy", "ocean", "bread", "war"]


@dataclass(frozen=True)
class Control:
    """A page's main control: its widget key and the query string the page is opened with; an upload control gets
    a different photo at every move."""
    page: str
    key: str
    query: str = ""
    upload: bool = False


# The main interaction of every page: what a student moves most.
CONTROLS = {
    "depth": Control("depth", "depth:step"),
    "manifold": Control("manifold", "manifold:alpha"),
    "draw": Control("draw", "draw:step"),
    "gan": Control("gan", "gan:t_step"),
    "attention": Control("attention", "attention:word"),
    "loss-surface": Control("loss-surface", "loss-surface:step"),
    "embeddings": Control("embeddings", "embeddings:query"),
    "captioning": Control("captioning", "captioning:scene"),
    "captioning-clip": Control("captioning", "captioning:clip", "mode=video"),
    "captioning-upload": Control("captioning", "captioning:image_file", "src=upload", upload=True),
}


def photo(rng: random.Random, size: tuple[int, int] = (1024, 768)) -> bytes:
    """A JPEG of a real photo, cropped, scaled and lit differently for every seed (a user's own photo: no cache
    holds it)."""
    picture = Image.fromarray(photos.sample_photo(rng.choice(sorted(photos.SAMPLES))))
    width, height = picture.size
    crop_w, crop_h = round(width * rng.uniform(0.7, 1.0)), round(height * rng.uniform(0.7, 1.0))
    x, y = rng.randrange(width - crop_w + 1), rng.randrange(height - crop_h + 1)
    picture = ImageEnhance.Brightness(picture.crop((x, y, x + crop_w, y + crop_h)).resize(size, Image.BICUBIC))
    buffer = io.BytesIO()
    picture.enhance(rng.uniform(0.8, 1.2)).save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


class ProtocolError(Exception):
    """The server did something a browser would show as an error (an exception, a failed run, a dropped socket)."""


@dataclass
class Widget:
    id: str
    kind: str                      # the element's type: slider, text_input, number_input, button
    proto: object
    fragment_id: str


@dataclass
class Session:
    """One simulated browser tab."""
    url: str
    control: Control
    timeout: float
    page_hash: str = ""
    query: str = ""
    session_id: str = ""
    xsrf: str = ""
    cookies: str = ""              # what the tab's browser sends back: the XSRF cookie, a proxy's server cookie
    widget: Widget | None = None
    socket: object = None
    connection: object = None
    pictures: list[str] = field(default_factory=list)    # media the runs showed, not loaded yet
    loaded: set[str] = field(default_factory=set)        # media this tab's browser has (it caches them)
    media: http.client.HTTPConnection | None = None

    def open(self) -> float:
        # A browser loads the page over HTTP first and keeps the cookies it gets: behind a proxy, its cookie keeps
        # the tab's websocket, pictures and uploads on one server; uploads carry the XSRF cookie the server sets.
        with urllib.request.urlopen(self.url + "/_stcore/health", timeout=self.timeout) as response:
            cookies = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []]
        self.xsrf = next((c.split("=", 1)[1] for c in cookies if c.startswith("_streamlit_xsrf=")), "")
        self.cookies = "; ".join(cookies)
        self.connection = connect(self.url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"],
                                  open_timeout=self.timeout, max_size=None,
                                  additional_headers={"Cookie": self.cookies} if self.cookies else None)
        self.socket = self.connection.__enter__()
        self.query = self.control.query
        return self.rerun(ClientState(query_string=self.query, page_name=self.control.page))

    def rerun(self, state: ClientState) -> float:
        """Send a rerun request and read until the run finishes; the seconds it took."""
        start = time.perf_counter()
        self.socket.send(BackMsg(rerun_script=state).SerializeToString())
        self.read_until(lambda msg: msg.WhichOneof("type") == "script_finished" and msg.script_finished in FINISHED_OK,
                        start + self.timeout)
        self.load_pictures()
        return time.perf_counter() - start

    def load_pictures(self) -> None:
        """GET the media files the runs showed that this tab has not loaded yet, as its browser would."""
        if self.media is None:
            host, port = self.url.split("//", 1)[1].split(":")
            self.media = http.client.HTTPConnection(host, int(port), timeout=self.timeout)
        while self.pictures:
            path = self.pictures.pop(0)
            for attempt in range(2):        # the server may have closed a connection left idle: a browser reopens it
                try:
                    self.media.request("GET", path, headers={"Cookie": self.cookies} if self.cookies else {})
                    response = self.media.getresponse()
                    response.read()
                    break
                except (OSError, http.client.HTTPException) as e:
                    self.media.close()
                    if attempt or not isinstance(e, http.client.RemoteDisconnected | ConnectionResetError
                                                 | BrokenPipeError):
                        raise ProtocolError(f"picture {path} not loaded: {e.__class__.__name__}") from None
            if response.status != 200:
                raise ProtocolError(f"picture {path} not served: {response.status}")
            self.loaded.add(path)

    def read_until(self, done, deadline: float):
        """Read messages, keeping what a browser keeps, until done(msg); that message."""
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise ProtocolError(f"no answer within {self.timeout:.0f} s")
            try:
                raw = self.socket.recv(timeout=remaining)
            except TimeoutError:
                continue
            except Exception as e:      # the connection dropped
                raise ProtocolError(f"connection lost: {e.__class__.__name__}") from None
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id
            elif kind == "navigation":                   # the page the server ran, as the browser keeps it
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "delta":
                self.read_delta(msg)
            elif kind == "script_finished" and msg.script_finished not in FINISHED_OK | {
                    ForwardMsg.FINISHED_EARLY_FOR_RERUN}:
                raise ProtocolError(f"the run ended with status {msg.script_finished}")
            if done(msg):
                return msg

    def read_delta(self, msg) -> None:
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "exception":
            raise ProtocolError(f"exception element: {element.exception.message[:200]}")
        if kind == "imgs":
            self.pictures += [i.url for i in element.imgs.imgs
                              if i.url.startswith("/media/") and i.url not in self.loaded | set(self.pictures)]
        proto = getattr(element, kind)
        if getattr(proto, "id", "").endswith(f"-{self.control.key}"):
            self.widget = Widget(proto.id, kind, proto, delta.fragment_id)

    def move(self, rng: random.Random, shot: bytes | None = None) -> float:
        """Move the control to a random value; an upload control uploads `shot` (a new photo if None)."""
        if self.widget is None:
            raise ProtocolError(f"the page shows no control with key {self.control.key!r}")
        if self.control.upload:
            return self.upload(shot or photo(rng), f"photo-{rng.randrange(10**6)}.jpg")
        value = new_value(self.widget, rng)
        state = ClientState(query_string=self.query, page_script_hash=self.page_hash,
                            widget_states=WidgetStates(widgets=[value]), fragment_id=self.widget.fragment_id)
        return self.rerun(state)

    def upload(self, data: bytes, name: str) -> float:
        """As the browser uploads: ask for an upload URL, PUT the file there, then rerun with the uploader's state.
        Timed from the request to the run's end."""
        start = time.perf_counter()
        request_id = uuid.uuid4().hex
        self.socket.send(BackMsg(file_urls_request=FileURLsRequest(
            request_id=request_id, file_names=[name], session_id=self.session_id)).SerializeToString())
        answer = self.read_until(lambda msg: msg.WhichOneof("type") == "file_urls_response"
                                 and msg.file_urls_response.response_id == request_id, start + self.timeout)
        urls = answer.file_urls_response.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"UploadedFile\"; filename=\"{name}\"\r\n"
                f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        put = urllib.request.Request(self.url + urls.upload_url, data=body, method="PUT", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": self.xsrf,
            "Cookie": self.cookies})
        try:
            urllib.request.urlopen(put, timeout=self.timeout).read()
        except OSError as e:
            raise ProtocolError(f"upload refused: {e}") from None
        state = WidgetState(id=self.widget.id)
        info = state.file_uploader_state_value.uploaded_file_info.add(file_id=urls.file_id, name=name, size=len(data))
        info.file_urls.CopyFrom(urls)
        self.rerun(ClientState(query_string=self.query, page_script_hash=self.page_hash,
                               widget_states=WidgetStates(widgets=[state]), fragment_id=self.widget.fragment_id))
        return time.perf_counter() - start

    def close(self) -> None:
        if self.connection is not None:
            self.connection.__exit__(None, None, None)
        if self.media is not None:
            self.media.close()


def new_value(widget: Widget, rng: random.Random) -> WidgetState:
    """A value the control can take, as the browser sends it."""
    p = widget.proto
    if widget.kind == "button":                                       # a press
        return WidgetState(id=widget.id, trigger_value=True)
    if widget.kind == "slider" and p.options:                         # a select_slider: one of its labels
        choice = WidgetState(id=widget.id)
        choice.string_array_value.data.append(rng.choice(list(p.options)))
        return choice
    if widget.kind == "slider":
        steps = round((p.max - p.min) / p.step) if p.step else 100
        choice = WidgetState(id=widget.id)
        choice.double_array_value.data.append(p.min + rng.randint(0, steps) * (p.step or (p.max - p.min) / 100))
        return choice
    if widget.kind == "text_input":
        return WidgetState(id=widget.id, string_value=rng.choice(WORDS))
    if widget.kind == "number_input":
        high = p.max if p.has_max else p.min + 100
        return WidgetState(id=widget.id, double_value=float(rng.randint(int(p.min), int(min(high, p.min + 100)))))
    raise ProtocolError(f"no way to move a {widget.kind}")


@dataclass
class Result:
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float | None = None, error: str | None = None) -> None:
        with self.lock:
            if error is None:
                self.times.append(seconds)
            else:
                self.errors.append(error)


def user(url: str, control: Control, moves: int, seed: int, timeout: float, pace: tuple[float, float],
         result: Result, ready: threading.Barrier, until: float | None = None) -> None:
    """One student: open the page, then `moves` moves, or moves until the clock reads `until` (a long class)."""
    rng = random.Random(seed)
    # A student's photos are on their phone before the class: made ahead here (28 ms each), not on the cores the
    # server is using while it works (a long class makes each as it goes).
    shots = [photo(rng) for _ in range(moves)] if control.upload and until is None else []
    session = Session(url, control, timeout)
    try:
        session.open()
    except (ProtocolError, OSError) as e:
        result.add(error=f"open: {e}")
        ready.abort()
        return
    finally:
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            pass
    time.sleep(rng.uniform(*pace))                 # students do not all move at the same instant
    try:
        done = 0
        while (done < moves) if until is None else (time.perf_counter() < until):
            done += 1
            try:
                result.add(session.move(rng, shots.pop() if shots else None))
            except ProtocolError as e:
                result.add(error=str(e))
                if "connection lost" in str(e):
                    return
            time.sleep(rng.uniform(*pace))
    finally:
        session.close()


def proc_stat(pid: int) -> tuple[float, int]:
    """(CPU seconds used so far, resident memory in bytes) of a process."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return cpu, int(fields[21]) * os.sysconf("SC_PAGE_SIZE")


def procs_stat(pids: list[int]) -> tuple[float, int]:
    stats = [proc_stat(pid) for pid in pids]
    return sum(cpu for cpu, _ in stats), sum(rss for _, rss in stats)


@contextmanager
def servers(count: int):
    """One web server as `make run` starts it, or `count` of them behind HAProxy: (the URL users open, the server
    processes' pids)."""
    if count == 1:
        with streamlit_server() as (url, proc):
            yield url, [proc.pid]
        return
    with tempfile.TemporaryDirectory() as folder, proxied_servers(count, {}, Path(folder)) as (url, started):
        yield url, [proc.pid for _, proc in started]


def run_class(url: str, pids: list[int], name: str, users: int, moves: int, timeout: float = 30.0,
              pace: tuple[float, float] = (1.0, 3.0), seed: int = 0, minutes: float | None = None) -> dict:
    """N users on one page, moving the control CONTROLS[name]; a row of the table, with the CPU and memory of the
    server processes `pids` added up. With `minutes`, the users move for that long, and the servers' memory is
    sampled every 30 s ("rss_over_time", MB)."""
    control = CONTROLS[name]
    result = Result()
    start = {"cpu": procs_stat(pids)[0], "wall": time.perf_counter()}

    def class_starts() -> None:          # every user has the page open: the server's CPU counts from here
        start.update(cpu=procs_stat(pids)[0], wall=time.perf_counter())

    ready = threading.Barrier(users, action=class_starts)
    until = time.perf_counter() + 60 * minutes if minutes else None
    threads = [threading.Thread(target=user, args=(url, control, moves, seed * 1000 + i, timeout, pace, result,
                                                   ready, until), daemon=True) for i in range(users)]
    peak, samples, next_sample = 0, [], start["wall"]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        rss = procs_stat(pids)[1]
        peak = max(peak, rss)
        if time.perf_counter() >= next_sample:
            samples.append(round(rss / 2**20))
            next_sample += 30
        time.sleep(0.2)
    cpu1, rss = procs_stat(pids)
    wall = time.perf_counter() - start["wall"]
    times = sorted(result.times)
    return {"page": name, "users": users, "moves": len(times) + len(result.errors),
            "p50": statistics.median(times) if times else None,
            "p95": times[min(len(times) - 1, int(0.95 * len(times)))] if times else None,
            "max": times[-1] if times else None, "errors": len(result.errors), "first_errors": result.errors[:3],
            "rss_mb": max(peak, rss) / 2**20, "cpu_cores": (cpu1 - start["cpu"]) / wall, "rss_over_time": samples}


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def table(rows: list[dict]) -> str:
    lines = ["| page | users | moves | p50 | p95 | max | errors | server RSS | server CPU |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| /{r['page']} | {r['users']} | {r['moves']} | {seconds(r['p50'])} | {seconds(r['p95'])} "
                     f"| {seconds(r['max'])} | {r['errors']} | {r['rss_mb']:,.0f} MB | {r['cpu_cores']:.2f} cores |")
    return "\n".join(lines)


def main(argv: list[str] | None = None, report: Callable[[str], None] = print) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", nargs="+", default=list(CONTROLS), choices=list(CONTROLS))
    parser.add_argument("--users", nargs="+", type=int, default=[1, 10, 30, 60, 100])
    parser.add_argument("--moves", type=int, default=8, help="moves per user")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a move counts as an error")
    parser.add_argument("--servers", type=int, default=1, help="web servers behind HAProxy (default: one, no proxy)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="a long class: every user moves for this long (instead of --moves); memory over time")
    args = parser.parse_args(argv)
    rows = []
    with servers(args.servers) as (url, pids):
        for page in args.pages:
            # A first visit loads the page's models and libraries once in each server, as the teacher's would.
            warming = [Session(url, CONTROLS[page], 120.0) for _ in pids]   # one socket each: the least busy server
            for warm in warming:
                warm.open()
                if warm.control.upload:      # the photo models load at the first photo: the teacher's, not a student's
                    warm.move(random.Random(-1))
            for warm in warming:
                warm.close()
            for users in args.users:
                rows.append(run_class(url, pids, page, users, args.moves, args.timeout, minutes=args.minutes))
                report(table(rows[-1:]).split("\n")[-1])
                if args.minutes:
                    report(f"    server RSS every 30 s (MB): {rows[-1]['rss_over_time']}")
                for error in rows[-1]["first_errors"]:
                    report(f"    {error}")
    report(table(rows))
    return rows


if __name__ == "__main__":
    main()
