"""Where tensors live and how many CPU threads torch may use."""
import os

import torch


def get_device() -> torch.device:
    """CUDA when present, else CPU; PLAYGROUND_DEVICE (e.g. "cpu", "cuda:1") overrides."""
    wanted = os.environ.get("PLAYGROUND_DEVICE", "").strip()
    if wanted:
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def thread_count(role: str) -> int:
    """Threads for a process: a training worker leaves one core to the web server.

    PLAYGROUND_THREADS overrides both roles.
    """
    override = os.environ.get("PLAYGROUND_THREADS", "").strip()
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"PLAYGROUND_THREADS must be a positive whole number, not {override!r}")
        return int(override)
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if role == "worker" else cores


def configure_threads(role: str) -> int:
    n = thread_count(role)
    torch.set_num_threads(n)
    return n
