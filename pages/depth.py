"""Depth (slides 30-34, 43-57): train a small network live, count its linear regions, step through back-prop."""
import time
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app.ui import charts, images, network_view, resources
from app.ui.page_kit import PageKit
from engine import api
from engine.analysis import flowgraph, regions
from engine.data import DataError, playground
from engine.models import depth

VIEWS = {"train": "Train", "regions": "Linear regions", "backprop": "Back-prop"}
DATASETS = {"circle": "Circle", "xor": "XOR", "gauss": "Two Gaussians", "spiral": "Spiral", "moons": "Moons",
            "plane": "Plane", "bumps": "Gaussian bumps", "custom": "Your points"}
PROBLEMS = {"classification": "Classification", "regression": "Regression"}
FEATURE_KEYS = {"x1": "f_x1", "x2": "f_x2", "x1^2": "f_x1sq", "x2^2": "f_x2sq", "x1*x2": "f_x1x2",
                "sin x1": "f_sin1", "sin x2": "f_sin2"}
FORMULA = "0.5 * (tanh(w*x + b) - y)**2"
VALUES = "w=0.8, x=1.5, b=-0.3, y=1"
FRAME_S = 1 / 15                # a frame every 67 ms while playing: 15 frames a second, as smooth as a video
BATCHES_PER_FRAME = 40        # at most this many SGD steps per frame on a quiet server
CATCH_UP = 2                  # ... and at most this many times as many when frames come slower
GRID, SURFACE, REGION_GRID = network_view.THUMB, 320, 320     # units computed on the grid their thumbnails show
DEFAULTS = {"view": "train", "problem": "classification", "dataset": "circle", "noise": 0, "train": 50,
            "batch": 10, "layers": 2, "u1": 4, "u2": 2, "u3": 2, "u4": 2, "u5": 2, "u6": 2,
            "act": "tanh", "lr": 0.03, "reg": "none", "rate": 0.0, "seed": 0, "test": False,
            **{k: name in ("x1", "x2") for name, k in FEATURE_KEYS.items()},
            "point": 0, "gstep": 0, "source": "network", "formula": FORMULA, "values": VALUES, "zigzag": 2}
ALLOWED = {"view": list(VIEWS), "problem": list(PROBLEMS), "dataset": list(DATASETS), "noise": (0, 50),
           "train": (10, 90), "batch": (1, 30), "layers": (0, depth.MAX_LAYERS),
           **{f"u{i}": (1, depth.MAX_UNITS) for i in range(1, depth.MAX_LAYERS + 1)},
           "act": list(depth.ACTIVATIONS), "lr": list(depth.LEARNING_RATES), "reg": ["none", "L1", "L2"],
           "rate": list(depth.REG_RATES), "seed": (0, 10**6), "point": (0, 10**4), "gstep": (0, 10**4),
           "source": ["network", "formula"], "formula": None, "values": None, "zigzag": (1, 3)}
KIT = PageKit("depth", DEFAULTS, ALLOWED)
key = KIT.key


# ---------------------------------------------------------------- the setup

def datasets(problem: str) -> list[str]:
    return list(playground.CLASSIFY if problem == "classification" else playground.REGRESS) + ["custom"]


def setup_controls() -> None:
    s = st.session_state
    c1, c2, c3, c4 = st.columns([3, 3, 3, 3])
    with c1:
        st.selectbox("Problem", list(PROBLEMS), key=key("problem"), format_func=PROBLEMS.get,
                     on_change=_problem_changed)
        st.selectbox("Data", datasets(s[key("problem")]), key=key("dataset"), format_func=DATASETS.get)
        st.slider("Noise (%)", 0, 50, key=key("noise"), step=5, disabled=s[key("dataset")] == "custom")
        st.slider("Training share (%)", 10, 90, key=key("train"), step=10)
        st.slider("Batch size", 1, 30, key=key("batch"))
    with c2:
        st.markdown("**Input features**")
        cols = st.columns(2)
        for i, (name, k) in enumerate(FEATURE_KEYS.items()):
            cols[i % 2].checkbox(name, key=key(k))
    with c3:
        st.number_input("Hidden layers", 0, depth.MAX_LAYERS, key=key("layers"))
        count = s[key("layers")]
        if count:
            cols = st.columns(min(count, 3))
            for i in range(count):
                cols[i % len(cols)].number_input(f"Layer {i + 1}", 1, depth.MAX_UNITS, key=key(f"u{i + 1}"),
                                                 help="Units in this layer (1-8).")
    with c4:
        st.selectbox("Activation", list(depth.ACTIVATIONS), key=key("act"))
        st.select_slider("Learning rate", depth.LEARNING_RATES, key=key("lr"), format_func="{:g}".format)
        st.selectbox("Regularization", ["none", "L1", "L2"], key=key("reg"))
        st.select_slider("Regularization rate", depth.REG_RATES, key=key("rate"), format_func="{:g}".format,
                         disabled=s[key("reg")] == "none")
        st.number_input("Seed", 0, 10**6, key=key("seed"), help="Data, initial weights and batch order.")


def _problem_changed() -> None:
    s = st.session_state
    if s[key("dataset")] not in datasets(s[key("problem")]):
        s[key("dataset")] = datasets(s[key("problem")])[0]


def current_setup() -> depth.Setup:
    s = st.session_state
    problem = s[key("problem")]
    dataset = s[key("dataset")] if s[key("dataset")] in datasets(problem) else datasets(problem)[0]
    features = tuple(name for name, k in FEATURE_KEYS.items() if s[key(k)]) or ("x1", "x2")
    layers = tuple(s[key(f"u{i + 1}")] for i in range(s[key("layers")]))
    return depth.Setup(dataset=dataset, noise=s[key("noise")] / 100, train_share=s[key("train")] / 100,
                       batch=s[key("batch")], features=features, layers=layers, activation=s[key("act")],
                       lr=s[key("lr")], regularization=s[key("reg")], reg_rate=s[key("rate")], problem=problem,
                       seed=s[key("seed")])


def custom_points(regression: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """The user's own points: drawn on a canvas (classification) or read from a CSV file."""
    left, right = st.columns([1, 2])
    with right:
        upload = st.file_uploader("Points as CSV: x1, x2, label per row (x1, x2 in [-6, 6]; label -1 or 1, or a "
                                  "value in [-1, 1] for regression)", type=["csv", "txt"], key=key("csv"))
        if upload is not None:
            try:
                text = upload.getvalue().decode("utf-8")
                points = playground.parse_points(text, regression)
            except UnicodeDecodeError:
                st.error("The file is not text (UTF-8).", icon=":material/error:")
            except DataError as e:
                st.error(f"The file was not used: {e}.", icon=":material/error:")
            else:
                st.caption(f"{len(points[0])} points from {upload.name}.")
                return points
    if regression:
        st.info("Upload a CSV file of points to fit.", icon=":material/upload_file:")
        return None
    with right:
        label = st.segmented_control("Draw class", [1, -1], key=key("draw_class"), required=True,
                                     format_func={1: "Blue (+1)", -1: "Orange (-1)"}.get, default=1)
        st.caption("Or click on the square to place points of the class chosen here.")
    with left:
        chosen = BLUE if label == 1 else ORANGE
        result = st_canvas(drawing_mode="point", point_display_radius=4, stroke_width=2, stroke_color=chosen,
                           fill_color=chosen, background_color="#f4f4f6",
                           width=240, height=240, key=key("canvas"))
    points = canvas_points(result.json_data if result is not None else None, 240)
    if points is None:
        st.info("Place at least 4 points, with both classes, to train on them.", icon=":material/touch_app:")
    return points


BLUE, ORANGE = "#0877bd", "#f59322"
ORIGIN = {"left": 0.0, "top": 0.0, "center": 0.5, "right": 1.0, "bottom": 1.0}


def canvas_points(data: dict | None, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The canvas's circles as points in [-6, 6]^2, blue ones +1 and orange ones -1."""
    xs, ys = [], []
    for obj in (data or {}).get("objects", []):
        if str(obj.get("type", "")).lower() != "circle":
            continue
        w, h = obj.get("width", 0) * obj.get("scaleX", 1), obj.get("height", 0) * obj.get("scaleY", 1)
        cx = obj.get("left", 0) - ORIGIN.get(obj.get("originX", "left"), 0) * w + w / 2
        cy = obj.get("top", 0) - ORIGIN.get(obj.get("originY", "top"), 0) * h + h / 2
        xs.append([(cx / size * 2 - 1) * playground.EXTENT, (1 - cy / size * 2) * playground.EXTENT])
        ys.append(1.0 if obj.get("stroke") == BLUE else -1.0)
    if len(xs) < 4 or len(set(ys)) < 2:
        return None
    return np.clip(np.array(xs, np.float32), -6, 6), np.array(ys, np.float32)


def live_net(setup: depth.Setup, points) -> depth.LiveNet:
    """This session's network: made again when the setup (or the user's points) changes, or on Reset."""
    s = st.session_state
    signature = (setup, None if points is None else hash((points[0].tobytes(), points[1].tobytes())))
    if s.get(key("net")) is None or s.get(key("signature")) != signature:
        s[key("net")] = depth.LiveNet(setup, points)
        s[key("signature")] = signature
    return s[key("net")]


# ---------------------------------------------------------------- training while you watch

def training_view(net: depth.LiveNet) -> None:
    s = st.session_state
    if s.get(key("playing")):
        # While playing, the controls are the page's own: a press reruns the page, which stops the frames' timer
        # whatever frame is on its way (pressed in the fragment, a Pause could lose to the next frame).
        training_controls(net)
    st.fragment(live_frame, run_every=FRAME_S if s.get(key("playing")) else None)()


def training_controls(net: depth.LiveNet) -> None:
    """Play, Step, Reset, the test points and the data: in the frame's fragment while paused, so a Step reruns only
    the frame; Play, Pause, Reset and a Step while playing rerun the whole page (the frames' timer starts or stops,
    the network is made again)."""
    s = st.session_state
    c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 1, 3], vertical_alignment="center")
    playing = s.get(key("playing"), False)
    if c1.button("Pause" if playing else "Play", key=key("play"), type="primary",
                 icon=":material/pause:" if playing else ":material/play_arrow:"):
        s[key("playing")] = not playing
        st.rerun()
    if c2.button("Step", key=key("step"), icon=":material/skip_next:", help="One SGD step on one minibatch."):
        s[key("playing")] = False
        advance(net, 1)
        if playing:
            st.rerun()
    if c3.button("Reset", key=key("reset"), icon=":material/replay:", help="Back to step 0 and the seed's initial "
                 "weights (change the seed for others)."):
        s[key("net")] = None
        s[key("playing")] = False
        st.rerun()
    c4.toggle("Show test", key=key("test"), help="Show the test points (ringed in black) on the output.")
    c5.download_button("Data as CSV", lambda: data_csv(net), file_name=f"{net.setup.dataset}.csv", mime="text/csv",
                       key=key("csv_out"), icon=":material/download:", on_click="ignore",
                       help="Training and test points (x1, x2, label): edit them and upload them as your points.")
    st.caption(f"Play trains up to an epoch per frame, {round(1 / FRAME_S)} frames a second; on a busy server "
               f"frames come slower and each trains up to {CATCH_UP} times as much.")


def data_csv(net: depth.LiveNet) -> str:
    x = np.concatenate([net.x_train.numpy(), net.x_test.numpy()])
    y = np.concatenate([net.y_train.numpy(), net.y_test.numpy()])
    return playground.to_csv(x, y)


def advance(net: depth.LiveNet, batches: int) -> None:
    try:
        net.step(batches)
    except FloatingPointError as e:
        st.session_state[key("playing")] = False
        st.session_state[key("diverged")] = str(e)


@dataclass(frozen=True)
class Frame:
    """What one frame shows, made before anything is drawn: HTML with its pictures inline, so a frame is three
    small elements and no image files for the browser to fetch."""

    network: str            # the network diagram
    output: str             # the output over the plane with the points
    chart: str              # the loss curves
    steps: int
    epoch: float
    train: float
    test: float


def live_frame() -> None:
    """The frame (and the controls while paused): a fragment, run on a timer while playing; a Step (a class's most
    frequent move here) reruns only this part of the page."""
    s = st.session_state
    net = s.get(key("net"))
    if net is None:
        return
    if not s.get(key("playing")):
        training_controls(net)
    KIT.publish()
    batches = 0
    if s.get(key("playing")):
        now = time.perf_counter()
        elapsed = now - s.get(key("frame_at"), now - FRAME_S)
        s[key("frame_at")] = now
        epoch = max(1, len(net.x_train) // net.setup.batch)
        # Frames come slower on a busy server: each then trains up to CATCH_UP frames' worth, so the run keeps
        # more of its pace, but no more, since the training every user's frame does is what slows them all.
        batches = min(epoch, BATCHES_PER_FRAME) * max(1, min(round(elapsed / FRAME_S), CATCH_UP))
    if batches:
        advance(net, batches)
        if not s.get(key("playing")):           # it diverged: the whole page shows Play again, and why
            st.rerun()
    frame = make_frame(net, points_image(net, s[key("test")]))
    if s.get(key("diverged")):
        st.error(f"{s.pop(key('diverged'))}.", icon=":material/error:")
    draw_frame(frame, s[key("test")])


def make_frame(net: depth.LiveNet, points: str) -> Frame:
    inputs, units = net.on_grid(GRID)
    train, test = net.history[-1][1:]
    chart = f'<img src="{network_view.svg_uri(network_view.loss_curves(net.history))}" alt="" style="width:100%">'
    return Frame(network_view.network_html(list(inputs), list(net.setup.features), units[:-1], net.net.layers()),
                 network_view.output_html(units[-1][0], points), chart, net.steps, net.epoch, train, test)


def draw_frame(frame: Frame, show_test: bool) -> None:
    left, right = st.columns([3, 2])
    with left:
        st.html(frame.network)
        st.caption("Each unit's output over the plane; edges blue for positive weights, orange for negative, as wide "
                   "as the weight is large.")
    with right:
        st.html(frame.output)
        st.caption("The output over [-6, 6]^2: blue +1, orange -1; training points ringed in white"
                   + (", test points in black." if show_test else "."))
        m1, m2, m3 = st.columns(3)
        m1.metric("Steps", f"{frame.steps:,}", help=f"SGD steps: {frame.epoch:.1f} epochs.")
        m2.metric("Training loss", f"{frame.train:.3f}")
        m3.metric("Test loss", f"{frame.test:.3f}")
        st.html(frame.chart)


def points_image(net: depth.LiveNet, show_test: bool) -> str:
    """The data drawn once per network and choice of points, kept in the session (an image source)."""
    s = st.session_state
    wanted = (id(net), show_test)
    if s.get(key("points_of")) != wanted:
        test = (net.x_test.numpy(), net.y_test.numpy()) if show_test else None
        s[key("points")] = network_view.svg_uri(network_view.points_svg(
            (net.x_train.numpy(), net.y_train.numpy()), test, playground.EXTENT, net.setup.problem == "regression",
            SURFACE))
        s[key("points_of")] = wanted
    return s[key("points")]


# ---------------------------------------------------------------- linear regions

def regions_view(net: depth.LiveNet, report: api.Report) -> None:
    if not net.piecewise_linear():
        st.info("Linear regions are the pieces where the network is one affine function: they exist for ReLU units "
                "fed x1 and x2 themselves. Choose the ReLU activation and only the x1, x2 features (and at least one "
                "hidden layer) above.", icon=":material/info:")
    else:
        current_regions(net)
    st.subheader("Depth at equal size")
    study = report.metrics.get("depth")
    if study is None:
        st.info("The depth study is not trained yet: train it under 'Model' below.", icon=":material/info:")
    else:
        study_view(study)
    construction_view()


def current_regions(net: depth.LiveNet) -> None:
    widths = list(net.setup.layers)
    ids, on_grid = net.region_map(REGION_GRID)
    try:
        exact = regions.exact_count(net.hidden_layers_on_plane(), depth.BOX)
        if net.initial_regions is None:
            net.initial_regions = regions.exact_count(net.initial_layers, depth.BOX)
        at_start = net.initial_regions
    except ValueError as e:
        exact = at_start = None
        st.caption(f"The exact count stopped: {e}.")
    left, right = st.columns([2, 3])
    left.image(images.png(network_view.region_picture(ids, REGION_GRID)),
               caption="Each linear region in its own colour (the activation pattern at each pixel).")
    with right:
        c1, c2 = st.columns(2)
        c1.metric("Regions now (exact)", "-" if exact is None else f"{exact:,}",
                  delta=None if exact is None or exact == at_start else f"{exact - at_start:+,} since initialisation",
                  delta_color="off")
        c2.metric("Found on the 320 x 320 grid", f"{on_grid:,}",
                  help="A lower bound: regions smaller than a pixel are missed.")
        units = sum(widths)
        st.markdown(
            f"**{' x '.join(map(str, widths))}** ReLUs ({units} in all). One layer of {units} units can cut the "
            f"plane into at most **{regions.shallow_max(units):,}** regions; Montufar et al.'s lower bound on the "
            f"most these layers can make is **{regions.montufar_bound(widths):,}**"
            + (" (it needs every layer at least as wide as the input: 2)." if min(widths) < 2 else "."))
        st.caption("Counted exactly by cutting the square [-6, 6]^2 with each unit's line inside every piece of the "
                   "layers before it (a ReLU net is affine on each piece, so each piece is a convex polygon).")


def study_view(study: dict) -> None:
    rows = []
    for d, v in study["by_depth"].items():
        rows += [{"depth": int(d), "count": c, "regions": name} for name, c in (
            ("at initialisation", float(np.mean(v["regions_init"]))),
            ("after training", float(np.mean(v["regions_trained"]))),
            ("Montufar bound", v["bound"]),
            ("one layer's maximum", study["shallow_max"]))]
    frame = pd.DataFrame(rows)
    st.vega_lite_chart(study_spec(frame), width="stretch")
    table = [{"layers": " x ".join(map(str, v["widths"])), "regions at init": _spread(v["regions_init"]),
              "after training": _spread(v["regions_trained"]), "Montufar bound": f"{v['bound']:,}",
              "test loss": _spread(v["test_loss"], "{:.3f}")} for v in study["by_depth"].values()]
    st.dataframe(pd.DataFrame(table), hide_index=True)
    st.caption(f"{study['units']} ReLUs split across 1-4 layers, mean over seeds (min-max). Setting: "
               f"{study['setting']}.")


def _spread(values: list, fmt: str = "{:.0f}") -> str:
    return f"{fmt.format(np.mean(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


@st.cache_data(max_entries=8, show_spinner=False)
def study_spec(frame: pd.DataFrame) -> dict:
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("depth:O", title="hidden layers (same units in all)"),
        y=alt.Y("count:Q", scale=alt.Scale(type="log"), title="regions (log scale)"),
        color=alt.Color("regions:N", legend=alt.Legend(orient="right", title=None)),
        tooltip=["depth", "regions", alt.Tooltip("count:Q", format=",.0f")]).properties(height=300)
    return charts.vega_lite(chart)


def construction_view() -> None:
    st.markdown("**Montufar's construction.** Three ReLUs per coordinate fold [0, 1] onto itself three times (a "
                "zigzag); each layer folds what the last one made, so the pieces multiply.")
    c1, c2 = st.columns([2, 3])
    layers = c2.slider("Layers of 6 units", 1, 3, key=key("zigzag"))
    built = regions.zigzag_layers(layers)
    ids, _ = regions.pattern_ids(regions.forward_patterns(built, regions.grid(regions.UNIT_SQUARE, REGION_GRID)))
    count = zigzag_count(layers)
    c1.image(images.png(network_view.region_picture(ids.reshape(REGION_GRID, REGION_GRID), REGION_GRID)),
             caption=f"{count:,} regions in the unit square")
    c2.markdown(f"{layers} layer{'s' if layers > 1 else ''} of 6 units: **{count:,}** regions, counted exactly. "
                f"One layer of the same {6 * layers} units can make at most **{regions.shallow_max(6 * layers):,}**.")


@st.cache_data(max_entries=4, show_spinner=False)
def zigzag_count(layers: int) -> int:
    return regions.exact_count(regions.zigzag_layers(layers), regions.UNIT_SQUARE)


# ---------------------------------------------------------------- back-prop

def backprop_view(net: depth.LiveNet) -> None:
    s = st.session_state
    st.segmented_control("Graph of", ["network", "formula"], key=key("source"), required=True,
                         format_func={"network": "The network on one training point",
                                      "formula": "A formula you type"}.get)
    if s[key("source")] == "network":
        last = len(net.x_train) - 1
        s[key("point")] = min(s[key("point")], last)
        c1, c2 = st.columns([1, 3])
        c1.number_input(f"Training point (0-{last})", 0, last, key=key("point"))
        index = s[key("point")]
        graph, checks = net.gradient_check(index)
        x = net.x_train[index].tolist()
        c2.caption(f"Point ({x[0]:.2f}, {x[1]:.2f}), label {float(net.y_train[index]):g}; the loss is the data "
                   "term 0.5 (output - label)^2 (the regularization term is left out). Each weight's gradient is "
                   "dL/dz of its unit times the input it multiplies.")
    else:
        c1, c2 = st.columns([3, 2])
        c1.text_input("Formula", key=key("formula"), max_chars=flowgraph.MAX_CHARS,
                      help=f"+ - * / ** (or ^), numbers, variables, and {', '.join(flowgraph.FUNCTIONS)}.")
        c2.text_input("Values", key=key("values"), help="name=value pairs, separated by commas.")
        try:
            values = parse_values(s[key("values")])
            graph, checks = flowgraph.check_formula(s[key("formula")], values)
        except flowgraph.FormulaError as e:
            st.error(f"{e}.", icon=":material/error:")
            return
    steps = 2 * len(graph.nodes)
    s[key("gstep")] = min(s[key("gstep")], steps)
    st.slider("Step: forward node by node, then backward", 0, steps, key=key("gstep"))
    step = s[key("gstep")]
    st.markdown(flowgraph.explain(graph, step))
    st.graphviz_chart(flowgraph.to_dot(graph, step), width="stretch")
    gradient_table(checks)


def parse_values(text: str) -> dict[str, float]:
    values = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, number = part.partition("=")
        try:
            if not sep or not name.strip().isidentifier():
                raise ValueError
            value = float(number)
        except ValueError:
            raise flowgraph.FormulaError(f"{part[:40]!r} is not name=value") from None
        if not np.isfinite(value) or abs(value) > flowgraph.MAX_CONSTANT:
            raise flowgraph.FormulaError(f"{name.strip()} must be a finite number of at most 1e6 in size")
        values[name.strip()] = value
    return values


def gradient_table(checks: list[flowgraph.Check]) -> None:
    worst_auto = max(c.error_autograd for c in checks)
    worst_fd = max(c.error_finite_difference for c in checks)
    c1, c2 = st.columns(2)
    c1.metric("Largest relative error vs autograd", f"{worst_auto:.1e}", help="PyTorch's autograd in float64.")
    c2.metric("Largest relative error vs finite differences", f"{worst_fd:.1e}",
              help=f"Central differences, step {flowgraph.FD_STEP:g} (relative): about 1e-8 is their own accuracy.")
    frame = pd.DataFrame([{"gradient of": c.name, "back-prop": c.backprop, "autograd": c.autograd,
                           "finite difference": c.finite_difference, "error vs autograd": c.error_autograd,
                           "error vs finite difference": c.error_finite_difference} for c in checks])
    st.dataframe(frame, hide_index=True, height=min(400, 36 * (len(frame) + 1)),
                 column_config={k: st.column_config.NumberColumn(format="%.3e")
                                for k in ("error vs autograd", "error vs finite difference")})


# ---------------------------------------------------------------- paper vs. you

def paper_vs_you(report: api.Report) -> None:
    KIT.paper_vs_you(report)
    study = report.metrics.get("depth")
    if study is None:
        return
    pair = study["equal_parameters"]
    deep, shallow = pair["deep"], pair["shallow"]
    verdict = "holds" if study["deep_beats_shallow"] else "does **not** hold"
    st.markdown(
        f"On the spiral, a deep narrow net ({' x '.join(map(str, deep['widths']))}, {deep['parameters']} parameters) "
        f"reached test loss {_spread(deep['test_loss'], '{:.3f}')} and a shallow one ({shallow['widths'][0]} units, "
        f"{shallow['parameters']} parameters) {_spread(shallow['test_loss'], '{:.3f}')}, mean (min-max) over seeds: "
        f"**deeper is better {verdict} here.** Regions at initialisation do not grow with depth (random deep "
        "networks realise far fewer regions than they could, as Hanin and Rolnick 2019 measured); Montufar's bound "
        "is about the most a network can make, which the construction above reaches.")


def share_summary(net: depth.LiveNet) -> str:
    train, test = net.history[-1][1:]
    layers = " x ".join(map(str, net.setup.layers)) or "no hidden layer"
    return (f"{DATASETS[net.setup.dataset]}, {layers}, {net.setup.activation}, lr {net.setup.lr:g}: epoch "
            f"{net.epoch:.0f}, training loss {train:.3f}, test loss {test:.3f}")


def share_figure(net: depth.LiveNet) -> bytes:
    train = (net.x_train.numpy(), net.y_train.numpy())
    return images.jpeg(network_view.output_picture(net.on_grid(GRID)[1][-1][0], train, playground.EXTENT, SURFACE,
                                                   net.setup.problem == "regression"))


def main() -> None:
    st.title("Depth and back-prop")
    st.markdown("Train a small network while you watch, count the linear pieces a rectifier network cuts the plane "
                "into (tutorial slides 30-34, Montufar et al. 2014), and step through back-propagation on its flow "
                "graph (slides 43-57).")
    KIT.bind()
    setup_controls()
    setup = current_setup()
    points = None
    if setup.dataset == "custom":
        points = custom_points(setup.problem == "regression")
        if points is None:
            KIT.publish()
            return
    try:
        net = live_net(setup, points)
    except (ValueError, DataError) as e:
        st.error(f"This network cannot be made: {e}.", icon=":material/error:")
        return
    view = st.segmented_control("View", list(VIEWS), key=key("view"), format_func=VIEWS.get, required=True,
                                label_visibility="collapsed")
    KIT.publish()
    report = api.claims("depth", resources.preset())
    if view == "train":
        training_view(net)
    elif view == "regions":
        regions_view(net, report)
    else:
        backprop_view(net)
    KIT.share(lambda: share_summary(net), lambda: share_figure(net))
    if view == "regions":
        KIT.model("depth", api.config("depth", resources.preset()), title="Model: the depth study")
    paper_vs_you(report)


main()
