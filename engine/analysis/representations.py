"""Learned representations of MNIST digits, layer by layer (slide 12: deeper codes separate the classes).

Every layer of the project's classifier (trained with the labels) and of its stacked denoising auto-encoder
(trained without them) gives each digit a vector; how well a layer separates the classes is measured by the
leave-one-out k-nearest-neighbour accuracy (cosine) among the digits shown.
"""
import numpy as np

from engine.analysis.word_space import unit_rows

LAYER_DIGITS = 500      # held-out digits whose layers are compared (a leave-one-out k-NN over all pairs)


def knn_accuracy(matrix: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-NN accuracy by cosine: the share of points whose k nearest others mostly share their label
    (ties go to the nearest neighbour's label)."""
    unit = unit_rows(matrix)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    nearest = np.argsort(-sims, axis=1)[:, :k]                     # (N, k), nearest first
    votes = labels[nearest]
    right = 0
    for row, label in zip(votes, labels):
        counts = np.bincount(row, minlength=labels.max() + 1)
        best = np.flatnonzero(counts == counts.max())
        right += int((row[0] if len(best) > 1 and row[0] in best else best[0]) == label)
    return right / len(labels)
