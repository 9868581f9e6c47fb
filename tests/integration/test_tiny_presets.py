"""Every registered model trains on its tiny preset, saves, reloads and re-evaluates to the stored metrics."""
import math

import pytest
import torch

from engine import api, registry, store

MODELS = [spec.name for spec in registry.list_models()]


def finite_numbers(value):
    if isinstance(value, dict):
        return all(finite_numbers(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_numbers(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


@pytest.mark.parametrize("name", MODELS)
def test_tiny_preset_trains_saves_reloads_and_evaluates(name, tiny_cache, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_CACHE", str(tiny_cache))
    config = registry.get(name).config("tiny")
    ckpt, errors = api.locate(name, config)
    assert ckpt is not None and errors == [] and ckpt.source == "cached"
    assert ckpt.metrics and finite_numbers(ckpt.metrics)
    losses = [loss for _, loss in ckpt.history]
    assert len(losses) >= 2 and all(math.isfinite(v) for v in losses)

    loaded = api.load(name, config)
    saved = store.load_state(ckpt)
    for key, value in loaded.model.state_dict().items():
        assert torch.equal(value.cpu(), saved[key].to(value.dtype)), key

    metrics, again = api.evaluate(name, config)
    assert again.sha256 == ckpt.sha256
    assert_close(metrics, ckpt.metrics)


def assert_close(a, b, path="metrics"):
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-3, abs=1e-3), path
    else:
        assert a == b, path


def test_training_improves_on_the_untrained_model(tiny_cache, monkeypatch):
    """The loss curve of a tiny run goes down: the loop really optimises."""
    monkeypatch.setenv("PLAYGROUND_CACHE", str(tiny_cache))
    for name in MODELS:
        ckpt, _ = api.locate(name, registry.get(name).config("tiny"))
        first, last = ckpt.history[0][1], ckpt.history[-1][1]
        assert last < first, name
