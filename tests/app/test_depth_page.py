"""The depth page through Streamlit's AppTest on the tiny depth study: training, regions, back-prop, bad input."""
import pytest

from tests.app.helpers import run_page, run_with_uploads, texts

pytestmark = pytest.mark.usefixtures("tiny_env")


def net(at):
    return at.session_state["depth:net"]


def unit_boxes(at) -> int:
    """How many unit thumbnails (inputs and hidden units) the frame's network diagram shows."""
    diagram = [h.value for h in at.html if 'class="dlp-net"' in h.value]
    assert len(diagram) == 1
    return diagram[0].count('class="u"')


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.get("metric")}


def test_the_page_opens_on_the_training_view_with_the_network_and_its_output():
    at = run_page("pages/depth.py")
    assert not at.exception
    assert unit_boxes(at) == 2 + 4 + 2                  # the network diagram: x1, x2 and two layers of 4 and 2
    assert sum("data:image/jpeg" in h.value for h in at.html) == 2      # its thumbnails, and the output
    assert metrics(at)["Steps"] == "0"
    assert "Paper vs. you" in [h.value for h in at.subheader]
    assert [b.label for b in at.button][:3] == ["Play", "Step", "Reset"]


def test_step_advances_one_minibatch_and_moves_the_loss():
    at = run_page("pages/depth.py", dataset="gauss", lr=0.1)
    before = net(at).history[-1]
    at.button(key="depth:step").click().run()
    assert not at.exception
    assert net(at).steps == 1
    after = net(at).history[-1]
    assert after[0] == 1 and after[1] != before[1]


def test_play_trains_each_frame_and_pause_stops():
    at = run_page("pages/depth.py", dataset="gauss", lr=0.1)
    at.button(key="depth:play").click().run()
    assert not at.exception and at.session_state["depth:playing"]
    assert [b.label for b in at.button][0] == "Pause"
    first = net(at).steps
    at.run()                                            # the next frame
    assert net(at).steps > first > 0
    assert float(metrics(at)["Training loss"]) < net(at).history[0][1]
    at.button(key="depth:play").click().run()
    stopped = net(at).steps
    at.run()
    assert not at.session_state["depth:playing"] and net(at).steps == stopped


def test_adding_a_layer_changes_the_network_and_the_url():
    at = run_page("pages/depth.py")
    assert net(at).setup.layers == (4, 2)
    at.number_input(key="depth:layers").set_value(3).run()
    assert not at.exception
    assert net(at).setup.layers == (4, 2, 2)
    assert len(net(at).net.linears) == 4
    assert unit_boxes(at) == 2 + 4 + 2 + 2
    assert at.query_params["layers"] == "3"


def test_a_link_reproduces_the_setup():
    at = run_page("pages/depth.py", dataset="spiral", noise=20, layers=3, u1=8, u2=6, u3=5, act="relu", lr=0.01,
                  f_x1sq="true", seed=7)
    setup = net(at).setup
    assert (setup.dataset, setup.noise, setup.layers, setup.activation, setup.lr, setup.seed) == (
        "spiral", 0.2, (8, 6, 5), "relu", 0.01, 7)
    assert setup.features == ("x1", "x2", "x1^2")
    again = run_page("pages/depth.py", dataset="spiral", noise=20, layers=3, u1=8, u2=6, u3=5, act="relu", lr=0.01,
                     f_x1sq="true", seed=7)
    assert [w.tolist() for w, _ in net(again).net.layers()] == [w.tolist() for w, _ in net(at).net.layers()]


def test_bad_link_values_fall_back_to_defaults():
    at = run_page("pages/depth.py", dataset="nonsense", layers=99, u1=-4, act="softmax", lr=0.5, view="x",
                  formula="x" * 5000)
    assert not at.exception
    setup = net(at).setup
    assert (setup.dataset, setup.layers, setup.activation, setup.lr) == ("circle", (4, 2), "tanh", 0.03)


def test_regions_are_counted_for_a_relu_net_and_explained_otherwise():
    at = run_page("pages/depth.py", view="regions", act="relu")
    assert not at.exception
    shown = metrics(at)
    exact, found = int(shown["Regions now (exact)"]), int(shown["Found on the 320 x 320 grid"])
    assert 1 <= found <= exact
    assert "Montufar" in texts(at.markdown)
    assert at.dataframe                                 # the depth study's table, from the tiny checkpoint
    tanh = run_page("pages/depth.py", view="regions")
    assert "ReLU" in texts(tanh.info)
    assert "Regions now (exact)" not in metrics(tanh)


def test_the_construction_slider_counts_exactly():
    at = run_page("pages/depth.py", view="regions", zigzag=2)
    assert "**81** regions" in texts(at.markdown)
    at.slider(key="depth:zigzag").set_value(3).run()
    assert "**729** regions" in texts(at.markdown)


def test_backprop_on_the_network_agrees_with_autograd():
    at = run_page("pages/depth.py", view="backprop", gstep=3)
    assert not at.exception
    assert at.get("graphviz_chart")
    assert "Forward 3/" in texts(at.markdown)
    assert float(metrics(at)["Largest relative error vs autograd"]) < 1e-10
    assert float(metrics(at)["Largest relative error vs finite differences"]) < 1e-5
    table = at.dataframe[0].value
    assert len(table) == sum(w.size + b.size for w, b in net(at).net.layers())


def test_backprop_of_a_typed_formula_steps_backward():
    at = run_page("pages/depth.py", view="backprop", source="formula", formula="x*y + sin(x)", values="x=1,y=2",
                  gstep=9)
    assert not at.exception
    assert "Backward" in texts(at.markdown) and "dL/d" in texts(at.markdown)
    table = at.dataframe[0].value.set_index("gradient of")
    assert table.loc["x", "back-prop"] == pytest.approx(2 + 0.5403023058681398)


@pytest.mark.parametrize("formula,values,message", [
    ("__import__('os').system('true')", "x=1", "unknown function"),
    ("x.real", "x=1", "not allowed"),
    ("x**1000", "x=1", "exponents"),
    ("log(x)", "x=-1", "positive"),
    ("w*x", "w=1", "give a value"),
    ("w*x", "w=1, x=abc", "name=value"),
])
def test_bad_formulas_get_a_clear_error(formula, values, message):
    at = run_page("pages/depth.py", view="backprop", source="formula", formula=formula, values=values)
    assert not at.exception
    assert message in texts(at.error)


def test_points_from_a_csv_file_train_and_bad_files_are_refused():
    rows = "x1,x2,label\n" + "\n".join(f"{i - 5},{(i * 7) % 11 - 5},{1 if i % 2 else -1}" for i in range(10))
    at = run_with_uploads("pages/depth.py", [(rows.encode(), "mine.csv")], dataset="custom")
    assert not at.exception
    assert "10 points from mine.csv" in texts(at.caption)
    assert unit_boxes(at) == 2 + 4 + 2
    bad = run_with_uploads("pages/depth.py", [(b"x1,x2,label\n1,2,3\n", "bad.csv")], dataset="custom")
    assert not bad.exception
    assert "not used" in texts(bad.error)
    binary = run_with_uploads("pages/depth.py", [(b"\xff\xfe\x00\x01" * 10, "x.csv")], dataset="custom")
    assert not binary.exception and "not text" in texts(binary.error)


def test_regression_offers_its_own_data_sets():
    at = run_page("pages/depth.py", problem="regression", dataset="plane")
    assert not at.exception
    assert net(at).setup.problem == "regression" and net(at).net.output == "linear"
    assert at.selectbox(key="depth:dataset").options == ["Plane", "Gaussian bumps", "Your points"]


def test_a_diverging_run_stops_with_a_message():
    at = run_page("pages/depth.py", problem="regression", dataset="plane", act="linear", lr=10.0, layers=3, u1=8,
                  u2=8, u3=8)
    at.button(key="depth:play").click().run()
    for _ in range(3):
        if not at.session_state["depth:playing"]:
            break
        at.run()
    assert not at.exception
    assert not at.session_state["depth:playing"]
    assert "diverged" in texts(at.error) and "learning rate" in texts(at.error)
    assert [b.label for b in at.button][0] == "Play"


def test_the_data_can_be_downloaded_as_csv():
    at = run_page("pages/depth.py", dataset="xor")
    assert [d.label for d in at.get("download_button")] == ["Data as CSV"]
