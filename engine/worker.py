"""The body of a training job's worker process (`python -m engine worker FOLDER`, started by engine.jobs).

It trains through the engine's API, writes progress into the job's status.json (atomically, so any reader sees
a whole status), and saves a checkpoint only when training finishes; a cancelled or failed run saves nothing.
As it ends it frees its slot: the next waiting job starts.
"""
import json
import time
import traceback
from pathlib import Path

from engine import api, files, jobs, registry
from engine.device import configure_threads
from engine.train import Cancelled


def run(folder: Path) -> int:
    """Body of `python -m engine worker FOLDER`: train, report progress, save only on success, start the next."""
    try:
        return _train(Path(folder))
    finally:
        jobs.dispatch()


def _train(folder: Path) -> int:
    configure_threads("worker")
    request = json.loads((folder / "request.json").read_text())
    spec = registry.get(request["name"])
    config = spec.config_from_dict(request["config"])
    state = json.loads((folder / "status.json").read_text())     # as start() queued it: owner, time asked
    last_write = 0.0

    def write(**changes):
        nonlocal last_write
        state.update(changes, updated=time.time())
        files.write_json_atomic(folder / "status.json", state)
        last_write = time.monotonic()

    def on_progress(p):
        # The history chart shows only the model this job is for (not its dependencies).
        if state["phase"] == f"training {spec.name}":
            state["history"].append([p.step, p.loss])
        if time.monotonic() - last_write > 0.5 or p.step == p.total:
            write(state="running", step=p.step, total=p.total, loss=p.loss, elapsed=round(p.elapsed, 2),
                  eta=round(p.eta, 1))

    write(state="running", phase="starting")
    try:
        ckpt = api.train_and_save(spec.name, config, on_progress, lambda: (folder / "cancel").exists(),
                                  on_phase=lambda phase: write(phase=phase, step=0), seat=request.get("seat", ""))
    except Cancelled:
        write(state="cancelled", phase="cancelled")
        return 1
    except Exception as e:  # reported to every reader of the job; the traceback goes to the job's log
        traceback.print_exc()
        write(state="failed", error=f"{e.__class__.__name__}: {e}")
        return 1
    write(state="done", phase="done", step=config.steps, eta=0.0, metrics=ckpt.metrics)
    return 0
