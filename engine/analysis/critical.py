"""Critical points of a small network's loss, found and classified with its exact Hessian (slides 35-38; Dauphin et
al. 2014, Figure 1).

A critical point is where the gradient g vanishes. Newton's method goes to the nearest one whatever its kind, minimum
or saddle, which is what makes it useless for training and useful here. Each step is a Levenberg-Marquardt step on
the residual g, whose Jacobian is the Hessian H = Q diag(l) Q^T:

    w <- w - Q diag(l / (l^2 + mu)) Q^T g,

a descent direction for |g|^2 whatever the signs of l. With mu -> 0 it is Newton's step; mu grows when a step fails
to shrink |g| and shrinks when it succeeds. The index of a critical point is the share of negative eigenvalues of H
there: 0 at a minimum, the fraction of directions that go down at a saddle.
"""
from collections.abc import Callable
from dataclasses import dataclass

import torch

NEGATIVE = -1e-7    # eigenvalues below this count as negative curvature (float64 Hessians of order 1)


@dataclass(frozen=True)
class Search:
    weights: torch.Tensor       # (P,) float64, where the search stopped
    grad_norm: float            # |g| there
    iterations: int


def newton_search(grad: Callable[[torch.Tensor], torch.Tensor], hessian: Callable[[torch.Tensor], torch.Tensor],
                  start: torch.Tensor, iterations: int, tolerance: float, damping: float = 1e-3,
                  patience: int = 20) -> Search:
    """Damped Newton steps on g from `start` until |g| < tolerance, `iterations` Hessians are spent, no damping
    makes |g| smaller, or `patience` steps fail to halve it (a region where |g| is small but not zero)."""
    w = start.double()
    g = grad(w)
    norm = g.norm().item()
    norms = [norm]
    done = 0
    while done < iterations and norm >= tolerance and not (len(norms) > patience and norm > norms[-patience - 1] / 2):
        values, vectors = torch.linalg.eigh(hessian(w))
        done += 1
        along = vectors.T @ g
        while damping < 1e8:
            trial = w - vectors @ (values / (values ** 2 + damping) * along)
            g_trial = grad(trial)
            if g_trial.norm().item() < norm:
                w, g, norm = trial, g_trial, g_trial.norm().item()
                damping = max(damping / 5, 1e-14)
                norms.append(norm)
                break
            damping *= 5
        else:
            break
    return Search(w, norm, done)


def index(eigenvalues: torch.Tensor) -> float:
    """The share of negative eigenvalues: 0 at a minimum."""
    return (eigenvalues < NEGATIVE).double().mean().item()


def distinct(points: torch.Tensor, relative: float = 1e-4) -> list[int]:
    """Rows of (n, P) that are not copies of an earlier row (closer than `relative` times its norm)."""
    kept: list[int] = []
    for i, p in enumerate(points):
        if all((p - points[j]).norm() > relative * p.norm().clamp_min(1.0) for j in kept):
            kept.append(i)
    return kept
