"""The embedding explorer through Streamlit's AppTest, on the vectors shipped inside the installed packages."""
import base64
import json

import numpy as np
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import run_page, run_with_uploads, texts


def test_neighbours_analogy_direction_and_benchmarks_on_glove():
    at = run_page("pages/embeddings.py")
    assert not at.exception
    text = texts(at.markdown)
    assert "| snake | 0.845 |" in text                            # frog's nearest word
    assert "man : king = woman : **queen**" in text
    assert "| GloVe 6B, 50-d (50,000 words) | 50,000 | 49.6% | 78.2% | 0.520 | 349/353 |" in text
    assert len(at.get("vega_lite_chart")) == 3                    # projection, direction strip, sections


def test_the_link_carries_the_view_and_unknown_words_are_named():
    at = run_page("pages/embeddings.py", source="minilm", query="zzzqx", a="paris", b="france", c="tokyo")
    assert not at.exception
    assert "japan" in texts(at.markdown).split("tokyo : **")[1][:10]
    assert "zzzqx" in texts(at.warning)
    at.text_input(key="embeddings:query").set_value("river").run()
    assert at.query_params["query"] == "river" and at.query_params["source"] == "minilm"


def upload_page(vectors: bytes, name: str, metadata: bytes | None = None) -> AppTest:
    return run_with_uploads("pages/embeddings.py", [(vectors, name), (metadata, "metadata.tsv") if metadata else None],
                            source="upload")


def test_an_uploaded_projector_pair_is_explored():
    rows = "\n".join(f"{i}\t{i % 3}\t{(i * 7) % 5}" for i in range(1, 41)).encode()
    labels = ("word\tgroup\n" + "\n".join(f"w{i}\tg{i % 3}" for i in range(1, 41))).encode()
    at = upload_page(rows, "vectors.tsv", labels)
    assert not at.exception and not at.error
    assert "neighbour of" not in texts(at.markdown)               # the default query is not in these labels
    assert "frog" in texts(at.warning)


def scatter_x(at) -> list[float]:
    """The x of every point of the 2-D view, from the data sets the page sends."""
    scatter = at.get("vega_lite_chart")[0]                        # the first chart: the points, marked words, labels
    tables = [pa.ipc.open_stream(d.data.data).read_all() for d in scatter.proto.datasets]
    return max(tables, key=lambda t: t.num_rows).column("x").to_pylist()


def test_two_uploads_of_the_same_size_get_their_own_projections():
    labels = "\n".join(f"w{i}" for i in range(1, 41)).encode()
    first = upload_page("\n".join(f"{i}\t{i % 3}" for i in range(1, 41)).encode(), "vectors.tsv", labels)
    second = upload_page("\n".join(f"{i % 5}\t{i}" for i in range(1, 41)).encode(), "vectors.tsv", labels)
    assert not first.exception and not second.exception
    assert scatter_x(first) != scatter_x(second)


def test_a_malformed_upload_gets_a_message_not_a_traceback():
    at = upload_page(b"king 1 2\nking 3 4\n", "vectors.txt")
    assert not at.exception
    assert "gives 'king' twice" in texts(at.error)


@pytest.mark.usefixtures("tiny_env")
def test_mnist_layers_are_scored_and_projected():
    at = run_page("pages/embeddings.py", source="mnist", layer="autoencoder code")
    assert not at.exception
    assert at.selectbox(key="embeddings:layer").value == "autoencoder code"
    assert len(at.get("vega_lite_chart")) == 2                    # the accuracy by layer, the projection
    assert "5-NN accuracy is" in texts(at.caption)


@pytest.mark.usefixtures("tiny_env")
def test_vectors_trained_here_show_their_scores_and_classes():
    at = run_page("pages/embeddings.py", source="trained", corpus="grammar", method="nplm", query="cat",
                  a="cat", b="cats", c="dog")
    assert not at.exception
    assert "5-NN class purity" in texts(at.markdown)
    assert "class" in at.selectbox(key="embeddings:colour").options
    assert "| neighbour of cat |" in texts(at.markdown)
    before = scatter_x(at)
    at.segmented_control(key="embeddings:corpus").set_value("lee").run()
    assert not at.exception and at.query_params["corpus"] == "lee"
    assert scatter_x(at) != before                                # the other corpus's vectors, projected anew
    assert "58,000 words" in texts(at.caption)


def numbers(array) -> np.ndarray:
    """A plotly figure's array: a list, or base64 bytes with their dtype."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def test_the_3d_view_draws_the_points_the_marked_words_and_the_parallelogram():
    at = run_page("pages/embeddings.py", dims="3", points="500", colour="nothing")
    assert not at.exception
    (chart,) = at.get("plotly_chart")
    points, *lines, marked = json.loads(chart.proto.spec)["data"]
    x, z = numbers(points["x"]), numbers(points["z"])
    assert len(x) >= 500 and len(z) == len(x) and np.isfinite(z).all() and z.std() > 0
    assert [t["line"]["dash"] for t in lines] == ["solid", "solid", "dash", "dash"]     # offsets, then sides
    assert {"king", "man", "woman", "queen", "frog"} <= set(marked["text"])
    assert "Drag to turn" in texts(at.caption)
    assert at.query_params["dims"] == "3"
