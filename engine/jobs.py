"""Training jobs in worker processes, keyed by (model name, config hash).

A job is a folder under PLAYGROUND_CACHE/jobs/<name>-<hash>/ holding request.json, status.json (written
atomically by the worker), the worker's pid and log, and a `cancel` flag file. start() holds a per-key file lock
while it checks for a running job and creates a new one, so ten sessions asking for the same model get one job.
Any process (a web session, the CLI) reads progress from status.json.
"""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from engine import files, registry, store

ACTIVE = ("queued", "running")
TERMINAL = ("done", "failed", "cancelled")
STALE_QUEUE_SECONDS = 60     # a job folder with no live worker after this long is reported failed


@dataclass
class JobStatus:
    key: str
    name: str
    state: str                       # queued | running | done | failed | cancelled
    phase: str = ""
    step: int = 0
    total: int = 0
    loss: float | None = None
    elapsed: float = 0.0
    eta: float | None = None
    history: list = field(default_factory=list)
    error: str = ""
    metrics: dict = field(default_factory=dict)    # held-out metrics, once the job is done
    config_hash: str = ""
    updated: float = 0.0

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 0.0


def jobs_root() -> Path:
    return store.cache_root() / "jobs"


def job_key(name: str, config) -> str:
    return f"{name}-{registry.config_hash(name, config)}"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    if stat.rsplit(")", 1)[1].split()[0] == "Z":      # exited, not yet reaped by its parent
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True


def _read_status(folder: Path) -> JobStatus:
    key = folder.name
    try:
        raw = json.loads((folder / "status.json").read_text())
        status = JobStatus(key=key, **raw)
    except FileNotFoundError:
        # Between mkdir and the first status write, or archived under our feet: report it as just queued.
        status = JobStatus(key=key, name=key.rsplit("-", 1)[0], state="queued", updated=time.time())
    except (OSError, json.JSONDecodeError, TypeError) as e:
        return JobStatus(key=key, name=key.rsplit("-", 1)[0], state="failed", error=f"unreadable status ({e})")
    if status.active:
        pid = _pid(folder)
        dead = (pid is not None and not _alive(pid)) or \
               (pid is None and time.time() - status.updated > STALE_QUEUE_SECONDS)
        if dead:
            status.state = "failed"
            status.error = status.error or "the training process stopped without finishing (crashed or killed)"
    return status


def _pid(folder: Path) -> int | None:
    try:
        return int((folder / "pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def status(name: str, config) -> JobStatus | None:
    folder = jobs_root() / job_key(name, config)
    return _read_status(folder) if folder.exists() else None


def all_jobs() -> list[JobStatus]:
    root = jobs_root()
    if not root.exists():
        return []
    return [_read_status(f) for f in sorted(root.iterdir()) if f.is_dir() and not f.name.startswith(".")]


@contextmanager
def _locked(key: str):
    """An exclusive lock per job key, across processes: start() reads, archives and creates under it."""
    root = jobs_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{key}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def start(name: str, config) -> JobStatus:
    """Start training (name, config) in a worker process, or join the job already running for it."""
    spec = registry.get(name)
    key = job_key(name, config)
    folder = jobs_root() / key
    with _locked(key):
        if folder.exists():
            current = _read_status(folder)
            if current.active:
                return current
            _archive(folder)
        folder.mkdir()
        files.write_json_atomic(folder / "request.json", {"name": name, "config": registry.config_dict(config)})
        files.write_json_atomic(folder / "status.json", initial_status(spec.name, key, config))
        with open(folder / "log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "engine", "worker", str(folder)], cwd=store.REPO_ROOT,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        (folder / "pid").write_text(str(proc.pid))
    return _read_status(folder)


def initial_status(name: str, key: str, config) -> dict:
    return {"name": name, "state": "queued", "phase": "starting", "step": 0, "total": config.steps,
            "loss": None, "elapsed": 0.0, "eta": None, "history": [], "error": "", "metrics": {},
            "config_hash": key.rsplit("-", 1)[1], "updated": time.time()}


def _archive(folder: Path) -> None:
    """Move a finished job's folder aside (atomic for readers), so a new job can take its key."""
    aside = folder.with_name(f".{folder.name}.{time.time_ns()}")
    os.rename(folder, aside)
    shutil.rmtree(aside, ignore_errors=True)


def cancel(name: str, config) -> bool:
    """Ask a running job to stop; it ends at its next progress report and saves nothing."""
    folder = jobs_root() / job_key(name, config)
    if not folder.exists() or not _read_status(folder).active:
        return False
    (folder / "cancel").touch()
    return True
