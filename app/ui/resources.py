"""Process-wide resources: thread settings and models, one copy per server process shared by all sessions."""
import json
import os
import time

import streamlit as st

from engine import api, registry
from engine.device import configure_threads

PRESET_ENV = "PLAYGROUND_PRESET"


@st.cache_resource
def configure_process() -> float:
    """Run once per server process; returns its start time (checkpoints newer than it were "trained now")."""
    configure_threads("server")
    return time.time()


def preset() -> str:
    """Which preset the pages serve: cpu (shipped) unless PLAYGROUND_PRESET says otherwise."""
    value = os.environ.get(PRESET_ENV, "cpu")
    return value if value in registry.PRESETS else "cpu"


@st.cache_resource(max_entries=24, show_spinner="Loading model…")
def _load(name: str, config_json: str, sha256: str) -> api.Loaded:
    # sha256 is part of the key: a retrained checkpoint is a new cache entry.
    spec = registry.get(name)
    return api.load(name, spec.config_from_dict(json.loads(config_json)))


def load(name: str, config, sha256: str) -> api.Loaded:
    return _load(name, json.dumps(registry.config_dict(config), sort_keys=True), sha256)
