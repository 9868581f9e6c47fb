"""The shipped checkpoints: present for every model, small, intact, and their metrics are what eval recomputes."""
import json
import subprocess
import sys

import pytest

from engine import api, registry, store
from tests.integration.test_tiny_presets import assert_close

MANIFEST = store.read_manifest(store.REPO_ROOT / "assets" / "checkpoints")["checkpoints"]


def test_every_model_and_variant_is_shipped_for_the_cpu_preset():
    shipped = {(e["name"], e["config_hash"]) for e in MANIFEST if e["preset"] == "cpu"}
    wanted = {(s.name, registry.config_hash(s.name, c)) for s in registry.list_models() for c in s.configs("cpu")}
    assert wanted <= shipped


def test_shipped_checkpoints_stay_under_64_mb_and_match_their_checksums():
    # Every page's models travel with the repository (21 checkpoints for eight pages): a clone stays quick.
    root = store.REPO_ROOT / "assets" / "checkpoints"
    assert sum(e["bytes"] for e in MANIFEST) < 64 * 2**20
    for entry in MANIFEST:
        ckpt = store.read(root / entry["path"], "shipped", entry["sha256"])
        assert ckpt.config_hash == entry["config_hash"]


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda e: f"{e['name']}-{e['config_hash']}")
def test_manifest_metrics_match_what_eval_recomputes(entry, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_CACHE", str(tmp_path))     # an empty cache: only shipped checkpoints load
    spec = registry.get(entry["name"])
    config = spec.config(entry["preset"], **entry["variant"])
    assert registry.config_hash(spec.name, config) == entry["config_hash"]
    if entry["variant"]:
        # Variants have no CLI flag; api.evaluate is the function `engine eval` calls.
        metrics, ckpt = api.evaluate(spec.name, config)
        assert ckpt.source == "shipped"
    else:
        out = subprocess.run([sys.executable, "-m", "engine", "eval", spec.name, "--preset", entry["preset"], "--json"],
                             cwd=store.REPO_ROOT, capture_output=True, text=True, timeout=600,
                             env={"PLAYGROUND_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        assert out.returncode == 0, out.stderr
        metrics = json.loads(out.stdout)
        assert metrics.pop("checkpoint")["source"] == "shipped"
    assert_close(metrics, entry["metrics"])


def test_shipped_translation_models_meet_the_attention_targets():
    # The manifest's numbers are the ones eval recomputes (test above).
    (entry,) = [e for e in MANIFEST if e["name"] == "nmt" and e["preset"] == "cpu"]
    m = entry["metrics"]
    assert m["bleu_rnnsearch"] >= 90
    assert m["aer_rnnsearch"] <= 0.15
    assert m["bleu_long_rnnsearch"] - m["bleu_long_rnnenc"] >= 20


def test_shipped_gans_cover_every_digit_class_and_every_ring_mode():
    # The manifest's numbers are the ones eval recomputes (test above); both the 64-d and the 2-d GAN are held to it.
    entries = [e for e in MANIFEST if e["name"] == "gan" and e["preset"] == "cpu"]
    assert len(entries) == 2
    for m in (e["metrics"] for e in entries):
        assert m["class_coverage"] == 10 and min(m["class_shares"]) >= 0.05
    ring_hash = registry.config_hash("gan2d", registry.get("gan2d").config("cpu"))
    (ring,) = [e["metrics"] for e in MANIFEST if e["name"] == "gan2d" and e["config_hash"] == ring_hash]
    assert ring["modes_covered"] == ring["modes"] == 8
