"""Learned representations of MNIST digits, layer by layer (slide 12: deeper codes separate the classes).

Every layer of the project's classifier (trained with the labels) and of its stacked denoising auto-encoder
(trained without them) gives each digit a vector; how well a layer separates the classes is measured by the
leave-one-out k-nearest-neighbour accuracy (cosine) among the digits shown.
"""
import numpy as np
import torch
import torch.nn.functional as F

from engine.analysis.vectors import unit_rows
from engine.models.dae import LEVELS


@torch.no_grad()
def digit_layers(classifier, dae, x: torch.Tensor) -> dict[str, np.ndarray]:
    """{layer name: (N, width) matrix} for digits x (N, 784), pixels first, then each network from input to top."""
    classifier.eval()
    dae.eval()
    h1 = F.max_pool2d(F.relu(classifier.conv1(x.view(-1, 1, 28, 28))), 2)
    h2 = F.max_pool2d(F.relu(classifier.conv2(h1)), 2)
    layers = {"pixels": x.numpy()}
    layers.update({f"autoencoder {level}": dae.encode(x, level).numpy() for level in LEVELS[1:]})
    layers.update({"classifier conv 1": h1.flatten(1).numpy(), "classifier conv 2": h2.flatten(1).numpy(),
                   "classifier top hidden": classifier.features(x).numpy()})
    return layers


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
