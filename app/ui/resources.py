"""Process-wide resources: thread settings and models, one copy per server process shared by all sessions."""
import gc
import os
import threading
import time
import zlib
from contextlib import contextmanager

import streamlit as st

from engine import api

PRESET_ENV = "PLAYGROUND_PRESET"


def freeze_long_lived() -> None:
    """Move every object alive now out of the garbage collector's sight. After each script run Streamlit collects
    all generations (runner.postScriptGC), and one server interpreter runs every user's script: walking the
    ~360,000 objects of torch, pandas and Streamlit took 0.2 s per rerun, during which no other user's script ran.
    Libraries and loaded models live as long as the process, so they need no collecting; what a script run makes
    is still collected as before."""
    gc.collect()
    gc.freeze()


_stripes = [threading.Lock() for _ in range(64)]


@contextmanager
def one_at_a_time(key: str):
    """Around a cached computation: reruns that would compute the same entry at once wait for the first to fill the
    cache, instead of each computing it (thirty students searching the word their teacher just said made thirty
    charts, each slowing the others). Keys share 64 locks, so two unrelated computations seldom wait for each
    other, and the locks never grow in number."""
    with _stripes[zlib.crc32(key.encode()) % len(_stripes)]:
        yield


@st.cache_resource
def configure_process() -> float:
    """Run once per server process; returns its start time (checkpoints newer than it were "trained now")."""
    api.configure_threads("web")
    api.numpy_on_one_thread()
    freeze_long_lived()
    return time.time()


def preset() -> str:
    """Which preset the pages serve: cpu (shipped) unless PLAYGROUND_PRESET says otherwise."""
    value = os.environ.get(PRESET_ENV, "cpu")
    return value if value in api.PRESETS else "cpu"


@st.cache_resource(max_entries=24, show_spinner="Loading model…")
def _load(name: str, config_hash: str, sha256: str, seat: str, _config) -> api.Loaded:
    # The config hash stands for the config; sha256 makes a retrained checkpoint a new entry.
    loaded = api.load(name, _config, seat)
    freeze_long_lived()             # the model (and any library its page imported first) stays for the process
    return loaded


def load(name: str, config, sha256: str, seat: str = "") -> api.Loaded:
    """The model of (name, config) whose weights have this sha256 (a classroom student's own seat looked at
    first), one copy per process."""
    return _load(name, api.config_hash(name, config), sha256, seat, config)
