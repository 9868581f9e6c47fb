"""Tangent directions of the data manifold at a digit (Rifai et al. 2011, "The manifold tangent classifier").

The encoder f is contractive off the manifold, so the right singular vectors of its Jacobian df/dx with the
largest singular values are the pixel directions the representation is sensitive to: local deformations of the
digit that stay on the manifold (slides 79-81).
"""
import torch


def tangent_directions(model, x: torch.Tensor, level: str = "code", k: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k singular values (k,) and unit pixel directions (k, 784) of d encode(x, level) / dx at x (784,)."""
    dev = next(model.parameters()).device
    jac = torch.autograd.functional.jacobian(lambda v: model.encode(v.unsqueeze(0), level).squeeze(0),
                                             x.to(dev))                                   # (H, 784)
    _, s, vh = torch.linalg.svd(jac.detach().cpu(), full_matrices=False)                 # vh: (min(H,784), 784)
    directions = vh[:k]
    # Sign is arbitrary in an SVD; orient each direction so it adds ink where it changes most, for stable display.
    flip = torch.where(directions.sum(1, keepdim=True) < 0, -1.0, 1.0)
    return s[:k], directions * flip


@torch.no_grad()
def move_along(model, x: torch.Tensor, direction: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """Digits x + t * direction for each t in steps (K,), cleaned by the DAE: (K, 784) in [0, 1]."""
    moved = (x.unsqueeze(0) + steps.view(-1, 1) * direction.unsqueeze(0)).clamp(0, 1)
    dev = next(model.parameters()).device
    return model.reconstruct(moved.to(dev)).cpu()
