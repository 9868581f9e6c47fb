"""2-D or 3-D pictures of high-dimensional points: PCA, t-SNE (van der Maaten & Hinton 2008) or UMAP (McInnes et
al. 2018), all seeded, and kept on disk under the cache folder so a projection is computed once across sessions.

The cosine is what the explorer's neighbours use, so rows are scaled to unit length first: t-SNE and UMAP then see
the same neighbourhoods the table shows.
"""
import hashlib
import io
import warnings
from pathlib import Path

import numpy as np

from engine import files
from engine.analysis.word_space import unit_rows

METHODS = ("pca", "tsne", "umap")
MAX_POINTS = 10_000
UMAP_EPOCHS = 200           # UMAP's own choice above 10,000 points; below, it takes 500 for little visible gain


def pca(matrix: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(coordinates (n, dims), share of the variance each axis explains)."""
    centred = matrix - matrix.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    variance = s ** 2
    return centred @ vt[:dims].T, variance[:dims] / variance.sum()


def compute(matrix: np.ndarray, method: str, dims: int, seed: int = 0) -> np.ndarray:
    """(n, dims) coordinates of the rows of `matrix` (at most MAX_POINTS of them)."""
    if method not in METHODS:
        raise ValueError(f"unknown projection {method!r}; choose from {', '.join(METHODS)}")
    if dims not in (2, 3):
        raise ValueError("projections are 2-D or 3-D")
    if not dims < len(matrix) <= MAX_POINTS:
        raise ValueError(f"a projection takes between {dims + 1} and {MAX_POINTS:,} points, not {len(matrix):,}")
    x = unit_rows(matrix)
    if method == "pca":
        return pca(x, dims)[0].astype(np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(x) - 1) / 3)
        return TSNE(dims, perplexity=perplexity, init="pca", random_state=seed, metric="cosine").fit_transform(
            x).astype(np.float32)
    from umap import UMAP

    k = min(15, len(x) - 1)
    with warnings.catch_warnings():      # the graph is given, so UMAP warns that it cannot place new points later
        warnings.simplefilter("ignore", UserWarning)
        return UMAP(n_components=dims, n_neighbors=k, min_dist=0.1, metric="cosine", random_state=seed,
                    n_epochs=UMAP_EPOCHS, init="spectral" if len(x) > dims + 1 else "random",
                    precomputed_knn=(*cosine_neighbours(x, k), None)).fit_transform(x).astype(np.float32)


def cosine_neighbours(unit: np.ndarray, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """The exact k nearest rows of each row of `unit` (rows of length 1, itself included) by cosine distance, as
    (indices, distances), nearest first. Exact search over 10,000 points takes about a second; UMAP's own
    approximate search would spend most of a minute compiling its code in every new process."""
    indices = np.empty((len(unit), k), dtype=np.int64)
    distances = np.empty((len(unit), k), dtype=np.float32)
    for start in range(0, len(unit), block):
        d = np.clip(1 - unit[start:start + block] @ unit.T, 0, None)
        rows = np.arange(len(d))
        d[rows, start + rows] = 0                                  # each row is its own nearest, even among twins
        near = np.argpartition(d, k - 1, axis=1)[:, :k]
        near_d = np.take_along_axis(d, near, 1)
        order = np.argsort(near_d, axis=1, kind="stable")
        indices[start:start + block] = np.take_along_axis(near, order, 1)
        distances[start:start + block] = np.take_along_axis(near_d, order, 1)
    return indices, distances


def key(matrix: np.ndarray, method: str, dims: int, seed: int) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(matrix, dtype=np.float32).tobytes())
    digest.update(f"{method}:{dims}:{seed}:{matrix.shape}:{UMAP_EPOCHS}:exact-neighbours".encode())
    return digest.hexdigest()[:20]


def cached(matrix: np.ndarray, method: str, dims: int, folder: Path, seed: int = 0) -> np.ndarray:
    """compute(), read from `folder` when this exact projection was made before. A damaged file is computed again
    and replaced."""
    path = Path(folder) / f"{key(matrix, method, dims, seed)}.npy"
    if path.exists():
        try:
            coords = np.load(path, allow_pickle=False)
            if coords.shape == (len(matrix), dims) and np.isfinite(coords).all():
                return coords
        except (OSError, ValueError, EOFError):
            pass
    coords = compute(matrix, method, dims, seed)
    buffer = io.BytesIO()
    np.save(buffer, coords, allow_pickle=False)
    files.write_bytes_atomic(path, buffer.getvalue())
    return coords
