"""Charts shared by pages (Altair for curves, Matplotlib for vector fields).

Matplotlib figures are made with the object API and an Agg canvas of their own, never through pyplot: pyplot keeps
one global list of figures, and the server draws for many users' scripts at once, in threads.
"""
import hashlib
import io

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from streamlit import dataframe_util
from streamlit.elements.vega_charts import _altair_globals_lock

LEVEL_COLORS = ["#9e9e9e", "#4c9be8", "#1f5fa8", "#e8590c"]
CHECK_SCHEMA = False                                # the page tests turn it on (tests/app/conftest.py)


def vega_lite(chart: alt.TopLevelMixin) -> dict:
    """The chart as the Vega-Lite spec st.altair_chart would send (no theme, no row limit), its data sets already
    in the Arrow form Streamlit sends: a page keeps it in a cache and sends it with st.vega_lite_chart, so that a
    move neither builds and checks the chart again nor converts its data (given as rows, Streamlit converts them
    to Arrow on every run: a third of a search on /embeddings with 60 users). Not checked against Vega-Lite's
    schema unless CHECK_SCHEMA is on: that check was most of a new chart's cost (a new clip in the captioning studio:
    130 ms of the server's CPU); the page tests turn it on, so every chart made here is checked there."""
    # Altair's theme and data transformer are settings global to the process; Streamlit changes them under this lock
    # while it converts a chart, so a conversion here takes the same lock.
    with _altair_globals_lock, alt.theme.enable("none"), alt.data_transformers.enable("default", max_rows=None):
        spec = chart.to_dict(validate=CHECK_SCHEMA)
    for name, rows in spec.get("datasets", {}).items():
        spec["datasets"][name] = dataframe_util.convert_anything_to_arrow_bytes(pd.DataFrame(rows))
    return spec


def with_data(spec: dict, frame: pd.DataFrame) -> dict:
    """A spec made by vega_lite from a chart whose data is given at its top level (a template: no rows, the same
    columns), with `frame` as its data. A chart whose fields all have their types given is the same spec whatever its
    rows, and building an Altair chart and converting it cost a test clip's heat map 24 ms, its rows alone 1 ms. The
    data set is named by its contents, as Altair names it: the browser redraws a chart whose data set has a new name,
    and given other rows under the same name it drew none."""
    rows = dataframe_util.convert_anything_to_arrow_bytes(frame)
    name = "data-" + hashlib.sha256(rows).hexdigest()[:32]
    return {**spec, "data": {"name": name}, "datasets": {name: rows}}


@st.cache_data(max_entries=256, show_spinner=False)
def line_spec(frame: pd.DataFrame, x: str, y: str, color: str | None = None, height: int = 260) -> dict:
    """A line chart as st.line_chart draws it, made once per data: st.line_chart builds and validates a new Altair
    chart on every run, which took half of a /draw run."""
    encoding = {"x": alt.X(f"{x}:Q"), "y": alt.Y(f"{y}:Q"), "tooltip": [x, alt.Tooltip(f"{y}:Q", format=".4g")]}
    if color:
        encoding["color"] = alt.Color(f"{color}:N")
        encoding["tooltip"] = [color, *encoding["tooltip"]]
    return vega_lite(alt.Chart(frame).mark_line().encode(**encoding).properties(height=height))


def figure(figsize: tuple[float, float], dpi: int) -> Figure:
    """A figure that belongs to the caller alone (its own canvas, in no global registry)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def png(fig: Figure) -> bytes:
    """A figure as PNG bytes, as a classroom snapshot sends it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def heatmap_figure(values: np.ndarray, rows: list[str], columns: list[str], boxes: list, cmap: str,
                   vmax: float | None = None) -> Figure:
    """A matrix with labelled rows and columns and outlined cells (x, y, width, height in cells, colour): a heat map
    a page draws in the browser, drawn here for a classroom snapshot."""
    fig = figure((1.5 + 0.3 * len(columns), 1.2 + 0.3 * len(rows)), 100)
    ax = fig.subplots()
    ax.imshow(values, cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=50, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for x, y, width, height, colour in boxes:
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), width, height, fill=False, edgecolor=colour, linewidth=1.8))
    fig.tight_layout()
    return fig


def series_chart(frame: pd.DataFrame, x: str, y: str, series: str, order, colors: list[str],
                 points: bool = False) -> alt.Chart:
    """Curves of y against x, one per value of `series`, each in its fixed colour (the same as in the figures)."""
    order = list(order)
    return alt.Chart(frame).mark_line(point=points).encode(
        x=alt.X(f"{x}:Q"),
        y=alt.Y(f"{y}:Q"),
        color=alt.Color(f"{series}:N", sort=order, scale=alt.Scale(domain=order, range=colors[:len(order)])),
        tooltip=[series, x, alt.Tooltip(f"{y}:Q", format=".3g")]).properties(height=260)


def path_chart(frame: pd.DataFrame, y: str, order) -> alt.Chart:
    """Curves of `y` along the interpolation path, one per level."""
    return series_chart(frame, "mixing weight", y, "level", order, LEVEL_COLORS, points=True)


def field_figure(data: np.ndarray, pts: np.ndarray, field: np.ndarray, paths: np.ndarray, box: float):
    """Data points, the arrows r(x) - x, and chain paths (T, M, 2) with their current positions."""
    fig = figure((6, 6), 100)
    ax = fig.subplots()
    ax.scatter(data[:, 0], data[:, 1], s=3, color="#bbbbbb", label="data")
    # Arrows show the direction of r(x) - x at one length; colour shows how far the DAE moves the point.
    length = np.linalg.norm(field, axis=1)
    unit = field / np.maximum(length, 1e-8)[:, None] * (2 * box / np.sqrt(len(pts)) * 0.8)
    arrows = ax.quiver(pts[:, 0], pts[:, 1], unit[:, 0], unit[:, 1], length, cmap="viridis", angles="xy",
                       scale_units="xy", scale=1.0, width=0.004)
    fig.colorbar(arrows, ax=ax, shrink=0.7, label="|r(x) - x|")
    for m in range(paths.shape[1]):
        ax.plot(paths[:, m, 0], paths[:, m, 1], color="#e8590c", alpha=0.35, linewidth=0.8)
    ax.scatter(paths[0, :, 0], paths[0, :, 1], s=8, color="#1f5fa8", label="chain start")
    ax.scatter(paths[-1, :, 0], paths[-1, :, 1], s=14, color="#e8590c", label="chain now")
    ax.set_xlim(-box, box)
    ax.set_ylim(-box, box)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return fig


def contour(fig, ax, xs: np.ndarray, ys: np.ndarray, z: np.ndarray, label: str) -> None:
    """Filled contours of z with levels at its quantiles, so that surfaces spanning orders of magnitude
    (Rosenbrock) still show their valleys, plus thin level lines and a colour bar."""
    levels = np.unique(np.quantile(z[np.isfinite(z)], np.linspace(0, 1, 26)))
    filled = ax.contourf(xs, ys, z, levels=levels, cmap="viridis")
    ax.contour(xs, ys, z, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    fig.colorbar(filled, ax=ax, shrink=0.85, label=label, format="%.3g")


OPTIMIZER_COLORS = ["#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#ff7f0e", "#17becf"]


def surface_frames(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, paths: list, steps: list[int],
                   dpi: int = 90) -> list[np.ndarray]:
    """Contour of z over the grid with each optimizer's path (name, (K, 2) points, colour) drawn up to each step in
    `steps`: one RGB frame per step."""
    fig = figure((6.4, 5.6), dpi)
    ax = fig.subplots()
    contour(fig, ax, xs, ys, z, "f(x, y)")
    lines = []
    for name, points, colour in paths:
        (line,) = ax.plot([], [], color=colour, linewidth=1.8, label=name, animated=True)
        (head,) = ax.plot([], [], "o", color=colour, markersize=6, markeredgecolor="white", animated=True)
        lines.append((points, line, head))
    if paths:
        start = paths[0][1][0]
        ax.plot([start[0]], [start[1]], "*", color="#ffd43b", markersize=14, markeredgecolor="black", label="start")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.canvas.draw()
    background = fig.canvas.copy_from_bbox(fig.bbox)     # the contour, drawn once; paths are blitted on top
    frames = []
    for step in steps:
        fig.canvas.restore_region(background)
        for points, line, head in lines:
            shown = points[:step + 1]
            line.set_data(shown[:, 0], shown[:, 1])
            head.set_data(shown[-1:, 0], shown[-1:, 1])
            ax.draw_artist(line)
            ax.draw_artist(head)
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    return frames


def loss_plane_figure(coords: np.ndarray, z: np.ndarray, labels: tuple[str, str], path: np.ndarray | None = None):
    """The loss on a plane, as a contour map (with an optional path (S, 2) drawn on it) beside a 3-D surface."""
    fig = figure((11, 4.6), 90)
    flat = fig.add_subplot(1, 2, 1)
    contour(fig, flat, coords, coords, z, "loss")
    if path is not None:
        flat.plot(path[:, 0], path[:, 1], "-o", color="#ff7f0e", markersize=3, linewidth=1.5, label="training path")
        flat.plot(path[:1, 0], path[:1, 1], "*", color="#ffd43b", markersize=13, markeredgecolor="black",
                  label="initialisation")
        flat.legend(loc="upper right", fontsize=8)
    flat.plot([0], [0], "x", color="red", markersize=9, label="trained weights")
    flat.set_xlabel(labels[0])
    flat.set_ylabel(labels[1])
    surface = fig.add_subplot(1, 2, 2, projection="3d")
    gx, gy = np.meshgrid(coords, coords)
    surface.plot_surface(gx, gy, np.log10(np.maximum(z, 1e-6)), cmap="viridis", linewidth=0, antialiased=True)
    surface.set_xlabel(labels[0])
    surface.set_ylabel(labels[1])
    surface.set_zlabel("log10 loss")
    surface.view_init(elev=35, azim=-60)
    fig.tight_layout()
    return fig


REAL_COLOR, FAKE_COLOR = "#00441b", "#e8590c"


def gan_frames(real: np.ndarray, trace: dict, box: float, indices: list[int], arrows: int = 160,
               dpi: int = 100) -> list[np.ndarray]:
    """One RGB frame per recorded snapshot in `indices`: D(x) as a heat map over the plane, real points, generated
    points, and arrows where the generator's loss pushes them. The push spans orders of magnitude over a run, so
    each frame scales its arrows to its own push and prints the push's mean size in the title."""
    fig = figure((5.4, 5.4), dpi)
    ax = fig.subplots()
    heat = ax.imshow(trace["d"][indices[0]], origin="lower", extent=(-box, box, -box, box), cmap="PRGn",
                     vmin=0, vmax=1, alpha=0.8, interpolation="bilinear")
    fig.colorbar(heat, ax=ax, shrink=0.7, label="D(x): probability of real")
    ax.scatter(real[:, 0], real[:, 1], s=4, color=REAL_COLOR, alpha=0.6, label="real data")
    fake = ax.scatter([], [], s=7, color=FAKE_COLOR, label="generated G(z)")
    shown = slice(None, None, max(1, trace["fake"].shape[1] // arrows))
    push = trace["push"][:, shown]
    size = np.linalg.norm(trace["push"], axis=-1)                                 # (S, P)
    start = trace["fake"][indices[0], shown]
    quiver = ax.quiver(start[:, 0], start[:, 1], push[indices[0], :, 0], push[indices[0], :, 1], color="#111111",
                       angles="xy", scale_units="xy", scale=1.0, width=0.005)
    title = ax.set_title("")
    ax.set_xlim(-box, box)
    ax.set_ylim(-box, box)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    frames = []
    for i in indices:
        heat.set_data(trace["d"][i])
        fake.set_offsets(trace["fake"][i])
        quiver.set_offsets(trace["fake"][i, shown])
        quiver.set_UVC(push[i, :, 0], push[i, :, 1])
        quiver.scale = np.percentile(size[i], 95) / (0.2 * box) + 1e-12
        title.set_text(f"step {trace['step'][i]}   V(D, G) = {trace['value'][i]:.3f}   mean push {size[i].mean():.3g}")
        fig.canvas.draw()
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    return frames


def start_picker_chart(axis: np.ndarray, z: np.ndarray, start: tuple) -> alt.Chart:
    """f on a grid as cells shaded by rank (any range of values reads alike), the start as a red cross; a click on a
    cell selects its centre as the selection "start"."""
    gy, gx = np.meshgrid(axis, axis, indexing="ij")
    finite = np.isfinite(z)
    rank = np.full(z.shape, np.nan)
    rank[finite] = z[finite].argsort().argsort() / max(1, finite.sum() - 1)
    half = float(axis[1] - axis[0]) / 2
    frame = pd.DataFrame({"x": gx.ravel(), "y": gy.ravel(), "f": z.ravel(), "rank": rank.ravel()}).dropna()
    frame = frame.assign(x0=frame.x - half, x1=frame.x + half, y0=frame.y - half, y1=frame.y + half)
    pick = alt.selection_point(name="start", on="click", fields=["x", "y"], empty=False)
    cells = alt.Chart(frame).mark_rect().encode(
        x=alt.X("x0:Q", title="x", scale=alt.Scale(domain=[float(axis[0]) - half, float(axis[-1]) + half], nice=False)),
        x2="x1", y=alt.Y("y0:Q", title="y", scale=alt.Scale(domain=[float(axis[0]) - half, float(axis[-1]) + half],
                                                              nice=False)), y2="y1",
        color=alt.Color("rank:Q", scale=alt.Scale(scheme="greys", reverse=True), legend=None),
        tooltip=[alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f"),
                 alt.Tooltip("f:Q", format=".4g")]).add_params(pick)
    marker = alt.Chart(pd.DataFrame({"x": [start[0]], "y": [start[1]]})).mark_point(
        shape="cross", size=160, color="#d62728", filled=True).encode(x="x:Q", y="y:Q")
    return (cells + marker).properties(height=300)


def critical_points_chart(points: pd.DataFrame) -> alt.Chart:
    """Training error against index, one dot per critical point, coloured by the hidden units its run had on."""
    return alt.Chart(points).mark_point(size=70, opacity=0.8, filled=True).encode(
        x=alt.X("index:Q", title="index (share of negative Hessian eigenvalues)"),
        y=alt.Y("error:Q", title="training error", axis=alt.Axis(format="%")),
        color=alt.Color("units_on:O", title="hidden units on", scale=alt.Scale(scheme="viridis")),
        shape=alt.Shape("from:N", title="search from", scale=alt.Scale(domain=["end", "along"],
                                                                         range=["circle", "diamond"])),
        tooltip=["units_on", "run", "from", "start_step", alt.Tooltip("error:Q", format=".1%"),
                 alt.Tooltip("index:Q", format=".4f"), "negative", "negative_in_sub_network",
                 alt.Tooltip("loss:Q", format=".4f"), alt.Tooltip("grad_norm:Q", format=".2g")]).properties(height=320)


def runs_chart(curves: pd.DataFrame) -> alt.Chart:
    """Loss against step, one line per run, coloured by the hidden units it has on."""
    return alt.Chart(curves).mark_line(opacity=0.6, strokeWidth=1).encode(
        x=alt.X("step:Q"), y=alt.Y("loss:Q", title="penalised loss"), detail="run:N",
        color=alt.Color("units on:O", scale=alt.Scale(scheme="viridis"))).properties(height=240)


def spectrum_chart(values: np.ndarray) -> alt.Chart:
    """A histogram of Hessian eigenvalues (symmetric log scale), the negative ones in orange."""
    frame = pd.DataFrame({"eigenvalue": values, "sign": np.where(values < 0, "negative", "zero or positive")})
    frame["signed log10(1 + |eigenvalue| * 1e4)"] = np.sign(values) * np.log10(1 + np.abs(values) * 1e4)
    axis = "signed log10(1 + |eigenvalue| * 1e4)"
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{axis}:Q", bin=alt.Bin(maxbins=60), title="eigenvalue (symmetric log scale: sign * log10(1 + 1e4 |l|))"),
        y=alt.Y("count():Q", title="eigenvalues", scale=alt.Scale(type="symlog")),
        color=alt.Color("sign:N", scale=alt.Scale(domain=["negative", "zero or positive"],
                                                  range=["#e8590c", "#1f5fa8"]))).properties(height=220)


def poll_chart(counts: pd.DataFrame, measured: str | None) -> alt.Chart:
    """A poll's answers per option, the option the page's measurement supports (once revealed) in green."""
    frame = counts.assign(measured=[o == measured for o in counts["option"]])
    # a band per option: a small fixed height draws the bars as hairlines
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("option:N", sort=list(counts["option"]), title=None),
        x=alt.X("answers:Q", axis=alt.Axis(tickMinStep=1), title="answers"),
        color=alt.Color("measured:N", scale=alt.Scale(domain=[False, True], range=["#8a94a6", "#2f9e44"]),
                        legend=None)).properties(height=alt.Step(28))
