"""What pages and the CLI call: locate, load, train, evaluate and compare models from the registry."""
from dataclasses import dataclass

import torch

from engine import registry, store
from engine.device import get_device
from engine.registry import Claim
from engine.store import Checkpoint, CheckpointError
from engine.train import Progress, build_model, train


class NotTrained(Exception):
    """No usable checkpoint for (name, config)."""


@dataclass
class Loaded:
    model: torch.nn.Module
    checkpoint: Checkpoint
    spec: registry.ModelSpec


def resolve(name: str, preset: str = "cpu", **overrides):
    spec = registry.get(name)
    return spec, spec.config(preset, **overrides)


def locate(name: str, config) -> tuple[Checkpoint | None, list[str]]:
    """The checkpoint that would be loaded (cache first, then shipped) and any damaged ones skipped."""
    return store.find(name, config)


def load(name: str, config) -> Loaded:
    """Rebuild the model from the checkpoint's own config.json and load its verified weights."""
    spec = registry.get(name)
    ckpt, errors = store.find(name, config)
    if ckpt is None:
        if errors:
            raise CheckpointError("; ".join(errors))
        raise NotTrained(f"{name} ({registry.config_hash(name, config)}) is not trained yet")
    model = build_model(spec, spec.config_from_dict(ckpt.config))
    model.load_state_dict(store.load_state(ckpt))      # copied into the model's own dtypes
    model.eval()
    return Loaded(model.to(get_device()), ckpt, spec)


def load_deps(spec: registry.ModelSpec, config) -> dict[str, torch.nn.Module]:
    deps = {}
    for dep, preset in spec.requires(config).items():
        dep_spec = registry.get(dep)
        try:
            deps[dep] = load(dep, dep_spec.config(preset)).model
        except NotTrained:
            raise NotTrained(f"{spec.name} needs {dep} (preset {preset}); train it first") from None
    return deps


def train_and_save(name: str, config, on_progress=None, should_stop=None, on_phase=None) -> Checkpoint:
    """Train (missing dependencies first), evaluate and store in the cache. Returns the new checkpoint."""
    spec = registry.get(name)
    for dep, preset in spec.requires(config).items():
        dep_config = registry.get(dep).config(preset)
        if store.find(dep, dep_config)[0] is None:
            if on_phase:
                on_phase(f"training {dep} ({preset}), which {name} needs")
            train_and_save(dep, dep_config, on_progress, should_stop, on_phase)
    if on_phase:
        on_phase(f"training {name}")
    result = train(spec, config, load_deps(spec, config), on_progress, should_stop)
    return store.save_cached(name, config, result.model.state_dict(), result.metrics, result.history,
                             result.seconds)


def evaluate(name: str, config) -> tuple[dict, Checkpoint]:
    """Recompute held-out metrics from the stored checkpoint (the numbers `engine eval` prints)."""
    loaded = load(name, config)
    with torch.no_grad():
        metrics = loaded.spec.evaluate(loaded.model, loaded.spec.data(config), config,
                                       load_deps(loaded.spec, config))
    return metrics, loaded.checkpoint


def claims(preset: str = "cpu") -> list[tuple[registry.ModelSpec, Claim | None, str]]:
    """Every model's "paper vs. you" rows from its stored metrics; (spec, None, reason) where none are stored."""
    rows = []
    for spec in registry.list_models():
        ckpt, errors = store.find(spec.name, spec.config(preset))
        if ckpt is None:
            rows.append((spec, None, errors[0] if errors else "not trained yet"))
            continue
        rows.extend((spec, claim, ckpt.source) for claim in spec.claims(ckpt.metrics))
    return rows


__all__ = ["Loaded", "NotTrained", "CheckpointError", "Progress", "resolve", "locate", "load", "load_deps",
           "train_and_save", "evaluate", "claims"]
