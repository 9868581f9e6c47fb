"""One training loop for every registered model. No argparse, no Streamlit: callers pass callbacks."""
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from engine.device import get_device
from engine.registry import ModelSpec

HISTORY_POINTS = 200    # loss curve points kept per run, whatever the step count


class Cancelled(Exception):
    """Raised inside the loop when the caller asked to stop."""


@dataclass
class Progress:
    step: int
    total: int
    loss: float
    elapsed: float

    @property
    def eta(self) -> float:
        return self.elapsed / max(self.step, 1) * (self.total - self.step)


@dataclass
class TrainResult:
    model: torch.nn.Module
    metrics: dict
    history: list
    seconds: float


def build_model(spec: ModelSpec, config) -> torch.nn.Module:
    """Build with the config's seed without touching the caller's global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return spec.build(config).to(get_device())


def make_optimizer(model: torch.nn.Module, config) -> torch.optim.Optimizer:
    """Adam, fused as engine.models.common.adam makes it, unless the config says optimizer="sgd" (plain SGD);
    weight_decay is coupled L2 in the gradient, so weights that get no data gradient decay to zero."""
    decay = getattr(config, "weight_decay", 0.0)
    if getattr(config, "optimizer", "adam") == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, weight_decay=decay)
    return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=decay, fused=True)


def _loss_step(spec: ModelSpec, model, data, config, generator) -> Callable[[], float]:
    optimizer = make_optimizer(model, config)

    def step() -> float:
        loss = spec.train_step(model, data, config, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def _game_step(spec: ModelSpec, model, data, config, generator) -> Callable[[], float]:
    optimizers = spec.optimizers(model, config)
    return lambda: spec.train_step(model, data, config, generator, optimizers)


def make_step(spec: ModelSpec, model, data, config, generator) -> Callable[[], float]:
    """One training step of `model` (with its optimizers made here) as a call returning the step's loss."""
    if spec.optimizers:
        return _game_step(spec, model, data, config, generator)
    return _loss_step(spec, model, data, config, generator)


def train(spec: ModelSpec, config, deps: dict, on_progress: Callable[[Progress], None] | None = None,
          should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Train `spec` with `config`, then evaluate on held-out data with the loaded dependency models `deps`."""
    start = time.perf_counter()
    model = build_model(spec, config)
    data = spec.data(config)
    generator = torch.Generator().manual_seed(config.seed)
    step_once = make_step(spec, model, data, config, generator)
    every = max(1, config.steps // HISTORY_POINTS)
    history, running = [], []
    model.train()
    for step in range(1, config.steps + 1):
        running.append(step_once())
        if step % every == 0 or step == config.steps:
            mean = sum(running) / len(running)
            running.clear()
            history.append([step, round(mean, 6)])
            if on_progress:
                on_progress(Progress(step, config.steps, mean, time.perf_counter() - start))
            if should_stop and should_stop():
                raise Cancelled()
    if spec.after_steps:
        def report(done: int, total: int, value: float) -> None:
            if on_progress:
                on_progress(Progress(done, total, value, time.perf_counter() - start))
            if should_stop and should_stop():
                raise Cancelled()
        spec.after_steps(model, data, config, report)
    model.eval()
    with torch.no_grad():
        metrics = spec.evaluate(model, data, config, deps)
    return TrainResult(model, metrics, history, time.perf_counter() - start)
