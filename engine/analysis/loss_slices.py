"""A network's loss landscape: along the straight line from initialisation to the trained weights (Goodfellow et al.
2015), on a plane spanned by two filter-normalised random directions (Li et al. 2018), and on the plane of the
training trajectory's top two principal directions.

Weights are handled as one flat vector (torch.nn.utils.parameters_to_vector order); the loss at any vector is the
model's cross-entropy with those weights, on a fixed set of training digits.
"""
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.func import functional_call


def unflatten(model, vector: torch.Tensor) -> dict[str, torch.Tensor]:
    """The flat weight vector as {parameter name: view of it shaped like that parameter}, for functional_call."""
    out, i = {}, 0
    for name, p in model.named_parameters():
        shape = p.shape
        n = shape.numel()
        out[name] = vector[i:i + n].view(shape)
        i += n
    return out


@torch.no_grad()
def loss_at(model, vector: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean cross-entropy of the model with weights `vector` on (x, y)."""
    dev = vector.device
    logits = functional_call(model, unflatten(model, vector), (x.to(dev),))
    return F.cross_entropy(logits, y.to(dev)).item()


def line(model, start: torch.Tensor, end: torch.Tensor, alphas: torch.Tensor, x, y) -> list[float]:
    """Loss at (1 - a) start + a end for each a."""
    return [loss_at(model, (1 - a) * start + a * end, x, y) for a in alphas.tolist()]


def max_bump(losses: list[float]) -> float:
    """The largest rise of the loss above its lowest value so far along the path: 0 when it only falls."""
    lowest, bump = float("inf"), 0.0
    for value in losses:
        bump = max(bump, value - lowest)
        lowest = min(lowest, value)
    return bump


def filter_normalized_direction(model, generator: torch.Generator) -> torch.Tensor:
    """A random Gaussian direction with each filter (each output unit's incoming weights) rescaled to the norm of
    the model's own filter, and zero on biases (Li et al. 2018, section 4)."""
    parts = []
    for _, p in model.named_parameters():
        d = torch.randn(p.shape, generator=generator)
        if p.dim() <= 1:
            d = torch.zeros_like(d)
        else:
            w = p.detach().cpu().reshape(len(p), -1)
            d = d.reshape(len(p), -1)
            d = (d / d.norm(dim=1, keepdim=True).clamp_min(1e-12) * w.norm(dim=1, keepdim=True)).reshape(p.shape)
        parts.append(d.flatten())
    return torch.cat(parts)


def plane(model, center: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor, coords: torch.Tensor, x, y,
          on_progress: Callable[[float], None] | None = None) -> torch.Tensor:
    """Loss at center + a d1 + b d2 for a, b in coords (n,): an (n, n) grid, rows b, columns a."""
    dev = center.device
    d1, d2 = d1.to(dev), d2.to(dev)
    grid = torch.zeros(len(coords), len(coords))
    for i, b in enumerate(coords.tolist()):
        for j, a in enumerate(coords.tolist()):
            grid[i, j] = loss_at(model, center + a * d1 + b * d2, x, y)
        if on_progress:
            on_progress((i + 1) / len(coords))
    return grid


def trajectory_plane(path: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The top two principal directions (2, P) of the weight path (S, P) taken relative to its end point (as Li et
    al. 2018 do), the path's coordinates (S, 2) in them and the share of the path's spread they explain (2,)."""
    centred = path - path[-1]
    _, s, vh = torch.linalg.svd(centred, full_matrices=False)
    directions = vh[:2]
    explained = (s[:2] ** 2) / (s ** 2).sum()
    return directions, centred @ directions.T, explained
