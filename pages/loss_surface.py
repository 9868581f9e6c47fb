"""Loss-surface explorer (slides 35-38): saddle points, not local minima, and which optimizers they trap."""
import numpy as np
import pandas as pd
import streamlit as st
import torch

from app.ui import charts, images, player, resources, tables
from app.ui.page_kit import PageKit
from engine import api
from engine.analysis import loss_slices, surfaces
from engine.data.mnist import load_mnist
from engine.models import critical
from engine.models.landscape import ARCHS

CUSTOM = "custom formula"
GRID = 81
PICKER_GRID = 41
MAX_FRAMES = 40
SADDLE = surfaces.SURFACES["saddle"]
VIEWS = {"toy": "Optimizers on 2-D surfaces", "network": "A trained network's landscape",
         "critical": "Critical points: error vs. index"}
DEFAULTS = {"view": "toy", "net": "mlp", "res": 21, "span": 1.0, "dir_seed": 0, "formula": SADDLE.formula, "x0": SADDLE.start[0], "y0": SADDLE.start[1], "steps": 80, "lr": 0.05,
            "damping": 1.0, "step": 80, "point": 0}
ALLOWED = {"view": list(VIEWS), "net": list(ARCHS), "res": [11, 21, 31, 41], "span": [0.25, 0.5, 1.0, 1.5, 2.0], "dir_seed": (0, 10**6), "x0": (-100.0, 100.0), "y0": (-100.0, 100.0), "steps": (5, 200), "lr": (0.0001, 1.0),
           "damping": (0.0, 100.0), "step": (0, 200), "point": (0, 10**4)}
KIT = PageKit("loss-surface", DEFAULTS, ALLOWED)
key = KIT.key


def pick_surface() -> None:
    """A preset chosen from the list brings its formula, view and start point."""
    name = st.session_state[key("surface")]
    if name in surfaces.SURFACES:
        preset = surfaces.SURFACES[name]
        st.session_state[key("formula")] = preset.formula
        st.session_state[key("x0")], st.session_state[key("y0")] = preset.start


@st.cache_data(max_entries=32, show_spinner="Running the optimizers…")
def race(formula: str, start: tuple, steps: int, lr: float, damping: float, optimizers: tuple) -> dict:
    f = surfaces.parse(formula)
    paths = {name: surfaces.run(f, name, start, steps, lr=lr, damping=damping) for name in optimizers}
    return {name: {"points": p.points.numpy(), "values": p.values.numpy(), "eigenvalues": p.eigenvalues.numpy(),
                   "gradient": p.gradients.numpy(), "stopped": p.stopped} for name, p in paths.items()}


def frame_steps(steps: int) -> list[int]:
    """The steps drawn: every one up to 40 steps, else about 40 evenly spaced, the last always included."""
    stride = max(1, -(-steps // MAX_FRAMES))
    return sorted(set(range(0, steps + 1, stride)) | {steps})


@st.cache_resource(max_entries=16, show_spinner="Drawing the surface and the paths…")
def frames(formula: str, lim: float, paths: dict, steps: int) -> list[bytes]:
    """PNG stills, one per step in frame_steps(steps), drawn once and shared by every session (a class opening the
    same race gets the same frames, not a copy each)."""
    xs, ys, z = (v.numpy() for v in surfaces.grid_values(surfaces.parse(formula), lim, GRID))
    drawn = [(name, p["points"], charts.OPTIMIZER_COLORS[surfaces.OPTIMIZERS.index(name)]) for name, p in paths.items()]
    return [images.png(f) for f in charts.surface_frames(xs, ys, z, drawn, frame_steps(steps))]


@st.cache_data(max_entries=8, show_spinner="Making the animation…")
def animation(formula: str, lim: float, paths: dict, steps: int) -> bytes:
    return images.gif(frames(formula, lim, paths, steps), frame_ms=150)


def view_limit(formula: str, start: tuple) -> float:
    preset = next((p for p in surfaces.SURFACES.values() if p.formula == formula), None)
    return preset.lim if preset else max(2.0, 1.5 * max(abs(start[0]), abs(start[1])))


def ending(path: dict) -> str:
    """Where the path ended, read from the Hessian's eigenvalues there."""
    if path["stopped"] == "diverged":
        return "left the view for good (diverged)"
    lam = path["eigenvalues"][-1]
    if path["gradient"][-1] > 1e-3:
        return "still moving"
    if (lam > 0).all():
        return "a minimum"
    if (lam < 0).all():
        return "a maximum"
    return "a saddle" if (lam < 0).any() and (lam > 0).any() else "a flat critical point"


def take_clicked_start() -> None:
    """A click on the start map moves the start there."""
    clicked = st.session_state[key("picker")]["selection"]["start"]
    if clicked:
        st.session_state[key("x0")] = round(float(clicked[0]["x"]), 3)
        st.session_state[key("y0")] = round(float(clicked[0]["y"]), 3)


@st.cache_data(max_entries=64, show_spinner=False)
def picker_spec(formula: str, lim: float, start: tuple) -> dict:
    """The start picker's map, made once per surface, view and start (not on every run of the page)."""
    axis, _, z = surfaces.grid_values(surfaces.parse(formula), lim, PICKER_GRID)
    return charts.vega_lite(charts.start_picker_chart(axis.numpy(), z.numpy(), start))


def start_picker(formula: str, start: tuple) -> None:
    st.vega_lite_chart(picker_spec(formula, view_limit(formula, start), start), key=key("picker"),
                       on_select=take_clicked_start, selection_mode="start", width="stretch")
    st.caption("Click the map to start the optimizers there (darker is lower).")


def controls() -> tuple[str, tuple, list] | None:
    # The formula is the state (and goes in the link); the list shows which preset it is, if any.
    st.session_state[key("surface")] = next((n for n, p in surfaces.SURFACES.items()
                                             if p.formula == st.session_state[key("formula")]), CUSTOM)
    c1, c2 = st.columns([1, 2])
    c1.selectbox("Surface", [*surfaces.SURFACES, CUSTOM], key=key("surface"), on_change=pick_surface)
    c2.text_input("f(x, y) =", key=key("formula"), max_chars=200,
                  help="Numbers, x, y, pi, e, + - * / ^ and sin, cos, tanh, exp, log, sqrt, abs.")
    inputs, picker = st.columns([3, 2])
    c3, c4, c5 = inputs.columns(3)
    c6, c7 = inputs.columns(2)
    c3.number_input("Start x", -100.0, 100.0, step=0.1, key=key("x0"), format="%.3f")
    c4.number_input("Start y", -100.0, 100.0, step=0.1, key=key("y0"), format="%.3f")
    c5.number_input("Steps", 5, 200, key=key("steps"))
    c6.number_input("Learning rate", 0.0001, 1.0, step=0.01, key=key("lr"), format="%.4f",
                    help="Step size of gradient descent, momentum (0.9) and Adam.")
    c7.number_input("Damping", 0.0, 100.0, step=0.5, key=key("damping"),
                    help="Damped Newton steps by -(H + damping I)^-1 g.")
    chosen = inputs.multiselect("Optimizers", surfaces.OPTIMIZERS, default=list(surfaces.OPTIMIZERS), key=key("optimizers"))
    s = st.session_state
    name = s[key("surface")]
    if name in surfaces.SURFACES:
        inputs.caption(surfaces.SURFACES[name].note)
    try:
        surfaces.parse(s[key("formula")])
    except surfaces.FormulaError as e:
        st.error(f"This formula cannot be used: {e}.", icon=":material/error:")
        return None
    start = (float(s[key("x0")]), float(s[key("y0")]))
    with picker:
        start_picker(s[key("formula")], start)
    if not chosen:
        st.info("Pick at least one optimizer.")
        return None
    return s[key("formula")], start, chosen


def summary(paths: dict) -> None:
    rows = []
    for name, p in paths.items():
        lam = p["eigenvalues"][-1]
        rows.append({"optimizer": name, "steps taken": len(p["points"]) - 1,
                     "ends at": f"({p['points'][-1][0]:.3g}, {p['points'][-1][1]:.3g})",
                     "f there": f"{p['values'][-1]:.4g}", "Hessian eigenvalues there": f"{lam[0]:.3g}, {lam[1]:.3g}",
                     "reading": ending(p)})
    st.markdown(tables.markdown_table(rows))


def share_race(paths: dict, start: tuple, shown: list[int], stills: list[bytes]) -> None:
    """The class gets the frame at the step shown, and where each optimizer ended: grouped by the reading."""
    s = st.session_state

    def summary() -> str:
        readings: dict[str, list[str]] = {}
        for name, p in paths.items():
            readings.setdefault("diverged" if p["stopped"] == "diverged" else ending(p), []).append(name)
        kept = {name: p["values"][-1] for name, p in paths.items() if p["stopped"] != "diverged"}
        lowest = f"; lowest f {min(kept.values()):.3g} ({min(kept, key=kept.get)})" if kept else ""
        return (f"{s[key('surface')]} from ({start[0]:g}, {start[1]:g}), step {s[key('step')]} of {shown[-1]}: "
                + "; ".join(f"{reading}: {', '.join(names)}" for reading, names in readings.items()) + lowest)

    KIT.share(summary, lambda: stills[shown.index(s[key("step")])])


def curves(paths: dict) -> None:
    rows = []
    for name, p in paths.items():
        for t, (value, grad, lam) in enumerate(zip(p["values"], p["gradient"], p["eigenvalues"])):
            rows.append({"step": t, "optimizer": name, "f": value, "log10 |gradient|": np.log10(max(grad, 1e-12)),
                         "smallest eigenvalue": lam[0]})
    gradient, eigenvalue = curve_specs(pd.DataFrame(rows))
    left, right = st.columns(2)
    left.markdown("**Gradient norm along each path** (log scale): where it dips, the optimizer crawls.")
    left.vega_lite_chart(gradient, width="stretch")
    right.markdown("**Smallest Hessian eigenvalue along each path**: below 0 means negative curvature (a saddle "
                   "direction).")
    right.vega_lite_chart(eigenvalue, width="stretch")


@st.cache_data(max_entries=64, show_spinner=False)
def curve_specs(frame: pd.DataFrame) -> tuple[dict, dict]:
    """The two charts of curves along the paths, made once per race."""
    return tuple(charts.vega_lite(charts.series_chart(frame, "step", y, "optimizer", surfaces.OPTIMIZERS,
                                                      charts.OPTIMIZER_COLORS))
                 for y in ("log10 |gradient|", "smallest eigenvalue"))


def paper_vs_you(models: tuple[str, ...]) -> None:
    """The page's claims measured on `models` (() for the toy saddle's)."""
    KIT.paper_vs_you(api.claims("loss-surface", resources.preset()), models)


# ---------------------------------------------------------------- a trained network

@st.cache_data(max_entries=16, show_spinner=False)
def straight_line(_model, sha: str, points: int, n: int) -> pd.DataFrame:
    x, y = eval_digits(n)
    path = _model.path()
    alphas = torch.linspace(-0.25, 1.25, points)
    losses = loss_slices.line(_model, path[0], path[-1], alphas, x, y)
    return pd.DataFrame({"alpha": alphas.numpy(), "loss": losses})


def eval_digits(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The training digits the landscape's loss is measured on."""
    data = load_mnist()
    return data.x_train[:n], data.y_train[:n]


@st.cache_data(max_entries=16, show_spinner=False)
def random_plane(_model, sha: str, res: int, span: float, seed: int, n: int) -> np.ndarray:
    x, y = eval_digits(n)
    g = torch.Generator().manual_seed(seed)
    d1 = loss_slices.filter_normalized_direction(_model, g)
    d2 = loss_slices.filter_normalized_direction(_model, g)
    bar = st.progress(0.0, text=f"Loss on a {res} x {res} grid…")
    grid = loss_slices.plane(_model, _model.weights(), d1, d2, torch.linspace(-span, span, res), x, y,
                           on_progress=lambda f: bar.progress(f, text=f"Loss on a {res} x {res} grid… {f:.0%}"))
    bar.empty()
    return grid.numpy()


@st.cache_data(max_entries=16, show_spinner=False)
def path_plane(_model, sha: str, res: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = eval_digits(n)
    directions, coords, explained = loss_slices.trajectory_plane(_model.path())
    reach = 1.2 * coords.abs().max().item()
    axis = torch.linspace(-reach, reach, res)
    bar = st.progress(0.0, text="Loss on the trajectory's plane…")
    grid = loss_slices.plane(_model, _model.weights(), directions[0], directions[1], axis, x, y,
                           on_progress=lambda f: bar.progress(f, text=f"Loss on the trajectory's plane… {f:.0%}"))
    bar.empty()
    return axis.numpy(), grid.numpy(), coords.numpy(), explained.numpy()


def network_view() -> None:
    arch = st.segmented_control("Network", list(ARCHS), key=key("net"), format_func=ARCHS.get, required=True)
    config = api.config("landscape", resources.preset(), arch=arch)
    loaded = KIT.model("landscape", config, mnist=True, missing="No checkpoint for this network: train it under 'Model'.")
    if loaded is None:
        return
    model, sha, metrics = loaded.model, loaded.checkpoint.sha256, loaded.checkpoint.metrics
    n = config.eval_points
    st.markdown(f"A {metrics['network']} trained on MNIST with plain SGD ({metrics['test_accuracy']:.1%} held-out "
                f"accuracy); the loss is measured on {config.eval_points:,} training digits.")

    st.subheader("The straight line from initialisation to the trained weights")
    line = straight_line(model, sha, 61, n)
    st.vega_lite_chart(charts.line_spec(line, "alpha", "loss"), width="stretch")
    st.caption(f"alpha = 0 is the initialisation, 1 the trained weights; beyond them the line goes on. Goodfellow et "
               f"al. 2015 found no bump on this line for such networks; the largest rise here between 0 and 1 is "
               f"{metrics['interp_max_bump']:.4f}.")

    st.subheader("Around the trained weights: two filter-normalised random directions")
    c1, c2, c3 = st.columns(3)
    res = c1.select_slider("Resolution", [11, 21, 31, 41], key=key("res"))
    span = c2.select_slider("Range", [0.25, 0.5, 1.0, 1.5, 2.0], key=key("span"),
                            help="How far along each direction, in units of the weights' own filter norms.")
    c3.number_input("Directions seed", 0, 10**6, key=key("dir_seed"))
    coords = np.linspace(-span, span, res)
    seed = int(st.session_state[key("dir_seed")])
    grid = random_plane(model, sha, res, span, seed, n)
    plane = charts.loss_plane_figure(coords, grid, ("direction 1", "direction 2"))
    st.pyplot(plane)
    KIT.share(lambda: f"{metrics['network']} ({metrics['test_accuracy']:.1%} held-out): random plane ±{span:g}, "
                      f"{res} x {res}, seed {seed}: loss {grid.min():.3g} to {grid.max():.3g}; largest rise on the "
                      f"line {metrics['interp_max_bump']:.4f}", lambda: charts.png(plane))
    st.caption("Li et al. 2018: each direction is random, rescaled filter by filter to the norms of the trained "
               "weights, so that the picture does not depend on how the weights happen to be scaled.")

    st.subheader("The training trajectory on its own plane")
    axis, plane_grid, path_xy, explained = path_plane(model, sha, 21, n)
    st.pyplot(charts.loss_plane_figure(axis, plane_grid, ("PC 1", "PC 2"), path_xy))
    st.caption(f"The weights kept every {model.every} steps, projected on the top two principal directions of the "
               f"path relative to its end ({explained[0]:.0%} and {explained[1]:.0%} of its spread).")
    curvature_section(metrics, config)


def curvature_section(metrics: dict, config) -> None:
    st.subheader("Curvature along training")
    along = pd.DataFrame(metrics["curvature_along_training"])
    left, right = st.columns(2)
    left.markdown("**Largest Hessian eigenvalue**")
    left.vega_lite_chart(charts.line_spec(along, "step", "top_eigenvalue", height=220), width="stretch")
    right.markdown("**Estimated share of negative eigenvalues** (the index)")
    right.vega_lite_chart(charts.line_spec(along, "step", "negative_share", height=220), width="stretch")
    spectrum = pd.DataFrame(metrics["final_spectrum"])
    spectrum["log10 weight"] = np.log10(spectrum["weights"].clip(lower=1e-6))
    st.markdown("**Estimated Hessian spectrum at the trained weights**: eigenvalue against its share of the "
                "spectrum (log scale); most of the mass sits at zero, with a few large outliers.")
    st.scatter_chart(spectrum, x="values", y="log10 weight", height=240)
    st.caption(f"Stochastic Lanczos quadrature: {config.lanczos_steps} Lanczos steps from {config.lanczos_probes} "
               f"random vectors, Hessian-vector products by double back-propagation, at {config.curvature_points} "
               f"points along training, on {config.eval_points:,} training digits.")


# ---------------------------------------------------------------- critical points of a small network

@st.cache_data(max_entries=32, show_spinner="Computing the Hessian there…")
def point_spectrum(_model, _config, sha: str, row: int) -> np.ndarray:
    """All eigenvalues of the exact Hessian at the search end kept in `row` (the checkpoint's sha fixes the config)."""
    loss = critical.penalised_loss(_config, critical.digits(_config))
    return torch.linalg.eigvalsh(torch.func.hessian(loss)(_model.points[row].cpu())).numpy()


def idle_units_note(points: pd.DataFrame, config) -> str:
    """What the idle units add to the index, read off the points."""
    idle = points[points["units_on"] < config.hidden]
    per_unit = sorted({round((r.negative - r.negative_in_sub_network) / (config.hidden - r.units_on), 2)
                       for r in idle.itertuples()})
    saddles = int((points["negative_in_sub_network"] > 0).sum())
    note = (f"Each idle unit adds {' or '.join(f'{v:g}' for v in per_unit)} directions of negative curvature, so the "
            f"points stand in columns by units switched on. " if per_unit else "")
    return note + (f"{saddles} of the points are saddles of their own sub-network too, and sit right of their column."
                   if saddles else "Every point is a minimum of its own sub-network.")


def critical_figure(points: pd.DataFrame, chosen: pd.Series):
    """critical_points_chart drawn on the server (Matplotlib), the chosen point ringed, for a classroom snapshot."""
    fig = charts.figure((5.6, 3.6), 100)
    ax = fig.subplots()
    dots = ax.scatter(points["index"], points["error"], c=points["units_on"], cmap="viridis", s=18)
    fig.colorbar(dots, ax=ax, label="hidden units on")
    ax.scatter([chosen["index"]], [chosen["error"]], s=160, facecolors="none", edgecolors="#d62728", linewidths=2)
    ax.set_xlabel("index (share of negative Hessian eigenvalues)")
    ax.set_ylabel("training error")
    fig.tight_layout()
    return fig


def critical_view() -> None:
    config = api.config("critical", resources.preset())
    loaded = KIT.model("critical", config, mnist=True,
                       missing="No critical points for this setting: compute them under 'Model'.")
    if loaded is None:
        return
    model, sha, metrics = loaded.model, loaded.checkpoint.sha256, loaded.checkpoint.metrics
    points = pd.DataFrame(metrics["points"])
    if points.empty:
        st.warning(f"None of the {metrics['searches']} searches ended with |g| < {metrics['tolerance']:g}.")
        return
    st.markdown(
        f"A {metrics['network']}. Gradient descent trains it from {config.seeds} seeds with 0, 1, ..., "
        f"{config.hidden} hidden units switched on, the others' weights held at zero. A unit whose weights are all "
        f"zero sends nothing and gets no gradient, so a critical point of the smaller network is a critical point of "
        f"the whole one: a saddle there, since every idle unit could start to help. From {metrics['searches']} "
        f"starts along these runs and at their ends, Newton steps with the exact Hessian go to the nearest critical "
        f"point, saddle or minimum. **{metrics['critical_points']} distinct critical points** have |gradient| < "
        f"{metrics['tolerance']:g}; at each, the index is the share of the whole network's "
        f"{metrics['parameters']} Hessian eigenvalues that are negative.")
    st.altair_chart(charts.critical_points_chart(points), width="stretch")
    low = points[points["index"] <= points["index"].quantile(0.25)]
    st.caption(f"Spearman correlation between index and training error: **{metrics['spearman_index_vs_error']:.2f}** "
               f"(Dauphin et al. 2014 report error rising with the index). The quarter of points with the lowest "
               f"index (at most {low['index'].max():.3f}) have training error {low['error'].min():.1%} to "
               f"{low['error'].max():.1%}; the rest reach {points['error'].max():.1%}. {idle_units_note(points, config)}")
    stalled = np.array(metrics["search_grad_norms"])
    stalled = stalled[stalled >= metrics["tolerance"]]
    if len(stalled):
        st.caption(f"{len(stalled)} of {metrics['searches']} searches stalled with |gradient| between "
                   f"{stalled.min():.1g} and {stalled.max():.1g}: a direction of almost zero curvature that the "
                   f"gradient does not leave (a gradient-flat region, Frye et al. 2020). They are not counted.")

    st.subheader("One critical point's Hessian")
    order = points.sort_values(["index", "error"]).reset_index(drop=True)
    st.session_state[key("point")] = min(int(st.session_state[key("point")]), len(order) - 1)
    pick = st.slider("Critical point, by index", 0, len(order) - 1, key=key("point")) if len(order) > 1 else 0
    chosen = order.iloc[pick]
    values = point_spectrum(model, config, sha, int(chosen["row"]))
    kind = "a minimum" if chosen["negative_in_sub_network"] == 0 else \
        f"a saddle with {int(chosen['negative_in_sub_network'])} directions down"
    st.markdown(f"Training error **{chosen['error']:.1%}**, loss {chosen['loss']:.4f}, |gradient| "
                f"{chosen['grad_norm']:.2g}: **{int(chosen['negative'])} of {len(values)}** eigenvalues are negative "
                f"(index {chosen['index']:.4f}). It is {kind} of the network with {int(chosen['units_on'])} hidden "
                f"units on, found from {'the end' if chosen['from'] == 'end' else 'step ' + str(int(chosen['start_step']))} "
                f"of run {int(chosen['run'])}.")
    st.altair_chart(charts.spectrum_chart(values), width="stretch")
    KIT.share(lambda: f"critical point {pick + 1} of {len(order)} by index: {kind}, index {chosen['index']:.4f}, "
                      f"training error {chosen['error']:.1%}; Spearman(index, error) "
                      f"{metrics['spearman_index_vs_error']:.2f}", lambda: charts.png(critical_figure(points, chosen)))

    st.subheader("The runs the starts came from")
    on = critical.units_on(config).numpy()
    losses = model.path_loss.cpu().numpy()
    curves = pd.DataFrame({"step": np.tile(np.arange(len(losses)), len(on)),
                           "run": np.repeat(np.arange(len(on)), len(losses)),
                           "units on": np.repeat(on, len(losses)), "loss": losses.T.flatten()})
    st.altair_chart(charts.runs_chart(curves[curves["step"] % 10 == 0]), width="stretch")
    st.caption("Full-batch gradient descent on the same penalised loss, one line per run. The starts are where each "
               "run's loss first falls below evenly spaced levels between its first and last value; each run's end "
               "is taken down to its sub-network's minimum by L-BFGS before the Newton steps.")
    paper_vs_you(("critical",))


def main() -> None:
    st.title("Loss-surface explorer")
    st.markdown("In high dimensions most critical points of a loss are saddles, not local minima, and Newton's "
                "method walks straight into them (tutorial slides 35-38, Dauphin et al. 2014). Race six optimizers "
                "from one start on a surface of your choice, look at a trained network's landscape, or at the "
                "critical points of a small one.")
    KIT.bind()
    view = st.segmented_control("View", list(VIEWS), key=key("view"), format_func=VIEWS.get, required=True,
                                label_visibility="collapsed")
    if view != "toy":
        network_view() if view == "network" else critical_view()
        KIT.publish()
        return
    picked = controls()
    if picked is None:
        KIT.publish()
        return
    formula, start, chosen = picked
    s = st.session_state
    steps = int(s[key("steps")])
    paths = race(formula, start, steps, float(s[key("lr")]), float(s[key("damping")]),
                 tuple(o for o in surfaces.OPTIMIZERS if o in chosen))
    longest = max(len(p["points"]) for p in paths.values()) - 1
    args = (formula, view_limit(formula, start), paths, longest)
    shown = frame_steps(longest)
    stills = frames(*args)
    st.fragment(player.step_player)(key, shown, lambda t: stills[shown.index(t)], lambda: animation(*args),
                                    lambda t: f"after {t} of {longest} steps", "optimizers.gif",
                                    KIT.publish)
    share_race(paths, start, shown, stills)
    summary(paths)
    curves(paths)
    paper_vs_you(())


main()
