"""Embedding explorer (slides 11-13, 24-26), in two parts that share nothing but the projections:

- word vectors (slides 24-26): shipped, trained here or uploaded; searched, projected and put to the analogy test;
- digits, layer by layer (slides 11-13): how each layer of the classifier and the autoencoder sees MNIST.
"""
import altair as alt
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from app.ui import charts, resources, tables
from app.ui.page_kit import PageKit
from engine import api
from engine.analysis import projection, representations, word_space
from engine.analysis.representations import LAYER_DIGITS
from engine.data import DataError, grammar, vectors
from engine.data.mnist import load_mnist
from engine.models import embeddings

PARTS = {"words": "Word vectors", "digits": "MNIST digits, layer by layer"}
SOURCES = {"glove": "GloVe 6B, 50-d (50,000 words)", "minilm": "MiniLM-L6 input embeddings (whole-word tokens)",
           "trained": "Trained here", "upload": "Your vectors (upload)"}
PROJECTIONS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
POINTS = [500, 1000, 2000, 5000, 10000]
DEFAULTS = {"part": "words", "source": "glove", "corpus": "grammar", "method": "sg", "proj": "pca", "dims": 2, "points": 2000,
            "layer": "classifier top hidden", "query": "frog",
            "a": "man", "b": "king",
            "c": "woman", "neg": "man, he, boy", "pos": "woman, she, girl",
            "strip": "king, queen, actor, actress, doctor, nurse, father, mother, engineer, dancer"}
ALLOWED = {"part": list(PARTS), "source": list(SOURCES), "corpus": list(embeddings.CORPORA), "method": list(embeddings.METHODS),
           "proj": list(PROJECTIONS), "dims": [2, 3], "points": POINTS}
SHORT_METHODS = {"nplm": "neural LM", "sg": "skip-gram", "cbow": "CBOW"}
CORPUS_NOTES = {
    "grammar": "The English side of the seeded grammar the attention page translates: the words' classes are known "
               "(colour this view by class), so how well the neighbourhoods keep to a class can be measured.",
    "lee": "The Lee corpus (300 news articles that ship in gensim's test data): about 58,000 words, a thousandth "
           "of a day of Wikipedia. Enough for some topical neighbours of common words; far too little for "
           "analogies or for rare words, whose vectors barely move from their random start."}
MAX_TEXT = 300
RESERVED = ("word", "x", "y", "z", "role")
ROLES = {"query": "#d62728", "neighbour": "#ff7f0e", "analogy": "#1f5fa8", "answer": "#2ca02c"}
NEIGHBOURS = 10
# Pennington et al. 2014 (GloVe), Tables 2 and 3: 300-d vectors trained on the same 6B tokens.
PAPER = {"analogy": "71.7% (semantic 77.4, syntactic 67.0), 300-d, Table 2", "wordsim": "0.658, 300-d, Table 3"}
KIT = PageKit("embeddings", DEFAULTS, ALLOWED)
key = KIT.key


@st.cache_resource(show_spinner="Loading the vectors…")
def shipped(source: str) -> tuple[vectors.Vectors, word_space.Space]:
    loaded = vectors.glove() if source == "glove" else vectors.minilm()
    return loaded, word_space.Space.of(loaded.words, loaded.matrix)


@st.cache_resource(max_entries=4, show_spinner="Reading your vectors…")
def uploaded(vector_bytes: bytes, metadata_bytes: bytes | None, name: str) -> tuple[vectors.Vectors, word_space.Space]:
    if name.endswith(".tsv"):
        loaded = vectors.read_projector(vector_bytes, metadata_bytes)
    else:
        loaded = vectors.read_word_vectors(vector_bytes)
    return loaded, word_space.Space.of(loaded.words, loaded.matrix)


@st.cache_data(max_entries=16, show_spinner="Running the analogy questions and WordSim-353…")
def benchmarks(_space: word_space.Space, token: str) -> dict:
    """The two benchmarks on one space; `token` names the space (source, and the checkpoint for trained ones)."""
    result = word_space.analogy_benchmark(_space, word_space.read_questions(vectors.analogy_questions()))
    similarity = word_space.similarity_benchmark(_space, vectors.wordsim353())
    return {**result, **{f"wordsim_{k}": v for k, v in similarity.items()}}


@st.cache_data(max_entries=16, show_spinner=False)
def project(_matrix: np.ndarray, token: str, method: str, dims: int = 2) -> np.ndarray:
    """The projection of the shown points; `token` names them (source, count and the extra words)."""
    note = (" The first UMAP in a server process also compiles its code: a few seconds more, once."
            if method == "umap" else "")
    with st.spinner(f"{PROJECTIONS[method]} of {len(_matrix):,} points…{note}"):
        return projection.cached(_matrix, method, dims, api.cache_dir("projections"))


@st.cache_resource(max_entries=8, show_spinner=False)
def trained_vectors(_model, sha: str, corpus: str, method: str, _config) -> tuple[vectors.Vectors, word_space.Space]:
    vocab = embeddings.corpora(_config)[corpus].vocab[2:]
    matrix = _model.table(corpus, method)[2:]
    columns = {"label": vocab, "frequency rank": np.arange(1, len(vocab) + 1)}
    if corpus == "grammar":
        classes = grammar.word_classes()
        columns["class"] = [classes.get(w, "other") for w in vocab]
    loaded = vectors.Vectors(vocab, matrix, pd.DataFrame(columns))
    return loaded, word_space.Space.of(vocab, matrix)


def pick_trained() -> tuple[vectors.Vectors, word_space.Space, str] | None:
    config = api.config("embeddings", resources.preset())
    loaded = KIT.model("embeddings", config)
    c1, c2 = st.columns(2)
    corpus = c1.segmented_control("Corpus", list(embeddings.CORPORA), key=key("corpus"),
                                  format_func=embeddings.CORPUS_NAMES.get, required=True)
    method = c2.segmented_control("Method", list(embeddings.METHODS), key=key("method"),
                                  format_func=SHORT_METHODS.get, required=True,
                                  help="; ".join(embeddings.METHOD_NAMES.values()))
    st.caption(CORPUS_NOTES[corpus])
    if loaded is None:
        st.warning("No vectors trained yet: train them under 'Model'.")
        return None
    scores = loaded.checkpoint.metrics["sources"][f"{method}_{corpus}"]
    line = (f"Vocabulary {scores['vocabulary']:,} words; analogy questions covered {scores['analogy_coverage']:.1%}, "
            f"answered right {scores['analogy_accuracy']:.1%}; WordSim-353: {scores['wordsim353_pairs']} pairs covered, "
            f"Spearman {scores['wordsim353_spearman']:.2f}")
    if "class_knn_purity" in scores:
        line += (f"; **5-NN class purity {scores['class_knn_purity']:.0%}** (classes shuffled: "
                 f"{loaded.checkpoint.metrics['class_knn_purity_shuffled']:.0%})")
    st.markdown(line + ".")
    sha = loaded.checkpoint.sha256
    return *trained_vectors(loaded.model, sha, corpus, method, config), f"trained:{sha[:16]}:{corpus}:{method}"


def pick_source(source: str) -> tuple[vectors.Vectors, word_space.Space, str] | None:
    """The vectors, their space and a token naming them for the caches: the source, the checkpoint and table for
    trained vectors, the upload for uploaded ones."""
    if source == "trained":
        return pick_trained()
    if source != "upload":
        return *shipped(source), source
    st.markdown("Upload the Embedding Projector's **vectors.tsv** (one tab-separated row of numbers per point) with "
                "an optional **metadata.tsv** (one label per row, or a header row and columns), or one word2vec / "
                "GloVe text file (**.txt** or **.vec**: a word and its numbers per line).")
    left, right = st.columns(2)
    vec = left.file_uploader("Vectors", type=["tsv", "txt", "vec"], key=key("vectors_file"))
    meta = right.file_uploader("Metadata (for vectors.tsv)", type=["tsv"], key=key("metadata_file"))
    if vec is None:
        st.info("No vectors uploaded yet.")
        return None
    try:
        return (*uploaded(vec.getvalue(), meta.getvalue() if meta else None, vec.name.lower()),
                f"upload:{vec.file_id}:{meta.file_id if meta else ''}")
    except DataError as e:
        st.error(f"These files cannot be used: {e}", icon=":material/error:")
        return None


def words_in(text: str, space: word_space.Space) -> tuple[list[str], list[str]]:
    """(known words, unknown words) of a comma-separated list."""
    words = [w.strip() for w in text[:MAX_TEXT].split(",") if w.strip()]
    return [w for w in words if w in space.index], [w for w in words if w not in space.index]


def unknown_note(unknown: list[str]) -> None:
    if unknown:
        st.warning("Not in this vocabulary: " + ", ".join(f"`{w[:40]}`" for w in unknown), icon=":material/help:")


# ---------------------------------------------------------------- views

def projection_view(loaded: vectors.Vectors, space: word_space.Space, token: str, marks: dict[str, str],
                    ends: tuple | None) -> tuple[pd.DataFrame, list[dict]]:
    """The projection with the marked words over it; (the shown points, the marked words: word, role, x, y (, z)).
    A search touches no table of 2,000 rows: the points' frame and chart are built once per view."""
    c1, c2, c3, c4 = st.columns([3, 2, 3, 4])
    method = c1.segmented_control("Projection", list(PROJECTIONS), key=key("proj"), format_func=PROJECTIONS.get,
                                  required=True)
    dims = c2.segmented_control("View", [2, 3], key=key("dims"), format_func="{}-D".format, required=True)
    count = min(int(c3.select_slider("Points", POINTS, key=key("points"))), len(space))
    extra = sorted({space.index[w] for w in marks} - set(range(count)))
    shown = list(range(count)) + extra
    points = f"{token}:{count}:{extra}"
    with resources.one_at_a_time(f"embeddings:project:{points}:{method}:{dims}"):
        coords = project(space.unit[shown], points, method, dims)
        frame = points_frame(f"{points}:{method}:{dims}", loaded, space, shown, coords)
    colour = c4.selectbox("Colour by", ["nothing", *frame.columns[1:len(frame.columns) - dims]], key=key("colour"))
    row = {i: count + n for n, i in enumerate(extra)}      # a word's row: its rank, or its place after them
    marked = [{"word": w, "role": role, **dict(zip("xyz", map(float, coords[row.get(space.index[w], space.index[w])])))}
              for w, role in marks.items()]
    if dims == 2:
        view = f"{points}:{method}:{colour}"
        with resources.one_at_a_time(f"embeddings:points:{view}"):
            points_spec = scatter_spec(view, frame, colour)
        st.vega_lite_chart(dict(points_spec, layer=[*points_spec["layer"], *marked_layers(marked, ends)]),
                           width="stretch")
    else:
        st.plotly_chart(scatter_3d(frame, colour, marked, ends), width="stretch")
    how = ("Scroll to zoom, drag to pan" if dims == 2 else "Drag to turn, scroll to zoom") + ", hover for the word."
    st.caption(f"{PROJECTIONS[method]} of the first {count:,} points (cosine: rows scaled to length 1), plus the words "
               f"you asked about. {how}")
    return frame, marked


@st.cache_resource(max_entries=32, show_spinner=False)
def points_frame(view: str, _loaded: vectors.Vectors, _space: word_space.Space, _shown: list[int],
                 _coords: np.ndarray) -> pd.DataFrame:
    """The shown points: word, the metadata's columns, then x, y (and z). `view` names them (the points and their
    projection). Built once per view and shared by every session: read it, never change it."""
    meta = _loaded.metadata.iloc[_shown, 1:].reset_index(drop=True)
    # The metadata's columns beside the page's own (a column named like one of them gets a suffix).
    meta.columns = [f"{c} (metadata)" if c in RESERVED else str(c) for c in meta.columns]
    meta.insert(0, "word", [_space.words[i] for i in _shown])
    for axis, column in zip("xyz", _coords.T):
        meta[axis] = column
    return meta


@st.cache_data(max_entries=256, show_spinner=False)
def scatter_spec(view: str, _frame: pd.DataFrame, colour: str) -> dict:
    """The 2-D view's points as Vega-Lite, keyed by what they are (`view` names the points, their projection and
    the colouring; hashing the frame itself took a fifth of a search with 60 users). A search adds only its few
    marked words (marked_layers), so a new word neither builds nor converts the 2,000 points again."""
    tooltip = [c for c in _frame.columns if c not in ("x", "y")]
    dots = alt.Chart(_frame[tooltip + ["x", "y"]]).mark_circle(size=14, opacity=0.5).encode(
        x=alt.X("x:Q", axis=None), y=alt.Y("y:Q", axis=None), tooltip=tooltip,
        color=alt.value("#6b7a8f") if colour == "nothing" else alt.Color(f"{colour}:N", legend=alt.Legend(
            columns=2, symbolLimit=20)))
    return charts.vega_lite(alt.layer(dots.interactive()).properties(height=560))


def marked_layers(marked: list[dict], ends: tuple | None) -> list[dict]:
    """The words asked about, over the points: Vega-Lite layers with their few rows inline (the analogy's
    parallelogram with its offsets solid and its sides dashed, then the words as dots and labels)."""
    xy = {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}}
    layers = [
        {"data": {"values": marked}, "mark": {"type": "circle", "size": 80},
         "encoding": {**xy, "color": {"field": "role", "type": "nominal",
                                      "scale": {"domain": list(ROLES), "range": list(ROLES.values())}},
                      "tooltip": [{"field": "word", "type": "nominal"}, {"field": "role", "type": "nominal"}]}},
        {"data": {"values": marked}, "mark": {"type": "text", "align": "left", "dx": 6, "dy": -6, "fontSize": 12},
         "encoding": {**xy, "text": {"field": "word", "type": "nominal"}}},
    ]
    if ends:
        lines = [{"edge": n, "kind": kind, "x": end["x"], "y": end["y"]}
                 for n, (kind, *pair) in enumerate(edges(marked, ends)) for end in pair]
        layers.insert(0, {"data": {"values": lines}, "mark": {"type": "line", "color": ROLES["analogy"]},
                          "encoding": {**xy, "detail": {"field": "edge", "type": "nominal"},
                                       "strokeDash": {"field": "kind", "type": "nominal", "legend": None,
                                                      "scale": {"domain": ["offset", "side"],
                                                                "range": [[1, 0], [4, 4]]}}}})
    return layers


def scatter_figure(frame: pd.DataFrame, colour: str, marked: list[dict] = (), ends: tuple | None = None):
    """The projection drawn on the server (Matplotlib), for a classroom snapshot: the points coloured by `colour`
    in the page's categorical colours, the marked words labelled, the analogy's parallelogram."""
    axes = [axis for axis in "xyz" if axis in frame]
    fig = charts.figure((5, 5), 100)
    ax = fig.add_subplot(projection="3d" if len(axes) == 3 else None)
    codes = np.unique(frame[colour].astype(str), return_inverse=True)[1] if colour != "nothing" else None
    ax.scatter(*(frame[a] for a in axes), s=5, alpha=0.5,
               color="#6b7a8f" if codes is None else [f"C{k % 10}" for k in codes])
    for kind, *pair in edges(marked, ends) if ends else []:
        ax.plot(*([end[a] for end in pair] for a in axes), color=ROLES["analogy"],
                linestyle="-" if kind == "offset" else "--")
    if marked:
        ax.scatter(*([m[a] for m in marked] for a in axes), s=30, color=[ROLES[m["role"]] for m in marked])
        for m in marked:
            ax.text(*(m[a] for a in axes), f" {m['word']}", fontsize=8)
    ax.set_axis_off()
    fig.tight_layout()
    return fig


def edges(marked: list[dict], ends: tuple) -> list[tuple[str, dict, dict]]:
    """The analogy's four points joined: (kind, one end, the other) per edge; a - b and c - answer are the "offset"
    edges, a - c and b - answer the "side" ones."""
    at = {m["word"]: m for m in marked}
    a, b, c, d = ends
    return [(kind, at[p], at[q]) for p, q, kind in [(a, b, "offset"), (c, d, "offset"), (a, c, "side"),
                                                    (b, d, "side")]]


def scatter_3d(frame: pd.DataFrame, colour: str, marked: list[dict], ends: tuple | None) -> go.Figure:
    """The 3-D projection: the points, coloured by a metadata column, the marked words labelled, and the
    analogy's parallelogram."""
    hover = [c for c in frame.columns if c not in ("x", "y", "z")]
    text = frame[hover].astype(str).apply(lambda r: "<br>".join(f"{k}: {v}" for k, v in r.items()), axis=1)
    figure = go.Figure()
    groups = [("points", frame)] if colour == "nothing" else list(frame.groupby(frame[colour].astype(str),
                                                                              sort=True))
    for name, group in groups[:40]:            # a legend of more than 40 colours helps nobody
        figure.add_scatter3d(x=group.x, y=group.y, z=group.z, mode="markers", name=str(name)[:30],
                             marker={"size": 2.5, "opacity": 0.6, **({"color": "#6b7a8f"} if colour == "nothing"
                                                                    else {})},
                             text=text[group.index], hoverinfo="text")
    for kind, *pair in edges(marked, ends) if ends else []:
        figure.add_scatter3d(**{a: [end[a] for end in pair] for a in "xyz"}, mode="lines", showlegend=False,
                             hoverinfo="skip", line={"color": ROLES["analogy"], "width": 4,
                                                     "dash": "solid" if kind == "offset" else "dash"})
    figure.add_scatter3d(**{a: [m[a] for m in marked] for a in "xyz"}, mode="markers+text",
                         text=[m["word"] for m in marked], textposition="top right", name="asked about",
                         hoverinfo="text", marker={"size": 6, "color": [ROLES[m["role"]] for m in marked]})
    blank = {"showticklabels": False, "title": "", "showspikes": False}
    figure.update_layout(height=620, margin={"l": 0, "r": 0, "t": 0, "b": 0}, legend={"itemsizing": "constant"},
                         scene={"xaxis": blank, "yaxis": blank, "zaxis": blank})
    return figure


def neighbours_view(space: word_space.Space, marks: dict[str, str]) -> list[tuple[str, float]]:
    """The search box and the query's nearest words; returns them (with their cosines)."""
    query = st.text_input("Search a word", key=key("query"), max_chars=60).strip()
    if not query:
        return []
    if query not in space.index:
        unknown_note([query])
        return []
    found = word_space.neighbours(space, query, NEIGHBOURS)
    marks[query] = "query"
    for w, _ in found:
        marks.setdefault(w, "neighbour")
    st.markdown(tables.markdown_table([{"neighbour of " + query: w, "cosine": f"{c:.3f}"} for w, c in found]))
    return found


def analogy_view(space: word_space.Space, marks: dict[str, str]) -> tuple | None:
    """The analogy form and its answers; returns (a, b, c, answer) when there is one."""
    st.markdown("**a is to b as c is to ?**: the words nearest to b - a + c (the three left out), among the 30,000 "
                "most frequent words for the shipped vectors.")
    c1, c2, c3 = st.columns(3)
    words = [c.text_input(label, key=key(name), max_chars=60).strip()
             for c, label, name in [(c1, "a", "a"), (c2, "b", "b"), (c3, "c", "c")]]
    if not all(words):
        return None
    unknown = space.missing(words)
    if unknown:
        unknown_note(unknown)
        return None
    limit = 30000 if st.session_state[key("source")] in ("glove", "minilm") else None
    answers = word_space.analogy(space, *words, k=5, limit=limit)
    if not answers:
        st.info("No other words to answer with.")
        return None
    a, b, c = words
    st.markdown(f"{a} : {b} = {c} : **{answers[0][0]}**")
    st.markdown(tables.markdown_table([{"answer": w, "cosine to b - a + c": f"{s:.3f}"} for w, s in answers]))
    for w in words:
        marks[w] = "analogy"
    marks[answers[0][0]] = "answer"
    return a, b, c, answers[0][0]


def direction_view(space: word_space.Space) -> None:
    st.markdown("**Directions are attributes** (slide 25): the axis from one set of words to another, and where "
                "other words fall along it.")
    c1, c2 = st.columns(2)
    negative, unknown_neg = words_in(c1.text_input("From", key=key("neg"), max_chars=MAX_TEXT), space)
    positive, unknown_pos = words_in(c2.text_input("To", key=key("pos"), max_chars=MAX_TEXT), space)
    placed, unknown_strip = words_in(st.text_input("Words to place", key=key("strip"), max_chars=MAX_TEXT), space)
    unknown_note(unknown_neg + unknown_pos + unknown_strip)
    if not (negative and positive and placed):
        st.info("Give at least one known word in each box.")
        return
    try:
        axis = word_space.direction(space, negative, positive)
    except ValueError as e:
        st.warning(str(e).capitalize() + ".")
        return
    strip = pd.DataFrame(word_space.along(space, axis, placed), columns=["word", "position"])
    strip["lane"] = np.arange(len(strip)) % 3
    st.vega_lite_chart(strip_spec(strip, f"{', '.join(negative)}  →  {', '.join(positive)}"), width="stretch")


@st.cache_data(max_entries=256, show_spinner=False)
def strip_spec(strip: pd.DataFrame, title: str) -> dict:
    chart = alt.Chart(strip).encode(x=alt.X("position:Q", title=title), y=alt.Y("lane:O", axis=None))
    return charts.vega_lite((chart.mark_tick(thickness=2, size=18) + chart.mark_text(dy=-14).encode(text="word"))
                            .properties(height=160))


def benchmarked_spaces() -> dict[str, tuple[word_space.Space, str]]:
    """{name: (space, cache token)}: the shipped tables, and the vectors trained here when they exist."""
    spaces = {SOURCES[name]: (shipped(name)[1], name) for name in ("glove", "minilm")}
    config = api.config("embeddings", resources.preset())
    ckpt, _ = api.locate("embeddings", config)
    if ckpt is not None:
        model = resources.load("embeddings", config, ckpt.sha256).model
        for corpus in embeddings.CORPORA:
            for method in embeddings.METHODS:
                space = trained_vectors(model, ckpt.sha256, corpus, method, config)[1]
                spaces[f"{SHORT_METHODS[method]}, {corpus}"] = (space, f"{ckpt.sha256}:{corpus}:{method}")
    return spaces


@st.cache_data(max_entries=8, show_spinner="Running the analogy questions and WordSim-353…")
def benchmark_tables(tokens: tuple, _spaces: dict) -> tuple[str, dict]:
    """The benchmarks' table (Markdown) and their accuracy by section (a Vega-Lite chart), for the spaces named by
    `tokens`: the same for every search, so built once."""
    rows, sections = [], []
    for name, (space, token) in _spaces.items():
        result = benchmarks(space, token)
        rows.append({"vectors": name, "words": f"{len(space):,}",
                     "analogy accuracy": f"{result['analogy_accuracy']:.1%}" if result["analogy_coverage"] else "-",
                     "questions covered": f"{result['analogy_coverage']:.1%}",
                     "WordSim-353 Spearman": f"{result['wordsim_spearman']:.3f}",
                     "pairs covered": f"{result['wordsim_pairs_covered']}/{result['wordsim_pairs']}"})
        sections += [{"vectors": name, "section": section, "accuracy": r["accuracy"], "covered": r["covered"]}
                     for section, r in result["by_section"].items() if r["covered"]]
    chart = alt.Chart(pd.DataFrame(sections)).mark_bar().encode(
        y=alt.Y("section:N", sort=None, title=None), x=alt.X("accuracy:Q", axis=alt.Axis(format="%")),
        color=alt.Color("vectors:N", title="vectors"), yOffset="vectors:N",
        tooltip=["vectors", "section", alt.Tooltip("accuracy:Q", format=".1%"), "covered"])
    return tables.markdown_table(rows), charts.vega_lite(chart.properties(height=520))


def benchmark_view() -> None:
    st.subheader("Benchmarks: analogies and word similarity")
    spaces = benchmarked_spaces()
    table, spec = benchmark_tables(tuple(token for _, token in spaces.values()), spaces)
    st.markdown(table)
    st.caption("Mikolov et al. 2013's 19,544 analogy questions (a question counts when its four words are among the "
               "30,000 most frequent; right when the nearest word to b - a + c is d), and WordSim-353's human "
               "similarity scores against the cosine. The vectors trained here know too few of the words for either "
               "test to say much: their own test is the class purity shown under 'Trained here'.")
    st.vega_lite_chart(spec, width="stretch")
    glove = benchmarks(shipped("glove")[1], "glove")
    KIT.paper_vs_you(api.claims("embeddings", resources.preset()), (), ("embeddings",))
    st.markdown(tables.markdown_table([
        {"measure": "analogy accuracy", "GloVe paper": PAPER["analogy"],
         "here (GloVe 50-d, 30,000 words)": f"{glove['analogy_accuracy']:.1%}"},
        {"measure": "WordSim-353 Spearman", "GloVe paper": PAPER["wordsim"],
         "here (GloVe 50-d, 30,000 words)": f"{glove['wordsim_spearman']:.3f}"}]))
    st.caption("The paper's vectors have 300 dimensions; these have 50, and the paper's Figure 2 shows accuracy "
               "falling with fewer dimensions.")


def exports(frame: pd.DataFrame, space: word_space.Space, loaded: vectors.Vectors) -> None:
    """Downloads of the shown points; each file is made only when its button is pressed."""
    def selection() -> vectors.Vectors:
        rows = [space.index[w] for w in frame["word"]]
        return vectors.Vectors([loaded.words[i] for i in rows], np.asarray(loaded.matrix[rows], dtype=np.float32),
                               loaded.metadata.iloc[rows].reset_index(drop=True))

    left, mid, right = st.columns(3)
    left.download_button("Coordinates (CSV)", lambda: frame.to_csv(index=False).encode(),
                         file_name="projection.csv", mime="text/csv", icon=":material/download:", on_click="ignore")
    mid.download_button("Shown points: vectors.tsv", lambda: vectors.to_projector(selection())[0],
                        file_name="vectors.tsv", mime="text/tab-separated-values", icon=":material/download:",
                        on_click="ignore")
    right.download_button("Shown points: metadata.tsv", lambda: vectors.to_projector(selection())[1],
                          file_name="metadata.tsv", mime="text/tab-separated-values", icon=":material/download:",
                          on_click="ignore")


# ---------------------------------------------------------------- the digits, layer by layer

@st.cache_data(max_entries=4, show_spinner="Computing every layer for the held-out digits…")
def layers(_classifier, _dae, shas: tuple) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, float]]:
    """(layer -> matrix, labels, layer -> 5-NN accuracy) for the first held-out digits (those `engine eval`
    scores), pixels first, then each network from its input to its top."""
    data = load_mnist()
    x, y = data.x_test[:LAYER_DIGITS], data.y_test[:LAYER_DIGITS].numpy()
    device = next(_classifier.parameters()).device
    with torch.no_grad():
        by_layer = {"pixels": x, **_dae.layers(x.to(device)), **_classifier.layers(x.to(device))}
    by_layer = {name: h.cpu().numpy() for name, h in by_layer.items()}
    return by_layer, y, {name: representations.knn_accuracy(m, y) for name, m in by_layer.items()}


def digits_part() -> None:
    preset = resources.preset()
    loaded = KIT.models(("mnist_classifier", api.config("mnist_classifier", preset)), ("dae", api.config("dae", preset)),
                        mnist=True, missing="The classifier and the autoencoder are both needed: train them under "
                                            "'Models on this page'.")
    if loaded is None or None in loaded:
        return
    classifier, dae = loaded
    by_layer, labels, accuracy = layers(classifier.model, dae.model, (classifier.checkpoint.sha256,
                                                                       dae.checkpoint.sha256))
    st.markdown(f"The same {len(labels):,} held-out digits, as seen by each layer of the classifier (trained with "
                f"the labels) and of the denoising autoencoder (trained without them). Slide 12: deeper layers give "
                f"more abstract codes, in which the classes come apart.")
    table = pd.DataFrame({"layer": list(accuracy), "width": [by_layer[n].shape[1] for n in accuracy],
                          "5-NN accuracy": list(accuracy.values())})
    bars = alt.Chart(table).encode(
        y=alt.Y("layer:N", sort=None, title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("5-NN accuracy:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=["layer", "width", alt.Tooltip("5-NN accuracy:Q", format=".1%")])
    st.altair_chart((bars.mark_bar() + bars.mark_text(align="left", dx=4).encode(
        text=alt.Text("5-NN accuracy:Q", format=".1%"))).properties(height=28 * len(table)), width="stretch")
    st.caption("Leave-one-out accuracy of the 5 nearest other digits by cosine: how well a layer's neighbourhoods "
               "keep to one class.")
    c1, c2 = st.columns([3, 2])
    layer = c1.selectbox("Layer", list(by_layer), key=key("layer"))
    method = c2.segmented_control("Projection", list(PROJECTIONS), key=key("proj"), format_func=PROJECTIONS.get,
                                  required=True)
    coords = project(by_layer[layer], f"mnist:{layer}:{classifier.checkpoint.sha256}:{dae.checkpoint.sha256}", method)
    frame = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1], "digit": labels.astype(str),
                          "test index": np.arange(len(labels))})
    st.altair_chart(alt.Chart(frame).mark_circle(size=16, opacity=0.7).encode(
        x=alt.X("x:Q", axis=None), y=alt.Y("y:Q", axis=None), tooltip=["digit", "test index"],
        color=alt.Color("digit:N", scale=alt.Scale(scheme="category10"))).interactive().properties(height=520),
        width="stretch")
    st.caption(f"{PROJECTIONS[method]} of the layer '{layer}' ({by_layer[layer].shape[1]} numbers per digit), "
               f"coloured by the true class; its 5-NN accuracy is {accuracy[layer]:.1%}.")
    KIT.share(lambda: f"digits, layer '{layer}' ({by_layer[layer].shape[1]} numbers), {PROJECTIONS[method]}: "
                      f"5-NN accuracy {accuracy[layer]:.1%}", lambda: charts.png(scatter_figure(frame, "digit")))
    KIT.paper_vs_you(api.claims("embeddings", preset), ("mnist_classifier", "dae"))


def share_words() -> None:
    """The class gets the projection as shown, the query's nearest words and the analogy's answer (what the
    fragment above last showed, read when the button is pressed)."""
    s = st.session_state
    source = s[key("source")]

    def summary() -> str:
        frame, _, found, ends = s[key("shown")]
        parts = [{"glove": "GloVe", "minilm": "MiniLM", "upload": "uploaded vectors"}.get(source)
                 or f"{SHORT_METHODS[s[key('method')]]} on {s[key('corpus')]}"]
        if found:
            parts.append(f"{s[key('query')].strip()} ~ " + ", ".join(f"{w} {c:.3f}" for w, c in found[:4]))
        if ends:
            parts.append("{} : {} = {} : {}".format(*ends))
        return "; ".join(parts) + f" ({PROJECTIONS[s[key('proj')]]}, {len(frame):,} points)"

    def figure() -> bytes:
        frame, marked, _, ends = s[key("shown")]
        return charts.png(scatter_figure(frame, s.get(key("colour"), "nothing"), marked, ends))

    KIT.share(summary, figure)


def explore(loaded: vectors.Vectors, space: word_space.Space, token: str) -> None:
    """The search, the analogy and the projection that shows them: a fragment, so a new word (a class's most
    frequent move here) reruns only this part of the page. What it shows is kept for "Send to class"."""
    KIT.publish()
    marks: dict[str, str] = {}
    left, right = st.columns(2)
    with left:
        found = neighbours_view(space, marks)
    with right:
        ends = analogy_view(space, marks)
    frame, marked = projection_view(loaded, space, token, marks, ends)
    st.session_state[key("shown")] = frame, marked, found, ends
    exports(frame, space, loaded)


def words_part() -> None:
    source = st.segmented_control("Vectors", list(SOURCES), key=key("source"), format_func=SOURCES.get,
                                  required=True)
    picked = pick_source(source)
    if picked is None:
        return
    st.fragment(explore)(*picked)
    share_words()
    direction_view(picked[1])
    benchmark_view()


def main() -> None:
    st.title("Embedding explorer")
    st.markdown("Words as points in a space where nearness means similar use (tutorial slides 11-13 and 24-26; "
                "Bengio et al. 2003, Mikolov et al. 2013). Search a word, solve an analogy, follow a direction, and "
                "see how well each set of vectors does on the standard tests; or see MNIST digits as each layer of "
                "a network sees them.")
    if st.query_params.get("source") == "mnist":        # links made before the digits became a part of their own
        del st.query_params["source"]
        st.query_params["part"] = "digits"
    KIT.bind()
    part = st.segmented_control("Part", list(PARTS), key=key("part"), format_func=PARTS.get, required=True,
                                label_visibility="collapsed")
    if part == "digits":
        digits_part()
    else:
        words_part()
    KIT.publish()


main()
