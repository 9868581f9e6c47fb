"""Training jobs on a real Ray cluster (engine.cluster), started by these tests on this machine: 2 CPUs and one GPU
as Ray counts it (the machine has none: a task given it trains on the CPU, which is enough to see it scheduled).

The jobs interface is the one the pages use (engine.api); only PLAYGROUND_RAY_ADDRESS differs.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from engine import api, registry, store
from tests.e2e.harness import REPO, ray_cluster

LONG = 1_000_000                 # steps: a job that runs until the test stops it


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The cluster's settings in this process's environment, a fresh shared store, and no shipped checkpoints."""
    root = tmp_path_factory.mktemp("ray-store")
    with ray_cluster(cpus=2, gpus=1) as env, pytest.MonkeyPatch.context() as mp:
        for name, value in {**env, "PLAYGROUND_CACHE": str(root / "cache"),
                            "PLAYGROUND_SHIPPED": str(root / "shipped")}.items():
            mp.setenv(name, value)
        (root / "shipped").mkdir()
        yield env
        import ray
        ray.shutdown()


def wait_for(name, config, done, timeout: float = 120.0):
    """Poll the job until done(job) holds; every status seen on the way, in order."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.job_status(name, config)
        seen.append(job)
        if job is not None and done(job):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"job {name} never reached the state wanted; last seen: {seen[-1]}")


def long_job(seed: int):
    config = api.config("gan2d", "tiny", steps=LONG, seed=seed)
    api.start_job("gan2d", config)
    wait_for("gan2d", config, lambda job: job.state == "running" and job.step > 0)
    return config


def test_without_the_setting_ray_is_never_imported():
    code = ("import sys; from engine import api, jobs; assert api.jobs_backend() is jobs; api.all_jobs(); "
            "print('ray' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "PLAYGROUND_RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_a_tiny_preset_trains_through_ray_and_its_metrics_are_evals(cluster):
    from engine import cluster as backend

    assert api.jobs_backend() is backend
    config = api.config("dae2d", "tiny", steps=400)
    first = api.start_job("dae2d", config)
    assert first.state in ("queued", "running") and first.total == 400
    seen = wait_for("dae2d", config, lambda job: not job.active)
    job = seen[-1]
    assert job.state == "done", job.error
    assert any(s.state == "running" and 0 < s.step < 400 for s in seen), "progress was never visible"
    assert re.match(r"node [\d.]+, pid \d+, 1 CPU", job.where)
    assert job.history and job.history[-1][0] <= 400
    ckpt, errors = api.locate("dae2d", config)
    assert not errors and ckpt.source == "cached" and ckpt.sha256 == job.sha256
    assert store.sha256_bytes(ckpt.weights_path.read_bytes()) == job.sha256
    out = subprocess.run([sys.executable, "-m", "engine", "eval", "dae2d", "--preset", "tiny", "--set", "steps=400",
                          "--json"], cwd=REPO, capture_output=True, text=True, timeout=120)
    evaluated = json.loads(out.stdout)                      # another process reads the store the cluster wrote
    assert evaluated["checkpoint"]["source"] == "cached"
    assert {k: evaluated[k] for k in job.metrics} == pytest.approx(job.metrics)
    assert any(j.key == f"dae2d-{registry.config_hash('dae2d', config)}" for j in api.all_jobs())


def test_cancel_stops_a_running_job_and_saves_nothing(cluster):
    config = long_job(seed=11)
    assert api.cancel_job("gan2d", config)
    job = wait_for("gan2d", config, lambda job: not job.active)[-1]
    assert job.state == "cancelled" and job.step < LONG
    assert api.locate("gan2d", config) == (None, [])


def test_a_job_waiting_for_a_cpu_is_cancelled_before_it_starts(cluster):
    busy = [long_job(seed) for seed in (21, 22)]                 # both CPUs
    waiting = api.config("gan2d", "tiny", steps=LONG, seed=23)
    assert api.start_job("gan2d", waiting).phase == "waiting for the cluster's resources (1 CPU)"
    time.sleep(1.0)
    assert api.job_status("gan2d", waiting).state == "queued"
    assert api.cancel_job("gan2d", waiting)
    job = wait_for("gan2d", waiting, lambda job: not job.active)[-1]
    assert job.state == "cancelled" and job.phase == "cancelled before it started" and job.where == ""
    for config in busy:
        api.cancel_job("gan2d", config)
        assert wait_for("gan2d", config, lambda job: not job.active)[-1].state == "cancelled"
    assert all(api.locate("gan2d", c) == (None, []) for c in busy + [waiting])


STARTS = f"""
import json, sys, threading
from engine import api
config = api.config("dae2d", "tiny", steps={LONG}, seed=31)   # still running when the last start comes
keys = []
threads = [threading.Thread(target=lambda: keys.append(api.start_job("dae2d", config).key)) for _ in range(5)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps(keys))
"""


def test_ten_starts_from_two_processes_make_one_ray_job(cluster):
    from engine import cluster as backend

    before = backend.submitted()
    procs = [subprocess.Popen([sys.executable, "-c", STARTS], cwd=REPO, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    keys = [key for proc in procs for key in json.loads(proc.communicate(timeout=120)[0])]
    assert len(keys) == 10 and len(set(keys)) == 1
    assert backend.submitted() == before + 1
    config = api.config("dae2d", "tiny", steps=LONG, seed=31)
    assert api.job_status("dae2d", config).active and api.cancel_job("dae2d", config)
    assert wait_for("dae2d", config, lambda job: not job.active)[-1].state == "cancelled"


def test_a_killed_worker_is_reported_failed_and_leaves_nothing(cluster):
    config = long_job(seed=41)
    pid = int(re.search(r"pid (\d+)", api.job_status("gan2d", config).where).group(1))
    os.kill(pid, signal.SIGKILL)
    job = wait_for("gan2d", config, lambda job: not job.active)[-1]
    assert job.state == "failed" and "Ray worker training it died" in job.error
    assert api.locate("gan2d", config) == (None, [])
    again = api.start_job("gan2d", api.config("gan2d", "tiny", seed=41, steps=50))      # the cluster still trains
    assert wait_for("gan2d", api.config("gan2d", "tiny", seed=41, steps=50),
                    lambda job: not job.active)[-1].state == "done", again


def test_resources_follow_the_preset(cluster):
    from engine import cluster as backend

    assert backend.resources("draw", api.config("draw", "gpu")) == {"num_cpus": 1, "num_gpus": 1.0}
    assert backend.resources("gan2d", api.config("gan2d", "gpu")) == {"num_cpus": 1, "num_gpus": 0.25}
    assert backend.resources("draw", api.config("draw", "cpu")) == {"num_cpus": 1}
    assert backend.resources("draw", api.config("draw", "gpu", steps=10)) == {"num_cpus": 1}


def test_a_job_asking_for_a_gpu_share_gets_one(cluster, monkeypatch):
    from engine import cluster as backend

    config = api.config("dae2d", "tiny", seed=51)
    monkeypatch.setattr(backend, "resources", lambda name, config: {"num_cpus": 1, "num_gpus": 0.25})
    assert api.start_job("dae2d", config).phase == "waiting for the cluster's resources (1 CPU, 0.25 GPU)"
    job = wait_for("dae2d", config, lambda job: not job.active)[-1]
    assert job.state == "done" and job.where.endswith(", 1 CPU, GPU 0"), job.where


def test_warmup_trains_models_in_parallel_on_the_cluster(cluster):
    out = subprocess.run([sys.executable, "-m", "engine", "warmup", "--preset", "tiny", "--models", "dae2d",
                          "landscape"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    keys = [f"{spec.name}-{registry.config_hash(spec.name, c)}" for spec in map(registry.get, ("dae2d", "landscape"))
            for c in spec.configs("tiny")]
    table = out.stderr.split("wall s")[1]
    for key in keys:
        assert re.search(rf"{key}\s+done\s+[\d.]+\s+[\d.]+\s+node [\d.]+", table), out.stderr
    assert all(api.locate(spec.name, c)[0] is not None for spec in map(registry.get, ("dae2d", "landscape"))
               for c in spec.configs("tiny"))
