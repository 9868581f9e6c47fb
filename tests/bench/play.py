"""Live training on /depth at the protocol level: N simulated users press Play and their browsers ask for a frame
every 1/15 s, as Streamlit's run_every does (the next request waits for the last frame, as the browser's does).
Per user: frames per second, the training pace (SGD steps per second, read from the page's "Steps" metric) and
the frame time p95. One user in Chromium validates the simulated pace once.

    .venv/bin/python -m tests.bench.play --browser              # 1, 5, 10 and 30 users for 10 s; one in Chromium
    .venv/bin/python -m tests.bench.play --users 1 --seconds 3
"""
import argparse
import statistics
import threading
import time
from collections.abc import Callable

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

from tests.bench.load import Control, ProtocolError, Session, proc_stat
from tests.e2e.harness import streamlit_server

FRAME_S = 1 / 15
PLAY = Control("depth", "depth:play", "dataset=spiral&act=relu&layers=3&u1=8&u2=8&u3=8")


class Player(Session):
    """A tab on /depth that keeps the live fragment's id and the step count the page shows."""

    fragment: str = ""
    steps: int = 0

    def read_delta(self, msg) -> None:
        super().read_delta(msg)
        if msg.delta.fragment_id:
            self.fragment = msg.delta.fragment_id
        element = msg.delta.new_element
        if element.WhichOneof("type") == "metric" and element.metric.label == "Steps":
            self.steps = int(element.metric.body.replace(",", ""))

    def press_play(self) -> None:
        self.rerun(ClientState(query_string=self.query, page_script_hash=self.page_hash, widget_states=WidgetStates(
            widgets=[WidgetState(id=self.widget.id, trigger_value=True)])))
        if not self.fragment:
            raise ProtocolError("Play showed no live fragment")

    def frame(self) -> float:
        return self.rerun(ClientState(query_string=self.query, page_script_hash=self.page_hash,
                                      fragment_id=self.fragment))


def player(url: str, seconds: float, out: list, errors: list, ready: threading.Barrier) -> None:
    tab = Player(url, PLAY, 30.0)
    try:
        tab.open()
        tab.press_play()
    except (ProtocolError, OSError) as e:
        errors.append(f"open: {e}")
        ready.abort()
        return
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        return
    times, start_steps, start = [], tab.steps, time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            asked = time.perf_counter()
            times.append(tab.frame())
            time.sleep(max(0.0, FRAME_S - (time.perf_counter() - asked)))
    except ProtocolError as e:
        errors.append(str(e))
    finally:
        tab.close()
    wall = time.perf_counter() - start
    out.append({"fps": len(times) / wall, "steps_per_s": (tab.steps - start_steps) / wall, "times": times})


def run(url: str, pid: int, users: int, seconds: float) -> dict:
    out, errors = [], []
    ready = threading.Barrier(users)
    threads = [threading.Thread(target=player, args=(url, seconds, out, errors, ready), daemon=True)
               for _ in range(users)]
    cpu0, _ = proc_stat(pid)
    wall0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu1, rss = proc_stat(pid)
    times = sorted(t for o in out for t in o["times"])
    return {"users": users, "fps": statistics.mean(o["fps"] for o in out) if out else 0.0,
            "slowest_fps": min(o["fps"] for o in out) if out else 0.0,
            "steps_per_s": statistics.mean(o["steps_per_s"] for o in out) if out else 0.0,
            "p95": times[min(len(times) - 1, int(0.95 * len(times)))] if times else None, "errors": len(errors),
            "first_errors": errors[:3], "rss_mb": rss / 2**20,
            "cpu_cores": (cpu1 - cpu0) / (time.perf_counter() - wall0)}


def browser_fps(url: str, seconds: float) -> float:
    """Frames per second one Chromium tab shows while playing (the step count each frame shows, read every 4 ms)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.harness import launch_browser, open_page

    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        open_page(page, f"{url}/depth?{PLAY.query}")
        page.evaluate("""() => { window.frames_seen = 0; let last = null; setInterval(() => {
            const steps = [...document.querySelectorAll('[data-testid="stMetric"]')].find(m =>
                m.innerText.startsWith('Steps'));
            const value = steps && steps.querySelector('[data-testid="stMetricValue"]').innerText;
            if (value !== last) { window.frames_seen++; last = value; } }, 4); }""")
        page.get_by_role("button", name="Play").click()
        page.wait_for_timeout(1000)
        before, start = page.evaluate("window.frames_seen"), time.perf_counter()
        page.wait_for_timeout(seconds * 1000)
        seen = page.evaluate("window.frames_seen") - before
        browser.close()
    return seen / (time.perf_counter() - start)


def table(rows: list[dict]) -> str:
    lines = ["| users playing | frames/s per user | slowest user | SGD steps/s per user | frame p95 | errors | "
             "server RSS | server CPU |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        p95 = "-" if r["p95"] is None else f"{r['p95']:.2f} s"
        lines.append(f"| {r['users']} | {r['fps']:.1f} | {r['slowest_fps']:.1f} | {r['steps_per_s']:,.0f} | {p95} | "
                     f"{r['errors']} | {r['rss_mb']:,.0f} MB | {r['cpu_cores']:.2f} cores |")
    return "\n".join(lines)


def main(argv: list[str] | None = None, report: Callable[[str], None] = print) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", nargs="+", type=int, default=[1, 5, 10, 30])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--browser", action="store_true", help="also one user in Chromium")
    args = parser.parse_args(argv)
    rows = []
    with streamlit_server() as (url, proc):
        warm = Player(url, PLAY, 120.0)
        warm.open()
        warm.close()
        for users in args.users:
            rows.append(run(url, proc.pid, users, args.seconds))
            report(table(rows[-1:]).split("\n")[-1])
            for error in rows[-1]["first_errors"]:
                report(f"    {error}")
        if args.browser:
            report(f"one user in Chromium: {browser_fps(url, args.seconds):.1f} frames/s")
    report(table(rows))
    return rows


if __name__ == "__main__":
    main()
