"""Critical points of a small tanh MLP on 7 x 7 MNIST, with the exact Hessian at each (slides 35-38; Dauphin et al.
2014, "Identifying and attacking the saddle point problem", arXiv 1406.2572, Figure 1).

The network is small enough (a few hundred weights) for its whole Hessian. Full-batch gradient-descent runs train it
from several seeds with 0, 1, ..., all of its hidden units switched on (the others' weights held at zero). A hidden
unit whose weights are all zero sends nothing and receives no gradient, so a critical point of the smaller network is
a critical point of the whole one (Fukumizu & Amari 2000); at the whole network it is a saddle, since each unit held
at zero could start to help. Such points are where training sits on a plateau.

Every search stays inside its run's sub-network: searches over all the weights mostly stall where |g| is small but
not zero (a near-null Hessian direction that g is not orthogonal to; Frye et al. 2020). Each run gives
- starts where its loss first falls below evenly spaced levels between its first and last loss; from each, damped
  Newton steps on the gradient (engine.analysis.critical_points) go to the nearest critical point, minimum or saddle, of
  the sub-network, or stall, and then they are dropped;
- its end, taken down to the sub-network's minimum by L-BFGS and finished by the same Newton steps.
Every kept point is checked on the whole network: |g| below the tolerance there, and its index is the share of
negative eigenvalues of the whole network's Hessian. Dauphin et al.'s finding: the more directions of negative
curvature a critical point has (its index), the higher its training error; critical points with low error are
minima or nearly so.

The loss carries a small L2 penalty (weight_decay / 2 * |w|^2, the same one the gradient-descent runs use). Without
it, unused tanh units leave flat directions, the critical points are not isolated and Newton crawls.
"""
from dataclasses import dataclass

import scipy.stats
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import grad, hessian

from engine.analysis import critical_points
from engine.data.mnist import load_mnist
from engine.registry import ModelSpec, register

SIDE = 7            # digits are averaged down to 7 x 7


@dataclass(frozen=True)
class CriticalConfig:
    hidden: int = 8
    examples: int = 500         # training digits the loss is defined on (full batch)
    weight_decay: float = 1e-3
    init_scale: float = 0.1     # standard deviation of the initial weights
    seeds: int = 6              # runs for each number of hidden units switched on
    steps: int = 1000           # full-batch steps per run (all runs take them together)
    optimizer: str = "sgd"
    lr: float = 0.5
    starts_per_run: int = 2     # starts along each run, besides its end
    newton_iterations: int = 40
    lbfgs_iterations: int = 1000
    tolerance: float = 1e-8     # a search's end counts as a critical point when |g| is below this
    seed: int = 0


@dataclass(frozen=True)
class Digits:
    x: torch.Tensor     # (examples, 49) float64
    y: torch.Tensor     # (examples,)


def digits(config: CriticalConfig) -> Digits:
    data = load_mnist()
    x = F.avg_pool2d(data.x_train[:config.examples].view(-1, 1, 28, 28), 28 // SIDE).flatten(1)
    return Digits(x.double(), data.y_train[:config.examples])


def shapes(config: CriticalConfig) -> list[tuple[int, ...]]:
    h = config.hidden
    return [(h, SIDE * SIDE), (h,), (10, h), (10,)]


def logits(w: torch.Tensor, x: torch.Tensor, config: CriticalConfig) -> torch.Tensor:
    """The network at flat weights w (..., P): tanh(x W1^T + b1) W2^T + b2, batched over w's leading dimensions."""
    parts, i = [], 0
    for shape in shapes(config):
        n = torch.Size(shape).numel()
        parts.append(w[..., i:i + n].reshape(*w.shape[:-1], *shape))
        i += n
    w1, b1, w2, b2 = parts
    hidden = torch.tanh(torch.einsum("nd,...hd->...nh", x, w1) + b1[..., None, :])
    return torch.einsum("...nh,...kh->...nk", hidden, w2) + b2[..., None, :]


def runs(config: CriticalConfig) -> int:
    return (config.hidden + 1) * config.seeds


def units_on(config: CriticalConfig) -> torch.Tensor:
    """(runs,): how many hidden units each run has switched on: 0, ..., hidden, each `seeds` times."""
    return torch.arange(config.hidden + 1).repeat_interleave(config.seeds)


def unit_masks(config: CriticalConfig) -> torch.Tensor:
    """(runs, P): a run keeps hidden units 0..on-1 (their input weights, bias and output weights), zeroes the rest."""
    masks = []
    for active in units_on(config).tolist():
        parts = [torch.ones(s) for s in shapes(config)]
        parts[0][active:], parts[1][active:], parts[2][:, active:] = 0, 0, 0
        masks.append(torch.cat([p.flatten() for p in parts]))
    return torch.stack(masks)


def penalised_loss(config: CriticalConfig, data: Digits):
    """w -> mean cross-entropy + weight_decay / 2 * |w|^2 on the digits, for one flat float64 weight vector."""
    def loss(w: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits(w, data.x, config), data.y) + 0.5 * config.weight_decay * (w * w).sum()
    return loss


class CriticalSearch(nn.Module):
    """The runs' weights (trained by the loop), the starts taken from them, and where Newton took each start."""

    def __init__(self, config: CriticalConfig):
        super().__init__()
        size = sum(torch.Size(s).numel() for s in shapes(config))
        self.register_buffer("masks", unit_masks(config))
        self.weights = nn.Parameter(config.init_scale * torch.randn(runs(config), size) * self.masks)
        # The runs' weights at every step are needed only until the starts are picked: not saved.
        self.register_buffer("path", torch.zeros(config.steps + 1, runs(config), size), persistent=False)
        self.register_buffer("path_loss", torch.zeros(config.steps + 1, runs(config)))   # penalised, per run
        n = runs(config) * (config.starts_per_run + 1)
        self.register_buffer("starts", torch.zeros(n, size, dtype=torch.float64))
        self.register_buffer("start_runs", torch.zeros(n, dtype=torch.long))
        self.register_buffer("start_steps", torch.full((n,), -1, dtype=torch.long))    # -1: unused row
        self.register_buffer("points", torch.zeros(n, size, dtype=torch.float64))
        self.register_buffer("grad_norms", torch.full((n,), float("inf"), dtype=torch.float64))
        self.register_buffer("iterations", torch.zeros(n, dtype=torch.long))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        self.config = config

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, runs, 10) of every run's network at its current weights for digits x (N, 49)."""
        return logits(self.weights * self.masks, x.to(self.weights.dtype), self.config).transpose(0, 1)


def train_step(model, data, config, generator):
    dev = model.weights.device
    out = logits(model.weights * model.masks, data.x.float().to(dev), config)     # (runs, n, 10)
    losses = F.cross_entropy(out.flatten(0, 1), data.y.to(dev).repeat(runs(config)), reduction="none")
    per_run = losses.view(runs(config), -1).mean(1)
    with torch.no_grad():
        step = int(model.updates)
        model.path[step] = model.weights
        model.path_loss[step] = per_run + 0.5 * config.weight_decay * (model.weights ** 2).sum(1)
        model.updates += 1
    return per_run.sum()        # each run's gradient is its own loss's


def search(model, data, config, report) -> None:
    """Pick the starts along each run and take each, and the run's end, to a critical point of its sub-network."""
    loss = penalised_loss(config, data)
    with torch.no_grad():
        model.path[config.steps] = model.weights
        model.path_loss[config.steps] = torch.stack([loss(w.double().cpu()) for w in model.weights]).float()
    total, done = runs(config) * (config.starts_per_run + 1), 0
    for run in range(runs(config)):
        sub_loss, embed, free = critical_points.restricted(loss, model.masks[run].cpu())
        g, h = grad(sub_loss), hessian(sub_loss)       # the search runs on the CPU in float64
        curve = model.path_loss[:, run].cpu()
        levels = torch.linspace(curve[0].item(), curve[-1].item(), config.starts_per_run + 2)[1:-1]
        steps = sorted({int((curve <= level).nonzero()[0]) for level in levels}) + [config.steps]
        for step in steps:
            start = model.path[step, run].double().cpu()[free]
            if step == config.steps:
                start = critical_points.minimise(sub_loss, start, config.lbfgs_iterations)
            # Searches aim three orders of magnitude below the tolerance, so that the kept points are clear of it.
            found = critical_points.newton_search(g, h, start, config.newton_iterations, config.tolerance / 1000)
            i = run * (config.starts_per_run + 1) + len([s for s in steps if s < step])
            model.starts[i] = embed(start)
            model.start_runs[i], model.start_steps[i] = run, step
            model.points[i], model.grad_norms[i], model.iterations[i] = embed(found.weights), found.grad_norm, \
                found.iterations
            done += 1
            report(done, total, found.grad_norm)


def evaluate(model, data, config, deps):
    """Recompute |g|, loss, training error and the Hessian's spectrum at every search's end; keep the ends with |g|
    below the tolerance that differ by more than the network's symmetries."""
    loss = penalised_loss(config, data)
    g, h = grad(loss), hessian(loss)
    points, on = model.points.cpu(), units_on(config)
    used = (model.start_steps >= 0).nonzero().flatten().tolist()
    norms = {i: g(points[i]).norm().item() for i in used}
    found = [i for i in used if norms[i] < config.tolerance]
    spectra = {i: torch.linalg.eigvalsh(h(points[i])) for i in found}
    # Copies under the symmetries share the loss and the whole spectrum (scaled so both weigh alike).
    described = torch.stack([torch.cat([loss(points[i]).reshape(1), spectra[i]]) for i in found]) if found else \
        torch.zeros(0, 1, dtype=torch.float64)
    rows = []
    for i in [found[j] for j in critical_points.distinct(described, relative=1e-6)]:
        w, values, run = points[i], spectra[i], int(model.start_runs[i])
        free = model.masks[run].cpu().bool()
        sub_values = torch.linalg.eigvalsh(h(w)[free][:, free])
        error = (logits(w, data.x, config).argmax(-1) != data.y).double().mean().item()
        rows.append({"row": i, "run": run, "units_on": int(on[run]), "start_step": int(model.start_steps[i]),
                     "from": "end" if int(model.start_steps[i]) == config.steps else "along",
                     "loss": round(loss(w).item(), 6), "error": round(error, 4),
                     "index": round(critical_points.index(values), 5), "negative": int((values < critical_points.NEGATIVE).sum()),
                     "negative_in_sub_network": int((sub_values < critical_points.NEGATIVE).sum()),
                     "grad_norm": float(f"{norms[i]:.3g}"), "lowest_eigenvalue": round(values[0].item(), 5),
                     "top_eigenvalue": round(values[-1].item(), 4)})
    rho = scipy.stats.spearmanr([r["index"] for r in rows], [r["error"] for r in rows]).statistic if len(rows) > 2 \
        else float("nan")
    return {"critical_points": len(rows), "searches": len(used), "converged": len(found),
            "spearman_index_vs_error": round(float(rho), 4), "tolerance": config.tolerance,
            "parameters": model.points.shape[1], "points": rows, "network": describe(config),
            "search_grad_norms": [float(f"{norms[i]:.3g}") for i in used]}


def describe(config: CriticalConfig) -> str:
    size = sum(torch.Size(s).numel() for s in shapes(config))
    return (f"{SIDE * SIDE}-{config.hidden}-10 tanh MLP ({size} weights) on {config.examples} training digits "
            f"averaged to {SIDE} x {SIDE}, L2 penalty {config.weight_decay:g}")


register(ModelSpec(
    name="critical",
    title="Critical points of a small MLP (MNIST 7 x 7)",
    page="loss-surface",
    config_cls=CriticalConfig,
    presets={
        "tiny": CriticalConfig(hidden=3, examples=100, seeds=1, steps=200, starts_per_run=1, newton_iterations=30,
                               lbfgs_iterations=100),
        "cpu": CriticalConfig(),
        # The search runs on the CPU in float64 whatever the device: more units and digits, not more runs.
        "gpu": CriticalConfig(hidden=12, examples=1000, steps=2000, starts_per_run=3),
    },
    build=CriticalSearch,
    data=digits,
    train_step=train_step,
    after_steps=search,
    evaluate=evaluate,
))
