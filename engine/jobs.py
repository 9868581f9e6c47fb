"""Training jobs in worker processes, keyed by (model name, config hash), at most slots() of them at once.

A job is a folder under PLAYGROUND_CACHE/jobs/<name>-<hash>/ (<seat>.<name>-<hash>/ for a classroom student's own
training, saved to their seat) holding request.json, status.json (written
atomically by whoever changes it), the worker's pid and log, and a `cancel` flag file. A new job waits in a
first-in first-out queue ("queued", no pid) until a slot is free: dispatch() starts the oldest waiting jobs while
fewer than slots() workers run, and is called by start(), by each worker as it ends, and by any reader that sees a
job waiting (so a crashed worker's slot is taken again). start(), dispatch() and the cancelling of a waiting job
hold one file lock across processes, so ten sessions asking for the same model get one job, and a cancelled job
never starts. The queue is bounded: MAX_WAITING jobs in all, MAX_WAITING_PER_OWNER per browser session.
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
SLOTS_ENV = "PLAYGROUND_TRAINING_SLOTS"
RAY_ENV = "PLAYGROUND_RAY_ADDRESS"   # set: training jobs go to that Ray cluster (engine.cluster) instead
MAX_WAITING = 24             # a class of 30 trying settings fills it in a minute; past it, a start is refused
MAX_WAITING_PER_OWNER = 2    # one browser session cannot hold the queue


class JobsUnavailable(Exception):
    """Training jobs cannot be reached (the Ray cluster is down or does not answer); the message says where."""


class QueueFull(Exception):
    """A start refused because the queue, or this session's share of it, is full; the message says which."""


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
    owner: str = ""                  # the browser session (or "cli") that asked for it first
    queued: float = 0.0              # when it was asked for: the queue's order
    position: int | None = None      # while waiting for a slot: 1 = next to start (computed when read)
    starts_in: float | None = None   # while waiting: about how many seconds until its slot frees, when known
    sha256: str = ""                 # the saved checkpoint's weights, once the job is done
    where: str = ""                  # on a Ray cluster: the node and resources it trains on

    @property
    def waiting(self) -> bool:
        """Queued and no worker started for it yet."""
        return self.state == "queued" and self.position is not None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 0.0


def jobs_root() -> Path:
    return store.cache_root() / "jobs"


def slots() -> int:
    """How many workers may train at once: PLAYGROUND_TRAINING_SLOTS, else one core fewer than the machine has
    (the web server keeps one), at least one."""
    raw = os.environ.get(SLOTS_ENV, "")
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    return max(1, (os.cpu_count() or 2) - 1)


def job_key(name: str, config, seat: str = "") -> str:
    key = f"{name}-{registry.config_hash(name, config)}"
    return f"{seat}.{key}" if seat else key


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
        status = JobStatus(key=key, name=key.rsplit("-", 1)[0].rsplit(".", 1)[-1], state="queued", updated=time.time())
    except (OSError, json.JSONDecodeError, TypeError) as e:
        return JobStatus(key=key, name=key.rsplit("-", 1)[0].rsplit(".", 1)[-1], state="failed", error=f"unreadable status ({e})")
    if status.active:
        pid = _pid(folder)
        if pid is not None and not _alive(pid):
            status.state = "failed"
            status.error = status.error or "the training process stopped without finishing (crashed or killed)"
    return status


def _pid(folder: Path) -> int | None:
    try:
        return int((folder / "pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def _folders() -> list[Path]:
    root = jobs_root()
    if not root.exists():
        return []
    return [f for f in sorted(root.iterdir()) if f.is_dir() and not f.name.startswith(".")]


def _census() -> tuple[list[JobStatus], list[tuple[Path, JobStatus]]]:
    """(the jobs with a live worker, the waiting jobs in queue order with their folders)."""
    running, waiting = [], []
    for folder in _folders():
        job = _read_status(folder)
        if not job.active:
            continue
        if _pid(folder) is None:
            waiting.append((folder, job))
        else:
            running.append(job)
    waiting.sort(key=lambda item: (item[1].queued, item[0].name))
    return running, waiting


def _with_places(jobs: list[JobStatus]) -> list[JobStatus]:
    """The jobs, the waiting ones with their place in the queue and about when their slot frees."""
    running, waiting = _census()
    frees = sorted(job.eta for job in running if job.eta is not None)
    place = {folder.name: i for i, (folder, _) in enumerate(waiting)}
    for job in jobs:
        if job.key in place:
            i = place[job.key]
            job.position = i + 1
            # The i-th slot to free, when the running jobs report how long they have left; unknown further back.
            job.starts_in = frees[i] if i < len(frees) and len(running) + i >= slots() else None
    return jobs


def status(name: str, config, seat: str = "") -> JobStatus | None:
    folder = jobs_root() / job_key(name, config, seat)
    if not folder.exists():
        return None
    job = _read_status(folder)
    if job.active and _pid(folder) is None:
        dispatch()                   # a slot may have freed with no one to start the next job (a crashed worker)
        job = _read_status(folder)
        if job.active and _pid(folder) is None:
            _with_places([job])
    return job


def all_jobs() -> list[JobStatus]:
    jobs = [_read_status(f) for f in _folders()]
    if any(job.active and _pid(jobs_root() / job.key) is None for job in jobs):
        dispatch()
        jobs = [_read_status(f) for f in _folders()]
    return _with_places(jobs)


@contextmanager
def _locked():
    """One exclusive lock for the whole queue, across processes: start(), dispatch() and cancelling a waiting job
    read and change the jobs under it."""
    root = jobs_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".queue.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def start(name: str, config, owner: str = "", seat: str = "") -> JobStatus:
    """Queue training of (name, config), or join the job already queued or running for it; it starts as soon as
    a slot is free, and saves into `seat` when one is given. Raises QueueFull when the queue, or this owner's share
    of it, is full."""
    key = job_key(name, config, seat)
    folder = jobs_root() / key
    with _locked():
        if folder.exists():
            current = _read_status(folder)
            if current.active:
                return _with_places([current])[0]
            _archive(folder)
        running, waiting = _census()
        if len(running) + len(waiting) >= slots():          # it would wait: the caps are on waiting
            if len(waiting) >= MAX_WAITING:
                raise QueueFull(f"the training queue is full ({len(waiting)} jobs are waiting for a free slot); "
                                f"try again when some of them have run")
            mine = sum(1 for _, job in waiting if owner and job.owner == owner)
            if mine >= MAX_WAITING_PER_OWNER:
                raise QueueFull(f"you already have {mine} training jobs waiting; cancel one or wait for them to "
                                f"start")
        folder.mkdir()
        files.write_json_atomic(folder / "request.json", {"name": name, "config": registry.config_dict(config),
                                                          "seat": seat})
        files.write_json_atomic(folder / "status.json", initial_status(name, key, config, owner))
        _dispatch_locked()
    return status(name, config, seat)


def dispatch() -> None:
    """Start the oldest waiting jobs while fewer than slots() workers run."""
    with _locked():
        _dispatch_locked()


def _dispatch_locked() -> None:
    running, waiting = _census()
    for folder, _ in waiting[:max(0, slots() - len(running))]:
        with open(folder / "log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "engine", "worker", str(folder)], cwd=store.REPO_ROOT,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        (folder / "pid").write_text(str(proc.pid))


def initial_status(name: str, key: str, config, owner: str = "") -> dict:
    now = time.time()
    return {"name": name, "state": "queued", "phase": "waiting for a free training slot", "step": 0,
            "total": config.steps, "loss": None, "elapsed": 0.0, "eta": None, "history": [], "error": "",
            "metrics": {}, "config_hash": registry.config_hash(name, config), "updated": now, "owner": owner, "queued": now}


def _archive(folder: Path) -> None:
    """Move a finished job's folder aside (atomic for readers), so a new job can take its key."""
    aside = folder.with_name(f".{folder.name}.{time.time_ns()}")
    os.rename(folder, aside)
    shutil.rmtree(aside, ignore_errors=True)


def cancel(name: str, config, seat: str = "") -> bool:
    """Take a waiting job out of the queue (it never starts), or ask a running one to stop: it ends at its next
    progress report and saves nothing."""
    folder = jobs_root() / job_key(name, config, seat)
    with _locked():
        if not folder.exists():
            return False
        job = _read_status(folder)
        if not job.active:
            return False
        if _pid(folder) is None:
            raw = json.loads((folder / "status.json").read_text())
            raw.update(state="cancelled", phase="cancelled", updated=time.time())
            files.write_json_atomic(folder / "status.json", raw)
            return True
    (folder / "cancel").touch()
    return True
