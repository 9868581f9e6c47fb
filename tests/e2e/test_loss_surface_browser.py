"""The loss-surface page in Chromium: a typed surface is plotted, the race animates, bad formulas are explained."""
import re

import pytest

from tests.e2e.harness import exceptions, image_sources, open_page, play, screenshot, wait_ready

pytestmark = pytest.mark.e2e


def test_a_typed_surface_is_plotted_and_linked(server, page):
    open_page(page, f"{server}/loss-surface")
    before = image_sources(page)
    box = page.locator('[data-testid="stTextInput"] input').first
    box.fill("x^4 - x^2 + y^2")
    box.press("Enter")
    wait_ready(page)
    assert page.locator('[data-testid="stSelectbox"] input').first.input_value() == "custom formula"
    assert image_sources(page) != before
    assert re.search(r"formula=x%5E4", page.url)
    assert exceptions(page) == []
    screenshot(page, "loss-surface-typed")


def test_the_race_animates(server, page):
    open_page(page, f"{server}/loss-surface?steps=20")
    animation = play(page)
    assert animation.format == "GIF" and animation.n_frames == 21
    assert exceptions(page) == []


def test_an_unsafe_formula_gets_a_message(server, page):
    open_page(page, f"{server}/loss-surface?formula=__import__('os')")
    assert page.get_by_text("cannot be used").count() == 1
    assert page.locator('[data-testid="stImage"]').count() == 0
    assert exceptions(page) == []


def test_the_network_landscape_renders_and_a_new_slice_is_computed(server, page):
    open_page(page, f"{server}/loss-surface?view=network&res=11")
    before = image_sources(page, at_least=2)
    assert page.get_by_text("straight line from initialisation").count() == 1
    page.get_by_role("spinbutton", name="Directions seed").fill("3")
    page.keyboard.press("Enter")
    wait_ready(page)
    after = image_sources(page, at_least=2)
    assert after[0] != before[0] and after[1] == before[1]      # a new random plane; the trajectory's plane stays
    assert "dir_seed=3" in page.url
    assert exceptions(page) == []
    screenshot(page, "loss-surface-network")


def test_a_click_on_the_map_moves_the_start(server, page):
    open_page(page, f"{server}/loss-surface")
    start_x = page.get_by_role("spinbutton", name="Start x")
    before, images = start_x.input_value(), image_sources(page)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    box = chart.bounding_box()
    chart.click(position={"x": box["width"] * 0.35, "y": box["height"] * 0.3})
    wait_ready(page)
    assert start_x.input_value() != before
    assert image_sources(page) != images                                # the race starts from the clicked point
    assert re.search(r"x0=-?[0-9.]+", page.url) and "x0=1.5&" not in page.url + "&"
    assert exceptions(page) == []
    screenshot(page, "loss-surface-clicked-start")


def test_the_critical_points_view_renders(server, page):
    open_page(page, f"{server}/loss-surface?view=critical")
    assert page.get_by_text("distinct critical points").count() == 1
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 3
    assert exceptions(page) == []
    screenshot(page, "loss-surface-critical")
