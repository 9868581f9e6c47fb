"""The GAN minimax game on 2-D toy data, recorded through training (Goodfellow et al. 2014, "Generative
Adversarial Nets", arXiv 1406.2661).

The game (eq. 1):
    min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]
For a fixed G the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)), and then
V(D*, G) = -log 4 + 2 JSD(p_data || p_g): the value reaches -log 4 exactly when p_g = p_data (Theorem 1).
Algorithm 1 takes k steps on D for each step on G. Early in training D rejects every sample and the generator's
minimax loss log(1 - D(G(z))) saturates; the paper's fix is the non-saturating loss -log D(G(z)).

The model keeps its own trajectory: at evenly spaced steps it records the generated points for a fixed batch of
noise, D over a grid of the plane, where the generator's loss pushes each point (-dL_G/dx), and V(D, G).
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.analysis.generative import covered_modes, generator_push, near_fraction
from engine.data import DataError
from engine.data.toy2d import TOY_SETS, make_toy, ring_modes
from engine.models.common import adam, model_device, sample_batch, snapshot_row
from engine.registry import ModelSpec, register

DATASETS = TOY_SETS + ("drawn",)
G_LOSSES = ("nonsaturating", "minimax")
NOISE = 0.03            # spread of every toy set around its curve (and of the drawn points): 3 sigma = 0.09
BOX = 1.2               # the plane shown and scored: [-1.2, 1.2]^2
GRID = 41               # D is recorded on a GRID x GRID lattice over the box
TRACE_POINTS = 512      # generated points recorded per snapshot, from one fixed batch of noise
MIN_DRAWN, MAX_DRAWN = 10, 400
VALUE_AT_OPTIMUM = -math.log(4)


@dataclass(frozen=True)
class Gan2dConfig:
    dataset: str = "ring"           # a toy set (engine.data.toy2d) or "drawn": the points below
    points: tuple = ()              # ((x, y), ...) in the box, the user's drawing when dataset = "drawn"
    n_points: int = 2000            # training points from the seeded generator
    z_dim: int = 2                  # 2-D noise, as in GAN Lab: G folds a plane of noise onto the data
    hidden: int = 128               # two hidden layers in each player
    g_loss: str = "nonsaturating"   # or "minimax", Algorithm 1's saturating log(1 - D(G(z)))
    d_steps: int = 1                # k in Algorithm 1: discriminator steps per generator step
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    steps: int = 4000               # generator steps: about 15 s on 2 cores
    batch_size: int = 256
    snapshots: int = 50             # recorded states besides the initial one
    seed: int = 0

    def __post_init__(self):
        # JSON brings the points back as lists; tuples keep the config hashable and its hash unchanged.
        object.__setattr__(self, "points", tuple(tuple(float(v) for v in p) for p in self.points))


def mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    # LeakyReLU: a generator point in a region D finds flat still gets a gradient.
    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, n_out))


class Gan2d(nn.Module):
    def __init__(self, config: Gan2dConfig):
        super().__init__()
        self.generator = mlp(config.z_dim, config.hidden, 2)
        self.discriminator = mlp(2, config.hidden, 1)           # logits: D(x) = sigmoid(f(x))
        s = config.snapshots + 1
        self.register_buffer("trace_step", torch.zeros(s))
        self.register_buffer("trace_fake", torch.zeros(s, TRACE_POINTS, 2))
        self.register_buffer("trace_push", torch.zeros(s, TRACE_POINTS, 2))
        self.register_buffer("trace_d", torch.zeros(s, GRID, GRID))              # D(x) on the grid, rows = y
        self.register_buffer("trace_value", torch.zeros(s, 3))                   # D loss, G loss, V(D, G)
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """D(x) (B,): the discriminator's probability that points x (B, 2) are real."""
        return self.d_prob(x)

    def d_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.discriminator(x)).squeeze(-1)

    @torch.no_grad()
    def sample(self, n: int, seed: int) -> torch.Tensor:
        z = torch.randn(n, self.generator[0].in_features, generator=torch.Generator().manual_seed(seed))
        return self.generator(z.to(model_device(self))).cpu()

    def trajectory(self) -> dict:
        """The recorded training run as numpy arrays: step, fake (S, P, 2), push (S, P, 2), d (S, GRID, GRID),
        d_loss, g_loss, value (S,)."""
        value = self.trace_value.cpu().numpy()
        return {"step": self.trace_step.long().cpu().numpy(), "fake": self.trace_fake.cpu().numpy(),
                "push": self.trace_push.cpu().numpy(), "d": self.trace_d.cpu().numpy(),
                "d_loss": value[:, 0], "g_loss": value[:, 1], "value": value[:, 2]}


# ---------------------------------------------------------------- data

@dataclass(frozen=True)
class ToyGanData:
    train: torch.Tensor      # (N, 2)
    test: torch.Tensor       # (N, 2), a second draw from the same generator
    z_trace: torch.Tensor    # (TRACE_POINTS, z): the fixed noise whose images are recorded
    grid: torch.Tensor       # (GRID * GRID, 2), row-major from the bottom-left corner


def check_points(points) -> torch.Tensor:
    """The user's drawn points as (M, 2), or DataError saying why they cannot be trained on."""
    pts = torch.tensor(points, dtype=torch.float32) if len(points) else torch.zeros(0, 2)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise DataError("drawn points must be (x, y) pairs")
    if len(pts) < MIN_DRAWN:
        raise DataError(f"draw a little more: at least {MIN_DRAWN} points are needed (got {len(pts)})")
    if len(pts) > MAX_DRAWN:
        raise DataError(f"at most {MAX_DRAWN} drawn points are kept (got {len(pts)})")
    if not torch.isfinite(pts).all() or pts.abs().max() > BOX:
        raise DataError(f"drawn points must lie in the box [-{BOX}, {BOX}]^2")
    return pts


def draw_points(config: Gan2dConfig, n: int, seed: int) -> torch.Tensor:
    if config.dataset != "drawn":
        return make_toy(config.dataset, n, seed=seed, noise=NOISE)
    pts = check_points(config.points)
    g = torch.Generator().manual_seed(seed)
    return pts[torch.randint(0, len(pts), (n,), generator=g)] + NOISE * torch.randn(n, 2, generator=g)


def plane_grid() -> torch.Tensor:
    axis = torch.linspace(-BOX, BOX, GRID)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)


def toy_data(config: Gan2dConfig) -> ToyGanData:
    if config.dataset not in DATASETS:
        raise DataError(f"unknown data set {config.dataset!r}; choose one of {', '.join(DATASETS)}")
    z = torch.randn(TRACE_POINTS, config.z_dim, generator=torch.Generator().manual_seed(config.seed + 2))
    return ToyGanData(draw_points(config, config.n_points, config.seed), draw_points(config, config.n_points,
                      config.seed + 1), z, plane_grid())


# ---------------------------------------------------------------- the game

def g_loss(d_logits: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-sample generator loss on D's logits for generated points."""
    if kind == "minimax":
        return -F.softplus(d_logits)          # log(1 - sigmoid(f)) = -softplus(f)
    return F.softplus(-d_logits)              # -log sigmoid(f)


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-V(D, G) on a batch: -(mean log D(x) + mean log(1 - D(G(z))))."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def optimizers(model: Gan2d, config: Gan2dConfig) -> dict:
    # beta1 = 0.5: with the default 0.9 the momentum carries each player past the other's move and the game
    # oscillates instead of settling.
    return {"d": adam(model.discriminator.parameters(), config.lr_d, betas=(0.5, 0.999)),
            "g": adam(model.generator.parameters(), config.lr_g, betas=(0.5, 0.999))}


@torch.no_grad()
def record(model: Gan2d, data: ToyGanData, config: Gan2dConfig) -> None:
    """Store snapshot i when steps_done is the i-th of the evenly spaced recording steps."""
    done = int(model.steps_done)
    i = snapshot_row(done, config.steps, config.snapshots)
    if i is None:
        return
    dev = model_device(model)
    fake = model.generator(data.z_trace.to(dev))
    real = data.test[:TRACE_POINTS].to(dev)
    real_logits, fake_logits = model.discriminator(real), model.discriminator(fake)
    model.trace_step[i] = done
    model.trace_fake[i] = fake
    with torch.enable_grad():
        model.trace_push[i] = generator_push(model.discriminator, fake, lambda f: g_loss(f, config.g_loss))
    model.trace_d[i] = model.d_prob(data.grid.to(dev)).view(GRID, GRID)
    loss_d = d_loss(real_logits, fake_logits)
    model.trace_value[i] = torch.stack([loss_d, g_loss(fake_logits, config.g_loss).mean(), -loss_d])


def train_step(model, data, config, generator, opts) -> float:
    """Algorithm 1: k discriminator steps, then one generator step. Returns the discriminator's loss, -V."""
    if int(model.steps_done) == 0:
        record(model, data, config)
    dev = model_device(model)
    for _ in range(config.d_steps):
        (real,) = sample_batch(data.train, config.batch_size, generator)
        z = torch.randn(config.batch_size, config.z_dim, generator=generator).to(dev)
        with torch.no_grad():
            fake = model.generator(z)
        loss_d = d_loss(model.discriminator(real.to(dev)), model.discriminator(fake))
        opts["d"].zero_grad(set_to_none=True)
        loss_d.backward()
        opts["d"].step()
    z = torch.randn(config.batch_size, config.z_dim, generator=generator).to(dev)
    loss_g = g_loss(model.discriminator(model.generator(z)), config.g_loss).mean()
    opts["g"].zero_grad(set_to_none=True)
    loss_g.backward()
    opts["g"].step()
    model.steps_done += 1
    record(model, data, config)
    return loss_d.item()


# ---------------------------------------------------------------- evaluation

EVAL_SAMPLES = 2000
MODE_SHARE = 0.02       # a ring mode counts as covered when at least 2% of samples lie within 3 sigma of it


def ring_modes_by_snapshot(trace: dict) -> list[int]:
    """Ring modes covered by the recorded points of each snapshot of a trajectory."""
    return [int(covered_modes(torch.from_numpy(f), ring_modes(), 3 * NOISE, MODE_SHARE)[0].sum())
            for f in trace["fake"]]


def toy_metrics(model: Gan2d, data: ToyGanData, config: Gan2dConfig) -> dict:
    """Sample quality on held-out points; on the ring, the paper-style mode count (Metz et al. 2016's protocol):
    a mode is covered when at least 2% of samples lie within 3 sigma of it, and a sample is of high quality when it
    lies within 3 sigma of some mode."""
    fake = model.sample(EVAL_SAMPLES, seed=config.seed + 3)
    trace = model.trajectory()
    metrics = {"near_data_fraction": round(near_fraction(fake, data.test, 3 * NOISE), 4),
               "data_covered_fraction": round(near_fraction(data.test, fake, 3 * NOISE), 4),
               "final_value": round(float(trace["value"][-1]), 4),
               "value_at_optimum": round(VALUE_AT_OPTIMUM, 4)}
    if config.dataset == "ring":
        covered, quality = covered_modes(fake, ring_modes(), 3 * NOISE, MODE_SHARE)
        metrics |= {"modes_covered": int(covered.sum()), "modes": len(covered),
                    "high_quality_fraction": round(quality, 4)}
    return metrics


def evaluate(model, data, config, deps):
    return toy_metrics(model, data, config) | {"samples": EVAL_SAMPLES}


register(ModelSpec(
    name="gan2d",
    title="GAN on 2-D toy data",
    page="gan",
    config_cls=Gan2dConfig,
    presets={
        "tiny": Gan2dConfig(n_points=300, hidden=16, steps=40, batch_size=64, snapshots=4),
        "cpu": Gan2dConfig(),
        "gpu": Gan2dConfig(n_points=20000, hidden=256, steps=20000, batch_size=512, snapshots=100),
    },
    build=Gan2d,
    data=toy_data,
    train_step=train_step,
    optimizers=optimizers,
    evaluate=evaluate,
    variants=({"dataset": "spiral"}, {"dataset": "moons"}, {"g_loss": "minimax"}, {"lr_d": 1e-4}),
))
