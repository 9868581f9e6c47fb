"""The DRAW page through Streamlit's AppTest on the tiny checkpoint."""
import pytest

from engine import registry
from tests.app.helpers import run_page, texts

pytestmark = pytest.mark.usefixtures("tiny_env")
GLIMPSES = registry.get("draw").config("tiny").glimpses


def image_count(at) -> int:
    return len(at.get("image"))


def test_generation_replay_shows_the_samples_their_neighbours_and_windows():
    at = run_page("pages/draw.py")
    assert not at.exception
    assert at.select_slider[0].value == 1 and at.select_slider[0].options[-1] == str(GLIMPSES)
    assert image_count(at) == 1 + 8                    # the frame of eight samples, then each beside its neighbour
    assert "nearest training digit" in texts(at.markdown)
    assert at.get("download_button")                   # the GIF export
    assert at.dataframe and {"gx", "gy", "delta", "sigma", "gamma"} <= set(at.dataframe[0].value.columns)
    assert "Paper vs. you" in [h.value for h in at.subheader]
    assert "80.97" in texts(at.markdown) and "87.40" in texts(at.markdown)


def image_text(at) -> str:
    return " ".join(str(i.proto) for i in at.get("image"))


def test_the_step_slider_moves_the_replay_and_the_url():
    at = run_page("pages/draw.py", seed=5)
    assert at.number_input[0].value == 5
    assert f"step 1 of {GLIMPSES}" in image_text(at)
    at.select_slider[0].set_value(GLIMPSES).run()
    assert not at.exception
    assert f"step {GLIMPSES} of {GLIMPSES}" in image_text(at)
    assert at.query_params["step"] == str(GLIMPSES) and at.query_params["seed"] == "5"


def test_play_shows_the_animation_until_the_slider_moves():
    at = run_page("pages/draw.py")
    at.button(key="draw:play").click().run()
    assert not at.exception
    assert "looping" in image_text(at)
    at.select_slider[0].set_value(2).run()
    assert "looping" not in image_text(at) and f"step 2 of {GLIMPSES}" in image_text(at)


def test_reconstruction_replay_of_a_test_digit():
    at = run_page("pages/draw.py", mode="reconstruct", cls=3, idx=4)
    assert not at.exception
    assert "read window" in texts(at.caption) and "nats" in texts(at.caption)
    windows = at.dataframe[0].value
    assert set(windows["window"]) == {"read", "write"} and len(windows) == 2 * GLIMPSES


def test_the_baseline_has_no_windows():
    at = run_page("pages/draw.py", attention="false")
    assert not at.exception
    assert not at.dataframe
    assert "has no windows" in texts(at.caption)


def test_bad_link_values_fall_back_to_defaults():
    at = run_page("pages/draw.py", step="many", seed=-3, mode="paint")
    assert not at.exception
    assert at.select_slider[0].value == 1 and at.number_input[0].value == 0

