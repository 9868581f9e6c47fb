"""The body of a training job, wherever it runs: a worker process on this machine (`python -m engine worker FOLDER`,
started by engine.jobs) or a task on a Ray cluster (engine.cluster).

It trains through the engine's API, publishes the job's status as it changes (a whole status each time), and
saves a checkpoint only when training finishes; a cancelled or failed run saves nothing.
"""
import json
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from engine import api, files, jobs, registry
from engine.device import configure_threads, keep_freed_memory
from engine.train import Cancelled

PUBLISH_EVERY = 0.5      # seconds between progress reports (and the last one always)


def run(folder: Path) -> int:
    """Body of `python -m engine worker FOLDER`: train, report into status.json, then start the next waiting job."""
    folder = Path(folder)
    try:
        configure_threads("worker")
        request = json.loads((folder / "request.json").read_text())
        state = json.loads((folder / "status.json").read_text())     # as start() queued it: owner, time asked
        return train_job(request, state, lambda s: files.write_json_atomic(folder / "status.json", s),
                         lambda: (folder / "cancel").exists())
    finally:
        jobs.dispatch()


def train_job(request: dict, state: dict, publish: Callable[[dict], None], should_stop: Callable[[], bool]) -> int:
    """Train request's (name, config, seat), changing `state` (a job status as a dict) and passing it to publish()
    at every change of phase, at most every PUBLISH_EVERY seconds in between, and when the job ends. Returns 0 when
    a checkpoint was saved, 1 when the job was cancelled or failed (the error is in the state)."""
    keep_freed_memory()
    spec = registry.get(request["name"])
    config = spec.config_from_dict(request["config"])
    last = 0.0

    def write(**changes):
        nonlocal last
        state.update(changes, updated=time.time())
        publish(state)
        last = time.monotonic()

    def on_progress(p):
        # The history chart shows only the model this job is for (not its dependencies).
        if state["phase"] == f"training {spec.name}":
            state["history"].append([p.step, p.loss])
        if time.monotonic() - last > PUBLISH_EVERY or p.step == p.total:
            write(state="running", step=p.step, total=p.total, loss=p.loss, elapsed=round(p.elapsed, 2),
                  eta=round(p.eta, 1))

    write(state="running", phase="starting")
    try:
        ckpt = api.train_and_save(spec.name, config, on_progress, should_stop,
                                  on_phase=lambda phase: write(phase=phase, step=0), seat=request.get("seat", ""))
    except Cancelled:
        write(state="cancelled", phase="cancelled")
        return 1
    except Exception as e:  # reported to every reader of the job; the traceback goes to the job's log
        traceback.print_exc()
        write(state="failed", error=f"{e.__class__.__name__}: {e}")
        return 1
    write(state="done", phase="done", step=config.steps, eta=0.0, metrics=ckpt.metrics, sha256=ckpt.sha256)
    return 0
