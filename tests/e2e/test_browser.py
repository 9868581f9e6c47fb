"""Real-browser tests: a Streamlit server with the shipped checkpoints, driven through Debian's Chromium."""
import math
import re

import pytest
from playwright.sync_api import expect

from app.ui import catalog
from tests.e2e.harness import (
    draw_stroke,
    exceptions,
    image_sources,
    open_page,
    screenshot,
    step_first_slider,
    wait_ready,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("path", [""] + [p.url_path for p in catalog.available()])
def test_every_page_opens_without_an_exception(server, page, path):
    outside = []
    page.on("request", lambda r: r.url.startswith((server, "data:", "blob:")) or outside.append(r.url))
    open_page(page, f"{server}/{path}")
    assert exceptions(page) == []
    assert outside == []                     # nothing is fetched from the internet (favicon, fonts, scripts)
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("h1").first.inner_text().strip()
    screenshot(page, f"page-{path or 'home'}")


def test_home_lists_measured_claims(server, page):
    open_page(page, server)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Paper vs. you" in body
    assert "not trained" not in body         # every shipped model has its claims measured


def test_manifold_slider_changes_the_images_and_the_url(server, page):
    open_page(page, f"{server}/manifold")
    before = image_sources(page, at_least=7)     # two endpoints, the path grid, four images at the mixing weight
    step_first_slider(page, 4)
    after = image_sources(page, at_least=7)
    assert after[:2] == before[:2]           # the endpoints did not change
    assert after[2:] != before[2:]           # the interpolants did
    assert re.search(r"alpha=0\.7", page.url)
    assert exceptions(page) == []
    screenshot(page, "manifold-slider")


def test_a_link_reproduces_the_view(server, page):
    open_page(page, f"{server}/manifold?view=tangents&t_cls=7&t_scale=3.0")
    page.get_by_text("Jacobian of").wait_for(timeout=10_000)   # the tangents view is shown
    screenshot(page, "manifold-link")
    assert page.get_by_role("slider").first.input_value() == "3"
    assert page.locator('[data-testid="stSelectbox"] input').first.input_value() == "7"
    assert exceptions(page) == []
    screenshot(page, "manifold-tangents")


def test_drawing_two_digits_interpolates_between_them(server, page):
    open_page(page, f"{server}/manifold?a_src=draw&b_src=draw")
    assert page.get_by_text("Draw a digit in white").count() == 2
    canvases = page.locator("canvas.upper-canvas")
    seen = page.get_by_text("as the model sees it")
    draw_stroke(page, canvases.nth(0), [(0.5, 0.3), (0.5, 0.92)])                            # a "1"
    expect(seen).to_have_count(1, timeout=60_000)          # the canvas sends its drawing a moment after the stroke
    ring = [(0.5 - 0.25 * math.sin(t * math.pi / 10), 0.32 + 0.3 * (1 - math.cos(t * math.pi / 10))) for t in range(21)]
    draw_stroke(page, canvases.nth(1), ring)                                                   # a "0"
    expect(seen).to_have_count(2, timeout=60_000)
    wait_ready(page)
    assert page.get_by_text("Draw a digit in white").count() == 0
    assert page.get_by_role("slider", name=re.compile("Mixing weight")).count() == 1
    assert exceptions(page) == []
    screenshot(page, "manifold-drawn")


def test_identical_endpoints_get_a_clear_message(server, page):
    open_page(page, f"{server}/manifold?a_cls=3&b_cls=3")
    assert page.get_by_text("same digit").count() == 1
    assert exceptions(page) == []


def test_vector_field_view_draws_the_field(server, page):
    open_page(page, f"{server}/manifold?view=field&dataset=ring")
    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=60_000)        # the field figure
    assert "Field points at the data" in page.locator('[data-testid="stMain"]').inner_text()
    assert exceptions(page) == []
    screenshot(page, "manifold-field")


def test_pressing_train_shows_live_progress_and_cancel_works(server, page):
    open_page(page, f"{server}/manifold")
    page.get_by_text("Models on this page").click()
    panel = page.locator(".st-key-manifold_model_dae")
    panel.get_by_role("button", name="Retrain").click()
    page.locator('[data-testid="stProgress"]').wait_for(timeout=30_000)
    page.get_by_text(re.compile(r"training dae · step [1-9]\d*/\d+")).first.wait_for(timeout=60_000)
    screenshot(page, "manifold-training")
    page.get_by_role("button", name="Cancel training").click()
    page.get_by_text("cancelled").first.wait_for(timeout=60_000)
    wait_ready(page)
    assert exceptions(page) == []
