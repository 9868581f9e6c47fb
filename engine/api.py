"""The engine as the web pages and the CLI see it: models from the registry, their checkpoints, training jobs,
held-out evaluation, the "paper vs. you" claims and the classroom's rooms (`api.rooms`, engine/rooms.py). Pages and
the shared widgets import this module, never the registry, the store, the jobs or the training loop themselves
(tests/unit/test_layout.py holds them to it).
"""
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from engine import claims as claims_layer
from engine import jobs, registry, rooms, store
from engine.claims import Claim, Report
from engine.device import configure_threads, get_device, numpy_on_one_thread
from engine.jobs import JobStatus, JobsUnavailable, QueueFull
from engine.registry import PRESETS, ModelSpec, config_hash
from engine.rooms import RoomError, TrainingLocked
from engine.store import Checkpoint, CheckpointError
from engine.train import Progress, build_model, train


class NotTrained(Exception):
    """No usable checkpoint for (name, config)."""


@dataclass
class Loaded:
    model: torch.nn.Module
    checkpoint: Checkpoint
    spec: registry.ModelSpec


def spec(name: str) -> ModelSpec:
    return registry.get(name)


def list_models() -> list[ModelSpec]:
    return registry.list_models()


def config(name: str, preset: str = "cpu", **overrides):
    """The preset's config of a model, with some fields changed."""
    return registry.get(name).config(preset, **overrides)


def config_from_dict(name: str, values: dict):
    return registry.get(name).config_from_dict(values)


def locate(name: str, config, seat: str = "") -> tuple[Checkpoint | None, list[str]]:
    """The checkpoint that would be loaded (the seat's own first, then the cache, then shipped) and any damaged
    ones skipped."""
    return store.find(name, config, seat)


def load(name: str, config, seat: str = "") -> Loaded:
    """Rebuild the model from the checkpoint's own config.json and load its verified weights."""
    spec = registry.get(name)
    ckpt, errors = store.find(name, config, seat)
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


def train_and_save(name: str, config, on_progress=None, should_stop=None, on_phase=None, seat: str = "") -> Checkpoint:
    """Train (missing dependencies first), evaluate and store in the cache (or the seat's own checkpoints; missing
    dependencies always go to the cache). Returns the new checkpoint."""
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
                             result.seconds, seat)


def evaluate(name: str, config) -> tuple[dict, Checkpoint]:
    """Recompute held-out metrics from the stored checkpoint (the numbers `engine eval` prints)."""
    loaded = load(name, config)
    with torch.no_grad():
        metrics = loaded.spec.evaluate(loaded.model, loaded.spec.data(config), config,
                                       load_deps(loaded.spec, config))
    return metrics, loaded.checkpoint


def claims(page: str, preset: str = "cpu") -> Report:
    """The page's "paper vs. you" claims, from the stored metrics of the checkpoints it serves."""
    return claims_layer.report(page, preset)


def all_claims(preset: str = "cpu") -> list[Report]:
    """Every page's claims, in the tutorial's order (Home's table)."""
    return claims_layer.reports(preset)


def cache_dir(kind: str) -> Path:
    """A folder of this machine's cache for derived arrays of one kind (projections, say)."""
    return store.cache_root() / kind


# ---------------------------------------------------------------- training jobs (worker processes or Ray)

def jobs_backend():
    """Where training jobs run: engine.jobs (worker processes on this machine), or engine.cluster when
    PLAYGROUND_RAY_ADDRESS names a Ray cluster (only then is Ray imported). Both have start, status, cancel and
    all_jobs."""
    if os.environ.get(jobs.RAY_ENV, "").strip():
        from engine import cluster
        return cluster
    return jobs


def start_job(name: str, config, owner: str = "") -> JobStatus:
    """Queue training of (name, config) in a worker process, or join the job already queued or running for it.
    A classroom student (owner = their room token) trains into a seat of their own, and only while their teacher
    allows training. Raises QueueFull when the queue, or this owner's share of it, is full, and TrainingLocked."""
    rooms.may_train(owner)
    return jobs_backend().start(name, config, owner, rooms.seat(owner))


def job_status(name: str, config, owner: str = "") -> JobStatus | None:
    """The job `owner` would see: a classroom student's own, else the class's."""
    return jobs_backend().status(name, config, rooms.seat(owner))


def cancel_job(name: str, config, owner: str = "") -> bool:
    rooms.may_train(owner)
    return jobs_backend().cancel(name, config, rooms.seat(owner))


def seat(owner: str) -> str:
    """Where `owner`'s training is saved and looked for first: a classroom student's own seat, else ""."""
    return rooms.seat(owner)


def all_jobs() -> list[JobStatus]:
    return jobs_backend().all_jobs()


__all__ = ["PRESETS", "Checkpoint", "CheckpointError", "Claim", "JobStatus", "Loaded", "ModelSpec", "NotTrained",
           "JobsUnavailable", "Progress", "QueueFull", "Report", "RoomError", "TrainingLocked", "all_claims", "all_jobs", "cache_dir", "cancel_job", "claims", "config",
           "config_from_dict", "config_hash", "configure_threads", "evaluate", "job_status", "jobs_backend", "list_models", "load",
           "load_deps", "locate", "numpy_on_one_thread", "rooms", "seat", "spec", "start_job", "train_and_save"]
