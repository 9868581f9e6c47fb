"""A class following its teacher, at the protocol level: N simulated students in one room, each speaking Streamlit's
websocket protocol (tests/bench/load.py's client), and a teacher whose view they follow.

Each student opens the room's join link (/classroom?room=CODE) and then behaves as a browser tab does: it reruns
the follow fragment every time the server's auto-rerun message asks (every classroom.FOLLOW_EVERY seconds), and
runs whatever page that leads to. The teacher opens their dashboard link, goes to a page, turns on live follow and
moves the page's main control every few seconds. Two numbers:

- follow: from the teacher's move (its message sent) to each student's run of the teacher's new view finishing
  (their page shows the teacher's value); a move counts as missed past --timeout;
- idle: the server's CPU while the class follows and nothing happens (only the followers' looks at the room).

    .venv/bin/python -m tests.bench.follow                         # 30 students, /manifold, 8 moves, 30 s idle
    .venv/bin/python -m tests.bench.follow --students 10 --moves 3 --idle 10
"""
import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from unittest import mock
from urllib.parse import parse_qs

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.bench.load import CONTROLS, Control, ProtocolError, Session, proc_stat
from tests.e2e.harness import streamlit_server

FULL_RUN_DONE = ForwardMsg.FINISHED_SUCCESSFULLY


@dataclass
class Follower(Session):
    """A student's tab: joins the room by its link, then reruns the follow fragment whenever the server asks."""
    watch: str = ""                      # the follow fragment's id
    interval: float = 1.0
    arrived: list = field(default_factory=list)    # (time a full run finished, its query string)

    def read_until(self, done, deadline: float):
        def keep(msg):
            kind = msg.WhichOneof("type")
            if kind == "auto_rerun":
                self.watch, self.interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            elif kind == "script_finished" and msg.script_finished == FULL_RUN_DONE:
                self.arrived.append((time.perf_counter(), self.query))
            return done(msg)
        return super().read_until(keep, deadline)

    def look(self) -> None:
        """One auto-rerun of the follow fragment, and the full run it may lead to (the follow landing)."""
        if not self.watch:
            raise ProtocolError("the page did not start the follow fragment")
        self.rerun(ClientState(query_string=self.query, page_script_hash=self.page_hash, fragment_id=self.watch,
                               is_auto_rerun=True))


def follower(url: str, code: str, timeout: float, stop: threading.Event, errors: list, sessions: list,
             ready: threading.Barrier) -> None:
    session = Follower(url, Control("classroom", "-", f"room={code}"), timeout)
    try:
        session.open()
        sessions.append(session)
    except (ProtocolError, OSError) as e:
        errors.append(f"join: {e}")
    finally:
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            pass
    if session not in sessions:
        return
    try:
        next_look = time.perf_counter() + random.uniform(0, session.interval)   # tabs opened at different moments
        while not stop.is_set():
            time.sleep(max(0.0, next_look - time.perf_counter()))
            next_look += session.interval
            try:
                session.look()
            except ProtocolError as e:
                errors.append(str(e))
                if "connection lost" in str(e):
                    return
    finally:
        session.close()


def value_of(query: str, name: str) -> str | None:
    return parse_qs(query).get(name, [None])[0]


def follow_class(url: str, pid: int, students: int, moves: int, idle: float, page: str = "manifold",
                 timeout: float = 10.0, seed: int = 0) -> dict:
    from engine import rooms
    room, secret = rooms.open_room(1)
    rooms.settle(room.code, secret, live=True)
    stop, errors, sessions = threading.Event(), [], []
    ready = threading.Barrier(students + 1)
    threads = [threading.Thread(target=follower, args=(url, room.code, timeout, stop, errors, sessions, ready),
                                daemon=True) for _ in range(students)]
    for t in threads:
        t.start()
    ready.wait()
    teacher = Session(url, Control("classroom", "-", f"room={room.code}&teacher={secret}"), 120.0)
    rng = random.Random(seed)
    follow_times, missed = [], 0
    try:
        teacher.open()
        teacher.control = CONTROLS[page]
        teacher.query = ""
        teacher.rerun(ClientState(query_string="", page_name=page))
        time.sleep(5.0)                                # the class arrives on the page
        cpu0, _ = proc_stat(pid)
        wall0 = time.perf_counter()
        time.sleep(idle)
        cpu1, rss = proc_stat(pid)
        idle_cores = (cpu1 - cpu0) / (time.perf_counter() - wall0)
        name = CONTROLS[page].key.split(":", 1)[1]
        cpu0, client0, wall0 = proc_stat(pid)[0], os.times(), time.perf_counter()
        for _ in range(moves):
            before = value_of(teacher.query, name)
            while True:
                sent = time.perf_counter()
                teacher.move(rng)
                target = value_of(teacher.query, name)
                if target != before:
                    break
            deadline = sent + timeout
            while time.perf_counter() < deadline and not all(arrival(s, sent, name, target) for s in sessions):
                time.sleep(0.05)
            for s in sessions:
                landed = arrival(s, sent, name, target)
                if landed is None:
                    missed += 1
                else:
                    follow_times.append(landed - sent)
            time.sleep(rng.uniform(2.0, 4.0))
        cpu1, rss_end = proc_stat(pid)
        client1, wall = os.times(), time.perf_counter() - wall0
        busy_cores = (cpu1 - cpu0) / wall
        client_cores = (client1.user + client1.system - client0.user - client0.system) / wall
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=timeout)
        teacher.close()
    times = sorted(follow_times)
    return {"page": page, "students": students, "joined": len(sessions), "moves": moves,
            "p50": statistics.median(times) if times else None,
            "p95": times[min(len(times) - 1, int(0.95 * len(times)))] if times else None,
            "max": times[-1] if times else None, "missed": missed, "errors": len(errors), "first_errors": errors[:3],
            "idle_cores": idle_cores, "idle_seconds": idle, "rss_mb": max(rss, rss_end) / 2**20,
            "busy_cores": busy_cores, "client_cores": client_cores}


def arrival(session: Follower, sent: float, name: str, target: str) -> float | None:
    """When the student's tab first finished a full run showing the teacher's value after `sent`, or None."""
    return next((t for t, query in list(session.arrived) if t > sent and value_of(query, name) == target), None)


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def table(rows: list[dict]) -> str:
    lines = ["| page | students (joined) | teacher moves | follow p50 | follow p95 | max | missed | errors "
             "| idle server CPU | server CPU while moving | simulated class's CPU | server RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| /{r['page']} | {r['students']} ({r['joined']}) | {r['moves']} | {seconds(r['p50'])} "
                     f"| {seconds(r['p95'])} | {seconds(r['max'])} | {r['missed']} | {r['errors']} "
                     f"| {r['idle_cores']:.3f} cores over {r['idle_seconds']:.0f} s | {r['busy_cores']:.2f} cores "
                     f"| {r['client_cores']:.2f} cores | {r['rss_mb']:,.0f} MB |")
    return "\n".join(lines)


def main(argv: list[str] | None = None, report: Callable[[str], None] = print) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", nargs="+", type=int, default=[30])
    parser.add_argument("--page", default="manifold", choices=["manifold", "draw", "attention", "gan"])
    parser.add_argument("--moves", type=int, default=8, help="moves of the teacher")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of following with nothing happening")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a follow counts as missed")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as cache, mock.patch.dict(os.environ, {"PLAYGROUND_CACHE": cache}):
        # The server and this process share a cache of their own: the room this bench opens, and nothing else.
        with streamlit_server({"PLAYGROUND_CACHE": cache}) as (url, proc):
            warm = Session(url, CONTROLS[args.page], 120.0)     # the page's models load once, as in a class
            warm.open()
            warm.close()
            for students in args.students:
                rows.append(follow_class(url, proc.pid, students, args.moves, args.idle, args.page, args.timeout))
                report(table(rows[-1:]).split("\n")[-1])
                for error in rows[-1]["first_errors"]:
                    report(f"    {error}")
    report(table(rows))
    return rows


if __name__ == "__main__":
    main()
