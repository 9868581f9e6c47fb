"""The depth page in Chromium with the shipped study: Play trains live, Step, a layer added, points placed on the
canvas, regions counted, the flow graph drawn."""
import re

import pytest

from tests.e2e.harness import exceptions, image_sources, open_page, screenshot, wait_ready

pytestmark = pytest.mark.e2e


def metric(page, label: str) -> str:
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).locator(
        '[data-testid="stMetricValue"]').inner_text()


def test_play_trains_live_and_pause_holds(server, page):
    open_page(page, f"{server}/depth?dataset=gauss&lr=0.1")
    start = float(metric(page, "Training loss"))
    before = image_sources(page, at_least=4, within="stHtml")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stMetric\"]')].some(m => "
                           "m.innerText.includes('Steps') && parseFloat(m.innerText.split('\\n').pop().replace(',', '')) >= 75)",
                           timeout=30_000)
    assert image_sources(page, at_least=4, within="stHtml") != before      # the surface and the units moved
    page.get_by_role("button", name="Pause").click()
    wait_ready(page)
    held = metric(page, "Steps")
    page.wait_for_timeout(800)
    assert metric(page, "Steps") == held
    assert float(metric(page, "Training loss")) < start / 2
    assert exceptions(page) == []
    screenshot(page, "depth-trained")


def test_step_while_playing_stops_the_frames_and_takes_one_step(server, page):
    open_page(page, f"{server}/depth?dataset=gauss")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stMetric\"]')].some(m => "
                           "m.innerText.includes('Steps') && parseFloat(m.innerText.split('\\n').pop()) >= 20)",
                           timeout=30_000)
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_role("button", name="Play").wait_for(timeout=10_000)      # the whole page ran: the timer stopped
    wait_ready(page)
    held = metric(page, "Steps")
    page.wait_for_timeout(800)
    assert metric(page, "Steps") == held
    page.get_by_role("button", name="Step", exact=True).click()
    wait_ready(page)
    assert int(metric(page, "Steps").replace(",", "")) == int(held.replace(",", "")) + 1
    assert exceptions(page) == []


def test_step_advances_and_a_layer_can_be_added(server, page):
    open_page(page, f"{server}/depth")
    page.get_by_role("button", name="Step", exact=True).click()
    wait_ready(page)
    assert metric(page, "Steps") == "1"
    layers = page.locator('[data-testid="stNumberInput"]').filter(has_text="Hidden layers")
    layers.get_by_role("button").last.click()                 # the + step button
    wait_ready(page)
    assert "layers=3" in page.url
    assert page.locator('[data-testid="stNumberInput"]').filter(has_text="Layer 3").count() == 1
    assert metric(page, "Steps") == "0"                       # a new network
    assert exceptions(page) == []


def test_points_placed_on_the_canvas_train(server, page):
    open_page(page, f"{server}/depth?dataset=custom")
    assert page.get_by_text("Place at least 4 points").count() == 1
    canvas = page.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    for x, y in [(0.2, 0.3), (0.3, 0.7), (0.25, 0.5)]:
        canvas.click(position={"x": x * 240, "y": y * 240})
    wait_ready(page)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Orange (-1)").click()
    wait_ready(page)
    for x, y in [(0.8, 0.3), (0.75, 0.7), (0.7, 0.5)]:
        canvas.click(position={"x": x * 240, "y": y * 240})
    wait_ready(page)
    assert page.get_by_text("Place at least 4 points").count() == 0
    page.get_by_role("button", name="Step", exact=True).click()
    wait_ready(page)
    assert metric(page, "Steps") == "1"
    assert exceptions(page) == []
    screenshot(page, "depth-custom")


def test_regions_and_the_flow_graph(server, page):
    open_page(page, f"{server}/depth?view=regions&act=relu&layers=3&u1=6&u2=6&u3=6")
    assert int(metric(page, "Regions now (exact)").replace(",", "")) >= int(
        metric(page, "Found on the 320 x 320 grid").replace(",", "")) > 1
    screenshot(page, "depth-regions")
    open_page(page, f"{server}/depth?view=backprop&gstep=30")
    page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for(timeout=30_000)
    assert page.locator('[data-testid="stGraphVizChart"] svg g.node').count() > 10
    assert re.search(r"Backward \d+/\d+", page.locator('[data-testid="stMain"]').inner_text())
    assert float(metric(page, "Largest relative error vs autograd")) < 1e-10
    assert exceptions(page) == []
    screenshot(page, "depth-backprop")
