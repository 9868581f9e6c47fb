"""The embedding explorer in Chromium: the search, the analogy form and a projection switch and the 3-D view, each in the link."""
import pytest

from tests.e2e.harness import exceptions, open_page, screenshot, wait_ready

pytestmark = pytest.mark.e2e


def type_into(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")
    wait_ready(page)


def test_search_analogy_and_projection(server, page):
    open_page(page, f"{server}/embeddings?points=500")
    type_into(page, "Search a word", "violin")
    assert page.get_by_role("cell", name="cello").count() == 1
    assert "query=violin" in page.url
    type_into(page, "a", "france")
    type_into(page, "b", "paris")
    type_into(page, "c", "italy")
    assert page.get_by_text("france : paris = italy : rome").count() == 1
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    before = chart.inner_html()
    page.get_by_text("t-SNE", exact=True).click()
    wait_ready(page)
    assert "proj=tsne" in page.url and chart.inner_html() != before
    page.get_by_text("3-D", exact=True).click()
    page.locator('[data-testid="stPlotlyChart"] .scatterlayer, [data-testid="stPlotlyChart"] canvas').first.wait_for(
        timeout=60_000)
    wait_ready(page)
    assert "dims=3" in page.url
    assert exceptions(page) == []
    screenshot(page, "embeddings-analogy")
