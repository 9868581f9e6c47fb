"""Pages run through Streamlit's AppTest on the tiny checkpoints: no browser, real engine."""
import shutil

import pytest

from app.ui import charts


@pytest.fixture
def tiny_env(tiny_cache, tmp_path, monkeypatch):
    """The pages on tiny checkpoints, in a copy of the tiny cache each test may damage."""
    cache = tmp_path / "cache"
    shutil.copytree(tiny_cache, cache)
    monkeypatch.setenv("PLAYGROUND_CACHE", str(cache))
    monkeypatch.setenv("PLAYGROUND_SHIPPED", str(tmp_path / "no-shipped"))
    monkeypatch.setenv("PLAYGROUND_PRESET", "tiny")
    return cache


@pytest.fixture(autouse=True)
def charts_checked(monkeypatch):
    """The pages make their chart specs without Altair's check against Vega-Lite's schema (charts.vega_lite, for
    speed); in the page tests every chart made that way is checked."""
    monkeypatch.setattr(charts, "CHECK_SCHEMA", True)
