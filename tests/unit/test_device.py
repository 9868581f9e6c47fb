"""engine.device: which device tensors go to and how many threads each process may use."""
import subprocess
import sys

import pytest
import torch

from engine import device
from engine.store import REPO_ROOT as REPO


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_DEVICE", raising=False)
    monkeypatch.delenv("PLAYGROUND_THREADS", raising=False)


@pytest.mark.parametrize("wanted", ["cpu", "cuda:1", "meta"])
def test_playground_device_overrides(monkeypatch, wanted):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: wanted == "cpu")   # the opposite of what is asked
    monkeypatch.setenv("PLAYGROUND_DEVICE", f"  {wanted} ")
    assert device.get_device() == torch.device(wanted)


def test_blank_override_is_ignored(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("PLAYGROUND_DEVICE", "   ")
    assert device.get_device() == torch.device("cpu")


def test_cpu_fallback_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device.get_device().type == "cpu"


def test_cuda_when_present(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.get_device().type == "cuda"


@pytest.mark.parametrize("cores, worker, command", [(4, 3, 4), (2, 1, 2), (1, 1, 1), (None, 1, 1)])
def test_thread_count_per_role(monkeypatch, cores, worker, command):
    monkeypatch.setattr(device.os, "cpu_count", lambda: cores)
    assert device.thread_count("worker") == worker     # a worker leaves one core to the web server
    assert device.thread_count("command") == command
    assert device.thread_count("web") == 1             # many users' operations at once, one thread each
    assert device.cores() == command


@pytest.mark.parametrize("value, expected", [("3", 3), (" 7 ", 7)])
def test_playground_threads_overrides_both_roles(monkeypatch, value, expected):
    monkeypatch.setattr(device.os, "cpu_count", lambda: 16)
    monkeypatch.setenv("PLAYGROUND_THREADS", value)
    assert [device.thread_count(role) for role in ("worker", "command", "web")] == [expected] * 3
    assert device.cores() == expected


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_playground_threads_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("PLAYGROUND_THREADS", value)
    with pytest.raises(ValueError, match="PLAYGROUND_THREADS must be a positive whole number"):
        device.thread_count("web")


def test_configure_threads_sets_torch(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setenv("PLAYGROUND_THREADS", "1")
    try:
        assert device.configure_threads("worker") == 1
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


FREED = """
import os, resource, sys, torch
from engine import device
if sys.argv[1] == "keep":
    assert device.keep_freed_memory()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
saved = [torch.ones(2, 2 ** 20) for _ in range(12)]      # a step's activations: 12 x 8 MB, freed together
before = rss()
del saved
freed = before - rss()
start = faults()
saved = [torch.ones(2, 2 ** 20) for _ in range(12)]      # the next step's
print(freed, faults() - start)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_training_process_keeps_the_memory_it_frees():
    """96 MB of tensors freed: by default the system gets it back, and the next step's tensors are faulted in again
    page by page (24,576 pages); kept, it stays in the process for the next step (how much of it the next step
    reuses depends on where the allocator placed each block: 10,000-20,000 pages faulted here, so it is not
    asserted)."""
    runs = {mode: subprocess.run([sys.executable, "-c", FREED, mode], capture_output=True, text=True, check=True,
                                 cwd=REPO).stdout.split() for mode in ("default", "keep")}
    (freed, faults), (kept_freed, _) = ([int(v) for v in runs[m]] for m in ("default", "keep"))
    assert freed > 90 * 2 ** 20 and faults > 20_000
    assert kept_freed < 2 ** 20


def test_a_web_server_gives_numpy_one_thread():
    from threadpoolctl import threadpool_info, threadpool_limits

    before = {pool["user_api"]: pool["num_threads"] for pool in threadpool_info()}
    try:
        device.numpy_on_one_thread()
        blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and set(blas) == {1}          # numpy's, and any other BLAS loaded (scipy's)
    finally:
        threadpool_limits(before.get("blas"), user_api="blas")
