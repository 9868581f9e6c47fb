"""The denoising vector field r(x) - x of a 2-D DAE and the corrupt/denoise Markov chain (slides 85-88).

Alain & Bengio 2013: for small Gaussian corruption sigma, r(x) - x ~ sigma^2 d log p(x) / dx, so the field
points towards higher density. Bengio et al. 2013: alternating x~ = x + sigma*eps and x = r(x~) samples the data.
"""
import torch

from engine.analysis.interpolation import nearest_distance


def apply(model, x: torch.Tensor) -> torch.Tensor:
    """r(x) for CPU points x, whatever device the model is on; result on the CPU."""
    return model(x.to(next(model.parameters()).device)).cpu()


def grid(lim: float, n: int) -> torch.Tensor:
    """(n*n, 2) points of a square grid over [-lim, lim]^2."""
    axis = torch.linspace(-lim, lim, n)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)


@torch.no_grad()
def vector_field(model, points: torch.Tensor) -> torch.Tensor:
    """r(x) - x at each point (N, 2)."""
    return apply(model, points) - points


@torch.no_grad()
def markov_chain(model, start: torch.Tensor, steps: int, sigma: float, seed: int) -> torch.Tensor:
    """Paths (steps + 1, M, 2) of x_{t+1} = r(x_t + sigma * eps_t) from `start` (M, 2)."""
    g = torch.Generator().manual_seed(seed)
    x, path = start, [start]
    for _ in range(steps):
        x = apply(model, x + sigma * torch.randn(x.shape, generator=g))
        path.append(x)
    return torch.stack(path)


@torch.no_grad()
def field_alignment(model, data: torch.Tensor, lim: float = 1.2, n: int = 25, min_gap: float = 0.1) -> float:
    """Mean cosine between r(x) - x and the direction to the nearest data point, over grid points off the data."""
    pts = grid(lim, n)
    dist, idx = nearest_distance(pts, data)
    off = dist > min_gap
    field = vector_field(model, pts[off])
    to_data = data[idx[off]] - pts[off]
    return torch.nn.functional.cosine_similarity(field, to_data, dim=1).mean().item()
