"""DRAW canvas replay (slides 91-94): a recurrent network with attention draws digits patch by patch."""
import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from app.ui import charts, images, player, resources
from app.ui.digit_input import digit_input
from app.ui.page_kit import PageKit
from engine import api
from engine.models.draw import PAPER_NLL, WINDOW_FIELDS, replay_generation, replay_reconstruction, training_digits

SAMPLES = 8
READ_COLOUR, WRITE_COLOUR = "#2fbf71", "#ff3b30"
MODES = {"generate": "Generate from the prior", "reconstruct": "Read and rebuild a digit"}
DEFAULTS = {"mode": "generate", "attention": True, "seed": 0, "sample": 0, "step": 1, "src": "test", "cls": 7,
            "idx": 0}
ALLOWED = {"mode": list(MODES), "seed": (0, 10**6), "sample": (0, SAMPLES - 1), "step": (1, 1000),
           "src": ["test", "draw"], "cls": (0, 9), "idx": (0, 10**6)}
KIT = PageKit("draw", DEFAULTS, ALLOWED)
key = KIT.key


@st.cache_data(max_entries=64, show_spinner="Drawing samples…")
def generation(_pair, sha: str, attention: bool, seed: int) -> dict:
    return replay_generation(_pair, attention, SAMPLES, seed)


@st.cache_data(max_entries=64, show_spinner="Reading the digit…")
def reconstruction(_pair, sha: str, attention: bool, digit_hash: str, _digit: np.ndarray) -> dict:
    return replay_reconstruction(_pair, attention, _digit, seed=0)


def window_boxes(trace: dict, kind: str, t: int, i: int, n: int, colour: str) -> list:
    """The rectangle of sample i's `kind` window at step t (0-based), or none for the no-attention baseline."""
    if trace.get(kind) is None:
        return []
    gx, gy, delta = trace[kind][t, i, :3]
    return [(gx, gy, delta, n, colour)]


def window_table(trace: dict, i: int) -> pd.DataFrame:
    rows = []
    for kind in ("read", "write"):
        if trace.get(kind) is None:
            continue
        for t, values in enumerate(trace[kind][:, i], start=1):
            rows.append({"step": t, "window": kind, **{f: round(float(v), 2) for f, v in zip(WINDOW_FIELDS, values)}})
    return pd.DataFrame(rows)


def replay(frames: list, label: str, gif_name: str) -> None:
    steps = list(range(1, len(frames) + 1))
    st.fragment(player.step_player)(key, steps, lambda t: frames[t - 1], lambda: images.gif(frames),
                                    lambda t: f"{label}: step {t} of {len(frames)}", gif_name,
                                    KIT.publish)


def share_replay(frames: list, what: str, result: str) -> None:
    """The class gets the frame at the step shown (PNG bytes or an RGB array) and the replay's numbers."""
    def frame() -> bytes:
        picture = frames[st.session_state[key("step")] - 1]
        return picture if isinstance(picture, bytes) else images.png(picture)

    KIT.share(lambda: f"{what} at step {st.session_state[key('step')]} of {len(frames)}: {result}", frame)


@st.cache_resource(max_entries=32, show_spinner=False)
def generation_frames(sha: str, attention: bool, seed: int, _trace: dict, _config) -> list[bytes]:
    """The samples at every step with their write windows, as PNGs made once and shared by every session that
    asks for the same seed (a class opening the page gets one set, not one each)."""
    return [images.png(images.tile([images.with_windows(_trace["canvases"][t, i], window_boxes(
        _trace, "write", t, i, _config.write_n, WRITE_COLOUR), 5) for i in range(SAMPLES)], cols=SAMPLES // 2))
        for t in range(_config.glimpses)]


@st.cache_resource(max_entries=32, show_spinner=False)
def nearest_pictures(sha: str, attention: bool, seed: int, _trace: dict) -> list[bytes]:
    """Each final sample above its nearest training digit, as PNGs made once per seed."""
    train = training_digits()
    return [images.png(images.tile([images.rgb(_trace["canvases"][-1, i], 3),
                                    images.rgb(train[_trace["nearest"][i]], 3)], cols=1)) for i in range(SAMPLES)]


def generate_view(pair, sha: str, config, attention: bool) -> None:
    seed = st.session_state[key("seed")]
    trace = generation(pair, sha, attention, seed)
    frames = generation_frames(sha, attention, seed, trace, config)
    st.caption(f"Eight samples from the prior, each drawn in T = {config.glimpses} steps. The red box is the write "
               f"window: where this step's {config.write_n} x {config.write_n} patch lands; its size is the stride.")
    replay(frames, "samples", "draw-samples.gif")
    distance = trace["nearest_distance"]
    share_replay(frames, f"generate, attention {'on' if attention else 'off'}, seed {seed}",
                 f"samples {distance.min():.1f}-{distance.max():.1f} from their nearest training digits")
    st.markdown("**Each final sample above its nearest training digit** (Euclidean distance in pixels): new "
                "digits, not copies.")
    for i, (col, picture) in enumerate(zip(st.columns(SAMPLES), nearest_pictures(sha, attention, seed, trace))):
        col.image(picture, caption=f"#{i}: {trace['nearest_distance'][i]:.1f}", output_format="PNG")
    st.selectbox("Window parameters of sample", list(range(SAMPLES)), key=key("sample"), format_func="#{}".format)
    show_windows(trace, st.session_state[key("sample")])


def reconstruct_view(pair, sha: str, config, attention: bool) -> None:
    left, right = st.columns([1, 3])
    with left:
        digit = digit_input(key, "The digit")
    if digit is None:
        return
    digest = hashlib.sha256(digit.tobytes()).hexdigest()[:16]
    trace = reconstruction(pair, sha, attention, digest, digit)
    frames = [images.tile([images.with_windows(trace["input"], window_boxes(trace, "read", t, 0, config.read_n,
                                                                            READ_COLOUR), 5),
                           images.with_windows(trace["canvases"][t, 0], window_boxes(trace, "write", t, 0,
                                                                                     config.write_n, WRITE_COLOUR), 5)],
                          cols=2) for t in range(config.glimpses)]
    with right:
        st.caption(f"Left: the binarized input and the read window (green), where this step's glimpse comes from. "
                   f"Right: the canvas and the write window (red). Negative bound for this digit: "
                   f"{trace['nll']:.1f} nats.")
        replay(frames, "reconstruction", "draw-reconstruction.gif")
    s = st.session_state
    digit_name = "a drawn digit" if s[key("src")] == "draw" else f"test {s[key('cls')]} #{s[key('idx')]}"
    share_replay(frames, f"reconstruct {digit_name}, attention {'on' if attention else 'off'}",
                 f"NLL {trace['nll']:.1f} nats")
    show_windows(trace, 0)


def show_windows(trace: dict, i: int) -> None:
    table = window_table(trace, i)
    if table.empty:
        st.caption("The no-attention baseline reads the whole image and writes the whole canvas: it has no windows.")
        return
    st.markdown("**Attention window per step**: centre (g_X, g_Y) and stride delta in pixels, filter width sigma, "
                "intensity gamma.")
    left, right = st.columns([3, 2])
    left.dataframe(table, hide_index=True, width="stretch", height=300)
    trace_frame = table.melt(id_vars=["step", "window"], value_vars=["gx", "gy", "delta"], var_name="parameter")
    trace_frame["series"] = trace_frame["window"] + " " + trace_frame["parameter"]
    right.vega_lite_chart(charts.line_spec(trace_frame, "step", "value", "series", 300), width="stretch")


def paper_vs_you(report: api.Report) -> None:
    KIT.paper_vs_you(report)
    if "draw" not in report.metrics:
        return
    metrics = report.metrics["draw"]
    verdict = "holds" if metrics["attention_better"] else "does **not** hold"
    st.markdown(
        f"The NLL is the negative variational bound on {metrics['test_images']} held-out binarized digits, per image "
        f"(lower is better): with attention {metrics['nll_attention']:.2f} nats, without "
        f"{metrics['nll_no_attention']:.2f} (paper: {PAPER_NLL['attention']:.2f} and {PAPER_NLL['no_attention']:.2f}). "
        f"**The paper's ordering, attention better, {verdict} here.** The paper trained both to convergence on more "
        f"data, so both our numbers are higher than its.")


def main() -> None:
    st.title("DRAW canvas replay")
    st.markdown("A recurrent network with a differentiable attention window builds a digit over T steps, reading "
                "and writing one patch at a time (tutorial slides 91-94, Gregor et al. 2015).")
    KIT.bind()
    config = api.config("draw", resources.preset())
    loaded = KIT.model("draw", config, mnist=True, missing="No DRAW checkpoint: train it under 'Model'.")
    if loaded is None:
        return
    c1, c2, c3 = st.columns([4, 2, 2], vertical_alignment="bottom")
    mode = c1.segmented_control("Mode", list(MODES), key=key("mode"), format_func=MODES.get, required=True,
                                label_visibility="collapsed", on_change=player.stop, args=(key,))
    attention = c2.toggle("With attention", key=key("attention"), on_change=player.stop, args=(key,),
                          help="Off: the baseline that reads the whole image and writes the whole canvas.")
    if mode == "generate":
        c3.number_input("Seed", 0, 10**6, key=key("seed"), on_change=player.stop, args=(key,),
                        help="The same seed gives the same samples: a copied link reproduces them.")
    sha = loaded.checkpoint.sha256
    if mode == "generate":
        generate_view(loaded.model, sha, config, attention)
    else:
        reconstruct_view(loaded.model, sha, config, attention)
    KIT.publish()
    paper_vs_you(api.claims("draw", resources.preset()))


main()
