"""A small MNIST network (an MLP, or a small convnet) trained with plain SGD, keeping snapshots of its weights along
the way, so its loss landscape can be looked at around the trained weights and along the path that led there (slides 35-38; Goodfellow et al.
2015, "Qualitatively characterizing neural network optimization problems"; Li et al. 2018, "Visualizing the loss
landscape of neural nets").
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine import registry
from engine.analysis import curvature, landscape, surfaces
from engine.data.mnist import load_mnist
from engine.models.common import model_device, sample_batch
from engine.registry import Claim, ModelSpec, register


@dataclass(frozen=True)
class LandscapeConfig:
    arch: str = "mlp"           # "mlp": 784-hidden-10 ReLU; "cnn": two 5x5 conv layers (channels, 2 x channels)
    hidden: int = 32
    channels: int = 8
    steps: int = 3000
    batch_size: int = 64
    optimizer: str = "sgd"      # plain SGD, the optimizer of the landscape papers, no momentum
    lr: float = 0.1
    snapshots: int = 30         # weights kept along training, the initial ones included
    seed: int = 0
    eval_points: int = 1000     # training digits the landscape's loss is measured on
    line_points: int = 41
    curvature_points: int = 6   # points along training where the Hessian spectrum is estimated
    lanczos_steps: int = 20
    lanczos_probes: int = 2
    critical: str = "cpu"       # preset of the critical-point search whose counts are reported beside these


ARCHS = {"mlp": "MLP", "cnn": "small convnet"}


class LandscapeNet(nn.Module):
    def __init__(self, config: LandscapeConfig):
        super().__init__()
        if config.arch not in ARCHS:
            raise ValueError(f"unknown arch {config.arch!r}; choose from {', '.join(ARCHS)}")
        c = config.channels
        if config.arch == "mlp":
            self.net = nn.Sequential(nn.Linear(784, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 10))
        else:
            self.net = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, c, 5, padding=2), nn.ReLU(),
                                     nn.MaxPool2d(2), nn.Conv2d(c, 2 * c, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Flatten(), nn.Linear(2 * c * 7 * 7, 10))
        size = sum(p.numel() for p in self.parameters())
        # trajectory[k] holds the flattened weights after k * every updates; row 0 is the initialisation.
        self.register_buffer("trajectory", torch.zeros(config.snapshots + 1, size))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))     # optimizer steps applied so far
        self.register_buffer("filled", torch.zeros((), dtype=torch.long))      # trajectory rows written
        self.every = max(1, config.steps // config.snapshots)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @torch.no_grad()
    def record(self) -> None:
        """Called before each update: keep the weights every `every` updates, the initial ones first."""
        row = int(self.updates) // self.every
        if int(self.updates) % self.every == 0 and row < len(self.trajectory):
            self.trajectory[row] = torch.nn.utils.parameters_to_vector(self.parameters())
            self.filled.fill_(row + 1)
        self.updates += 1

    def weights(self) -> torch.Tensor:
        return torch.nn.utils.parameters_to_vector(self.parameters()).detach()

    def path(self) -> torch.Tensor:
        """The kept weights (S, P), the initial ones first and the final ones last."""
        return torch.cat([self.trajectory[:int(self.filled)], self.weights()[None]])


def train_step(model, data, config, generator):
    x, y = sample_batch(data.x_train, config.batch_size, generator, data.y_train)
    dev = model_device(model)
    model.record()
    return F.cross_entropy(model(x.to(dev)), y.to(dev))


def evaluate(model, data, config, deps):
    dev = model_device(model)
    with torch.no_grad():
        accuracy = (model(data.x_test.to(dev)).argmax(-1).cpu() == data.y_test).float().mean().item()
    x, y = data.x_train[:config.eval_points], data.y_train[:config.eval_points]
    path = model.path()
    line = landscape.line(model, path[0], path[-1], torch.linspace(0, 1, config.line_points), x, y)
    rows = torch.linspace(0, len(path) - 1, config.curvature_points).round().long().tolist()
    along = {"step": [], "top_eigenvalue": [], "negative_share": []}
    for row in rows:
        values, weights = curvature.spectrum(curvature.hvp_function(model, path[row], x, y), path.shape[1],
                                             config.lanczos_steps, config.lanczos_probes, seed=row)
        point = curvature.summary(values, weights)
        along["step"].append(min(row * model.every, config.steps))
        along["top_eigenvalue"].append(round(point["top_eigenvalue"], 4))
        along["negative_share"].append(round(point["negative_share"], 4))
    final = {"values": [round(v, 4) for v in values.tolist()], "weights": [round(w, 5) for w in weights.tolist()]}
    return {"test_accuracy": round(accuracy, 4), "initial_loss": round(line[0], 4), "final_loss": round(line[-1], 4),
            "interp_max_bump": round(landscape.max_bump(line), 4), "snapshots": len(path),
            "final_top_eigenvalue": along["top_eigenvalue"][-1], "final_negative_share": along["negative_share"][-1],
            "curvature_along_training": along, "final_spectrum": final, "test_images": len(data.x_test),
            "network": describe(config), **surfaces.saddle_claims(), **critical_scores(config.critical, deps["critical"])}


def critical_scores(preset: str, critical_model) -> dict:
    """The critical-point counts of the small network that the page shows beside this one."""
    spec = registry.get("critical")
    config = spec.config(preset)
    metrics = spec.evaluate(critical_model, spec.data(config), config, {})
    return {"critical_points": metrics["critical_points"],
            "spearman_index_vs_error": metrics["spearman_index_vs_error"],
            "critical_tolerance": metrics["tolerance"]}


def describe(config: LandscapeConfig) -> str:
    if config.arch == "mlp":
        return f"784-{config.hidden}-10 ReLU MLP"
    return f"convnet with 5 x 5 convolutions of {config.channels} and {2 * config.channels} channels"


def claims(metrics: dict) -> list[Claim]:
    return [Claim(page="loss-surface",
                  claim="The loss falls monotonically on the straight line from initialisation to the trained weights",
                  paper="Goodfellow et al. 2015: no bump for feed-forward nets on MNIST",
                  ours=f"largest rise along the line {metrics['interp_max_bump']:.4f} "
                       f"(loss {metrics['initial_loss']:.3f} to {metrics['final_loss']:.3f})",
                  holds=metrics["interp_max_bump"] < 0.01,
                  setting=f"{metrics['network']}, plain SGD, 4,500 training digits; loss on 1,000 of them")] + surfaces.saddle_claim_rows(metrics)


register(ModelSpec(
    name="landscape",
    title="Small network with its training trajectory (MNIST)",
    page="loss-surface",
    config_cls=LandscapeConfig,
    presets={
        "tiny": LandscapeConfig(hidden=8, channels=2, steps=60, snapshots=6, eval_points=100, line_points=11, curvature_points=3,
                                lanczos_steps=5, lanczos_probes=1, critical="tiny"),
        "cpu": LandscapeConfig(),
        "gpu": LandscapeConfig(hidden=256, steps=20000, batch_size=128, snapshots=50, eval_points=5000,
                               critical="gpu"),
    },
    build=LandscapeNet,
    data=lambda config: load_mnist(),
    train_step=train_step,
    requires=lambda config: {"critical": config.critical},
    evaluate=evaluate,
    claims=claims,
    variants=({"arch": "cnn"},),
))
