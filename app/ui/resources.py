"""Process-wide resources: thread settings and models, one copy per server process shared by all sessions."""
import os
import time

import streamlit as st

from engine import api

PRESET_ENV = "PLAYGROUND_PRESET"


@st.cache_resource
def configure_process() -> float:
    """Run once per server process; returns its start time (checkpoints newer than it were "trained now")."""
    api.configure_threads("server")
    return time.time()


def preset() -> str:
    """Which preset the pages serve: cpu (shipped) unless PLAYGROUND_PRESET says otherwise."""
    value = os.environ.get(PRESET_ENV, "cpu")
    return value if value in api.PRESETS else "cpu"


@st.cache_resource(max_entries=24, show_spinner="Loading model…")
def _load(name: str, config_hash: str, sha256: str, _config) -> api.Loaded:
    # The config hash stands for the config; sha256 makes a retrained checkpoint a new entry.
    return api.load(name, _config)


def load(name: str, config, sha256: str) -> api.Loaded:
    return _load(name, api.config_hash(name, config), sha256, config)
