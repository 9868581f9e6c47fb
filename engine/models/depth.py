"""Depth (tutorial slides 30-34 and 43-57): small networks on 2-D data, trained live, their linear regions counted.

Two things live here.

`LiveNet` is a neural-network playground's network: a few input features of the point (x1, x2, x1^2, ...), 0-6
hidden layers of 1-8 units, one output; trained by minibatch SGD on 0.5 (f(x) - y)^2, with an L1 or L2 penalty
on the weights. The page steps it a few batches per frame and draws what it computes.

`DepthStudy` (registered as "depth") measures the claim of Montufar et al. 2014 ("On the number of linear regions
of deep neural networks", arXiv 1402.1869): a deep rectifier network can cut its input into exponentially more
linear regions than a shallow one with the same number of units,
    max regions of L layers of width n on n_0 inputs >= prod_{i<L} floor(n / n_0)^{n_0} sum_{j<=n_0} C(n, j).
It trains, on the spiral, ReLU networks of depth 1-4 with the same hidden units, and a deep narrow and a shallow
wide network with the same number of parameters, over several seeds, keeping each network's initial weights so
the regions can be counted before and after training.
"""
import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from engine.analysis import flowgraph, regions
from engine.data import playground
from engine.registry import ModelSpec, register

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z}
FEATURES = {
    "x1": lambda x: x[:, 0], "x2": lambda x: x[:, 1], "x1^2": lambda x: x[:, 0] ** 2,
    "x2^2": lambda x: x[:, 1] ** 2, "x1*x2": lambda x: x[:, 0] * x[:, 1],
    "sin x1": lambda x: torch.sin(x[:, 0]), "sin x2": lambda x: torch.sin(x[:, 1]),
}
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
MAX_LAYERS, MAX_UNITS = 6, 8
BOX = (-playground.EXTENT, playground.EXTENT, -playground.EXTENT, playground.EXTENT)
HISTORY = 2000           # loss points kept; older ones are thinned
DIVERGED = 1e6           # a loss past this (labels lie in [-1, 1], so it starts below 2) has blown up


@dataclass(frozen=True)
class Setup:
    """Everything that makes a live network and its data; a link that holds these reproduces the run."""

    dataset: str = "circle"         # playground.CLASSIFY or playground.REGRESS, or "custom" (the user's points)
    noise: float = 0.0              # 0-0.5, as the Playground's 0-50
    train_share: float = 0.5        # share of the points used for training; the rest is the test set
    batch: int = 10                 # SGD minibatch
    features: tuple[str, ...] = ("x1", "x2")
    layers: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    lr: float = 0.03
    regularization: str = "none"    # none, L1 or L2, on the weights (not the biases)
    reg_rate: float = 0.0
    problem: str = "classification"  # labels -1/+1 and a tanh output; regression: values in [-1, 1], linear output
    seed: int = 0                   # data, initial weights and batch order
    points: int = 500

    def check(self) -> None:
        if self.dataset not in playground.GENERATORS and self.dataset != "custom":
            raise ValueError(f"unknown data set {self.dataset!r}")
        if not self.features or any(f not in FEATURES for f in self.features):
            raise ValueError("choose at least one known input feature")
        if len(self.layers) > MAX_LAYERS or any(not 1 <= n <= MAX_UNITS for n in self.layers):
            raise ValueError(f"0-{MAX_LAYERS} hidden layers of 1-{MAX_UNITS} units")
        if self.activation not in ACTIVATIONS or self.regularization not in ("none", "L1", "L2"):
            raise ValueError("unknown activation or regularization")
        if self.problem not in ("classification", "regression"):
            raise ValueError(f"unknown problem {self.problem!r}")
        if not (self.lr > 0 and self.reg_rate >= 0 and self.batch >= 1 and 0 <= self.noise <= 0.5
                and 0 < self.train_share < 1 and 4 <= self.points <= playground.MAX_POINTS):
            raise ValueError("learning rate, batch, noise, training share or number of points out of range")


class Mlp(nn.Module):
    """Fully connected: inputs -> hidden layers with one activation -> one output (tanh to classify)."""

    def __init__(self, inputs: int, layers: tuple[int, ...], activation: str, output: str):
        super().__init__()
        widths = (inputs, *layers, 1)
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.activation, self.output = activation, output

    def pre_activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's weighted sums z (hidden layers, then the output's), each (P, units)."""
        out, h = [], x
        for i, linear in enumerate(self.linears):
            z = linear(h)
            out.append(z)
            h = ACTIVATIONS[self.activation if i < len(self.linears) - 1 else self.output](z)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.pre_activations(x)[-1]
        return ACTIVATIONS[self.output](z).squeeze(1)        # (P,)

    def layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy()) for lin in self.linears]


def features_of(x: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    return torch.stack([FEATURES[n](x) for n in names], 1)


def half_squared_error(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((out - y) ** 2).mean()


ACTIVATIONS_NP = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
                  "linear": lambda z: z}
# d activation / dz, from z and the activation's value h (ReLU's is 0 at z = 0, as autograd's)
DERIVATIVES_NP = {"relu": lambda z, h: (z > 0).astype(z.dtype), "tanh": lambda z, h: 1 - h * h,
                  "sigmoid": lambda z, h: h * (1 - h), "linear": lambda z, h: np.ones_like(z)}


def forward_np(params: list[tuple[np.ndarray, np.ndarray]], activations: list[str],
               x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every layer's weighted sums z and outputs h (h[0] = x), in numpy: on a few hundred points a tenth of the
    time of the module's own forward."""
    hs, zs = [x], []
    for (w, b), act in zip(params, activations):
        zs.append(hs[-1] @ w.T + b)
        hs.append(ACTIVATIONS_NP[act](zs[-1]))
    return zs, hs


def sgd_step(params: list[tuple[np.ndarray, np.ndarray]], activations: list[str], x: np.ndarray, y: np.ndarray,
             setup: Setup) -> float:
    """One SGD step on the batch (x, y), back-propagation written out: forward layer by layer keeping every z and
    h, then dL/dz = dL/dh * act'(z), dL/dW = dL/dz^T h_prev, dL/dh_prev = dL/dz W, from the output back. Updates
    `params` in place; returns the batch's loss (with the penalty). A tenth of autograd's time on networks this
    small, where each step is a few dozen tiny operations (the tests hold it to autograd's gradients)."""
    with np.errstate(over="ignore", invalid="ignore"):
        zs, hs = forward_np(params, activations, x)
        error = hs[-1][:, 0] - y
        loss = 0.5 * float(np.mean(error * error))
        rate = setup.reg_rate if setup.regularization != "none" else 0.0
        if rate:
            weights = [w for w, _ in params]
            loss += rate * (sum(float(np.abs(w).sum()) for w in weights) if setup.regularization == "L1"
                            else sum(0.5 * float((w * w).sum()) for w in weights))
        if not math.isfinite(loss):
            return math.inf
        grad_h = error[:, None] / len(y)                                    # dL/d output, (B, 1)
        for i in range(len(params) - 1, -1, -1):
            w, b = params[i]
            grad_z = grad_h * DERIVATIVES_NP[activations[i]](zs[i], hs[i + 1])
            grad_w = grad_z.T @ hs[i]
            if rate:
                grad_w += rate * (np.sign(w) if setup.regularization == "L1" else w)
            grad_h = grad_z @ w                                             # before w changes
            w -= setup.lr * grad_w
            b -= setup.lr * grad_z.sum(0)
    return loss


class LiveNet:
    """A playground network and its data, trained a few batches at a time."""

    def __init__(self, setup: Setup, points: tuple[np.ndarray, np.ndarray] | None = None):
        setup.check()
        self.setup = setup
        if setup.dataset == "custom":
            if points is None:
                raise ValueError("a custom data set needs its points")
            x, y = points
        else:
            x, y = playground.make(setup.dataset, setup.points, setup.noise, setup.seed)
        xtr, ytr, xte, yte = playground.split(x, y, setup.train_share, setup.seed)
        self.x_train, self.y_train = torch.from_numpy(xtr), torch.from_numpy(ytr)
        self.x_test, self.y_test = torch.from_numpy(xte), torch.from_numpy(yte)
        self.f_train = features_of(self.x_train, setup.features)
        self.f_test = features_of(self.x_test, setup.features)
        output = "tanh" if setup.problem == "classification" else "linear"
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(setup.seed)
            self.net = Mlp(len(setup.features), setup.layers, setup.activation, output)
        # The weights as numpy arrays sharing the module's memory: SGD updates them in place, so the module always
        # holds the current network.
        self.params = [(lin.weight.detach().numpy(), lin.bias.detach().numpy()) for lin in self.net.linears]
        self.activations = [setup.activation] * len(setup.layers) + [output]
        self.f_np, self.y_np = self.f_train.numpy(), self.y_train.numpy()
        self.generator = torch.Generator().manual_seed(setup.seed)
        self.steps = 0
        self.order = np.zeros(0, dtype=np.int64)
        self.history: list[tuple[int, float, float]] = []       # (step, train loss, test loss)
        self.history.append((0, *self.losses()))
        self.initial_layers = self.hidden_layers_on_plane() if self.piecewise_linear() else None
        self.initial_regions: int | None = None         # counted once, when first asked for (page: regions view)

    @property
    def epoch(self) -> float:
        return self.steps * self.setup.batch / len(self.x_train)

    def losses(self) -> tuple[float, float]:
        """The data loss 0.5 mean (f(x) - y)^2 on the training and the test points."""
        with np.errstate(over="ignore", invalid="ignore"):
            return tuple(0.5 * float(np.mean((forward_np(self.params, self.activations, f)[1][-1][:, 0] - y) ** 2))
                         for f, y in ((self.f_np, self.y_np), (self.f_test.numpy(), self.y_test.numpy())))

    def step(self, batches: int = 1) -> None:
        """`batches` SGD steps on minibatches taken in a shuffled order, epoch after epoch."""
        for _ in range(batches):
            if len(self.order) < self.setup.batch:
                self.order = np.concatenate([self.order, torch.randperm(
                    len(self.x_train), generator=self.generator).numpy()])
            idx, self.order = self.order[:self.setup.batch], self.order[self.setup.batch:]
            if sgd_step(self.params, self.activations, self.f_np[idx], self.y_np[idx], self.setup) > DIVERGED:
                raise FloatingPointError("the loss diverged: lower the learning rate and reset")
            self.steps += 1
        train, test = self.losses()
        if not (math.isfinite(train) and math.isfinite(test)) or max(train, test) > DIVERGED:
            raise FloatingPointError("the loss diverged: lower the learning rate and reset")
        self.history.append((self.steps, train, test))
        if len(self.history) > HISTORY:
            self.history = self.history[::2]

    def on_grid(self, size: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """The input features (features, size, size) and every unit's output per layer (units, size, size) on a
        size x size grid over the box; the last layer is the network's output (1, size, size). Rows run from the top
        (x2 = 6) down."""
        inputs = self.grid_features(size)
        _, hs = forward_np(self.params, self.activations, inputs)
        return inputs.T.reshape(-1, size, size), [h.T.reshape(-1, size, size) for h in hs[1:]]

    @functools.lru_cache(maxsize=4)  # noqa: B019 (a few grids per network, freed with it)
    def grid_features(self, size: int) -> np.ndarray:
        """The input features at the centres of a size x size grid over the box, (size * size, features)."""
        return features_of(torch.from_numpy(regions.grid(BOX, size)).float(), self.setup.features).numpy()

    def accuracy(self) -> tuple[float, float]:
        """Share of train and test points on the right side of 0 (classification)."""
        with torch.no_grad():
            return tuple(((self.net(f) > 0) == (y > 0)).float().mean().item()
                         for f, y in ((self.f_train, self.y_train), (self.f_test, self.y_test)))

    def piecewise_linear(self) -> bool:
        """Regions are linear pieces only for ReLU units on x1 and x2 themselves."""
        return self.setup.activation == "relu" and set(self.setup.features) <= {"x1", "x2"} and bool(self.setup.layers)

    def region_map(self, size: int) -> tuple[np.ndarray, int]:
        """Each grid cell's activation-pattern id and the number of patterns on the grid (hidden layers only)."""
        zs = forward_np(self.params, self.activations, self.grid_features(size))[0][:-1]
        if not zs:
            return np.zeros((size, size), dtype=np.int64), 1
        ids, count = regions.pattern_ids(zs)
        return ids.reshape(size, size), count

    def hidden_layers_on_plane(self) -> list[regions.Layer]:
        """The hidden layers as maps of the point (x1, x2), for the exact count (piecewise_linear() only);
        `initial_layers` holds them as they were before training."""
        layers = self.net.layers()[:-1]
        w, b = layers[0]
        order = [self.setup.features.index(f) if f in self.setup.features else None for f in ("x1", "x2")]
        first = np.stack([w[:, i] if i is not None else np.zeros(len(b)) for i in order], 1)
        return [(first, b)] + layers[1:]

    def flow_graph(self, index: int) -> flowgraph.Graph:
        """The flow graph of the network on training point `index`."""
        return flowgraph.network(self.net.layers(), self.setup.activation, self.net.output,
                                 self.f_train[index].double().numpy(), float(self.y_train[index]),
                                 list(self.setup.features))

    def autograd(self, index: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """dL/dW, dL/db of the data loss on one training point, by PyTorch's autograd on a float64 copy."""
        net = Mlp(len(self.setup.features), self.setup.layers, self.setup.activation, self.net.output).double()
        net.load_state_dict({k: v.double() for k, v in self.net.state_dict().items()})
        with torch.enable_grad():              # evaluation runs under no_grad
            loss = 0.5 * (net(self.f_train[index:index + 1].double())[0] - float(self.y_train[index])) ** 2
            loss.backward()
        return [(lin.weight.grad.numpy(), lin.bias.grad.numpy()) for lin in net.linears]

    def gradient_check(self, index: int) -> tuple[flowgraph.Graph, list[flowgraph.Check]]:
        graph = self.flow_graph(index)
        return graph, flowgraph.check_network(graph, self.autograd(index))


# ---------------------------------------------------------------- the registered study

@dataclass(frozen=True)
class DepthConfig:
    units: int = 24                     # hidden ReLUs every depth shares: 24 x 1, 12 x 2, 8 x 3, 6 x 4
    depths: tuple[int, ...] = (1, 2, 3, 4)
    deep: tuple[int, ...] = (8, 8, 8)   # 177 parameters on two inputs ...
    shallow: int = 44                   # ... as many as one layer of 44 units: 4 * 44 + 1
    seeds: int = 3                      # every network is trained from this many initialisations
    dataset: str = "spiral"             # the Playground's hardest set
    noise: float = 0.0
    points: int = 500                   # half train, half test
    steps: int = 4000                   # full-batch Adam steps
    lr: float = 0.01
    zigzag_depths: int = 3              # Montufar's construction counted exactly for 1..3 layers of 6 units
    seed: int = 0


def study_names(config: DepthConfig) -> list[str]:
    names = [f"units_d{d}_s{s}" for d in config.depths for s in range(config.seeds)]
    return names + [f"{kind}_s{s}" for kind in ("deep", "shallow") for s in range(config.seeds)]


def study_widths(config: DepthConfig, name: str) -> tuple[int, ...]:
    kind = name.split("_")[0]
    if kind == "units":
        depth = int(name.split("_")[1][1:])
        return (config.units // depth,) * depth
    return config.deep if kind == "deep" else (config.shallow,)


class DepthStudy(nn.Module):
    """Every network of the study, trained, beside a frozen copy of its initial weights."""

    def __init__(self, config: DepthConfig):
        super().__init__()
        nets = {}
        for name in study_names(config):
            seed = config.seed * 1000 + int(name.rsplit("_s", 1)[1])
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                nets[name] = Mlp(2, study_widths(config, name), "relu", "tanh")
        self.trained = nn.ModuleDict(nets)
        self.initial = nn.ModuleDict({k: Mlp(2, study_widths(config, k), "relu", "tanh") for k in nets})
        self.initial.load_state_dict(self.trained.state_dict())
        self.initial.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Every trained network's output at x, one column per network in study_names' order."""
        return torch.stack([net(x) for net in self.trained.values()], 1)


@dataclass(frozen=True)
class StudyData:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def study_data(config: DepthConfig) -> StudyData:
    x, y = playground.make(config.dataset, config.points, config.noise, config.seed)
    parts = playground.split(x, y, 0.5, config.seed)
    return StudyData(*(torch.from_numpy(p) for p in parts))


def study_step(model: DepthStudy, data: StudyData, config: DepthConfig, generator) -> torch.Tensor:
    # The networks share no weights, so the sum's gradient is each network's own, and Adam's update is
    # per weight: one optimizer trains them all as if apart.
    return sum(half_squared_error(net(data.x_train), data.y_train) for net in model.trained.values())


def parameter_count(widths: tuple[int, ...], inputs: int = 2) -> int:
    sizes = (inputs, *widths, 1)
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def _count(net: Mlp) -> int:
    return regions.exact_count(net.layers()[:-1], BOX)


def evaluate_study(model: DepthStudy, data: StudyData, config: DepthConfig, deps) -> dict:
    by_depth = {}
    for depth in config.depths:
        names = [f"units_d{depth}_s{s}" for s in range(config.seeds)]
        widths = study_widths(config, names[0])
        by_depth[str(depth)] = {
            "widths": list(widths),
            "regions_init": [_count(model.initial[n]) for n in names],
            "regions_trained": [_count(model.trained[n]) for n in names],
            "test_loss": [round(half_squared_error(model.trained[n](data.x_test), data.y_test).item(), 5)
                          for n in names],
            "bound": regions.montufar_bound(list(widths)),
        }
    pair = {}
    for kind in ("deep", "shallow"):
        nets = [model.trained[f"{kind}_s{s}"] for s in range(config.seeds)]
        widths = study_widths(config, f"{kind}_s0")
        with torch.no_grad():
            losses = [half_squared_error(net(data.x_test), data.y_test).item() for net in nets]
            accuracy = [((net(data.x_test) > 0) == (data.y_test > 0)).float().mean().item() for net in nets]
        pair[kind] = {"widths": list(widths), "parameters": parameter_count(widths),
                      "test_loss": [round(v, 5) for v in losses], "test_accuracy": [round(v, 4) for v in accuracy]}
    zigzag = [{"depth": d, "units": 6 * d, "regions": regions.exact_count(regions.zigzag_layers(d), regions.UNIT_SQUARE),
               "shallow_max": regions.shallow_max(6 * d)} for d in range(1, config.zigzag_depths + 1)]
    probe = LiveNet(Setup(dataset=config.dataset, layers=config.deep, activation="relu", seed=config.seed))
    probe.net.load_state_dict(model.trained["deep_s0"].state_dict())
    _, checks = probe.gradient_check(0)
    mean = lambda v: round(float(np.mean(v)), 5)  # noqa: E731
    return {
        "units": config.units,
        "by_depth": by_depth,
        "shallow_max": regions.shallow_max(config.units),
        "mean_regions_init": {d: mean(v["regions_init"]) for d, v in by_depth.items()},
        "mean_regions_trained": {d: mean(v["regions_trained"]) for d, v in by_depth.items()},
        "equal_parameters": pair,
        "deep_beats_shallow": mean(pair["deep"]["test_loss"]) < mean(pair["shallow"]["test_loss"]),
        "zigzag": zigzag,
        "gradient_check_autograd": max(c.error_autograd for c in checks),
        "gradient_check_finite_difference": max(c.error_finite_difference for c in checks),
        "gradient_checked": len(checks),
        "setting": (f"{config.dataset}, {config.points // 2} training and {config.points // 2} test points, "
                    f"ReLU networks, {config.steps:,} full-batch Adam steps, {config.seeds} seeds; regions "
                    f"counted exactly in the square [-6, 6]^2"),
    }


register(ModelSpec(
    name="depth",
    title="Networks of different depth on the spiral",
    page="depth",
    config_cls=DepthConfig,
    presets={
        "tiny": DepthConfig(units=8, depths=(1, 2), deep=(4, 4), shallow=9, seeds=1, points=100, steps=50,
                            zigzag_depths=2),
        "cpu": DepthConfig(),
        "gpu": DepthConfig(seeds=10, steps=10000),
    },
    build=DepthStudy,
    data=study_data,
    train_step=study_step,
    evaluate=evaluate_study,
))
