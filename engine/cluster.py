"""Training jobs on a Ray cluster, behind the interface of engine.jobs (start, status, cancel, all_jobs).

Chosen by one setting, PLAYGROUND_RAY_ADDRESS ("auto" for the cluster this machine belongs to, or an address such as
"10.0.0.5:6379"); without it engine.api never imports this module, and Ray is never imported.

One named, detached actor, the job board ("jobs" in the namespace "playground"), is the cluster's record of every
job: Ray creates a named actor once across the whole cluster (get_if_exists), and the board starts or joins jobs
under one lock, so however many web servers ask for a (model, config), one job trains it. The board holds no CPU and
no torch; it submits each job as a Ray task asking for its preset's resources (a GPU, or a share of one for a small
model, for a `gpu` preset; one CPU otherwise), and the task waits in Ray's queue until the cluster has them. The task
trains through the engine's API (engine.worker.train_job), reports its whole status to the board every half second
and learns in the reply whether it is cancelled. It saves into the shared checkpoint store (PLAYGROUND_CACHE, the
same path on every node: a network file system on a real cluster) only once training finished, in one rename, and
the board records the checkpoint's sha256; every web server reads the store, so each serves the new checkpoint at
its next rerun, verifying the sha256 as it loads it. A task that dies (its worker killed, out of memory, its node
lost) leaves the job "failed" with Ray's reason, and nothing in the store.

Every node runs the same code at the same path (the repository on PYTHONPATH) with the same Python packages.
"""
import os
import re
import socket
import threading
import time
import uuid

import ray
from ray.exceptions import (
    ActorUnavailableError,
    GetTimeoutError,
    RayActorError,
    RayError,
    RayTaskError,
    TaskCancelledError,
)
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

NAMESPACE = "playground"
BOARD = "jobs"
CALL_TIMEOUT = 30.0          # seconds a web server waits for the board before reporting an error
KEEP_ENDED = 500             # ended jobs the board remembers (the newest); older ones are forgotten
ACTIVE = ("queued", "running")
RESOURCE_ENV = ("PLAYGROUND_CACHE", "PLAYGROUND_SHIPPED", "PLAYGROUND_DATA", "PLAYGROUND_THREADS")

RETRY_AFTER = 30.0           # seconds during which a failed join is reported again without trying
_connected = threading.Lock()
_failed: dict[str, tuple[float, str]] = {}     # address -> (when, why) of this process's last failed join there


@ray.remote(num_cpus=0, max_restarts=0, max_concurrency=32)
class JobBoard:
    """Every job's status on the cluster, keyed as engine.jobs keys them, and the task training each active one."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs: dict[str, dict] = {}          # key -> status, as a dict of JobStatus's fields
        self.tasks: dict[str, tuple[str, ray.ObjectRef]] = {}     # key -> (run id, the task) while active
        self.stop: set[str] = set()              # run ids asked to stop
        self.submitted = 0                       # tasks started since the board began (tests count them)

    def start(self, key: str, request: dict, state: dict, options: dict, caps: tuple[int, int]) -> dict:
        """Join the job for `key` while it is active; else check the queue's caps (all waiting jobs, this
        owner's) and submit a new run. Returns the job's status, or {"refused": reason}."""
        with self.lock:
            current = self.jobs.get(key)
            if current is not None and current["state"] in ACTIVE:
                return current
            waiting = [job for job in self.jobs.values() if job["state"] == "queued"]
            mine = sum(1 for job in waiting if state["owner"] and job["owner"] == state["owner"])
            if len(waiting) >= caps[0]:
                return {"refused": f"the training queue is full ({len(waiting)} jobs are waiting for the "
                                   f"cluster); try again when some of them have run"}
            if mine >= caps[1]:
                return {"refused": f"you already have {mine} training jobs waiting; cancel one or wait for them "
                                   f"to start"}
            run = uuid.uuid4().hex
            task = train_task.options(**options).remote(request, state, ray.get_runtime_context().current_actor, key,
                                                        run)
            self.jobs.pop(key, None)                 # re-inserted last: the newest ended jobs are kept
            self.jobs[key] = state
            self.tasks[key] = (run, task)
            self.submitted += 1
            self._forget_old()
        threading.Thread(target=self._watch, args=(key, run, task), daemon=True).start()
        return state

    def report(self, key: str, run: str, state: dict) -> bool:
        """A running task's status; the reply says whether it is asked to stop."""
        with self.lock:
            if self.tasks.get(key, ("",))[0] == run:
                self.jobs[key] = state
            return run in self.stop

    def status(self, key: str) -> dict | None:
        return self.jobs.get(key)

    def all(self) -> list[dict]:
        with self.lock:
            return [dict(job, key=key) for key, job in self.jobs.items()]

    def count(self) -> int:
        return self.submitted

    def cancel(self, key: str) -> bool:
        """Stop a running job at its next report (it saves nothing), or take a waiting one out of Ray's queue."""
        with self.lock:
            job = self.jobs.get(key)
            if job is None or job["state"] not in ACTIVE or key not in self.tasks:
                return False
            run, task = self.tasks[key]
            self.stop.add(run)
            if job["state"] == "queued":              # not on a worker yet: it never starts
                ray.cancel(task)
            return True

    def _watch(self, key: str, run: str, task: ray.ObjectRef) -> None:
        """Wait for the task; record how it ended, whatever ended it."""
        try:
            final = ray.get(task)
        except TaskCancelledError:
            final = {"state": "cancelled", "phase": "cancelled"}
        except RayTaskError as e:                    # train_job reports its own errors; this is anything else
            final = {"state": "failed", "error": f"{e.cause.__class__.__name__}: {e.cause}"}
        except RayError as e:
            sentences = re.split(r"(?<=\.)\s+", str(e).strip().splitlines()[0])
            reason = " ".join(sentences[:2])[:300]
            final = {"state": "failed", "error": f"the Ray worker training it died ({e.__class__.__name__}: "
                                                 f"{reason}); nothing was saved"}
        with self.lock:
            if self.tasks.get(key, ("",))[0] == run:
                job = self.jobs[key]
                if job["state"] == "queued" and final.get("state") == "cancelled":
                    final = dict(final, phase="cancelled before it started")
                self.jobs[key] = dict(job, **final, updated=time.time())
                del self.tasks[key]
            self.stop.discard(run)

    def _forget_old(self) -> None:
        ended = [key for key, job in self.jobs.items() if job["state"] not in ACTIVE]
        for key in ended[:max(0, len(ended) - KEEP_ENDED)]:
            del self.jobs[key]


@ray.remote(max_retries=0)
def train_task(request: dict, state: dict, board, key: str, run: str) -> dict:
    """One job's training on a cluster worker: the engine's job body, reporting to the board."""
    import torch

    from engine import worker

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    torch.set_num_threads(max(1, int(cpus)))
    stop = False

    def publish(status: dict) -> None:
        nonlocal stop
        stop = ray.get(board.report.remote(key, run, status))

    gpus = ray.get_gpu_ids()
    node = ray.get_runtime_context().get_node_id()
    address = next((n["NodeManagerAddress"] for n in ray.nodes() if n["NodeID"] == node), node[:12])
    state["where"] = (f"node {address}, pid {os.getpid()}, {cpus:g} CPU"
                      + (f", GPU {','.join(map(str, gpus))}" if gpus else ""))
    worker.train_job(request, state, publish, lambda: stop)
    return state


def _worker_env() -> dict:
    """What a job's worker needs of this process's environment: the store's settings and the repository."""
    from engine.store import REPO_ROOT

    env = {name: os.environ[name] for name in RESOURCE_ENV if os.environ.get(name)}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def _unavailable(why: str) -> Exception:
    from engine.jobs import JobsUnavailable

    return JobsUnavailable(why)


def _answers(address: str) -> None:
    """Raise OSError when a HOST:PORT address does not accept a connection within 3 s: Ray itself keeps retrying an
    unreachable head for minutes. ("auto" is looked up by Ray on this machine.)"""
    host, sep, port = address.rpartition(":")
    if sep and port.isdigit():
        socket.create_connection((host, int(port)), timeout=3).close()


def connect() -> None:
    """Join the cluster named by PLAYGROUND_RAY_ADDRESS once per process. A join that failed is not tried again for
    RETRY_AFTER seconds (Ray retries a join for a while: a page must not wait that long at every rerun)."""
    if ray.is_initialized():
        return
    from engine import jobs

    address = os.environ.get(jobs.RAY_ENV, "").strip()
    with _connected:
        if ray.is_initialized():
            return
        if address in _failed and time.monotonic() - _failed[address][0] < RETRY_AFTER:
            raise _unavailable(_failed[address][1])
        try:
            _answers(address)
            ray.init(address=address, namespace=NAMESPACE, runtime_env={"env_vars": _worker_env()},
                     log_to_driver=False, logging_level="ERROR")
        except (OSError, RuntimeError, ValueError) as e:
            why = (f"the Ray cluster at {jobs.RAY_ENV}={address!r} cannot be reached "
                   f"({str(e).strip().splitlines()[0][:200]})")
            _failed[address] = (time.monotonic(), why)
            raise _unavailable(why) from None
        _failed.pop(address, None)


def _head_node() -> str | None:
    """The Ray head node's id: the board lives there (it holds no CPU, so Ray could place it anywhere, and a worker
    node may be lost; the head is the cluster itself)."""
    return next((node["NodeID"] for node in ray.nodes()
                 if node["Alive"] and "node:__internal_head__" in node["Resources"]), None)


def _board(create: bool = False):
    connect()
    if create:
        head = _head_node()
        place = {"scheduling_strategy": NodeAffinitySchedulingStrategy(head, soft=False)} if head else {}
        return JobBoard.options(name=BOARD, namespace=NAMESPACE, get_if_exists=True, lifetime="detached",
                                **place).remote()
    try:
        return ray.get_actor(BOARD, namespace=NAMESPACE)
    except ValueError:
        return None


def _call(method, *args):
    """Call the board and wait for its answer; an answer that is briefly unavailable (Ray says so while a node
    drops out) is asked for again until CALL_TIMEOUT."""
    deadline = time.monotonic() + CALL_TIMEOUT
    while True:
        try:
            return ray.get(method.remote(*args), timeout=max(0.1, deadline - time.monotonic()))
        except GetTimeoutError:
            raise _unavailable(f"the cluster's job board did not answer within {CALL_TIMEOUT:.0f} s") from None
        except ActorUnavailableError:
            if time.monotonic() > deadline:
                raise _unavailable(f"the cluster's job board was unreachable for {CALL_TIMEOUT:.0f} s") from None
            time.sleep(0.5)
        except RayActorError as e:
            raise _unavailable(f"the cluster's job board was lost ({e.__class__.__name__}); its jobs' progress is "
                               f"gone, training can be started again") from None


def resources(name: str, config) -> dict:
    """What a job's Ray task asks for: a `gpu` preset its model's share of one GPU (and a CPU to feed it); anything
    else one CPU."""
    from engine import registry

    spec = registry.get(name)
    gpu = spec.config("gpu")
    if config == gpu and gpu != spec.config("cpu"):
        return {"num_cpus": 1, "num_gpus": spec.gpu_share}
    return {"num_cpus": 1}


def _status(key: str, raw: dict | None):
    from engine.jobs import JobStatus

    if raw is None:
        return None
    return JobStatus(**dict(raw, key=key))


def start(name: str, config, owner: str = "", seat: str = ""):
    """As engine.jobs.start, on the cluster: queue (name, config) or join its active job; QueueFull past the caps."""
    from engine import jobs, registry

    key = jobs.job_key(name, config, seat)
    need = resources(name, config)
    state = jobs.initial_status(name, key, config, owner)
    state["phase"] = "waiting for the cluster's resources (" + ", ".join(
        f"{amount:g} {kind.removeprefix('num_').rstrip('s').upper()}" for kind, amount in need.items()) + ")"
    request = {"name": name, "config": registry.config_dict(config), "seat": seat}
    options = dict(need, runtime_env={"env_vars": _worker_env()})      # this server's store, whoever made the board
    raw = _call(_board(create=True).start, key, request, state, options,
                (jobs.MAX_WAITING, jobs.MAX_WAITING_PER_OWNER))
    if "refused" in raw:
        raise jobs.QueueFull(raw["refused"])
    return _status(key, raw)


def status(name: str, config, seat: str = ""):
    from engine import jobs

    board = _board()
    key = jobs.job_key(name, config, seat)
    return None if board is None else _status(key, _call(board.status, key))


def all_jobs() -> list:
    board = _board()
    if board is None:
        return []
    return [_status(raw.pop("key"), raw) for raw in _call(board.all)]


def cancel(name: str, config, seat: str = "") -> bool:
    from engine import jobs

    board = _board()
    return board is not None and _call(board.cancel, jobs.job_key(name, config, seat))


def submitted() -> int:
    """Tasks the board has started since it began (one per job run, however many asked)."""
    board = _board()
    return 0 if board is None else _call(board.count)
