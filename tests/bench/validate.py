"""The load bench checked against a real browser, for one user: the same /draw step moves, timed in Chromium (key
press to the new frame on screen) and by the protocol client (message sent to the run's end), on one server.

    .venv/bin/python -m tests.bench.validate
"""
import asyncio
import random
import statistics

from playwright.async_api import async_playwright

from tests.bench import load
from tests.bench.run import ready, slider_moves
from tests.e2e.harness import CHROMIUM, CHROMIUM_FLAGS, streamlit_server

MOVES = 12


async def main() -> None:
    with streamlit_server() as (url, _):
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            await page.goto(f"{url}/draw")
            await ready(page)
            in_browser = await slider_moves(page, MOVES, image=0)
            await browser.close()
        session = load.Session(url, load.CONTROLS["draw"], timeout=60)
        session.open()
        rng = random.Random(0)
        by_protocol = [session.move(rng) for _ in range(MOVES)]
        session.close()
    for name, times in (("Chromium, key press to the frame on screen", in_browser),
                        ("protocol client, message to the run's end", by_protocol)):
        print(f"/draw step, one user, {name}: p50 {statistics.median(times):.3f} s, max {max(times):.3f} s")


if __name__ == "__main__":
    asyncio.run(main())
