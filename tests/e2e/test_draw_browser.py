"""The DRAW page in Chromium with the shipped checkpoint: the step slider, Play, the GIF export and a drawn digit."""
import re

import pytest
from PIL import Image

from engine import registry
from tests.e2e.harness import (
    draw_stroke,
    exceptions,
    image_sources,
    open_page,
    play,
    screenshot,
    step_first_slider,
    wait_ready,
)

pytestmark = pytest.mark.e2e
GLIMPSES = registry.get("draw").config("cpu").glimpses


def test_the_slider_changes_the_canvas_and_the_url(server, page):
    open_page(page, f"{server}/draw")
    before = image_sources(page, at_least=9)
    step_first_slider(page, 5)
    after = image_sources(page, at_least=9)
    assert after[0] != before[0]               # the replay frame moved on
    assert after[1:] == before[1:]             # the final samples and their neighbours did not
    caption = page.get_by_text(re.compile(rf"samples: step \d+ of {GLIMPSES}")).first.inner_text()
    step = int(re.search(r"step (\d+)", caption).group(1))
    assert step > 1 and f"step={step}" in page.url     # the caption and the link agree on where the replay is
    assert exceptions(page) == []
    screenshot(page, "draw-step")


def test_play_animates_the_replay(server, page):
    open_page(page, f"{server}/draw?step=3")
    animation = play(page)
    assert animation.format == "GIF" and animation.n_frames == GLIMPSES
    assert exceptions(page) == []


def test_the_replay_downloads_as_an_animated_gif(server, page, tmp_path):
    open_page(page, f"{server}/draw?seed=11")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download GIF").click()
    path = tmp_path / "replay.gif"
    download.value.save_as(path)
    animation = Image.open(path)
    assert animation.format == "GIF" and animation.n_frames == GLIMPSES
    animation.seek(GLIMPSES - 1)              # the last frame differs from the first: the canvas was drawn on
    last = animation.convert("L").tobytes()
    animation.seek(0)
    assert animation.convert("L").tobytes() != last


def test_a_drawn_digit_is_read_and_rebuilt(server, page):
    open_page(page, f"{server}/draw?mode=reconstruct&src=draw")
    assert page.get_by_text("Draw a digit in white").count() == 1
    draw_stroke(page, page.locator("canvas.upper-canvas").first, [(0.5, 0.3), (0.5, 0.92)])
    wait_ready(page)
    page.get_by_text("as the model sees it").wait_for(timeout=30_000)
    assert page.get_by_text("read window").count() >= 1
    assert exceptions(page) == []
    screenshot(page, "draw-drawn")
