import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.harness import launch_browser, streamlit_server


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The app with the shipped checkpoints and an empty cache of its own (training writes there, not to ~)."""
    cache = tmp_path_factory.mktemp("e2e-cache")
    with streamlit_server({"PLAYGROUND_CACHE": str(cache), "PLAYGROUND_PRESET": "cpu"}) as (url, _):
        yield url


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = launch_browser(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()
