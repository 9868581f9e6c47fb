"""The GAN page in Chromium with the shipped checkpoints: scrubbing the game, Play, a drawn data set trained live,
and a latent walk."""
import re

import pytest

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
TOY = registry.get("gan2d").config("cpu")


def test_scrubbing_changes_the_game_and_the_link(server, page):
    open_page(page, f"{server}/gan?t_step=0")
    before = image_sources(page)
    step_first_slider(page, 10, label="Step")
    after = image_sources(page)
    assert after[0] != before[0]
    caption = page.get_by_text(re.compile(r"the game at step \d+ of")).first.inner_text()
    step = int(re.search(r"step (\d+)", caption).group(1))
    assert step > 0 and f"t_step={step}" in page.url
    assert page.get_by_text("Ring modes covered here").count() == 1
    assert exceptions(page) == []
    screenshot(page, "gan-toy")


def test_play_animates_every_snapshot(server, page):
    open_page(page, f"{server}/gan")
    animation = play(page)
    assert animation.format == "GIF" and animation.n_frames == TOY.snapshots + 1
    assert exceptions(page) == []


def test_a_drawn_data_set_trains_and_replays(server, page):
    open_page(page, f"{server}/gan?dataset=drawn")
    assert page.get_by_text("No drawn data yet").count() == 1
    draw_stroke(page, page.locator("canvas.upper-canvas").first, [(0.2, 0.4), (0.5, 0.8), (0.8, 0.4)])
    wait_ready(page)
    page.get_by_role("button", name="Use this drawing").click()
    wait_ready(page)
    assert page.get_by_text(re.compile(r"Using \d+ drawn points")).count() == 1
    page.get_by_role("button", name="Train").click()
    page.get_by_text(re.compile(r"the game at step \d+ of")).first.wait_for(timeout=240_000)
    wait_ready(page)
    assert exceptions(page) == []
    screenshot(page, "gan-drawn")


def test_a_latent_walk_plays(server, page):
    open_page(page, f"{server}/gan?view=mnist&mview=walk&waypoints=5,6&frames=8")
    animation = play(page)
    assert animation.n_frames == 8 + 1
    page.locator('[data-testid="stTextInput"] input').first.fill("5, banana")
    page.keyboard.press("Enter")
    page.get_by_text("whole numbers").wait_for(timeout=60_000)      # the rerun may start after a first ready check
    assert page.get_by_text("whole numbers").count() == 1
    assert exceptions(page) == []
    screenshot(page, "gan-walk")
