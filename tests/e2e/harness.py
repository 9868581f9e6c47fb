"""A real Streamlit server and Debian's Chromium driven by Playwright, shared by the browser tests and the bench."""
import io
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]
READY = ('[data-testid="stApp"][data-test-script-state="notRunning"]'
         '[data-test-connection-state="CONNECTED"]')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc, failure: str, timeout: float) -> None:
    """Wait until a Streamlit server (or a proxy in front of some) answers its health check; RuntimeError(failure)
    when the process ends first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(failure)
        time.sleep(0.3)


@contextmanager
def streamlit_server(env: dict | None = None, timeout: float = 90):
    """Start the web server as `make run` does (`python -m app.serve`, Streamlit's `run app/main.py`) from the
    repository root on a free port; yield its base URL and process."""
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / f"server-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "app.serve", "--server.port", str(port)],
                            cwd=REPO, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, f"streamlit did not start; see {log.name}", timeout)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


RAY_TOKEN = secrets.token_hex(16)    # one per test process: Ray's client reads its token once (tests/conftest.py)


@contextmanager
def ray_cluster(cpus: int = 2, workers: tuple[int, ...] = (), gpus: int = 0, timeout: float = 120):
    """A Ray cluster on this machine: a head node with `cpus` CPUs (and `gpus` GPUs as Ray counts them: with none in
    the machine, a task given one runs on the CPU) and a worker node with each of `workers` CPUs, with token
    authentication; yields the settings a client needs to join it (PLAYGROUND_RAY_ADDRESS and Ray's token). `ray
    stop` at the end stops every Ray process of this machine."""
    ray = Path(sys.executable).with_name("ray")
    port = free_port()
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": RAY_TOKEN}
    common = ["--disable-usage-stats", "--object-store-memory=100000000"]
    nodes = [["--head", f"--port={port}", f"--num-cpus={cpus}", f"--num-gpus={gpus}", "--include-dashboard=false"]]
    nodes += [[f"--address=127.0.0.1:{port}", f"--num-cpus={n}", "--num-gpus=0"] for n in workers]
    try:
        for node in nodes:
            subprocess.run([ray, "start", *node, *common], env={**os.environ, **env}, check=True,
                           capture_output=True, timeout=timeout)
        yield {**env, "PLAYGROUND_RAY_ADDRESS": f"127.0.0.1:{port}"}
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=timeout)


HAPROXY = "/usr/sbin/haproxy"


@contextmanager
def proxied_servers(count: int, env: dict, folder: Path, timeout: float = 90):
    """`count` Streamlit servers with the same settings behind HAProxy (configured by `python -m engine
    proxy-config`, sticky sessions); yields the proxy's URL and each server's (URL, process)."""
    if not Path(HAPROXY).exists():
        raise RuntimeError(f"{HAPROXY} is missing: apt-get install -y haproxy (.ci/run does this)")
    with ExitStack() as stack:
        servers = [stack.enter_context(streamlit_server(env, timeout)) for _ in range(count)]
        port = free_port()
        config = folder / "haproxy.cfg"
        config.write_text(subprocess.run(
            [sys.executable, "-m", "engine", "proxy-config", "--listen", f"127.0.0.1:{port}", "--servers",
             *(url.removeprefix("http://") for url, _ in servers)], cwd=REPO, check=True, capture_output=True,
            text=True).stdout)
        log = open(ARTIFACTS / f"haproxy-{port}.log", "w")
        stack.callback(log.close)
        proxy = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
        stack.callback(proxy.wait, 10)
        stack.callback(proxy.terminate)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proxy, f"haproxy did not start; see {log.name}", timeout)
        yield url, servers


REDIS = "/usr/bin/redis-server"


@contextmanager
def redis_server(folder: Path, timeout: float = 30):
    """A Redis server (Debian's redis-server) on a free loopback port, keeping nothing on disk; yields its URL."""
    if not Path(REDIS).exists():
        raise RuntimeError(f"{REDIS} is missing: apt-get install -y redis-server (.ci/run does this)")
    port = free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def launch_browser(playwright):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)


def wait_ready(page, timeout: float = 60_000) -> None:
    """Wait until the script has finished running and the socket is connected (twice: a rerun may follow)."""
    page.wait_for_selector(READY, timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector(READY, timeout=timeout)


def open_page(page, url: str, timeout: float = 60_000) -> None:
    """Open url and wait until its script has run: every page starts with a title."""
    page.goto(url)
    page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=timeout)
    wait_ready(page, timeout)


def step_first_slider(page, presses: int, label: str | None = None) -> None:
    """Move the page's first slider (or the first one labelled `label`) `presses` steps to the right with the
    keyboard, then wait for the rerun."""
    scope = page.locator('[data-testid="stSlider"]').filter(has_text=label) if label else page
    slider = scope.get_by_role("slider").first
    slider.focus()
    for _ in range(presses):
        slider.press("ArrowRight")
    wait_ready(page)


def exceptions(page) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def image_sources(page, at_least: int = 1, within: str = "stImage") -> list[str]:
    """The src of every picture in the page's st.image elements (or other elements: within="stHtml"), once at least
    `at_least` of them are there."""
    selector = f'[data-testid="{within}"] img'
    page.wait_for_function("s => document.querySelectorAll(s[0]).length >= s[1]", arg=[selector, at_least],
                           timeout=30_000)
    return page.locator(selector).evaluate_all("imgs => imgs.map(i => i.src)")


def draw_stroke(page, canvas, points) -> None:
    """Drag the mouse through `points` given as fractions of the canvas box (hovering the first point first, so
    the drawing library sees the pointer enter where the stroke starts). The canvas's toolbar covers its top
    fifth while hovered, so strokes start below it."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    canvas.hover(position={"x": points[0][0] * box["width"], "y": points[0][1] * box["height"]})
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=6)
    page.mouse.up()


def play(page):
    """Press Play and return the animation the page then shows, opened with PIL."""
    page.get_by_role("button", name="Play").click()
    page.get_by_text("looping").wait_for(timeout=30_000)
    src = page.locator('[data-testid="stImage"]').filter(has_text="looping").locator("img").get_attribute("src")
    return Image.open(io.BytesIO(page.request.get(src).body()))
