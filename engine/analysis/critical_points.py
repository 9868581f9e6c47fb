"""Critical points of a small network's loss, found and classified with its exact Hessian (slides 35-38; Dauphin et
al. 2014, Figure 1).

A critical point is where the gradient g vanishes. Newton's method goes to the nearest one whatever its kind, minimum
or saddle, which is what makes it useless for training and useful here. Each step is a Levenberg-Marquardt step on
the residual g, whose Jacobian is the Hessian H = Q diag(l) Q^T:

    w <- w - Q diag(l / (l^2 + mu)) Q^T g,

a descent direction for |g|^2 whatever the signs of l. With mu -> 0 it is Newton's step; mu grows when a step fails
to shrink |g| and shrinks when it succeeds. The index of a critical point is the share of negative eigenvalues of H
there: 0 at a minimum, the fraction of directions that go down at a saddle.

Searches can also run inside a sub-network (some weights held at zero, see `restricted`): where the held weights
are a whole hidden unit's, the sub-network's critical points are critical points of the whole network.
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


def restricted(loss: Callable[[torch.Tensor], torch.Tensor], mask: torch.Tensor):
    """(loss of the free weights v, embed: v -> the whole weight vector with the others at zero, the free indices)."""
    free = mask.nonzero().flatten()

    def embed(v: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(mask), dtype=v.dtype).index_put((free,), v)
    return (lambda v: loss(embed(v))), embed, free


def minimise(loss: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor, iterations: int) -> torch.Tensor:
    """L-BFGS with a strong-Wolfe line search from `start` down to the nearest minimum of `loss`."""
    w = start.double().clone().requires_grad_()
    optimizer = torch.optim.LBFGS([w], lr=1, max_iter=iterations, tolerance_grad=1e-10, tolerance_change=1e-15,
                                  history_size=50, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        value = loss(w)
        value.backward()
        return value
    with torch.enable_grad():
        optimizer.step(closure)
    return w.detach()


def index(eigenvalues: torch.Tensor) -> float:
    """The share of negative eigenvalues: 0 at a minimum."""
    return (eigenvalues < NEGATIVE).double().mean().item()


def distinct(points: torch.Tensor, relative: float = 1e-4) -> list[int]:
    """Rows of (n, P) that are not copies of an earlier row (closer than `relative` times its norm). Given rows of
    (loss, Hessian eigenvalues...), it finds critical points that differ by more than the network's symmetries
    (hidden units swapped, or a tanh unit's signs flipped, leave both unchanged)."""
    kept: list[int] = []
    for i, p in enumerate(points):
        if all((p - points[j]).norm() > relative * p.norm().clamp_min(1.0) for j in kept):
            kept.append(i)
    return kept
