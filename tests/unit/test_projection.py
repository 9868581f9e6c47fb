"""Projections: the right shape, PCA's axes, and the cache that keeps them across sessions."""
import numpy as np
import pytest

from engine.analysis import projection


def blobs(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated clusters in 10-D."""
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 3
    centres = 5 * np.eye(10)[:3] + 1
    return (centres[labels] + 0.1 * rng.standard_normal((n, 10))).astype(np.float32), labels


def test_pca_explains_the_variance_in_order():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 3)) * [5.0, 2.0, 0.1]
    coords, share = projection.pca(x, 2)
    assert coords.shape == (200, 2) and share[0] > share[1] > 0 and share.sum() < 1
    assert share[0] == pytest.approx(25 / 29.01, rel=0.1)


@pytest.mark.parametrize("method", projection.METHODS)
def test_each_method_keeps_the_clusters_apart(method):
    x, labels = blobs()
    coords = projection.compute(x, method, 2)
    assert coords.shape == (60, 2) and np.isfinite(coords).all()
    centres = np.stack([coords[labels == k].mean(0) for k in range(3)])
    spread = max(np.linalg.norm(coords[labels == k] - centres[k], axis=1).mean() for k in range(3))
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3)]
    assert min(gaps) > 2 * spread


def test_the_neighbour_graph_is_the_exact_cosine_one_across_blocks():
    rng = np.random.default_rng(2)
    x = projection.unit_rows(rng.standard_normal((50, 5)))
    x[7] = x[3]                                                     # twins: each still lists itself
    indices, distances = projection.cosine_neighbours(x, 6, block=16)
    brute = np.clip(1 - x @ x.T, 0, None)
    for i in range(50):
        assert i in indices[i]
        np.testing.assert_allclose(distances[i], np.sort(brute[i])[:6], atol=1e-6)
        np.testing.assert_allclose(brute[i, indices[i]], distances[i], atol=1e-6)
    assert (np.diff(distances, axis=1) >= 0).all()


def test_bad_requests_are_refused():
    x, _ = blobs()
    with pytest.raises(ValueError, match="unknown projection"):
        projection.compute(x, "lda", 2)
    with pytest.raises(ValueError, match="between"):
        projection.compute(x[:2], "pca", 2)


def test_the_cache_returns_the_same_coordinates_and_replaces_a_damaged_file(tmp_path):
    x, _ = blobs()
    first = projection.cached(x, "tsne", 2, tmp_path / "projections")
    files = list((tmp_path / "projections").glob("*.npy"))
    assert len(files) == 1
    np.testing.assert_array_equal(projection.cached(x, "tsne", 2, tmp_path / "projections"), first)
    files[0].write_bytes(b"not an array")
    np.testing.assert_array_equal(projection.cached(x, "tsne", 2, tmp_path / "projections"), first)     # seeded
    assert np.load(files[0]).shape == (60, 2)
