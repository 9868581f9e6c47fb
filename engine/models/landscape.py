"""A small MNIST network, an MLP or a small convnet, trained with plain SGD while it records its own training
trajectory: its weights at evenly spaced steps from the initialisation on, so that the loss-surface page (slides
35-38) can show the loss around the trained weights and along the path that led there.

Goodfellow, Vinyals & Saxe 2015, "Qualitatively characterizing neural network optimization problems", arXiv
1412.6544: the loss on the straight line from the initial weights theta_0 to the trained ones theta_1,
    theta(a) = (1 - a) theta_0 + a theta_1,   L(theta(a)) for a in [0, 1]   (the page extends a past both ends)
falls monotonically for such networks; max_bump is the largest rise of the loss on the way.

Li, Xu, Taylor, Studer & Goldstein 2018, "Visualizing the loss landscape of neural nets", arXiv 1712.09913: the loss
on a plane through the trained weights theta*,
    f(a, b) = L(theta* + a d1 + b d2),   d_ij <- d_ij / ||d_ij|| * ||theta_ij||   (section 4)
with d1, d2 Gaussian directions whose every filter j of layer i (a unit's incoming weights) is rescaled to the norm
of the same filter in theta*, and zero on biases, so the picture does not depend on how the weights are scaled.
The same plane is drawn through the trajectory's top two principal directions, taken relative to its end point
(section 7), with the path projected on it.

Curvature (engine.analysis.curvature): at a few points along the path, the Hessian's spectrum is estimated by
stochastic Lanczos quadrature (Ghorbani et al. 2019) from Hessian-vector products by double back-propagation, since
the P x P Hessian is too large to form; it gives the top eigenvalue and the share of negative eigenvalues (the index;
Dauphin et al. 2014).

Every loss is the mean cross-entropy on the same fixed training digits, not on a minibatch, so that the line, the
planes and the spectra all describe one function.
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.analysis import curvature, loss_slices
from engine.data.mnist import load_mnist
from engine.models.common import model_device, sample_batch
from engine.registry import ModelSpec, register


@dataclass(frozen=True)
class LandscapeConfig:
    """The cpu preset: networks small enough that their trajectories ship (31 x P floats) and that every loss the
    page draws is one forward pass over a thousand digits; the shipped ones took 37 s (MLP) and 2 minutes (convnet)
    to train."""
    # Both architectures, so that the page shows the pictures are not a fully connected net's alone.
    arch: str = "mlp"           # "mlp": 784-hidden-10 ReLU; "cnn": two 5x5 conv layers (channels, 2 x channels)
    hidden: int = 32            # 25,450 weights: the trajectory stays about 3 MB, still about 91% held-out accuracy
    channels: int = 8           # 8 and 16 channels: 11,274 weights, and still 3.4x the MLP's training time on CPU
    steps: int = 3000           # 43 passes over 4,500 digits: final training loss 0.07 (MLP), 0.002 (convnet)
    batch_size: int = 64        # small minibatches: the recorded path is SGD's noisy one, and a step costs little
    # Plain SGD, no momentum: each step of the recorded path is then -lr times a minibatch gradient, so the path and
    # the curvature measured along it speak of the same update rule.
    optimizer: str = "sgd"
    # The largest Hessian eigenvalue the shipped runs measure along training stays below 8, under the 2 / lr = 20
    # past which gradient descent diverges along its eigenvector; a smaller rate would only need more steps.
    lr: float = 0.1
    # Weights kept every steps / snapshots = 100 updates, the initial ones included: with the final ones, 31 points,
    # enough for the path's principal directions and to draw it as a curve, at 31 x P floats in the checkpoint.
    snapshots: int = 30
    seed: int = 0               # fixed, so every run starts its path from the same initial weights
    eval_points: int = 1000     # training digits every loss is on: the page's 41 x 41 plane is 1,681 passes over them
    line_points: int = 41       # a in steps of 0.025 on [0, 1]: a narrower bump could slip between the points
    curvature_points: int = 6   # every 600 steps, both ends included; each costs lanczos_steps x lanczos_probes H v
    lanczos_steps: int = 20     # extreme Ritz values converge first: enough for the top eigenvalue, a coarse bulk
    lanczos_probes: int = 2     # one start's quadrature weights are noisy; each more start costs as much again


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
                                     nn.Flatten(), nn.Linear(2 * c * 7 * 7, 10))    # (B, 2c, 7, 7) after two poolings
        size = sum(p.numel() for p in self.parameters())
        # trajectory[k] holds the flattened weights after k * every updates; row 0 is the initialisation. Buffers,
        # so the path is saved and loaded with the checkpoint. The spare row takes the remainder when steps is not a
        # multiple of snapshots.
        self.register_buffer("trajectory", torch.zeros(config.snapshots + 1, size))    # (snapshots + 1, P)
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
        return torch.cat([self.trajectory[:int(self.filled)], self.weights()[None]])    # (filled + 1, P)


def train_step(model, data, config, generator):
    x, y = sample_batch(data.x_train, config.batch_size, generator, data.y_train)
    dev = model_device(model)
    # The training loop applies the update after this returns, so the weights recorded are those before it.
    model.record()
    return F.cross_entropy(model(x.to(dev)), y.to(dev))


def evaluate(model, data, config, deps):
    dev = model_device(model)
    with torch.no_grad():
        accuracy = (model(data.x_test.to(dev)).argmax(-1).cpu() == data.y_test).float().mean().item()
    x, y = data.x_train[:config.eval_points], data.y_train[:config.eval_points]
    path = model.path()
    line = loss_slices.line(model, path[0], path[-1], torch.linspace(0, 1, config.line_points), x, y)
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
            "interp_max_bump": round(loss_slices.max_bump(line), 4), "snapshots": len(path),
            "final_top_eigenvalue": along["top_eigenvalue"][-1], "final_negative_share": along["negative_share"][-1],
            "curvature_along_training": along, "final_spectrum": final, "test_images": len(data.x_test),
            "network": describe(config)}


def describe(config: LandscapeConfig) -> str:
    if config.arch == "mlp":
        return f"784-{config.hidden}-10 ReLU MLP"
    return f"convnet with 5 x 5 convolutions of {config.channels} and {2 * config.channels} channels"


register(ModelSpec(
    name="landscape",
    title="Small network with its training trajectory (MNIST)",
    page="loss-surface",
    config_cls=LandscapeConfig,
    presets={
        "tiny": LandscapeConfig(hidden=8, channels=2, steps=60, snapshots=6, eval_points=100, line_points=11, curvature_points=3,
                                lanczos_steps=5, lanczos_probes=1),
        "cpu": LandscapeConfig(),
        "gpu": LandscapeConfig(hidden=256, steps=20000, batch_size=128, snapshots=50, eval_points=5000),
    },
    build=LandscapeNet,
    data=lambda config: load_mnist(),
    train_step=train_step,
    evaluate=evaluate,
    variants=({"arch": "cnn"},),
))
