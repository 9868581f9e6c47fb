"""engine.registry: one table of models with presets, config round trips and stable config hashes."""
import dataclasses
import hashlib
import json
from dataclasses import dataclass

import pytest

from engine import registry
from engine.registry import PRESETS, ModelSpec


@dataclass(frozen=True)
class ToyConfig:
    width: int = 4
    lr: float = 0.5
    steps: int = 3
    seed: int = 0


def toy_spec(name: str, presets=None) -> ModelSpec:
    presets = {p: ToyConfig() for p in PRESETS} if presets is None else presets
    return ModelSpec(name=name, title="toy", page="manifold", config_cls=ToyConfig, presets=presets,
                     build=lambda c: None, data=lambda c: None, train_step=lambda *a: None,
                     evaluate=lambda *a: {})


@pytest.fixture
def private_registry(monkeypatch):
    """A copy of the table, so tests can register toys without leaking them to other tests."""
    registry.list_models()                                       # make sure the real models are in it first
    table = dict(registry._REGISTRY)
    monkeypatch.setattr(registry, "_REGISTRY", table)
    return table


def test_registering_a_name_twice_raises(private_registry):
    registry.register(toy_spec("toy"))
    with pytest.raises(ValueError, match="'toy' is already registered"):
        registry.register(toy_spec("toy"))


def test_registering_an_existing_model_name_raises(private_registry):
    with pytest.raises(ValueError, match="already registered"):
        registry.register(toy_spec("dae2d"))
    assert private_registry["dae2d"].title != "toy"


def test_spec_missing_a_preset_raises_and_is_not_registered(private_registry):
    with pytest.raises(ValueError, match=r"lacks presets \['gpu'\]"):
        registry.register(toy_spec("toy", presets={"tiny": ToyConfig(), "cpu": ToyConfig()}))
    assert "toy" not in private_registry


def test_known_models_are_registered_sorted():
    names = [spec.name for spec in registry.list_models()]
    assert names == sorted(names)
    assert {"dae", "dae2d", "mnist_classifier"} <= set(names)


@pytest.mark.parametrize("spec", registry.list_models(), ids=lambda s: s.name)
def test_every_model_has_all_presets(spec):
    assert set(PRESETS) <= set(spec.presets)
    for preset in PRESETS:
        config = spec.config(preset)
        assert isinstance(config, spec.config_cls)
        rates = [getattr(config, f) for f in ("lr", "lr_d", "lr_g") if hasattr(config, f)]   # a game has one each
        assert config.steps > 0 and rates and min(rates) > 0
    configs = spec.configs("tiny")
    assert len(configs) == 1 + len(spec.variants)
    assert len({registry.config_hash(spec.name, c) for c in configs}) == len(configs)


def test_tiny_preset_is_smaller_than_cpu():
    for spec in registry.list_models():
        assert spec.config("tiny").steps < spec.config("cpu").steps <= spec.config("gpu").steps, spec.name


def test_unknown_preset_error_lists_presets():
    with pytest.raises(KeyError, match="has no preset 'huge'.*tiny, cpu, gpu"):
        registry.get("dae2d").config("huge")


def test_config_overrides_and_rejects_unknown_override():
    spec = registry.get("dae2d")
    assert spec.config("tiny", steps=7).steps == 7
    assert spec.config("tiny", steps=7).hidden == spec.config("tiny").hidden
    with pytest.raises(TypeError):
        spec.config("tiny", no_such_field=1)


def test_get_unknown_name_lists_known_models():
    with pytest.raises(KeyError) as info:
        registry.get("no_such_model")
    message = info.value.args[0]
    assert "unknown model 'no_such_model'" in message
    for name in ("dae", "dae2d", "mnist_classifier"):
        assert name in message


@pytest.mark.parametrize("spec", registry.list_models(), ids=lambda s: s.name)
def test_config_dict_round_trip(spec):
    for preset in PRESETS:
        config = spec.config(preset)
        assert spec.config_from_dict(registry.config_dict(config)) == config
        assert spec.config_from_dict(json.loads(json.dumps(registry.config_dict(config)))) == config


def test_config_from_dict_rejects_unknown_fields():
    spec = registry.get("dae2d")
    values = dict(registry.config_dict(spec.config("tiny")), bogus=1, other=2)
    with pytest.raises(ValueError, match=r"unknown config fields for dae2d: \['bogus', 'other'\]"):
        spec.config_from_dict(values)


def test_config_from_dict_fills_missing_fields_with_defaults():
    spec = registry.get("dae2d")
    assert spec.config_from_dict({"steps": 5}) == spec.config_cls(steps=5)


def test_config_hash_is_twelve_hex_and_stable():
    spec = registry.get("dae2d")
    first = registry.config_hash("dae2d", spec.config("tiny"))
    again = registry.config_hash("dae2d", spec.config_from_dict(registry.config_dict(spec.config("tiny"))))
    assert first == again
    assert len(first) == 12 and int(first, 16) >= 0


def test_config_hash_format_is_pinned():
    # Shipped manifests and cache folders are keyed by this hash: its recipe must not drift.
    blob = json.dumps({"name": "toy", "config": {"lr": 0.5, "seed": 0, "steps": 3, "width": 4}}, sort_keys=True)
    assert registry.config_hash("toy", ToyConfig()) == hashlib.sha256(blob.encode()).hexdigest()[:12]


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(ToyConfig)])
def test_config_hash_changes_with_every_field(field):
    base = ToyConfig()
    changed = dataclasses.replace(base, **{field: getattr(base, field) + 1})
    assert registry.config_hash("toy", changed) != registry.config_hash("toy", base)


def test_config_hash_depends_on_model_name():
    assert registry.config_hash("a", ToyConfig()) != registry.config_hash("b", ToyConfig())


def test_real_presets_have_distinct_hashes():
    hashes = [registry.config_hash(s.name, s.config(p)) for s in registry.list_models() for p in PRESETS]
    assert len(set(hashes)) == len(hashes)


def test_a_field_added_later_keeps_old_keys_until_it_is_set():
    import dataclasses
    import hashlib
    import json

    @dataclasses.dataclass(frozen=True)
    class Before:
        width: int = 8

    @dataclasses.dataclass(frozen=True)
    class After:
        width: int = 8
        depth: int = registry.added(1)

    old = hashlib.sha256(json.dumps({"name": "m", "config": {"width": 8}}, sort_keys=True).encode()).hexdigest()[:12]
    assert registry.config_hash("m", Before()) == old == registry.config_hash("m", After())
    assert registry.config_hash("m", After(depth=2)) != old
    assert registry.config_dict(After()) == {"width": 8, "depth": 1}       # stored configs still name it
