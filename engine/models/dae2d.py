"""A denoising autoencoder on 2-D toy data, to draw its vector field (Alain & Bengio 2013, "What regularized
auto-encoders learn from the data generating distribution", arXiv 1211.4246).

Trained with Gaussian corruption x~ = x + sigma * eps and loss ||r(x~) - x||^2, the reconstruction r estimates the
score: r(x) - x ~ sigma^2 d log p(x) / dx. Iterating x <- r(x + sigma * eps) walks onto the data.
"""
from dataclasses import dataclass

import torch
from torch import nn

from engine.analysis.field import apply, field_alignment, markov_chain
from engine.analysis.interpolation import nearest_distance
from engine.data.toy2d import make_toy
from engine.models.common import model_device, sample_batch
from engine.registry import ModelSpec, register

CHAIN_BOX = 1.2   # chains start uniformly in [-1.2, 1.2]^2, the plotting box


@dataclass(frozen=True)
class Dae2dConfig:
    dataset: str = "spiral"     # spiral, moons or ring (engine.data.toy2d)
    n_points: int = 2000        # training points from the seeded generator
    hidden: int = 128           # two hidden layers; the spiral needs the width
    sigma: float = 0.1          # corruption scale: small enough to follow the spiral's arms, large enough to reach off-data points
    steps: int = 3000
    batch_size: int = 256
    lr: float = 2e-3
    seed: int = 0
    chain_steps: int = 40       # Markov-chain steps scored in evaluation


class Dae2d(nn.Module):
    def __init__(self, config: Dae2dConfig):
        super().__init__()
        h = config.hidden
        self.net = nn.Sequential(nn.Linear(2, h), nn.SiLU(), nn.Linear(h, h), nn.SiLU(), nn.Linear(h, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)       # r(x), a point in the plane


@dataclass(frozen=True)
class ToyData:
    train: torch.Tensor   # (N, 2)
    test: torch.Tensor


def toy_data(config: Dae2dConfig) -> ToyData:
    return ToyData(make_toy(config.dataset, config.n_points, seed=config.seed),
                   make_toy(config.dataset, config.n_points, seed=config.seed + 1))


def train_step(model, data, config, generator):
    (x,) = sample_batch(data.train, config.batch_size, generator)
    noisy = x + config.sigma * torch.randn(x.shape, generator=generator)
    dev = model_device(model)
    return ((model(noisy.to(dev)) - x.to(dev)) ** 2).sum(1).mean()


def chain_start(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 2, generator=g) * 2 - 1) * CHAIN_BOX


def evaluate(model, data, config, deps):
    paths = markov_chain(model, chain_start(500, 7), config.chain_steps, config.sigma, seed=8)
    start_dist, _ = nearest_distance(paths[0], data.test)
    end_dist, _ = nearest_distance(paths[-1], data.test)
    noisy = data.test + config.sigma * torch.randn(data.test.shape, generator=torch.Generator().manual_seed(9))
    return {
        "field_alignment": round(field_alignment(model, data.test), 4),
        "chain_start_distance": round(start_dist.mean().item(), 4),
        "chain_end_distance": round(end_dist.mean().item(), 4),
        "chain_on_data": round((end_dist < config.sigma).float().mean().item(), 4),
        "denoise_mse": round(((apply(model, noisy) - data.test) ** 2).sum(1).mean().item(), 5),
        "noisy_mse": round(((noisy - data.test) ** 2).sum(1).mean().item(), 5),
    }


register(ModelSpec(
    name="dae2d",
    title="Denoising autoencoder on 2-D toy data",
    page="manifold",
    config_cls=Dae2dConfig,
    presets={
        "tiny": Dae2dConfig(n_points=300, hidden=16, steps=60, chain_steps=5),
        "cpu": Dae2dConfig(),
        "gpu": Dae2dConfig(n_points=20000, hidden=256, steps=20000),
    },
    build=Dae2d,
    data=toy_data,
    train_step=train_step,
    evaluate=evaluate,
    variants=({"dataset": "moons"}, {"dataset": "ring"}),
))
