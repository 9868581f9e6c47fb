"""Curvature of a network's loss: Hessian-vector products and the Lanczos method (slides 35-38; Dauphin et al. 2014).

The Hessian of a network with P weights has P^2 entries, too many to form; Lanczos needs only products H v, which
double back-propagation gives at the cost of about two gradients. k Lanczos steps from a random unit vector give a
k x k tridiagonal matrix whose eigenvalues (Ritz values) approximate the extreme eigenvalues of H, and whose
eigenvectors' first components squared weight them into an estimate of the whole spectrum (stochastic Lanczos
quadrature; Ghorbani et al. 2019). The estimated share of negative eigenvalues is the point's index.
"""
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.func import functional_call

from engine.analysis.loss_slices import unflatten


def hvp_function(model, weights: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """v -> H v, with H the Hessian of the mean cross-entropy on (x, y) at the flat weights (works inside
    torch.no_grad() too: it needs the graph, so it turns gradients on for itself)."""
    with torch.enable_grad():
        w = weights.detach().clone().requires_grad_(True)
        logits = functional_call(model, unflatten(model, w), (x.to(w.device),))
        (grad,) = torch.autograd.grad(F.cross_entropy(logits, y.to(w.device)), w, create_graph=True)

    def product(v: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            (hv,) = torch.autograd.grad(grad, w, grad_outputs=v.to(w.device), retain_graph=True)
        return hv.detach()
    return product


def lanczos(matvec: Callable[[torch.Tensor], torch.Tensor], dim: int, steps: int,
            generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Ritz values (k,) of a symmetric operator and their quadrature weights (k,), summing to 1, from `steps`
    Lanczos iterations with full re-orthogonalisation (k <= steps when the Krylov space closes early)."""
    q = torch.randn(dim, generator=generator, dtype=torch.float64)
    basis = [q / q.norm()]
    alphas, betas = [], []
    for _ in range(min(steps, dim)):
        w = matvec(basis[-1].float()).double().cpu()      # the basis stays on the CPU in float64
        alpha = torch.dot(w, basis[-1])
        alphas.append(alpha)
        q_mat = torch.stack(basis)
        w = w - q_mat.T @ (q_mat @ w)              # full re-orthogonalisation (twice is enough in float64)
        w = w - q_mat.T @ (q_mat @ w)
        beta = w.norm()
        if beta < 1e-10 or len(alphas) == steps:
            break
        betas.append(beta)
        basis.append(w / beta)
    k = len(alphas)
    tri = torch.diag(torch.stack(alphas))
    if k > 1:
        off = torch.stack(betas[:k - 1])
        tri = tri + torch.diag(off, 1) + torch.diag(off, -1)
    values, vectors = torch.linalg.eigh(tri)
    return values, vectors[0] ** 2


def spectrum(matvec, dim: int, steps: int, probes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ritz values and weights from `probes` random starts, pooled (weights sum to 1)."""
    g = torch.Generator().manual_seed(seed)
    runs = [lanczos(matvec, dim, steps, g) for _ in range(probes)]
    return torch.cat([v for v, _ in runs]), torch.cat([w for _, w in runs]) / probes


def summary(values: torch.Tensor, weights: torch.Tensor) -> dict:
    """Top eigenvalue, most negative eigenvalue and estimated share of negative eigenvalues (the index)."""
    scale = values.abs().max().clamp_min(1e-12)
    return {"top_eigenvalue": values.max().item(), "bottom_eigenvalue": values.min().item(),
            "negative_share": weights[values < -1e-3 * scale].sum().item()}
