"""engine.device: which device tensors go to and how many threads each process may use."""
import pytest
import torch

from engine import device


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


@pytest.mark.parametrize("cores, worker, server", [(4, 3, 4), (2, 1, 2), (1, 1, 1), (None, 1, 1)])
def test_thread_count_per_role(monkeypatch, cores, worker, server):
    monkeypatch.setattr(device.os, "cpu_count", lambda: cores)
    assert device.thread_count("worker") == worker     # a worker leaves one core to the web server
    assert device.thread_count("server") == server


@pytest.mark.parametrize("value, expected", [("3", 3), (" 7 ", 7)])
def test_playground_threads_overrides_both_roles(monkeypatch, value, expected):
    monkeypatch.setattr(device.os, "cpu_count", lambda: 16)
    monkeypatch.setenv("PLAYGROUND_THREADS", value)
    assert device.thread_count("worker") == expected
    assert device.thread_count("server") == expected


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_playground_threads_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("PLAYGROUND_THREADS", value)
    with pytest.raises(ValueError, match="PLAYGROUND_THREADS must be a positive whole number"):
        device.thread_count("server")


def test_configure_threads_sets_torch(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setenv("PLAYGROUND_THREADS", "1")
    try:
        assert device.configure_threads("worker") == 1
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
