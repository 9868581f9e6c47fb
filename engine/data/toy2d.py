"""Seeded 2-D point sets, scaled to roughly [-1, 1]^2: two moons, a spiral, a ring of 8 Gaussians."""
import math

import torch

TOY_SETS = ("spiral", "moons", "ring")


def make_toy(kind: str, n: int, seed: int = 0, noise: float = 0.03) -> torch.Tensor:
    """(n, 2) float32 points of the named set; the same seed gives the same points."""
    g = torch.Generator().manual_seed(seed)
    if kind == "moons":
        half = n // 2
        t = torch.rand(n, generator=g) * math.pi
        upper = torch.stack([torch.cos(t[:half]), torch.sin(t[:half])], 1)
        lower = torch.stack([1 - torch.cos(t[half:]), 0.5 - torch.sin(t[half:])], 1)
        pts = (torch.cat([upper, lower]) - torch.tensor([0.5, 0.25])) / 1.5
    elif kind == "spiral":
        t = torch.sqrt(torch.rand(n, generator=g)) * 3 * math.pi   # sqrt: even density along the arc
        pts = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) / (3 * math.pi)
    elif kind == "ring":
        mode = torch.randint(0, 8, (n,), generator=g)
        angle = mode.float() * (2 * math.pi / 8)
        pts = 0.8 * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    else:
        raise ValueError(f"unknown toy set {kind!r}; choose one of {', '.join(TOY_SETS)}")
    return pts + noise * torch.randn(n, 2, generator=g)


def ring_modes() -> torch.Tensor:
    """Centres of the 8 ring modes, (8, 2)."""
    angle = torch.arange(8).float() * (2 * math.pi / 8)
    return 0.8 * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
