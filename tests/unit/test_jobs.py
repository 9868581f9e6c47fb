"""engine.jobs: single-flight worker processes, progress, cancel, crash handling, restart, the bounded queue.

These tests start real `python -m engine worker` processes (they inherit PLAYGROUND_CACHE from the fixture).
Every process a test starts is recorded and killed at teardown if still running.
"""
import math
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from engine import files, jobs, registry, store

pytestmark = pytest.mark.usefixtures("cache", "no_shipped")

NAME = "dae2d"
DEADLINE = 60.0


class RecordingPopen:
    """Stands in for subprocess.Popen inside engine.jobs: starts the real process and remembers it."""

    def __init__(self, real):
        self.real = real
        self.procs = []
        self.lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        proc = self.real(*args, **kwargs)
        with self.lock:
            self.procs.append(proc)
        return proc


@pytest.fixture(autouse=True)
def workers(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_THREADS", "1")       # two cores: keep the worker from fighting the test
    monkeypatch.setenv("PLAYGROUND_DEVICE", "cpu")
    monkeypatch.setenv(jobs.SLOTS_ENV, "1")
    recorder = RecordingPopen(subprocess.Popen)
    monkeypatch.setattr(jobs.subprocess, "Popen", recorder)
    yield recorder
    for proc in recorder.procs:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=10)
        except ChildProcessError:
            pass
    # Workers started by other workers (the next job in the queue) are not children of this process.
    for pid_file in jobs.jobs_root().glob("*/pid") if jobs.jobs_root().exists() else []:
        try:
            pid = int(pid_file.read_text())
            if b"engine\x00worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass


@pytest.fixture
def long(spec):
    """A job that cannot finish during a test: it has to be cancelled or killed."""
    return spec.config("tiny", steps=200000)


def wait_for(predicate, what: str, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def state_is(config, *states, min_step: int = 0):
    def check():
        s = jobs.status(NAME, config)
        return s if s is not None and s.state in states and s.step >= min_step else None
    return check


def folder(config):
    return jobs.jobs_root() / jobs.job_key(NAME, config)


def job_folders():
    return sorted(p.name for p in jobs.jobs_root().iterdir() if not p.name.startswith("."))


def read_pid(config) -> int:
    return int(wait_for(lambda: (folder(config) / "pid").exists() and (folder(config) / "pid").read_text(),
                        "the pid file"))


def log_of(config) -> str:
    path = folder(config) / "log"
    return path.read_text() if path.exists() else "(no log)"


def no_checkpoint(config) -> bool:
    return store.find(NAME, config) == (None, []) and \
        not (store.cache_root() / "checkpoints" / NAME / registry.config_hash(NAME, config)).exists()


def test_status_of_unknown_job_is_none(tiny):
    assert jobs.status(NAME, tiny) is None
    assert jobs.all_jobs() == []
    assert jobs.cancel(NAME, tiny) is False


def test_job_runs_to_done_and_stores_checkpoint(tiny, workers):
    first = jobs.start(NAME, tiny)
    assert first.key == jobs.job_key(NAME, tiny) and first.active
    assert first.total == tiny.steps
    done = wait_for(state_is(tiny, "done", "failed", "cancelled"), "the tiny job to end")
    assert done.state == "done", log_of(tiny)
    assert done.step == done.total == tiny.steps and done.error == ""
    assert done.loss is not None and math.isfinite(done.loss)
    assert done.history and done.history[-1][0] == tiny.steps
    assert [j.key for j in jobs.all_jobs()] == [done.key]
    assert workers.procs[0].wait(timeout=30) == 0
    ckpt, errors = store.find(NAME, tiny)
    assert errors == [] and ckpt is not None and ckpt.source == "cached"
    assert ckpt.config == registry.config_dict(tiny)
    assert "field_alignment" in ckpt.metrics and done.metrics == ckpt.metrics   # readable from the job too
    assert jobs.cancel(NAME, tiny) is False                 # nothing left to cancel


def test_second_start_joins_the_running_job(long, workers):
    first = jobs.start(NAME, long)
    pid = read_pid(long)
    again = jobs.start(NAME, long)
    assert again.key == first.key and again.active
    assert len(workers.procs) == 1 and workers.procs[0].pid == pid
    assert read_pid(long) == pid
    assert job_folders() == [first.key]


def start_concurrently(config, n: int) -> tuple[list, list]:
    """jobs.start from n threads released together; returns (statuses, exceptions)."""
    barrier = threading.Barrier(n, timeout=DEADLINE)
    results, errors = [], []

    def ask():
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass                        # a start() that serialises callers may break the barrier: fine
        try:
            results.append(jobs.start(NAME, config))
        except Exception as e:   # noqa: BLE001 - any exception is a failure of the calling test
            errors.append(e)

    threads = [threading.Thread(target=ask) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DEADLINE)
    return results, errors


def test_concurrent_starts_give_one_job(long, workers):
    results, errors = start_concurrently(long, 10)
    assert errors == []
    assert len(results) == 10 and {r.key for r in results} == {jobs.job_key(NAME, long)}
    assert all(r.active for r in results)
    assert len(workers.procs) == 1                          # one worker process
    assert job_folders() == [jobs.job_key(NAME, long)]      # one job folder
    assert read_pid(long) == workers.procs[0].pid


def test_cancel_stops_the_job_without_checkpoint(long, workers):
    jobs.start(NAME, long)
    running = wait_for(state_is(long, "running", min_step=1), "the job to report progress")
    assert 0 < running.step < running.total and running.eta is not None and running.eta > 0
    assert jobs.cancel(NAME, long) is True
    ended = wait_for(state_is(long, "cancelled", "failed", "done"), "the job to stop")
    assert ended.state == "cancelled", log_of(long)
    assert ended.step < long.steps
    assert workers.procs[0].wait(timeout=30) == 1
    assert no_checkpoint(long)
    assert jobs.cancel(NAME, long) is False                 # a cancelled job cannot be cancelled again


def test_killed_worker_is_reported_failed_without_checkpoint(long, workers):
    jobs.start(NAME, long)
    wait_for(state_is(long, "running"), "the worker to start")
    pid = read_pid(long)
    assert pid == workers.procs[0].pid
    os.kill(pid, signal.SIGKILL)
    failed = wait_for(state_is(long, "failed", "done", "cancelled"), "the crash to be noticed")
    assert failed.state == "failed" and not failed.active
    assert "stopped without finishing" in failed.error
    assert no_checkpoint(long)
    assert jobs.cancel(NAME, long) is False


@pytest.mark.parametrize("end", ["cancel", "kill"])
def test_start_after_terminal_state_starts_fresh_job(long, workers, end):
    jobs.start(NAME, long)
    wait_for(state_is(long, "running"), "the first worker to start")
    old_pid = read_pid(long)
    (folder(long) / "marker").write_text("first job")
    if end == "cancel":
        jobs.cancel(NAME, long)
    else:
        os.kill(old_pid, signal.SIGKILL)
    wait_for(state_is(long, "cancelled", "failed"), "the first job to end")
    fresh = jobs.start(NAME, long)
    assert fresh.active and fresh.step == 0 and fresh.error == ""
    assert len(workers.procs) == 2
    new_pid = read_pid(long)
    assert new_pid == workers.procs[1].pid != old_pid
    assert not (folder(long) / "marker").exists()           # the old job's folder was moved aside
    assert job_folders() == [jobs.job_key(NAME, long)]
    wait_for(state_is(long, "running"), "the fresh worker to run")


def test_a_waiting_job_left_without_a_worker_starts_at_the_next_read(tiny, workers):
    """A job whose creator died after queueing it, before any worker was started, is started by the next reader."""
    folder(tiny).mkdir(parents=True)
    files.write_json_atomic(folder(tiny) / "request.json", {"name": NAME, "config": registry.config_dict(tiny)})
    files.write_json_atomic(folder(tiny) / "status.json", jobs.initial_status(NAME, jobs.job_key(NAME, tiny), tiny))
    assert jobs.status(NAME, tiny).active
    assert len(workers.procs) == 1 and read_pid(tiny) == workers.procs[0].pid
    assert wait_for(state_is(tiny, "done", "failed"), "the job to end").state == "done", log_of(tiny)


def test_unreadable_status_is_failed(tiny):
    folder(tiny).mkdir(parents=True)
    (folder(tiny) / "status.json").write_text("{ torn")
    s = jobs.status(NAME, tiny)
    assert s.state == "failed" and "unreadable status" in s.error


def test_concurrent_restart_after_terminal_state_gives_one_job(tiny, monkeypatch):
    """Two sessions press Retrain on a finished job at the same moment (interleaving forced, no real workers)."""
    spawned = []

    class FakePopen:
        def __init__(self, args, **kwargs):
            spawned.append(args)
            self.pid = os.getpid()          # alive for as long as the test runs

    monkeypatch.setattr(jobs.subprocess, "Popen", FakePopen)
    folder(tiny).mkdir(parents=True)
    done = dict(jobs.initial_status(NAME, jobs.job_key(NAME, tiny), tiny), state="done")
    files.write_json_atomic(folder(tiny) / "status.json", done)

    both_read = threading.Barrier(2, timeout=2)
    real_read, real_archive = jobs._read_status, jobs._archive
    archived = []

    def read_status(path):
        status = real_read(path)
        if status.state == "done":
            try:
                both_read.wait()            # both sessions have seen the finished job
            except threading.BrokenBarrierError:
                pass                         # a fixed start() may serialise the sessions: fine
        return status

    def archive(path):
        archived.append(path)
        if len(archived) > 1:               # the slower session archives after the faster one restarted
            deadline = time.monotonic() + 2
            while not (path / "pid").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        return real_archive(path)

    monkeypatch.setattr(jobs, "_read_status", read_status)
    monkeypatch.setattr(jobs, "_archive", archive)
    _, errors = start_concurrently(tiny, 2)
    assert errors == []
    assert len(spawned) == 1


# ---------------------------------------------------------------- the bounded queue

class Sleepers:
    """Stands in for subprocess.Popen inside engine.jobs: each 'worker' is a real process that only sleeps, so the
    queue's bookkeeping can be watched without training; killing one is a crashed worker."""

    def __init__(self, real):
        self.real = real
        self.procs = []

    def __call__(self, args, **kwargs):
        proc = self.real(["sleep", "600"], start_new_session=True)
        self.procs.append(proc)
        return proc

    def alive(self) -> list:
        return [p for p in self.procs if p.poll() is None]

    def kill_all(self):
        for p in self.procs:
            p.kill()
            p.wait()


@pytest.fixture
def sleepers(monkeypatch, workers):
    fake = Sleepers(workers.real)
    monkeypatch.setattr(jobs.subprocess, "Popen", fake)
    yield fake
    fake.kill_all()


def settings(n: int, spec) -> list:
    return [spec.config("tiny", seed=i) for i in range(n)]


def positions(configs) -> list:
    return [jobs.status(NAME, c).position for c in configs]


def test_twenty_concurrent_starts_run_at_most_k_workers(spec, sleepers, monkeypatch):
    monkeypatch.setenv(jobs.SLOTS_ENV, "2")
    configs = settings(20, spec)
    errors = []

    def ask(config):
        try:
            jobs.start(NAME, config, owner=f"session {config.seed}")
        except Exception as e:  # collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=ask, args=(c,)) for c in configs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DEADLINE)
    assert errors == []
    assert len(sleepers.procs) == len(sleepers.alive()) == 2          # two workers, no more
    places = sorted(p for p in positions(configs) if p is not None)
    assert places == list(range(1, 19))                               # the other 18 wait, in order
    listed = jobs.all_jobs()
    assert len(listed) == 20 and sum(j.waiting for j in listed) == 18


def test_positions_advance_a_crash_frees_its_slot_and_a_cancelled_job_never_starts(spec, sleepers):
    configs = settings(4, spec)
    for config in configs:                                # one slot: the first runs, three wait in order
        jobs.start(NAME, config)
    assert positions(configs) == [None, 1, 2, 3]
    assert jobs.cancel(NAME, configs[1]) is True          # the next in line leaves the queue
    assert jobs.status(NAME, configs[1]).state == "cancelled"
    assert positions(configs) == [None, None, 1, 2]
    sleepers.procs[0].kill()                              # the running worker crashes
    sleepers.procs[0].wait()
    assert jobs.status(NAME, configs[0]).state == "failed"
    assert positions(configs) == [None, None, None, 1]    # reading the queue started the next job
    assert len(sleepers.procs) == 2 and (folder(configs[2]) / "pid").exists()
    assert not (folder(configs[1]) / "pid").exists()      # the cancelled one never started
    assert jobs.status(NAME, configs[1]).state == "cancelled"


def test_the_queue_and_each_session_have_a_cap_and_a_duplicate_still_joins(spec, sleepers, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_WAITING", 3)
    configs = settings(6, spec)
    jobs.start(NAME, configs[0], owner="a")               # runs
    jobs.start(NAME, configs[1], owner="a")               # waits
    jobs.start(NAME, configs[2], owner="a")               # waits
    with pytest.raises(jobs.QueueFull, match="you already have 2"):
        jobs.start(NAME, configs[3], owner="a")
    assert jobs.start(NAME, configs[1], owner="b").position == 1      # asking for a queued setting joins it
    jobs.start(NAME, configs[3], owner="b")
    with pytest.raises(jobs.QueueFull, match="queue is full"):
        jobs.start(NAME, configs[4], owner="c")
    assert jobs.status(NAME, configs[4]) is None and len(sleepers.procs) == 1


def test_a_finishing_worker_starts_the_next_job(spec, workers):
    first, second = spec.config("tiny"), spec.config("tiny", seed=1)
    jobs.start(NAME, first)
    waiting = jobs.start(NAME, second)
    assert waiting.waiting and waiting.position == 1
    assert wait_for(state_is(second, "done", "failed"), "the second job to end").state == "done", log_of(second)
    assert jobs.status(NAME, first).state == "done"
    assert len(workers.procs) == 1                        # the second worker was started by the first, not here
    assert store.find(NAME, second)[0] is not None
