"""engine.jobs: single-flight worker processes, progress, cancel, crash handling, restart.

These tests start real `python -m engine worker` processes (they inherit PLAYGROUND_CACHE from the fixture).
Every process a test starts is recorded and killed at teardown if still running.
"""
import math
import os
import signal
import subprocess
import threading
import time

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


def test_stale_queued_job_without_worker_is_failed(tiny):
    """A job folder whose creator died before starting a worker is reported failed once stale."""
    folder(tiny).mkdir(parents=True)
    status = jobs.initial_status(NAME, jobs.job_key(NAME, tiny), tiny)
    status["updated"] = time.time() - jobs.STALE_QUEUE_SECONDS - 1
    files.write_json_atomic(folder(tiny) / "status.json", status)
    s = jobs.status(NAME, tiny)
    assert s.state == "failed" and s.error
    status["updated"] = time.time()
    files.write_json_atomic(folder(tiny) / "status.json", status)
    assert jobs.status(NAME, tiny).state == "queued"


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
