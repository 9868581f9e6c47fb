"""A Ray node lost while it trains: the job is reported failed with Ray's reason, and nothing reaches the store.

A cluster of its own: a head with no CPU (the job board lives there) and one worker node with one CPU, where every
training task must run; the worker node's raylet is killed mid-run, as a machine that drops off the network."""
import os
import signal
import time
from pathlib import Path

import pytest

from engine import api
from tests.e2e.harness import ray_cluster


@pytest.fixture
def two_nodes(tmp_path):
    with ray_cluster(cpus=0, workers=(1,)) as env, pytest.MonkeyPatch.context() as mp:
        for name, value in {**env, "PLAYGROUND_CACHE": str(tmp_path / "cache"),
                            "PLAYGROUND_SHIPPED": str(tmp_path / "shipped")}.items():
            mp.setenv(name, value)
        (tmp_path / "shipped").mkdir()
        yield
        import ray
        ray.shutdown()


def raylet_pid(node_id: str) -> int:
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command and command[0].endswith(b"raylet") and f"--node_id={node_id}".encode() in command:
            return int(proc.name)
    raise AssertionError(f"no raylet for node {node_id}")


def test_a_lost_node_fails_its_job_with_the_reason(two_nodes):
    import ray

    config = api.config("gan2d", "tiny", steps=1_000_000)
    api.start_job("gan2d", config)
    deadline = time.monotonic() + 120
    while (job := api.job_status("gan2d", config)).step == 0:
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    worker = next(n for n in ray.nodes() if n["Alive"] and "node:__internal_head__" not in n["Resources"])
    assert job.where.startswith(f"node {worker['NodeManagerAddress']}")
    os.kill(raylet_pid(worker["NodeID"]), signal.SIGKILL)
    while (job := api.job_status("gan2d", config)).active:
        assert time.monotonic() < deadline + 60, job
        time.sleep(0.5)
    assert job.state == "failed" and "Ray worker training it died" in job.error, job
    assert api.locate("gan2d", config) == (None, [])
