"""`make bench`: page first render, slider latency, latency while training runs, concurrent sessions, the
pretrained photo models, and every model's training throughput.

Not pass/fail: prints a table of numbers for this machine. Uses the shipped checkpoints and a throw-away cache.
"""
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from playwright.async_api import async_playwright
from torch.func import grad, hessian

from app.ui import catalog
from engine import api, jobs, registry
from engine.analysis import critical_points, loss_slices, projection, word_space
from engine.analysis.interpolation import interpolate
from engine.data import grammar, media
from engine.data import vectors as vector_files
from engine.data.mnist import load_mnist
from engine.device import configure_threads
from engine.models import captioner, critical, seq2seq
from engine.models.dae import LEVELS
from engine.models.draw import replay_generation
from engine.train import build_model, make_step
from tests.bench import follow, load, play, throughput, vision
from tests.e2e.harness import CHROMIUM, CHROMIUM_FLAGS, READY, streamlit_server

SESSIONS = 10
MOVES = 5


def rss_mb(pid: int) -> float:
    """Resident memory of the server and its children (training workers included)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if status.parent.name == str(pid) or fields.get("PPid", "").strip() == str(pid):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total / 1024


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def ready(page, timeout=120_000):
    await page.wait_for_selector(READY, timeout=timeout)


async def first_render(browser, url: str, pid: int) -> tuple[float, float, float]:
    """A new visitor's first look at a page (a new browser context: nothing cached): seconds from navigation to
    the page's title drawn and to its script done, and the server CPU seconds the visit cost (the frontend's files
    and the script run, all on the server's one interpreter: what a class arriving at once pays 30 times)."""
    page = await browser.new_page()
    cpu = load.proc_stat(pid)[0]
    start = time.perf_counter()
    await page.goto(url)
    await page.wait_for_selector("h1", timeout=120_000)
    title = time.perf_counter() - start
    await ready(page)
    done = time.perf_counter() - start
    await page.close()
    return title, done, load.proc_stat(pid)[0] - cpu


async def slider_moves(page, moves: int, image: int = 3) -> list[float]:
    """Seconds from a slider key press until the image it drives (the `image`-th on the page; on /manifold the
    first interpolant) has changed on screen."""
    out = []
    slider = page.get_by_role("slider").first
    for i in range(moves):
        before = await page.locator('[data-testid="stImage"] img').nth(image).get_attribute("src")
        start = time.perf_counter()
        await slider.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        await page.wait_for_function(
            "([src, n]) => { const i = document.querySelectorAll('[data-testid=\"stImage\"] img')[n];"
            " return i && i.src !== src; }", arg=[before, image], timeout=60_000)
        out.append(time.perf_counter() - start)
        await ready(page)
    return out


async def open_session(browser, url: str):
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{url}/manifold")
    await ready(page)
    return context, page


async def work_session(page) -> tuple[list[float], int]:
    try:
        latencies = await slider_moves(page, MOVES)
        return latencies, await page.locator('[data-testid="stException"]').count()
    except Exception:
        return [], 1


def script_seconds(path: str, runs: int = 5) -> float:
    """Server-side time of one run of a page script (no browser), median of warm runs."""
    from streamlit.testing.v1 import AppTest

    from engine.store import REPO_ROOT

    at = AppTest.from_file(str(REPO_ROOT / path), default_timeout=120)
    at.run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def region_count_seconds() -> tuple[float, float, int]:
    """Exact and grid (320 x 320) region counts of the largest network /depth allows, 6 layers of 8 ReLUs, median of
    three seeds, and its median count."""
    from engine.analysis import regions
    from engine.models import depth

    exact, grid, counts = [], [], []
    for seed in range(3):
        net = depth.LiveNet(depth.Setup(dataset="spiral", activation="relu", layers=(8,) * 6, seed=seed))
        start = time.perf_counter()
        counts.append(regions.exact_count(net.hidden_layers_on_plane(), depth.BOX))
        exact.append(time.perf_counter() - start)
        start = time.perf_counter()
        net.region_map(320)
        grid.append(time.perf_counter() - start)
    return statistics.median(exact), statistics.median(grid), int(statistics.median(counts))


def model_time_ms() -> float:
    """Engine time of one slider step: four interpolants decoded and scored."""
    dae = api.load("dae", registry.get("dae").config("cpu")).model
    clf = api.load("mnist_classifier", registry.get("mnist_classifier").config("cpu")).model
    data = load_mnist()
    xa, xb = data.x_test[:1], data.x_test[60:61]
    runs = []
    with torch.no_grad():
        for _ in range(20):
            start = time.perf_counter()
            out = torch.cat([interpolate(dae, xa, xb, lvl, torch.linspace(0, 1, 9)) for lvl in LEVELS])
            clf.confidence(out.reshape(-1, 784))
            runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def step_seconds(name: str, steps: int) -> float:
    """Seconds per training step of the model's cpu preset, timed over `steps` steps in a training worker's
    thread setting."""
    spec = registry.get(name)
    config = spec.config("cpu")
    configure_threads("worker")
    model, data = build_model(spec, config), spec.data(config)
    step = make_step(spec, model, data, config, torch.Generator().manual_seed(0))
    step()                                                      # the first step also records the initial state
    start = time.perf_counter()
    for _ in range(steps):
        step()
    configure_threads("command")
    return (time.perf_counter() - start) / steps


def epoch_seconds(name: str, steps: int = 10) -> float:
    """Seconds for one pass over the 4,500 training digits with the cpu preset."""
    batch = registry.get(name).config("cpu").batch_size
    return step_seconds(name, steps) * len(load_mnist().x_train) / batch


def draw_replay_ms() -> float:
    """Engine time per step of a generation replay (eight samples), median of five replays."""
    config = registry.get("draw").config("cpu")
    pair = api.load("draw", config).model
    runs = []
    for seed in range(5):
        start = time.perf_counter()
        replay_generation(pair, True, 8, seed)
        runs.append((time.perf_counter() - start) * 1000 / config.glimpses)
    return statistics.median(runs)


def caption_seconds(tmp: Path) -> dict[str, float]:
    """Seconds from uploaded bytes to a caption with its attention, shipped models, beam 3, median of three: a
    1024 x 768 JPEG photo-sized scene, and a 10-second 30 fps 640 x 480 MP4 (decoding included)."""
    rng = np.random.default_rng(0)
    photo = tmp / "photo.jpg"
    Image.fromarray(rng.integers(0, 255, (768, 1024, 3), dtype=np.uint8)).save(photo, quality=90)
    clip = tmp / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 480))
    for t in range(300):
        frame = np.full((480, 640, 3), 40, np.uint8)
        frame[200:280, 2 * t:2 * t + 80] = (0, 0, 220)
        writer.write(frame)
    writer.release()
    image_config, video_config = registry.get("captioner").config("cpu"), registry.get("video_captioner").config("cpu")
    image_model = api.load("captioner", image_config).model
    video_model = api.load("video_captioner", video_config).model

    def image() -> None:
        picture = media.read_image(photo.read_bytes(), photo.name)
        captioner.describe_image(image_model, picture.rgb, image_config, 3)

    def video() -> None:
        frames = media.read_video(clip.read_bytes(), clip.name, video_config.frames).frames
        captioner.describe_clip(video_model, frames, video_config, 3)

    runs = {}
    for name, job in (("image", image), ("video", video)):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            job()
            times.append(time.perf_counter() - start)
        runs[name] = statistics.median(times)
    return runs


def translation_ms(words: int = 20, beam: int = 5) -> float:
    """Milliseconds to translate one sentence of `words` words with beam search, for each of the shipped
    networks, median of five sentences."""
    config = registry.get("nmt").config("cpu")
    model = api.load("nmt", config).model
    sentences = [p.src for p in grammar.corpus(11, 5, min_len=words, max_len=words)]
    runs = {}
    for network in ("rnnsearch", "rnnenc"):
        times = []
        for src in sentences:
            start = time.perf_counter()
            seq2seq.translate(model, network, src, beam)
            times.append((time.perf_counter() - start) * 1000)
        runs[network] = statistics.median(times)
    return runs


def landscape_slice_seconds(res: int = 41) -> float:
    """Seconds for the loss on a res x res plane of filter-normalised directions around the shipped MLP."""
    config = registry.get("landscape").config("cpu")
    model = api.load("landscape", config).model
    data = load_mnist()
    x, y = data.x_train[:config.eval_points], data.y_train[:config.eval_points]
    g = torch.Generator().manual_seed(0)
    d1, d2 = loss_slices.filter_normalized_direction(model, g), loss_slices.filter_normalized_direction(model, g)
    start = time.perf_counter()
    loss_slices.plane(model, model.weights(), d1, d2, torch.linspace(-1, 1, res), x, y)
    return time.perf_counter() - start


def critical_search_seconds() -> float:
    """Seconds to take one random start of the whole cpu-preset network to its critical point: L-BFGS, then
    Newton steps with the exact Hessian (one of the searches the critical-point model runs)."""
    config = registry.get("critical").config("cpu")
    loss = critical.penalised_loss(config, critical.digits(config))
    masks = critical.unit_masks(config)
    sub_loss, _, free = critical_points.restricted(loss, masks[-1])
    start_weights = 0.1 * torch.randn(len(free), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    start = time.perf_counter()
    w = critical_points.minimise(sub_loss, start_weights, config.lbfgs_iterations)
    critical_points.newton_search(grad(sub_loss), hessian(sub_loss), w, config.newton_iterations, config.tolerance / 1000)
    return time.perf_counter() - start


def vector_query_ms(runs: int = 20) -> dict[str, float]:
    """Median ms of a nearest-neighbour query and of an analogy on the 50,000 GloVe words."""
    loaded = vector_files.glove()
    space = word_space.Space.of(loaded.words, loaded.matrix)
    queries = ["frog", "violin", "paris", "king", "river"]
    times = {"neighbours": [], "analogy": []}
    for i in range(runs):
        start = time.perf_counter()
        word_space.neighbours(space, queries[i % len(queries)], 10)
        times["neighbours"].append(time.perf_counter() - start)
        start = time.perf_counter()
        word_space.analogy(space, "man", "king", queries[i % len(queries)], 5, limit=30000)
        times["analogy"].append(time.perf_counter() - start)
    return {name: 1000 * statistics.median(t) for name, t in times.items()}


def projection_seconds(method: str, points: int = 5000) -> float:
    """Seconds for a 2-D projection of the first `points` GloVe words (computed, not read from the cache)."""
    loaded = vector_files.glove(points)
    start = time.perf_counter()
    projection.compute(np.asarray(loaded.matrix, dtype=np.float32), method, 2)
    return time.perf_counter() - start


async def main() -> None:
    cache = tempfile.mkdtemp(prefix="bench-cache-")
    os.environ["PLAYGROUND_CACHE"] = cache
    exact, grid, regions_found = region_count_seconds()
    rows = [("engine: one slider step (model time)", f"{model_time_ms():.1f} ms", "<= 300 ms"),
            ("engine: regions of 6 x 8 ReLUs, exact / on a 320 x 320 grid", f"{exact:.2f} / {grid:.2f} s",
             f"{regions_found} regions at initialisation, median of 3 seeds"),
            ("server: /depth script run (no browser)", f"{script_seconds('pages/depth.py'):.2f} s", ""),
            ("server: /manifold script run (no browser)", f"{script_seconds('pages/manifold.py'):.2f} s", ""),
            ("server: home script run (no browser)", f"{script_seconds('app/main.py'):.2f} s", ""),
            ("engine: DRAW training epoch, cpu preset, both networks", f"{epoch_seconds('draw'):.1f} s",
             "4,500 digits, worker threads"),
            ("engine: DRAW generation replay, per step (8 samples)", f"{draw_replay_ms():.1f} ms", ""),
            ("server: /draw script run (no browser)", f"{script_seconds('pages/draw.py'):.2f} s", ""),
            ("engine: 41 x 41 loss slice around the shipped MLP", f"{landscape_slice_seconds():.1f} s",
             "1,000 training digits"),
            ("engine: one critical-point search (L-BFGS, then Newton with the exact Hessian)",
             f"{critical_search_seconds():.1f} s", "490 weights, 500 digits; the shipped search of "
             f"{critical.runs(registry.get('critical').config('cpu'))} runs took "
             f"{api.locate('critical', registry.get('critical').config('cpu'))[0].train_seconds / 60:.1f} min"),
            ("server: /loss-surface script run (no browser)", f"{script_seconds('pages/loss_surface.py'):.2f} s", ""),
            ("engine: toy GAN training, cpu preset", f"{1 / step_seconds('gan2d', 500):.0f} steps/s",
             f"{registry.get('gan2d').config('cpu').steps} steps per run, worker threads"),
            ("engine: MNIST GAN training epoch, cpu preset", f"{epoch_seconds('gan', 20):.1f} s",
             "4,500 digits, worker threads"),
            ("server: /gan script run (no browser)", f"{script_seconds('pages/gan.py'):.2f} s", ""),
            ("engine: RNNsearch + RNNenc training, cpu preset", f"{step_seconds('nmt', 50):.3f} s per step",
             f"{registry.get('nmt').config('cpu').steps:,} steps per run, worker threads; the shipped run took "
             f"{api.locate('nmt', registry.get('nmt').config('cpu'))[0].train_seconds / 60:.0f} min"),
            ("engine: translate a 20-word sentence, beam 5 (RNNsearch / RNNenc)",
             " / ".join(f"{ms:.0f}" for ms in translation_ms().values()) + " ms", ""),
            ("server: /attention script run (no browser)", f"{script_seconds('pages/attention.py'):.2f} s", ""),
            *[(f"engine: {name} query on 50,000 GloVe words", f"{ms:.1f} ms", "<= 50 ms")
              for name, ms in vector_query_ms().items()],
            ("engine: PCA of 5,000 GloVe words", f"{projection_seconds('pca'):.2f} s", "instant"),
            ("engine: UMAP of 5,000 GloVe words, first in a process (compiles its numba code)",
             f"{projection_seconds('umap'):.1f} s", "<= 20 s; once per server process"),
            ("engine: UMAP of 5,000 GloVe words, compiled", f"{projection_seconds('umap'):.1f} s",
             "then cached on disk"),
            ("engine: UMAP of 10,000 GloVe words, compiled", f"{projection_seconds('umap', 10_000):.1f} s",
             "the most points a projection takes"),
            ("engine: t-SNE of 5,000 GloVe words", f"{projection_seconds('tsne'):.1f} s", "then cached on disk"),
            ("server: /embeddings script run (no browser)", f"{script_seconds('pages/embeddings.py'):.2f} s", ""),
            *[(f"engine: caption an uploaded {what}", f"{seconds:.2f} s", budget) for (what, budget), seconds in zip(
                (("1024 x 768 JPEG", "<= 0.5 s"), ("10 s 30 fps 640 x 480 MP4", "<= 3 s")),
                caption_seconds(Path(cache)).values())],
            ("server: /captioning script run (no browser)", f"{script_seconds('pages/captioning.py'):.2f} s", "")]
    with streamlit_server({"PLAYGROUND_CACHE": cache}) as (url, proc):
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            for info in [None] + catalog.available():
                path = "" if info is None else info.url_path               # Home is served at /
                await first_render(browser, f"{url}/{path}", proc.pid)      # cold: loads models, warms caches
                warm = [await first_render(browser, f"{url}/{path}", proc.pid) for _ in range(5)]
                title, done, cpu = (statistics.median(column) for column in zip(*warm))
                rows.append((f"first render /{path} in Chromium (warm server): title / script done",
                             f"{title:.2f} / {done:.2f} s", f"<= 1.5 s; {cpu:.2f} s of server CPU a visit"))

            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            await page.goto(f"{url}/manifold")
            await ready(page)
            idle = await slider_moves(page, 10)
            rows.append(("/manifold slider to screen, p50 / p95",
                         f"{pct(idle, .5):.2f} / {pct(idle, .95):.2f} s", "<= 1 s"))

            draw = await browser.new_page(viewport={"width": 1400, "height": 1000})
            await draw.goto(f"{url}/draw")
            await ready(draw)
            steps = await slider_moves(draw, 10, image=0)
            rows.append(("/draw step slider to screen, p50 / p95", f"{pct(steps, .5):.2f} / {pct(steps, .95):.2f} s",
                         "<= 1 s"))
            await draw.close()

            spec = registry.get("dae")
            config = spec.config("cpu", seed=1)                             # a config not yet trained: a real job
            jobs.start("dae", config)
            await asyncio.sleep(3)
            busy = await slider_moves(page, 10)
            state = jobs.status("dae", config)
            rows.append(("/manifold slider while a training job runs, p50 / p95",
                         f"{pct(busy, .5):.2f} / {pct(busy, .95):.2f} s", f"job {state.state} at step {state.step}"))
            jobs.cancel("dae", config)
            await page.close()

            sessions = await asyncio.gather(*[open_session(browser, url) for _ in range(SESSIONS)])
            start = time.perf_counter()
            results = await asyncio.gather(*[work_session(page) for _, page in sessions])
            wall = time.perf_counter() - start
            for context, _ in sessions:
                await context.close()
            lat = [x for r, _ in results for x in r]
            errors = sum(e for _, e in results)
            rows.append((f"{SESSIONS} concurrent sessions moving the /manifold slider, p50 / p95",
                         f"{pct(lat, .5):.2f} / {pct(lat, .95):.2f} s" if lat else "no samples", "p95 <= 2 s"))
            rows.append((f"{SESSIONS} concurrent sessions: errors / wall time", f"{errors} / {wall:.1f} s", "0 errors"))
            rows.append(("server RSS after the sessions", f"{rss_mb(proc.pid):.0f} MB", "<= 3 GB"))
            await browser.close()
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (server, workers and "
          f"Chromium share them), torch {torch.__version__}")
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':{width}}  {'value':>18}  budget / note")
    for name, value, note in rows:
        print(f"{name:{width}}  {value:>18}  {note}")
    print("\nA class without browsers (tests/bench/load.py): each user moves its page's main control every 1-3 s; "
          "budget at 30 users p95 <= 0.5 s and 0 errors, at 60 users p95 <= 1 s, at 100 users 0 errors.")
    load.main([])
    print("\nA class following its teacher (tests/bench/follow.py): the teacher moves /manifold's mixing weight with "
          "live follow on; budget: every follower's page shows it within 1.5 s (p95), and 30 idle followers cost the "
          "server under 0.2 cores.")
    follow.main([])
    print("\nLive training on /depth (tests/bench/play.py): users press Play and their browsers ask for 15 frames a "
          "second; budget: one user >= 10 frames/s (aim 15), more users get fewer frames that each train more.")
    play.main(["--browser"])
    vision.main([])
    throughput.main([])


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
