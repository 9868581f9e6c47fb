"""Where tensors live and how many CPU threads torch may use."""
import os

import torch


def get_device() -> torch.device:
    """CUDA when present, else CPU; PLAYGROUND_DEVICE (e.g. "cpu", "cuda:1") overrides."""
    wanted = os.environ.get("PLAYGROUND_DEVICE", "").strip()
    if wanted:
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _setting() -> int | None:
    """PLAYGROUND_THREADS as a number, or None when it is not set."""
    value = os.environ.get("PLAYGROUND_THREADS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"PLAYGROUND_THREADS must be a positive whole number, not {value!r}")
    return int(value)


def cores() -> int:
    """The cores this process may use: PLAYGROUND_THREADS, or all of the machine's."""
    return _setting() or os.cpu_count() or 1


def thread_count(role: str) -> int:
    """PyTorch's threads for one operation, in a process of each role (PLAYGROUND_THREADS sets them all):
    - "command", the command line: every core;
    - "worker", a training worker: every core but one, left to the web server;
    - "web", the web server: one. It runs many users' scripts at once, and an operation's second thread mostly
      waited for a core that another user's script held. Its photo networks run on workers of their own, one a core
      (engine.models.vision.workers).
    """
    machine = os.cpu_count() or 1
    return _setting() or {"command": machine, "worker": max(1, machine - 1), "web": 1}[role]


def configure_threads(role: str) -> int:
    n = thread_count(role)
    torch.set_num_threads(n)
    return n


def numpy_on_one_thread() -> None:
    """Let numpy's matrix products use one thread (its OpenBLAS, and SciPy's and OpenCV's; PyTorch's own are set
    apart), for a web server: one interpreter runs every user's script, and the products its pages make are small
    (a photo's maps, 288 x 7 by 7 x 384), so a second thread mostly spun waiting for work: 56 ms of a core for
    every uploaded photo, more than the page's own Python."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def keep_freed_memory() -> bool:
    """Let a training process keep the memory it frees (glibc only; elsewhere nothing changes): True if set.

    By default glibc gives large freed blocks back to the system, so every training step's activations (about
    100 MB for a captioner's step) come back as fresh pages, each faulted in and zeroed by the kernel: some 25,000
    page faults and a tenth of the captioner's step. Kept, a process's memory stays at its largest step's. Web
    servers do not call this: their memory follows their load.
    """
    import ctypes
    import ctypes.util

    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError):          # not glibc: musl and macOS have no mallopt
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    # Blocks up to 1 GB come from the heap, and the heap is never trimmed (glibc takes values up to 2^31 - 1).
    return bool(mallopt(M_MMAP_THRESHOLD, 1 << 30)) and bool(mallopt(M_TRIM_THRESHOLD, (1 << 31) - 1))
