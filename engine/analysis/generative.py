"""Measurements of generative adversarial nets: where the generator is pushed, mode coverage, sample quality,
Frechet distance in a classifier's feature space, and walks through the latent space."""
from collections.abc import Callable

import numpy as np
import torch

from engine.analysis.interpolation import nearest_distance


def generator_push(discriminator: Callable, fake: torch.Tensor, loss: Callable) -> torch.Tensor:
    """-dL_G/dx for each generated point x (N, D): where the generator's loss pushes that point.

    loss maps D's logits (N, 1) to per-sample losses; summing them keeps each point's gradient its own.
    """
    x = fake.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(discriminator(x)).sum(), x)
    return -grad


def near_fraction(points: torch.Tensor, reference: torch.Tensor, radius: float) -> float:
    """Share of points (N, D) with a reference point (M, D) within `radius`."""
    dist, _ = nearest_distance(points, reference)
    return (dist <= radius).float().mean().item()


def covered_modes(samples: torch.Tensor, centres: torch.Tensor, radius: float,
                  min_share: float) -> tuple[np.ndarray, float]:
    """Which modes (K, D) hold at least `min_share` of the samples within `radius`, and the share of samples that
    lie within `radius` of some mode ("high quality")."""
    dist = torch.cdist(samples, centres)                     # (N, K)
    nearest, which = dist.min(1)
    close = nearest <= radius
    counts = torch.bincount(which[close], minlength=len(centres)).float()
    return (counts / len(samples) >= min_share).numpy(), close.float().mean().item()


def class_coverage(predicted: torch.Tensor, classes: int = 10, min_share: float = 0.05) -> tuple[int, list[float]]:
    """How many classes get at least `min_share` of the predictions, and each class's share."""
    shares = torch.bincount(predicted, minlength=classes).float() / len(predicted)
    return int((shares >= min_share).sum()), [round(v, 4) for v in shares.tolist()]


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to features (N, D)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr (S_a S_b)^(1/2) = Tr (S_a^(1/2) S_b S_a^(1/2))^(1/2), a symmetric matrix: eigenvalues, no complex roots,
    # and singular covariances (dead feature units) need no special case.
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def slerp(za: torch.Tensor, zb: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between two latent vectors (D,) at weights t (K,): (K, D). Gaussian noise lives near
    a sphere, and the straight line's midpoint falls inside it, where the generator saw little noise."""
    cos = torch.dot(za, zb) / (za.norm() * zb.norm())
    omega = torch.arccos(cos.clamp(-1, 1))
    if omega.abs() < 1e-4:
        return lerp(za, zb, t)
    s = torch.sin(omega)
    return (torch.sin((1 - t) * omega)[:, None] * za + torch.sin(t * omega)[:, None] * zb) / s


def lerp(za: torch.Tensor, zb: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return (1 - t)[:, None] * za + t[:, None] * zb


def walk(waypoints: torch.Tensor, frames_per_leg: int, spherical: bool) -> torch.Tensor:
    """A path through waypoints (W, D) with `frames_per_leg` frames per leg, ending on the last waypoint: (F, D)."""
    t = torch.linspace(0, 1, frames_per_leg + 1)[:-1]
    step = slerp if spherical else lerp
    legs = [step(a, b, t) for a, b in zip(waypoints[:-1], waypoints[1:])]
    return torch.cat(legs + [waypoints[-1:]])


def step_ratio(frames: torch.Tensor) -> float:
    """Largest step between consecutive frames (F, D) over the mean step: 1 for an even path, large at a jump."""
    steps = (frames[1:] - frames[:-1]).norm(dim=1)
    return (steps.max() / steps.mean().clamp_min(1e-12)).item()
