"""The loss-surface page through Streamlit's AppTest (no checkpoints needed: the surfaces are formulas)."""
import pytest

from tests.app.helpers import run_page, texts


def image_text(at) -> str:
    return " ".join(str(i.proto) for i in at.get("image"))


def test_the_saddle_race_reads_each_ending_and_the_claims_hold():
    at = run_page("pages/loss_surface.py")
    assert not at.exception
    assert at.selectbox[0].value == "saddle" and at.text_input[0].value == "x^2 - y^2"
    text = texts(at.markdown)
    assert "| newton | 1 | (0, 0) | 0 |" in text and "a saddle" in text          # Newton stops on the saddle
    assert "saddle-free newton" in text and "diverged" in text
    claims = [line for line in text.split("\n") if line.startswith("| ") and line.rstrip().endswith(("yes |", "no |"))]
    assert len(claims) == 3 and all(line.rstrip().endswith("yes |") for line in claims)
    assert "after 80 of 80 steps" in image_text(at)


def test_a_typed_formula_from_the_link_is_recognised_as_its_preset():
    at = run_page("pages/loss_surface.py", formula="x^3 - 3*x*y^2", x0=1.0, y0=0.1)
    assert not at.exception
    assert at.selectbox[0].value == "monkey saddle"


def test_picking_a_preset_brings_its_formula_and_start_into_the_link():
    at = run_page("pages/loss_surface.py")
    at.selectbox[0].set_value("rosenbrock").run()
    assert not at.exception
    assert at.text_input[0].value == "(1 - x)^2 + 100*(y - x^2)^2"
    assert at.query_params["formula"] == "(1 - x)^2 + 100*(y - x^2)^2" and at.query_params["x0"] == "-1.5"


def test_unsafe_or_broken_formulas_get_a_message_not_a_traceback():
    for bad in ["__import__('os').system('touch /tmp/owned')", "x +", "q^2"]:
        at = run_page("pages/loss_surface.py", formula=bad)
        assert not at.exception
        assert "cannot be used" in texts(at.error)
        assert not at.get("image")


def test_the_step_slider_and_play():
    at = run_page("pages/loss_surface.py", steps=20)
    at.select_slider[0].set_value(5).run()
    assert not at.exception
    assert "after 5 of 20 steps" in image_text(at) and at.query_params["step"] == "5"
    at.button(key="loss-surface:play").click().run()
    assert "looping" in image_text(at)


def test_long_runs_are_drawn_on_about_forty_frames():
    at = run_page("pages/loss_surface.py", steps=200, step=7)
    assert not at.exception
    options = at.select_slider[0].options
    assert len(options) <= 41 and options[0] == "0" and options[-1] == "200"
    assert at.select_slider[0].value in (5, 10)          # a linked step snaps to the nearest drawn frame


@pytest.mark.usefixtures("tiny_env")
def test_the_network_view_draws_the_line_and_both_planes():
    at = run_page("pages/loss_surface.py", view="network", res=11)
    assert not at.exception
    headers = [h.value for h in at.subheader]
    assert any("straight line" in h for h in headers) and any("trajectory" in h for h in headers)
    assert len(at.get("image")) == 2                                 # the random plane and the trajectory's plane
    assert "largest rise here between 0 and 1" in texts(at.caption)
    at.select_slider(key="loss-surface:span").set_value(0.5).run()
    assert not at.exception and at.query_params["span"] == "0.5"


@pytest.mark.usefixtures("tiny_env")
def test_the_convnet_has_its_own_landscape():
    at = run_page("pages/loss_surface.py", view="network", net="cnn", res=11)
    assert not at.exception
    assert "convnet with 5 x 5 convolutions" in texts(at.markdown)
    assert len(at.get("image")) == 2


@pytest.mark.usefixtures("tiny_env")
def test_the_critical_points_view_plots_error_against_index_and_one_spectrum():
    at = run_page("pages/loss_surface.py", view="critical")
    assert not at.exception
    assert "distinct critical points" in texts(at.markdown)
    assert "Spearman correlation between index and training error" in texts(at.caption)
    assert len(at.get("vega_lite_chart")) == 3                      # the scatter, one spectrum, the runs
    before = texts(at.markdown)
    last = int(at.slider(key="loss-surface:point").max)
    assert last >= 1                                                # the tiny search keeps several points
    at.slider(key="loss-surface:point").set_value(last).run()
    assert not at.exception and at.query_params["point"] == str(last)
    assert texts(at.markdown) != before
    assert "Paper vs. you" in [h.value for h in at.subheader]

