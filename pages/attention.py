"""Attention alignment viewer (slides 27-29, 104-110): RNNsearch and RNNenc translate side by side; RNNsearch's
soft alignment is drawn as a matrix and stepped through word by word."""
import json
import random
import re

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app.ui import charts, resources, tables
from app.ui.page_kit import PageKit
from engine import api
from engine.data import DataError, grammar
from engine.models import seq2seq

NETWORKS = {"rnnsearch": "RNNsearch (attention)", "rnnenc": "RNNenc (fixed vector)"}
SOURCES = {"test": "A generated test sentence", "typed": "Type a sentence"}
BUCKETS = [seq2seq.bucket_name(b) for b in grammar.BUCKETS]
BEAMS = [1, 2, 3, 5, 10]
EXAMPLE = "the old woman did not see the red car that the two small dogs were watching"
DEFAULTS = {"src": "test", "bucket": BUCKETS[2], "idx": 0, "text": EXAMPLE, "model": "rnnsearch", "beam": 5,
            "word": 1, "forced": False}
ALLOWED = {"src": list(SOURCES), "bucket": BUCKETS, "idx": (0, 10**4), "model": list(NETWORKS), "beam": BEAMS,
           "word": (1, 1000)}
COLOURS = ["#d1495b", "#2e86ab"]          # RNNsearch, RNNenc
KIT = PageKit("attention", DEFAULTS, ALLOWED)
key = KIT.key


@st.cache_resource(max_entries=4)
def test_sentences(config_hash: str, _config) -> list:
    """The held-out pairs, one copy per process: every session reads them, none changes them."""
    return seq2seq.test_pairs(_config)


@st.cache_data(max_entries=256, show_spinner="Translating…")
def translation(_model, sha: str, network: str, tokens: tuple, beam: int) -> seq2seq.Translation:
    return seq2seq.translate(_model, network, tokens, beam)


@st.cache_data(max_entries=64)
def reference_reading(_model, sha: str, src: tuple, tgt: tuple) -> seq2seq.Translation:
    return seq2seq.read_reference(_model, src, tgt)


# ---------------------------------------------------------------- input

def escape(word: str) -> str:
    """A typed word shown as itself, not as Markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", word)


def highlighted(tokens: tuple, unknown: set) -> str:
    return " ".join(f":red-background[**{escape(t)}**]" if t in unknown else escape(t) for t in tokens)


def typed_sentence() -> tuple | None:
    """The typed sentence's tokens, or None after explaining what is wrong with it."""
    text = st.text_area("English sentence", key=key("text"), height=80,
                        help=f"Lower or upper case, punctuation is ignored; at most {grammar.MAX_CHARS} characters.")
    try:
        tokens, unknown = grammar.read_english(text)
    except DataError as e:
        st.error(str(e), icon=":material/error:")
        return None
    if unknown:
        st.markdown(highlighted(tokens, set(unknown)))
        hints = []
        for word in dict.fromkeys(unknown):
            near = grammar.suggest(word)
            hints.append(f"**{escape(word)}**: " + (f"did you mean {', '.join(near)}?" if near else "no near word"))
        st.error("The models only know the grammar's words; the highlighted ones are not among its "
                 f"{len(grammar.english_vocab())} English words. " + " · ".join(hints), icon=":material/spellcheck:")
        return None
    return tokens


def pick_random(count: int) -> None:
    st.session_state[key("bucket")] = random.choice(BUCKETS)
    st.session_state[key("idx")] = random.randrange(count)
    st.session_state[key("word")] = 1


def test_sentence(config) -> grammar.Pair:
    pairs = test_sentences(api.config_hash("nmt", config), config)
    c1, c2, c3 = st.columns([4, 2, 1], vertical_alignment="bottom")
    bucket = c1.selectbox("Source length (words)", BUCKETS, key=key("bucket"))
    lo, hi = grammar.BUCKETS[BUCKETS.index(bucket)]
    in_bucket = [p for p in pairs if lo <= len(p.src) <= hi]
    st.session_state[key("idx")] = min(st.session_state[key("idx")], len(in_bucket) - 1)
    c2.number_input(f"Sentence (0-{len(in_bucket) - 1})", 0, len(in_bucket) - 1, key=key("idx"))
    c3.button("Random", key=key("random"), on_click=pick_random, args=(len(in_bucket),), icon=":material/casino:")
    pair = in_bucket[st.session_state[key("idx")]]
    st.markdown(f"> {' '.join(pair.src)}")
    return pair


# ---------------------------------------------------------------- pictures

def word_axis(words: list[str], title: str) -> alt.Axis:
    """An axis over word positions labelled with the words: repeated words ("the", "la") keep their own column."""
    return alt.Axis(title=title, labelExpr=f"{json.dumps(words)}[datum.value]", labelAngle=-50, labelLimit=120,
                    labelOverlap=False)


def alignment_chart(src: tuple, out: list[str], alpha: np.ndarray, gold: list | None, current: int | None):
    """The soft alignment alpha (rows: French words and the end mark, columns: English words) as a heat map, with
    the gold links as squares and the current output word outlined."""
    rows = (out + ["</s>"])[:len(alpha)]          # no end mark when the output was cut before EOS
    cells = pd.DataFrame([{"j": j, "i": i, "english": src[j], "french": rows[i], "weight": float(alpha[i, j])}
                          for i in range(len(rows)) for j in range(len(src))])
    x = alt.X("j:O", axis=word_axis(list(src), "English (source)"))
    y = alt.Y("i:O", axis=alt.Axis(title="French (output)", labelExpr=f"{json.dumps(rows)}[datum.value]",
                                   labelOverlap=False))
    heat = alt.Chart(cells).mark_rect().encode(
        x, y, color=alt.Color("weight:Q", scale=alt.Scale(scheme="greys", domain=[0, 1]), title="alpha"),
        tooltip=["french", "english", alt.Tooltip("weight:Q", format=".3f")])
    layers = [heat]
    if gold:
        links = pd.DataFrame([{"j": j, "i": i, "english": src[j], "french": rows[i]} for j, i in gold])
        layers.append(alt.Chart(links).mark_point(shape="square", size=60, color="#e4572e", filled=False,
                                                  strokeWidth=2).encode(x, y, tooltip=["french", "english"]))
    if current is not None:                  # the decoder step shown beside the matrix, outlined
        layers.append(alt.Chart(cells[cells.i == current]).mark_rect(filled=False, stroke="#2f7ed8",
                                                                      strokeWidth=1.5).encode(x, y))
    size = 20
    return alt.layer(*layers).properties(width=max(200, size * len(src)), height=max(120, size * len(rows)))


@st.cache_data(max_entries=1024, show_spinner=False)
def alignment_spec(src: tuple, out: tuple, alpha: np.ndarray, gold: tuple, current: int) -> dict:
    """The alignment chart as Vega-Lite, built and checked by Altair once per view: a move only sends it."""
    return charts.vega_lite(alignment_chart(src, list(out), alpha, list(gold) or None, current))


@st.cache_data(max_entries=1024, show_spinner=False)
def bars_spec(src: tuple, weights: np.ndarray, gold_j: tuple) -> dict:
    return charts.vega_lite(attention_bars(src, weights, set(gold_j)))


def attention_bars(src: tuple, weights: np.ndarray, gold_j: set) -> alt.Chart:
    frame = pd.DataFrame({"j": range(len(src)), "english": src, "weight": weights,
                          "gold": ["gold link" if j in gold_j else "" for j in range(len(src))]})
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("j:O", axis=word_axis(list(src), None)), y=alt.Y("weight:Q", scale=alt.Scale(domain=[0, 1]),
                                                                 title="alpha"),
        color=alt.condition("datum.gold != ''", alt.value("#e4572e"), alt.value("#4c78a8")),
        tooltip=["english", alt.Tooltip("weight:Q", format=".3f"), "gold"]).properties(height=160)


def training_band(buckets: list[str], max_len: int) -> list[alt.Chart]:
    """A grey band over the source-length buckets inside the training range, labelled at its top."""
    trained = pd.DataFrame([{"bucket": b, "label": "training range"} for b in BUCKETS
                            if int(b.split("-")[1]) <= max_len and b in buckets])
    x = alt.X("bucket:O", sort=BUCKETS)
    return [alt.Chart(trained).mark_rect(color="#eeeeee").encode(x),
            alt.Chart(trained.head(1)).mark_text(align="left", dx=-30, y=8, color="#888888").encode(x, text="label")]


def length_chart(by_length: dict, max_len: int) -> alt.Chart:
    """The paper's Figure 2: BLEU of both models by source-length bucket."""
    frame = pd.DataFrame([{"bucket": b, "model": NETWORKS[n], "BLEU": v} for n in NETWORKS
                          for b, v in by_length[n].items()])
    lines = alt.Chart(frame).mark_line(point=True).encode(
        alt.X("bucket:O", sort=BUCKETS, title="source sentence length (words)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("BLEU:Q", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("model:N", title=None, scale=alt.Scale(domain=list(NETWORKS.values()), range=COLOURS)),
        tooltip=["model", "bucket", "BLEU"])
    return alt.layer(*training_band(list(frame.bucket), max_len), lines).properties(height=280)


def aer_chart(aer: dict, max_len: int) -> alt.Chart:
    frame = pd.DataFrame([{"bucket": b, "AER": v} for b, v in aer.items()])
    bars = alt.Chart(frame).mark_bar(color=COLOURS[0], size=24).encode(
        alt.X("bucket:O", sort=BUCKETS, title="source sentence length (words)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("AER:Q", scale=alt.Scale(domain=[0, 1]), title="alignment error rate"),
        tooltip=["bucket", alt.Tooltip("AER:Q", format=".3f")])
    return alt.layer(*training_band(list(frame.bucket), max_len), bars).properties(height=280)


# ---------------------------------------------------------------- views

def translations(model, sha: str, tokens: tuple, beam: int, reference: tuple | None) -> dict:
    results = {n: translation(model, sha, n, tokens, beam) for n in NETWORKS}
    cols = st.columns(2)
    for col, (name, result) in zip(cols, results.items()):
        with col.container(border=True):
            st.markdown(f"**{NETWORKS[name]}**")
            st.markdown(" ".join(result.words) or "*(empty)*")
            if reference is not None:
                verdict = "matches the reference" if tuple(result.words) == reference else "differs from the reference"
                st.caption(f"{verdict} · sentence BLEU {seq2seq.bleu([result.words], [reference]):.1f} · "
                           f"log p = {result.log_prob:.2f}")
            else:
                st.caption(f"log p = {result.log_prob:.2f}")
    if reference is None:
        st.caption("The grammar does not parse this sentence, so it has no reference translation to compare with.")
    else:
        st.markdown(f"Reference (the grammar's translation): *{' '.join(reference)}*")
    return results


def gold_links(pair: grammar.Pair | None, words: list[str]) -> list | None:
    """The gold links (English index, French index) when the output is exactly the reference; else None."""
    if pair is None or tuple(words) != pair.tgt:
        return None
    return list(pair.links)


def decoder_view(model, sha: str, tokens: tuple, results: dict, pair: grammar.Pair | None) -> None:
    """Step through one model's decoder: the translation so far and, for RNNsearch, the attention behind each word."""
    c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
    name = c1.segmented_control("Step through", list(NETWORKS), key=key("model"), format_func=NETWORKS.get,
                                required=True)
    result = results[name]
    if name == "rnnsearch" and pair is not None:
        forced = st.toggle("Read the reference instead", key=key("forced"),
                           help="RNNsearch reads the grammar's translation word by word (teacher forcing): the "
                                "attention the alignment error rate scores, drawn over every gold link.")
        if forced:
            result = reference_reading(model, sha, pair.src, pair.tgt)
    out = (result.words + ["</s>"])[:len(result.words) + result.ended]
    st.session_state[key("word")] = min(st.session_state[key("word")], len(out))
    word = c2.slider("Output word", 1, len(out), key=key("word"),
                     help="Step through the decoder: the word it wrote at this step and what it looked at.")
    KIT.publish()
    i = word - 1
    so_far = " ".join(out[:i]) + f" **:blue-background[{out[i]}]**"
    st.markdown(f"Translation so far: {so_far}")
    if not result.ended:
        st.caption(f"The output was cut at {len(out)} words before the model wrote the end mark.")
    if result.alignment is None:
        st.info("RNNenc has no alignment to show: every word it writes comes from the same fixed vector "
                "c = tanh(V h_Tx), the previous word and the decoder's state. Nothing points back at the source, "
                "so a long sentence must fit in those numbers.", icon=":material/compress:")
        return
    gold = gold_links(pair, result.words)
    gold_j = {j for j, k in (gold or []) if k == i}
    st.vega_lite_chart(bars_spec(tokens, result.alignment[i], tuple(sorted(gold_j))), width="stretch")
    top = int(result.alignment[i].argmax())
    st.caption(f"Word {word} of {len(out)}: '{out[i]}' attends most to '{tokens[top]}' "
               f"(alpha = {result.alignment[i, top]:.2f})" + ("; red bars are its gold links." if gold else "."))
    st.vega_lite_chart(alignment_spec(tokens, tuple(result.words), result.alignment, tuple(gold or ()), i),
                       width="content")
    if pair is None:
        st.caption("The whole alignment, one row per French word; darker = more attention. No gold links: the "
                   "grammar does not parse this sentence.")
    elif gold is None:
        st.caption("The whole alignment, one row per French word; darker = more attention. The translation differs "
                   "from the reference, so the gold links (which belong to the reference) are not drawn: read the "
                   "reference instead to see them.")
    else:
        st.caption("The whole alignment, one row per French word; darker = more attention; red squares are the "
                   "grammar's gold links.")


def share_step(model, sha: str, tokens: tuple, results: dict, pair: grammar.Pair | None) -> None:
    """The class gets the decoder step shown in the fragment above: the word, where it looks, and the alignment."""
    def shown() -> tuple[str, seq2seq.Translation, list[str], int]:
        s = st.session_state
        name = s[key("model")]
        result = results[name]
        if name == "rnnsearch" and pair is not None and s.get(key("forced")):
            result = reference_reading(model, sha, pair.src, pair.tgt)
        out = (result.words + ["</s>"])[:len(result.words) + result.ended]
        return name, result, out, min(s[key("word")], len(out)) - 1

    def summary() -> str:
        name, result, out, i = shown()
        sentence = " ".join(tokens)
        sentence = sentence if len(sentence) <= 80 else sentence[:79] + "…"
        head = f"{sentence} | {NETWORKS[name].split()[0]}, word {i + 1} '{out[i]}'"
        if result.alignment is None:
            return head + ": no alignment, one fixed vector"
        top = int(result.alignment[i].argmax())
        return head + f" attends most to '{tokens[top]}' (alpha = {result.alignment[i, top]:.2f})"

    def figure() -> bytes | None:
        _, result, _, i = shown()
        if result.alignment is None:
            return None
        rows = (result.words + ["</s>"])[:len(result.alignment)]
        gold = [(j, k, 1, 1, "#e4572e") for j, k in gold_links(pair, result.words) or []]
        return charts.png(charts.heatmap_figure(result.alignment, rows, list(tokens),
                                                gold + [(0, i, len(tokens), 1, "#2f7ed8")], "Greys", vmax=1))

    KIT.share(summary, figure)


@st.cache_data(max_entries=8, show_spinner=False)
def figure_2_specs(metrics_json: str, max_len: int) -> tuple[dict, dict]:
    """The BLEU and AER charts by length, made once per set of metrics (not on every run of the page)."""
    metrics = json.loads(metrics_json)
    return (charts.vega_lite(length_chart(metrics["bleu_by_length"], max_len)),
            charts.vega_lite(aer_chart(metrics["aer_by_length"], max_len)))


def figure_2(metrics: dict, config) -> None:
    st.subheader("BLEU by sentence length (the paper's Figure 2)")
    left, right = st.columns([3, 2])
    bleu, aer = figure_2_specs(json.dumps({k: metrics[k] for k in ("bleu_by_length", "aer_by_length")}),
                               config.max_len)
    left.vega_lite_chart(bleu, width="stretch")
    right.vega_lite_chart(aer, width="stretch")
    right.caption("RNNsearch's alignment error rate by length: where it loses its place in long sentences, its "
                  f"attention stops matching the gold links. In training its encoder read {config.carry:.0%} of the "
                  "sentences as if they stood inside a longer text, so that it finds words by what they say rather "
                  "than by counting from the sentence's ends; and it translates with a running average of its "
                  "trained weights, which holds steady past the training range where the last weights swing from "
                  "one stretch of training to the next.")
    st.caption(f"Both models were trained on sentences of at most {config.max_len} words (the grey band). The "
               "paper: \"the performance of RNNencdec dramatically drops as the length of the sentences "
               "increases\", while RNNsearch-50 shows no deterioration even past 50 words.")


def paper_vs_you(report: api.Report) -> None:
    KIT.paper_vs_you(report)
    if "nmt" not in report.metrics:
        return
    metrics = report.metrics["nmt"]
    paper = seq2seq.PAPER_BLEU
    rows = []
    for name, label in (("rnnsearch", "RNNsearch"), ("rnnenc", "RNNenc")):
        p30, p50 = paper[f"{label}-30"], paper[f"{label}-50"]
        rows.append({"model": label, "paper, trained on <= 30 words": f"{p30[0]} ({p30[1]} without unknown words)",
                     "paper, <= 50 words": f"{p50[0]} ({p50[1]})",
                     "ours, all test sentences": f"{metrics[f'bleu_{name}']:.1f}",
                     f"ours, {seq2seq.LONG}+ words": f"{metrics[f'bleu_long_{name}']:.1f}"})
    st.markdown("BLEU (0-100) on held-out sentences:")
    st.markdown(tables.markdown_table(rows))
    gap = metrics["bleu_long_rnnsearch"] - metrics["bleu_long_rnnenc"]
    by_length = ", ".join(f"{v:.2f} on {b} words" for b, v in metrics["aer_by_length"].items())
    st.markdown(f"On {metrics['long_sentences']} test sentences of {seq2seq.LONG}+ words attention is "
                f"**{gap:+.1f} BLEU** ahead. Alignment error rate of RNNsearch's argmax attention against the gold "
                f"links: **{metrics['aer_rnnsearch']:.3f}** on all test sentences (0 = every French word attends "
                f"most to a word it translates); {by_length}.")
    st.caption(f"Setting: {metrics['setting']}; {metrics['test_sentences']} test sentences never seen in training. "
               "The paper's numbers are on real news text with a 30,000-word vocabulary, so ours, on a small "
               "deterministic grammar, are far higher; the comparison that carries over is the shape: RNNenc falls "
               "with length, RNNsearch holds.")


def main() -> None:
    st.title("Attention alignment")
    st.markdown("An encoder-decoder squeezes the whole sentence into one vector; with attention the decoder looks "
                "back at every source word for each word it writes (tutorial slides 27-29 and 104-110, Bahdanau, "
                "Cho & Bengio 2014).")
    KIT.bind()
    config = api.config("nmt", resources.preset())
    loaded = KIT.model("nmt", config, missing="No translation checkpoint: train it under 'Model'.")
    if loaded is None:
        return
    c1, c2 = st.columns([3, 1])
    source = c1.segmented_control("Sentence", list(SOURCES), key=key("src"), format_func=SOURCES.get,
                                  required=True, label_visibility="collapsed")
    beam = c2.select_slider("Beam width", BEAMS, key=key("beam"), help="1 is greedy decoding.")
    pair = test_sentence(config) if source == "test" else None
    tokens = pair.src if pair else typed_sentence()
    if tokens is not None:
        if pair is None:
            pair = grammar.translate(tokens)
        sha = loaded.checkpoint.sha256
        results = translations(loaded.model, sha, tokens, beam, pair.tgt if pair else None)
        st.subheader("Step through the decoder")
        st.fragment(decoder_view)(loaded.model, sha, tokens, results, pair)
        share_step(loaded.model, sha, tokens, results, pair)
    KIT.publish()
    figure_2(loaded.checkpoint.metrics, config)
    paper_vs_you(api.claims("attention", resources.preset()))


main()
