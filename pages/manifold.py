"""Manifold interpolation (slides 77-90): deep representations unfold the digit manifold."""
import hashlib
import json

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app.ui import charts, images, resources
from app.ui.digit_input import class_count, digit_input, test_digit
from app.ui.page_kit import PageKit
from engine import api
from engine.analysis.field import grid as field_grid
from engine.analysis.field import markov_chain, vector_field
from engine.analysis.interpolation import interpolate
from engine.analysis.tangents import move_along, tangent_directions
from engine.data.toy2d import TOY_SETS
from engine.models.dae import LEVELS
from engine.models.dae2d import CHAIN_BOX, chain_start

VIEWS = {"interpolate": "Interpolate two digits", "field": "Denoising vector field", "tangents": "Tangent directions"}
LEVEL_NAMES = {"pixel": "pixel space", "h1": "hidden layer 1", "h2": "hidden layer 2", "code": "code layer"}
PATH_POINTS = 9
DEFAULTS = {"view": "interpolate", "a_src": "test", "a_cls": 9, "a_idx": 0, "b_src": "test", "b_cls": 3,
            "b_idx": 0, "alpha": 0.5, "dataset": "spiral", "chains": 40, "chain_t": 30, "seed": 0,
            "t_cls": 4, "t_idx": 0, "t_level": "code", "t_scale": 2.0}
ALLOWED = {"view": list(VIEWS), "a_src": ["test", "draw"], "b_src": ["test", "draw"], "a_cls": (0, 9),
           "b_cls": (0, 9), "a_idx": (0, 10**6), "b_idx": (0, 10**6), "alpha": (0.0, 1.0), "dataset": list(TOY_SETS),
           "chains": (1, 200), "chain_t": (0, 60), "seed": (0, 10**6), "t_cls": (0, 9), "t_idx": (0, 10**6),
           "t_level": ["h1", "h2", "code"], "t_scale": (0.5, 6.0)}
KIT = PageKit("manifold", DEFAULTS, ALLOWED)
key = KIT.key


# ---------------------------------------------------------------- interpolation

def endpoint_controls(side: str) -> np.ndarray | None:
    """Pick one endpoint (test digit or drawing); returns its pixels or None with a message shown."""
    st.markdown(f"**Endpoint {side.upper()}**")
    return digit_input(lambda name: key(f"{side}_{name}"), f"Endpoint {side.upper()}")


def interpolation_view(dae: api.Loaded, classifier: api.Loaded) -> None:
    left, right = st.columns(2)
    with left:
        xa = endpoint_controls("a")
    with right:
        xb = endpoint_controls("b")
    if xa is None or xb is None:
        return
    if np.abs(xa - xb).max() < 1e-3:
        st.warning("The two endpoints are the same digit: pick two different ones to interpolate between.")
        return
    paths, spec = path_scores(dae.model, classifier.model, (dae.checkpoint.sha256, classifier.checkpoint.sha256),
                              pair_hash(xa, xb), xa, xb)
    st.fragment(interpolation_paths)(dae, classifier, xa, xb, paths)
    share_interpolation(dae, classifier, xa, xb, paths)
    st.vega_lite_chart(spec, width="stretch")


def pair_hash(xa: np.ndarray, xb: np.ndarray) -> str:
    return hashlib.sha256(xa.tobytes() + xb.tobytes()).hexdigest()[:16]


@st.cache_data(max_entries=256, show_spinner=False)
@torch.no_grad()
def path_scores(_dae, _classifier, shas: tuple, pair: str, _xa: np.ndarray, _xb: np.ndarray) -> tuple[np.ndarray, dict]:
    """Interpolants (4, K, 784) of the pair at every level and the chart of the classifier's confidence on each,
    made once per pair (a class following its teacher reruns the page thirty times over)."""
    ta, tb = torch.from_numpy(_xa).unsqueeze(0), torch.from_numpy(_xb).unsqueeze(0)
    alphas = torch.linspace(0, 1, PATH_POINTS)
    paths = torch.cat([interpolate(_dae, ta, tb, level, alphas) for level in LEVELS])        # (4, K, 784)
    conf, _ = _classifier.confidence(paths.reshape(-1, 784))
    frame = pd.DataFrame({"mixing weight": np.tile(np.linspace(0, 1, PATH_POINTS), len(LEVELS)),
                          "classifier confidence": conf.numpy().reshape(-1),
                          "level": np.repeat([LEVEL_NAMES[lvl] for lvl in LEVELS], PATH_POINTS)})
    return paths.numpy(), charts.vega_lite(charts.path_chart(frame, "classifier confidence", LEVEL_NAMES.values()))


def interpolation_paths(dae: api.Loaded, classifier: api.Loaded, xa: np.ndarray, xb: np.ndarray,
                        paths: np.ndarray) -> None:
    """The part a slider move reruns: the paths grid with the current column framed and the four interpolants."""
    st.slider("Mixing weight (0 = endpoint A, 1 = endpoint B)", 0.0, 1.0, step=0.05, key=key("alpha"))
    KIT.publish()
    grid, interpolants = pictures_now(dae, classifier, xa, xb, paths)
    grid_col, big_col = st.columns([3, 2])
    grid_col.image(grid, caption="Rows, top to bottom: " + ", ".join(LEVEL_NAMES[lvl] for lvl in LEVELS)
                                 + ". Each row goes from A to B; the framed column is nearest the mixing weight.",
                   output_format="PNG")
    for col, (picture, caption) in zip(big_col.columns(len(LEVELS)), interpolants):
        col.image(picture, caption=caption, output_format="PNG")


def pictures_now(dae: api.Loaded, classifier: api.Loaded, xa: np.ndarray, xb: np.ndarray,
                 paths: np.ndarray) -> tuple[bytes, list[tuple[bytes, str]]]:
    """pictures_at for the mixing weight on the slider."""
    return pictures_at(dae.model, classifier.model, (dae.checkpoint.sha256, classifier.checkpoint.sha256), pair_hash(xa, xb), xa,
                       xb, paths, st.session_state[key("alpha")])


def share_interpolation(dae: api.Loaded, classifier: api.Loaded, xa: np.ndarray, xb: np.ndarray,
                        paths: np.ndarray) -> None:
    """The class gets the paths grid and what the classifier reads at each level, at the student's mixing weight."""
    def endpoint(side: str) -> str:
        s = st.session_state
        return "drawn digit" if s[key(f"{side}_src")] == "draw" else f"test {s[key(f'{side}_cls')]}"

    def summary() -> str:
        reads = "; ".join(caption for _, caption in pictures_now(dae, classifier, xa, xb, paths)[1])
        return f"{endpoint('a')} -> {endpoint('b')} at {st.session_state[key('alpha')]:.2f}: {reads}"

    KIT.share(summary, lambda: pictures_now(dae, classifier, xa, xb, paths)[0])


@st.cache_data(max_entries=512, show_spinner=False)
@torch.no_grad()
def pictures_at(_dae, _classifier, shas: tuple, pair: str, _xa: np.ndarray, _xb: np.ndarray, _paths: np.ndarray,
                alpha: float) -> tuple[bytes, list[tuple[bytes, str]]]:
    """The paths grid with the column at `alpha` framed, and the interpolant at each level with what the classifier
    reads in it, as PNGs: a class moving the same pair's slider shares them."""
    ta, tb = torch.from_numpy(_xa).unsqueeze(0), torch.from_numpy(_xb).unsqueeze(0)
    at_alpha = torch.cat([interpolate(_dae, ta, tb, level, torch.tensor([alpha])) for level in LEVELS])  # (4, 1, 784)
    conf, pred = _classifier.confidence(at_alpha.reshape(-1, 784))
    grid = images.png(images.grid(_paths, scale=2, highlight=int(round(alpha * (PATH_POINTS - 1)))))
    return grid, [(images.png(images.digit(at_alpha[i, 0].numpy(), 3)),
                   f"{LEVEL_NAMES[level]}: looks like a {pred[i].item()} ({conf[i].item():.0%})")
                  for i, level in enumerate(LEVELS)]


# ---------------------------------------------------------------- vector field

@st.cache_data(max_entries=32, show_spinner=False)
def field_arrays(_model, sha: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    pts = field_grid(CHAIN_BOX, n)
    return pts.numpy(), vector_field(_model, pts).numpy()


@st.cache_data(max_entries=32, show_spinner=False)
def chain_paths(_model, sha: str, chains: int, steps: int, sigma: float, seed: int) -> np.ndarray:
    return markov_chain(_model, chain_start(chains, seed), steps, sigma, seed).numpy()


def field_view() -> None:
    st.segmented_control("Data set", list(TOY_SETS), key=key("dataset"), required=True)
    config = api.config("dae2d", resources.preset(), dataset=st.session_state[key("dataset")])
    loaded = KIT.model("dae2d", config, collapsed=False)
    if loaded is None:
        return
    st.fragment(field_plot)(loaded, config)
    s, m = st.session_state, loaded.checkpoint.metrics

    def summary() -> str:
        return (f"{config.dataset}: {s[key('chains')]} chains at step {s[key('chain_t')]}, seed {s[key('seed')]}; "
                f"field points at the data {m['field_alignment']:.2f}, "
                f"chains end {m['chain_end_distance']:.3f} from it")

    KIT.share(summary, lambda: charts.png(field_picture(loaded, config)))


def field_picture(loaded, config):
    """The field, and the chains up to the step on the slider."""
    s = st.session_state
    pts, field = field_arrays(loaded.model, loaded.checkpoint.sha256, 21)
    paths = chain_paths(loaded.model, loaded.checkpoint.sha256, s[key("chains")], 60, config.sigma, s[key("seed")])
    data = loaded.spec.data(config).train.numpy()
    return charts.field_figure(data, pts, field, paths[: s[key("chain_t")] + 1], CHAIN_BOX)


def field_plot(loaded, config) -> None:
    c1, c2, c3 = st.columns(3)
    c1.slider("Chains", 1, 200, key=key("chains"))
    c2.slider("Chain step t", 0, 60, key=key("chain_t"))
    c3.number_input("Seed", 0, 10**6, key=key("seed"))
    KIT.publish()
    s = st.session_state
    left, right = st.columns([3, 2])
    left.pyplot(field_picture(loaded, config), width="stretch")
    m = loaded.checkpoint.metrics
    with right:
        st.markdown(
            f"Arrows: the direction of the denoising field **r(x) - x** on a grid; their colour is its length. "
            f"Lines: {s[key('chains')]} corrupt/denoise chains x ← r(x + σε), σ = {config.sigma}, started from "
            f"uniform noise; dots mark where they are at step {s[key('chain_t')]}.")
        st.metric("Field points at the data (mean cosine)", f"{m['field_alignment']:.2f}",
                  help="Cosine between r(x) - x and the direction to the nearest data point, over grid points off the data; 1 = straight at it.")
        st.metric("Chain distance to data", f"{m['chain_end_distance']:.3f}",
                  delta=f"{m['chain_end_distance'] - m['chain_start_distance']:.3f} from the start", delta_color="inverse")


# ---------------------------------------------------------------- tangents

def tangent_view(dae) -> None:
    c1, c2, c3 = st.columns(3)
    cls = c1.selectbox("Digit class", list(range(10)), key=key("t_cls"))
    n = class_count(cls)
    c2.number_input(f"Index (0-{n - 1})", 0, n - 1, key=key("t_idx"))
    c3.selectbox("Jacobian of", ["h1", "h2", "code"], key=key("t_level"), format_func=LEVEL_NAMES.get)
    st.fragment(tangent_panel)(dae)
    s = st.session_state

    def summary() -> str:
        values = tangents(dae)[1]
        return (f"test {s[key('t_cls')]} #{s[key('t_idx')]}, Jacobian of {LEVEL_NAMES[s[key('t_level')]]}, moved "
                f"±{s[key('t_scale')]:g}: σ = " + ", ".join(f"{v:.2f}" for v in values))

    KIT.share(summary, lambda: images.png(images.grid(tangents(dae)[3].numpy(), scale=2, highlight=3)))


def tangents(dae) -> tuple:
    """The digit, its top tangent directions (singular values, directions) and the digit moved along each."""
    s = st.session_state
    x = torch.from_numpy(test_digit(s[key("t_cls")], s[key("t_idx")]))
    values, directions = tangent_directions(dae, x, s[key("t_level")], k=6)
    steps = torch.linspace(-s[key("t_scale")], s[key("t_scale")], 7)
    return x, values, directions, torch.stack([move_along(dae, x, d, steps) for d in directions])    # (6, 7, 784)


def tangent_panel(dae) -> None:
    st.slider("How far to move along each direction", 0.5, 6.0, step=0.5, key=key("t_scale"))
    KIT.publish()
    x, values, directions, moved = tangents(dae)
    left, right = st.columns([1, 3])
    left.image(images.digit(x.numpy(), 4), caption="the digit", output_format="PNG")
    with right:
        cols = st.columns(len(directions))
        for col, v, d in zip(cols, values, directions):
            col.image(images.signed(d.numpy(), 3), caption=f"σ = {v:.2f}", output_format="PNG")
    st.image(images.grid(moved.numpy(), scale=2, highlight=3), output_format="PNG",
             caption="Each row: the digit moved along one direction (left to right: -t to +t), then cleaned by the "
                     "DAE. The framed column is the digit itself.")


# ---------------------------------------------------------------- page

@st.cache_data(max_entries=8, show_spinner=False)
def measured_curves(p_json: str, _p: dict) -> tuple[dict, dict]:
    """The measured confidence and distance curves by level, as two charts made once per set of metrics."""
    rows = []
    for level in LEVELS:
        for a, c, d in zip(_p["alphas"], _p["levels"][level]["confidence_curve"],
                           _p["levels"][level]["nn_distance_curve"]):
            rows.append({"mixing weight": a, "level": LEVEL_NAMES[level], "classifier confidence": c,
                         "distance to nearest training digit": d})
    frame = pd.DataFrame(rows)
    return tuple(charts.vega_lite(charts.path_chart(frame, y, LEVEL_NAMES.values()))
                 for y in ("classifier confidence", "distance to nearest training digit"))


def paper_vs_you(report: api.Report) -> None:
    KIT.paper_vs_you(report)
    if "dae" not in report.metrics:
        return
    p = report.metrics["dae"]["plausibility_by_level"]
    dae2d_metrics = report.metrics.get("dae2d")
    levels = p["levels"]
    verdict = "holds" if p["claim_holds"] else "does not fully hold"
    st.markdown(
        f"**Slide 89** (Bengio et al. 2013, *Better mixing via deep representations*): interpolating between two "
        f"digits in pixel space gives ghostly overlays, while interpolating deeper in the network stays on the "
        f"manifold of digits. The paper shows this with pictures; here it is measured over {p['pairs']} random "
        f"test pairs of different classes, on the interpolants strictly between the endpoints. "
        f"**On these checkpoints the claim {verdict}.**")
    table = pd.DataFrame({
        "level": [LEVEL_NAMES[lvl] for lvl in LEVELS],
        "classifier confidence (higher = more digit-like)": [levels[lvl]["confidence"] for lvl in LEVELS],
        "distance to nearest training digit (lower = closer to real data)": [levels[lvl]["nn_distance"] for lvl in LEVELS]})
    st.dataframe(table, hide_index=True, width="stretch")
    st.markdown(
        f"- Distance to the nearest real digit falls level after level: **{'yes' if p['holds_by_distance'] else 'no'}**\n"
        f"- Classifier confidence rises level after level: **{'yes' if p['holds_by_confidence'] else 'no'}**")
    left, right = st.columns(2)
    confidence, distance = measured_curves(json.dumps(p, sort_keys=True), p)
    left.vega_lite_chart(confidence, width="stretch")
    right.vega_lite_chart(distance, width="stretch")
    st.caption("Setting: the 4,500-digit training subset (the paper used full MNIST and a greedily stacked model); "
               "a 3-layer denoising autoencoder whose every level has its own decoder; pixel-space interpolants "
               "are not decoded. Curves average the paths; 0 and 1 are the endpoints' reconstructions.")
    if dae2d_metrics:
        st.markdown(f"**Slides 85-88** (Alain & Bengio 2013; Bengio et al. 2013): on the spiral the field's mean "
                    f"cosine towards the nearest data point is **{dae2d_metrics['field_alignment']:.2f}**, and 500 "
                    f"chains started from noise end **{dae2d_metrics['chain_end_distance']:.3f}** from the data on "
                    f"average (they started {dae2d_metrics['chain_start_distance']:.3f} away).")


def main() -> None:
    st.title("Manifold interpolation")
    st.markdown("Deep representations unfold the data manifold: blends made deep inside a denoising autoencoder "
                "look like digits, blends of pixels do not (tutorial slides 77-90).")
    KIT.bind()
    preset = resources.preset()
    dae_config = api.config("dae", preset)
    loaded = KIT.models(("dae", dae_config), ("mnist_classifier", api.config("mnist_classifier", dae_config.scorer)),
                        mnist=True)
    if loaded is None:
        return
    dae, classifier = loaded
    view = st.segmented_control("View", list(VIEWS), key=key("view"), format_func=VIEWS.get, required=True,
                                label_visibility="collapsed")
    if view == "field":
        field_view()
    elif dae is None or classifier is None:
        st.warning("This view needs the denoising autoencoder and the classifier: train them under "
                   "'Models on this page'.")
    elif view == "interpolate":
        interpolation_view(dae, classifier)
    else:
        tangent_view(dae.model)
    KIT.publish()
    paper_vs_you(api.claims("manifold", preset))


main()
