"""GAN trajectories (slides 94-103): the minimax game on 2-D data, and an MNIST GAN's trajectory, walks and manifold."""
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app.ui import charts, images, player, resources
from app.ui.page_kit import PageKit
from engine import api
from engine.data import DataError
from engine.data.drawing import drawing_to_points
from engine.models import gan2d
from engine.models.gan import MANIFOLD_VARIANT, nearest_training_digits

VIEWS = {"toy": "The game on 2-D data", "mnist": "An MNIST GAN"}
MNIST_VIEWS = {"trajectory": "Training trajectory", "walk": "Latent walks", "manifold": "Learned 2-D manifold",
               "samples": "Samples and their nearest digits"}
LOSS_NAMES = {"nonsaturating": "non-saturating: -log D(G(z))", "minimax": "minimax: log(1 - D(G(z)))"}
RATES = [1e-4, 3e-4, 1e-3, 3e-3]
D_STEPS = [1, 2, 3, 5]
SAMPLES = 8
MAX_SEEDS = 8
TOY_STEPS = api.config("gan2d", resources.preset()).steps
MNIST_STEPS = api.config("gan", resources.preset()).steps
DEFAULTS = {"view": "toy", "dataset": "ring", "loss": "nonsaturating", "k": 1, "lr_d": 1e-3, "lr_g": 1e-3,
            "t_step": TOY_STEPS, "mview": "trajectory", "m_step": MNIST_STEPS, "waypoints": "1, 2, 3, 4",
            "frames": 12, "spherical": True, "w_step": 0, "extent": 2.0, "cells": 15, "seed": 0}
ALLOWED = {"view": list(VIEWS), "dataset": list(gan2d.DATASETS), "loss": list(gan2d.G_LOSSES), "k": D_STEPS,
           "lr_d": RATES, "lr_g": RATES, "t_step": (0, 10**7), "mview": list(MNIST_VIEWS), "m_step": (0, 10**7),
           "frames": (4, 30), "w_step": (0, 1000), "extent": (0.5, 4.0), "cells": (5, 25), "seed": (0, 10**6)}
KIT = PageKit("gan", DEFAULTS, ALLOWED)
key = KIT.key
publish = KIT.publish


# ---------------------------------------------------------------- the game on 2-D data

def toy_controls() -> dict:
    """The knobs of the game; returns the config overrides they choose."""
    s = st.session_state
    c1, c2, c3 = st.columns([4, 3, 1])
    c4, c5, _ = st.columns([2, 2, 4])
    c1.segmented_control("Data", list(gan2d.DATASETS), key=key("dataset"), required=True, on_change=player.stop,
                         args=(toy_key,))
    c2.selectbox("Generator loss", list(gan2d.G_LOSSES), key=key("loss"), format_func=LOSS_NAMES.get,
                 help="Minimax is the game as written; its gradient vanishes where D confidently rejects the "
                      "samples. The paper trains G with the non-saturating loss instead.")
    c3.selectbox("k", D_STEPS, key=key("k"), help="Discriminator steps per generator step (Algorithm 1).")
    c4.select_slider("D learning rate", RATES, key=key("lr_d"), format_func="{:g}".format)
    c5.select_slider("G learning rate", RATES, key=key("lr_g"), format_func="{:g}".format)
    overrides = {"dataset": s[key("dataset")], "g_loss": s[key("loss")], "d_steps": s[key("k")],
                 "lr_d": s[key("lr_d")], "lr_g": s[key("lr_g")]}
    if overrides["dataset"] == "drawn":
        overrides["points"] = drawn_points()
    return overrides


def drawn_points() -> tuple:
    """The canvas for a drawn data set; the points kept are the last ones the user chose to train on."""
    left, right = st.columns([1, 2])
    with left:
        result = st_canvas(stroke_width=6, stroke_color="#FFFFFF", background_color="#000000", height=240, width=240,
                           drawing_mode="freedraw", return_image_data=True, key=key("canvas"))
    with right:
        st.markdown("Draw the data in white: every stroke becomes a cloud of real points (jittered by "
                    f"σ = {gan2d.NOISE}). Then press **Use this drawing** and train the game on it below.")
        if st.button("Use this drawing", key=key("use_drawing"), icon=":material/check:"):
            try:
                st.session_state[key("points")] = drawing_to_points(
                    None if result is None or result.image_data is None else np.asarray(result.image_data), gan2d.BOX,
                    gan2d.MAX_DRAWN)
            except DataError as e:
                st.warning(f"{e}.")
        points = st.session_state.get(key("points"), ())
        if points:
            st.caption(f"Using {len(points)} drawn points.")
    return points


def toy_key(name: str) -> str:
    return key(f"t_{name}")


@dataclass(frozen=True)
class ToyRun:
    """What a move shows of one run: computed once per run, shared by every session."""
    trace: dict
    steps: list[int]
    modes: list[int] | None          # ring modes covered at each step (the ring only)
    frames: list[bytes]              # every recorded step drawn as a PNG


@st.cache_resource(max_entries=8, show_spinner="Drawing the game at every recorded step…")
def toy_run(_loaded, sha: str, _config) -> ToyRun:
    """A class scrubbing at random then only picks a frame (about 5 MB a run)."""
    trace = _loaded.model.trajectory()
    real = _loaded.spec.data(_config).train.numpy()
    frames = charts.gan_frames(real, trace, gan2d.BOX, list(range(len(trace["step"]))))
    modes = gan2d.ring_modes_by_snapshot(trace) if _config.dataset == "ring" else None
    return ToyRun(trace, trace["step"].tolist(), modes, [images.png(f) for f in frames])


def toy_view() -> None:
    overrides = toy_controls()
    if overrides["dataset"] == "drawn":
        try:
            gan2d.check_points(overrides["points"])
        except DataError as e:
            st.info(f"No drawn data yet: {e}.", icon=":material/draw:")
            return
    config = api.config("gan2d", resources.preset(), **overrides)
    loaded = KIT.model("gan2d", config, collapsed=False)
    if loaded is None:
        return
    st.fragment(toy_replay)(loaded, config)
    share_toy(loaded, config)
    compare_runs(config)


def toy_replay(loaded, config) -> None:
    sha = loaded.checkpoint.sha256
    run = toy_run(loaded, sha, config)
    trace, steps, modes, frames = run.trace, run.steps, run.modes, run.frames
    left, right = st.columns([3, 2])
    with left:
        player.step_player(toy_key, steps, lambda s: frames[steps.index(s)], lambda: images.gif(frames),
                           lambda s: f"the game at step {s} of {steps[-1]}", "gan-2d.gif", publish)
    i = steps.index(st.session_state[toy_key("step")])
    with right:
        st.markdown("**Background**: the discriminator's D(x), green where it says *real*, purple where it says "
                    "*fake*. **Dark green dots**: real data. **Orange dots**: G(z) for a fixed batch of noise. "
                    "**Arrows**: where the generator's loss pushes each generated point, -∂L_G/∂x, scaled per "
                    "frame; the title gives the push's mean size.")
        c1, c2 = st.columns(2)
        c1.metric("V(D, G) here", f"{trace['value'][i]:.3f}", help="The game's value on a fixed batch; -log 4 = "
                  "-1.386 is its value when G has learned the data and D can only guess.")
        if modes is not None:
            c2.metric("Ring modes covered here", f"{modes[i]}/8", help="A mode counts when at least 2% of the "
                      "recorded samples lie within 3σ of it.")
        st.vega_lite_chart(game_spec(sha, steps[i], trace, modes), width="stretch")


def share_toy(loaded, config) -> None:
    """The class gets the frame at the step shown, with the knobs that made the run."""
    def index(run: ToyRun) -> int:
        return run.steps.index(st.session_state[toy_key("step")])

    def summary() -> str:
        run = toy_run(loaded, loaded.checkpoint.sha256, config)
        i = index(run)
        modes = f"{run.modes[i]}/8 ring modes, " if run.modes is not None else ""
        return (f"{config.dataset}, {config.g_loss}, k {config.d_steps}, lr_D {config.lr_d:g}, lr_G {config.lr_g:g}: "
                f"{modes}V {run.trace['value'][i]:.3f} at step {run.steps[i]}")

    def figure() -> bytes:
        run = toy_run(loaded, loaded.checkpoint.sha256, config)
        return run.frames[index(run)]

    KIT.share(summary, figure)


@st.cache_data(max_entries=512, show_spinner=False)
def game_spec(sha: str, step: int, _trace: dict, _modes: list[int] | None) -> dict:
    """The chart at one step, built and checked by Altair once per (run, step): a move only sends it."""
    return charts.vega_lite(game_chart(_trace, _modes, step))


def game_chart(trace: dict, modes: list[int] | None, step: int) -> alt.VConcatChart:
    frame = pd.DataFrame({"step": np.tile(trace["step"], 3),
                          "value": np.concatenate([trace["d_loss"], trace["g_loss"], trace["value"]]),
                          "curve": np.repeat(["D loss = -V", "G loss", "V(D, G)"], len(trace["step"]))})
    lines = charts.series_chart(frame, "step", "value", "curve", ["D loss = -V", "G loss", "V(D, G)"],
                                charts.OPTIMIZER_COLORS)
    optimum = alt.Chart(pd.DataFrame({"value": [gan2d.VALUE_AT_OPTIMUM]})).mark_rule(
        strokeDash=[4, 4], color="#555").encode(y="value:Q")
    now = alt.Chart(pd.DataFrame({"step": [step]})).mark_rule(color="#e8590c").encode(x="step:Q")
    panels = [(lines + optimum + now).properties(height=220, title="Losses on a fixed batch (dashed: -log 4)")]
    if modes is not None:
        covered = alt.Chart(pd.DataFrame({"step": trace["step"], "modes covered": modes})).mark_line(
            interpolate="step-after", color=charts.FAKE_COLOR).encode(
            x="step:Q", y=alt.Y("modes covered:Q", scale=alt.Scale(domain=[0, 8])))
        panels.append((covered + now).properties(height=120, title="Ring modes covered"))
    return alt.vconcat(*panels).configure_legend(orient="bottom")


def compare_runs(config) -> None:
    """The stored runs on the same data set, one row each, to compare knobs."""
    spec = api.spec("gan2d")
    rows = []
    for other in [config] + [c for c in spec.configs(resources.preset()) if c != config]:
        if other.dataset != config.dataset or other.points != config.points:
            continue
        ckpt, _ = api.locate("gan2d", other)
        if ckpt is None:
            continue
        m = ckpt.metrics
        rows.append({"run": "this one" if other == config else "stored", "generator loss": other.g_loss,
                     "k": other.d_steps, "D lr": other.lr_d, "G lr": other.lr_g,
                     "modes covered": f"{m['modes_covered']}/{m['modes']}" if "modes_covered" in m else "-",
                     "samples near data": m["near_data_fraction"], "data covered": m["data_covered_fraction"],
                     "final V": m["final_value"]})
    st.markdown("**Runs on this data set** (train other knob settings above to add rows). *Samples near data*: "
                f"share of 2,000 samples within 3σ = {3 * gan2d.NOISE:.2f} of a held-out real point; *data covered*: "
                "share of real points with a sample that close.")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


# ---------------------------------------------------------------- the MNIST GAN

def parse_waypoints(text: str) -> list[int]:
    """'1, 2, 3' -> [1, 2, 3]; ValueError with a message a user can act on."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        seeds = [int(p) for p in parts]
    except ValueError:
        raise ValueError("waypoints are whole numbers (latent seeds) separated by commas, like 1, 2, 3") from None
    if not 2 <= len(seeds) <= MAX_SEEDS:
        raise ValueError(f"give between 2 and {MAX_SEEDS} waypoints (got {len(seeds)})")
    if any(not 0 <= s <= 10**6 for s in seeds):
        raise ValueError("latent seeds run from 0 to 1,000,000")
    return seeds


@st.cache_data(max_entries=8, show_spinner=False)
def trajectory_frames(_model, sha: str) -> tuple[list[int], list[np.ndarray]]:
    """The recorded steps and the latent grid drawn at each, made once per checkpoint rather than per slider move."""
    trace = _model.trajectory()
    return trace["step"].tolist(), [images.grid(g.reshape(8, 8, 784), scale=2) for g in trace["grid"]]


def trajectory_view(loaded) -> None:
    steps, frames = trajectory_frames(loaded.model, loaded.checkpoint.sha256)
    st.caption("The same 64 latent vectors rendered by the generator as training goes on: noise, then blobs, then "
               "strokes, then digits.")
    player.step_player(mnist_key, steps, lambda s: frames[steps.index(s)], lambda: images.gif(frames, 250),
                       lambda s: f"step {s} of {steps[-1]}", "gan-training.gif", publish)


def mnist_key(name: str) -> str:
    return key(f"m_{name}")


@st.cache_data(max_entries=32, show_spinner="Walking through the latent space…")
def walk_frames(_model, sha: str, seeds: tuple, frames: int, spherical: bool) -> np.ndarray:
    return _model.walk(list(seeds), frames, spherical)


def walk_view(loaded) -> None:
    s = st.session_state
    c1, c2, c3, c4 = st.columns([4, 2, 3, 2], vertical_alignment="bottom")
    if c2.button("Random", key=key("random"), icon=":material/casino:"):
        rng = np.random.default_rng()
        s[key("waypoints")] = ", ".join(str(v) for v in rng.integers(0, 10**6, 4))
        player.stop(walk_key)
    c1.text_input("Waypoints (latent seeds)", key=key("waypoints"), max_chars=80, on_change=player.stop,
                  args=(walk_key,),
                  help="Each number seeds one latent vector z ~ N(0, I); the walk visits them in order.")
    c3.slider("Frames per leg", 4, 30, key=key("frames"), on_change=player.stop, args=(walk_key,))
    c4.toggle("Spherical", key=key("spherical"), on_change=player.stop, args=(walk_key,),
              help="On: slerp along the sphere where Gaussian noise lives. Off: a straight line, whose middle falls "
                   "inside the sphere where the generator saw little noise.")
    try:
        seeds = parse_waypoints(s[key("waypoints")])
    except ValueError as e:
        st.error(str(e), icon=":material/error:")
        return
    frames = walk_frames(loaded.model, loaded.checkpoint.sha256, tuple(seeds), s[key("frames")], s[key("spherical")])
    st.image(walk_grid(frames, s[key("frames")]), output_format="PNG",
             caption="The whole walk, one leg per row, read left to right (the last frame is the last waypoint).")
    pictures = [images.digit(f, 8) for f in frames]
    left, _ = st.columns([1, 1])
    with left:
        player.step_player(walk_key, list(range(len(frames))), lambda i: pictures[i],
                           lambda: images.gif(pictures, 90, 400), lambda i: f"frame {i} of {len(frames) - 1}",
                           "gan-walk.gif", publish)


def walk_grid(frames: np.ndarray, per_row: int) -> np.ndarray:
    rows = np.concatenate([frames, np.zeros((-len(frames) % per_row, 784), np.float32)]).reshape(-1, per_row, 784)
    return images.grid(rows, scale=2)


def walk_key(name: str) -> str:
    return key(f"w_{name}")


def manifold_view() -> None:
    config = api.config("gan", resources.preset(), **MANIFOLD_VARIANT)
    loaded = KIT.model("gan", config, title="The 2-D GAN",
                       missing="No GAN with a 2-dimensional latent space yet: train it under 'The 2-D GAN'.")
    if loaded is None:
        return
    c1, c2 = st.columns(2)
    c1.slider("Extent k (the grid spans [-k, k]²)", 0.5, 4.0, step=0.25, key=key("extent"))
    c2.slider("Cells per side", 5, 25, key=key("cells"))
    publish()
    extent, cells = st.session_state[key("extent")], st.session_state[key("cells")]
    picture = images.grid(loaded.model.manifold(extent, cells), scale=1, pad=0)
    left, right = st.columns([3, 2])
    left.image(picture, output_format="PNG", width="stretch",
               caption="G(z) over a grid of the latent plane: z₁ left to right, z₂ bottom to top.")
    m = loaded.checkpoint.metrics
    KIT.share(lambda: f"2-D GAN manifold over [-{extent:g}, {extent:g}]², {cells} cells a side: "
                      f"{m['class_coverage']}/10 classes covered", lambda: images.png(picture))
    with right:
        st.markdown("With only two latent numbers the generator must lay every digit it can make on one sheet: "
                    "neighbouring cells morph into each other, and the classes it found sit in regions of the plane "
                    "(slide 99 shows such a manifold).")
        st.metric("Classes covered by this 2-D GAN", f"{m['class_coverage']}/10")
        st.vega_lite_chart(class_share_chart(tuple(m["class_shares"])), width="stretch")


@st.cache_data(max_entries=16, show_spinner=False)
def class_share_chart(shares: tuple[float, ...]) -> dict:
    """Each digit class's share of the samples, with the 5% line a class must reach to count as covered (made once
    per model, not on every run of the page)."""
    frame = pd.DataFrame({"class": [str(c) for c in range(10)], "share of samples": shares})
    bars = alt.Chart(frame).mark_bar(color=charts.FAKE_COLOR).encode(x="class:N", y="share of samples:Q",
                                                                     tooltip=["class", "share of samples"])
    line = alt.Chart(pd.DataFrame({"y": [0.05]})).mark_rule(strokeDash=[4, 4]).encode(y=alt.Y("y:Q", title=None))
    return charts.vega_lite((bars + line).properties(height=200, title="Class shares of 1,000 samples (dashed: 5%)"))


@st.cache_data(max_entries=32, show_spinner=False)
def sample_pairs(_model, sha: str, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Each sample above its nearest training digit, and their distances."""
    samples = _model.generate(_model.latents(SAMPLES, seed))
    nearest, dist = nearest_training_digits(samples)
    return [images.tile([images.rgb(samples[i].numpy(), 3), images.rgb(nearest[i], 3)], cols=1)
            for i in range(SAMPLES)], dist


def samples_view(loaded) -> None:
    left, _ = st.columns([1, 3])
    left.number_input("Seed", 0, 10**6, key=key("seed"), help="The same seed gives the same samples.")
    publish()
    pairs, dist = sample_pairs(loaded.model, loaded.checkpoint.sha256, st.session_state[key("seed")])
    for i, col in enumerate(st.columns(SAMPLES)):
        col.image(pairs[i], caption=f"#{i}: {dist[i]:.1f}", output_format="PNG")
    st.caption("Top: a sample. Bottom: its nearest training digit (Euclidean distance in pixels, under each pair). "
               "Real test digits lie about this far from their nearest training digit too: the samples are not "
               "copies.")


def mnist_view() -> None:
    config = api.config("gan", resources.preset())
    view = st.segmented_control("MNIST view", list(MNIST_VIEWS), key=key("mview"), format_func=MNIST_VIEWS.get,
                                required=True, label_visibility="collapsed")
    if view == "manifold":
        manifold_view()
        return
    loaded = KIT.model("gan", config, mnist=True, missing="No MNIST GAN checkpoint: train it under 'Model'.")
    if loaded is None:
        return
    if view == "trajectory":
        st.fragment(trajectory_view)(loaded)
    elif view == "walk":
        st.fragment(walk_view)(loaded)
    else:
        st.fragment(samples_view)(loaded)
    share_mnist(view, loaded)


def share_mnist(view: str, loaded) -> None:
    """What the class gets of the view in the fragment above, read from its controls when the button is pressed."""
    s, model, sha = st.session_state, loaded.model, loaded.checkpoint.sha256

    def summary() -> str:
        if view == "trajectory":
            steps = trajectory_frames(model, sha)[0]
            return f"MNIST GAN: the 64 latents at training step {s[mnist_key('step')]} of {steps[-1]}"
        if view == "walk":
            shape = "spherical" if s[key("spherical")] else "straight"
            return f"latent walk through seeds {s[key('waypoints')]} ({shape}, {s[key('frames')]} frames a leg)"
        seed = s[key("seed")]
        dist = sample_pairs(model, sha, seed)[1]
        return f"MNIST GAN samples, seed {seed}: {dist.min():.1f}-{dist.max():.1f} from their nearest training digits"

    def figure() -> bytes | None:
        if view == "trajectory":
            steps, frames = trajectory_frames(model, sha)
            return images.png(frames[steps.index(s[mnist_key("step")])])
        if view == "walk":
            try:
                seeds = parse_waypoints(s[key("waypoints")])
            except ValueError:
                return None
            return images.png(walk_grid(walk_frames(model, sha, tuple(seeds), s[key("frames")], s[key("spherical")]),
                                        s[key("frames")]))
        return images.png(images.tile(sample_pairs(model, sha, s[key("seed")])[0], cols=SAMPLES))

    KIT.share(summary, figure)


# ---------------------------------------------------------------- page

def paper_vs_you(report: api.Report) -> None:
    KIT.paper_vs_you(report)
    if "gan" not in report.metrics:
        return
    m = report.metrics["gan"]
    st.vega_lite_chart(class_share_chart(tuple(m["class_shares"])), width="stretch")
    shares = ", ".join(f"{c}: {v:.0%}" for c, v in enumerate(m["class_shares"]))
    st.caption(f"Setting: {m['samples']} samples judged by the project's MNIST classifier (class shares {shares}); "
               f"Frechet distances on {m['test_images']} digits each. The paper trained on all 60,000 MNIST digits "
               "with maxout players and showed samples; here a DCGAN-style pair learns from 4,500 digits, and the "
               "claims are measured rather than shown.")


def main() -> None:
    st.title("GAN trajectories")
    st.markdown("A generator and a discriminator play a minimax game until the generator's samples cannot be told "
                "from the data (tutorial slides 94-103, Goodfellow et al. 2014).")
    KIT.bind()
    view = st.segmented_control("View", list(VIEWS), key=key("view"), format_func=VIEWS.get, required=True,
                                label_visibility="collapsed")
    if view == "toy":
        toy_view()
    else:
        mnist_view()
    publish()
    paper_vs_you(api.claims("gan", resources.preset()))


main()
