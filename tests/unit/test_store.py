"""engine.store: atomic checkpoint writes, checksum refusal, cache-before-shipped load order, shipping."""
import json
import os

import pytest
import torch

from engine import registry, store
from engine.store import CONFIG, MANIFEST, METRICS, WEIGHTS, CheckpointError
from engine.train import build_model

pytestmark = pytest.mark.usefixtures("cache", "no_shipped")

NAME = "dae2d"


@pytest.fixture
def state(spec, tiny):
    """A real tiny model's state dict plus a few odd tensors (integer, half, 0-d, non-contiguous)."""
    tensors = dict(build_model(spec, tiny).state_dict())
    tensors["extra.int"] = torch.arange(7, dtype=torch.int64)
    tensors["extra.half"] = torch.linspace(-2, 2, 5, dtype=torch.float16)
    tensors["extra.scalar"] = torch.tensor(3.25)
    tensors["extra.transposed"] = torch.arange(6.0).view(2, 3).t()
    return tensors


def save(tiny, state, metrics=None, history=None, seconds=1.234):
    return store.save_cached(NAME, tiny, state, metrics or {"score": 0.5}, history or [[1, 2.0]], seconds)


def folder_of(tiny):
    return store.cache_root() / "checkpoints" / NAME / registry.config_hash(NAME, tiny)


def leftovers(tiny):
    """Entries beside the checkpoint folder other than the checkpoint itself (temporary or trash folders)."""
    parent = folder_of(tiny).parent
    return sorted(p.name for p in parent.iterdir() if p.name != folder_of(tiny).name) if parent.exists() else []


def assert_same_tensors(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert a[key].shape == b[key].shape, key
        assert torch.equal(a[key].cpu(), b[key].cpu()), key


def flip_byte(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# ---- round trip -------------------------------------------------------------------------------------------


def test_cache_root_follows_env(cache):
    assert store.cache_root() == cache


def test_save_find_read_load_round_trip(tiny, state):
    saved = save(tiny, state, metrics={"acc": 0.91}, history=[[1, 0.5], [2, 0.25]], seconds=3.14159)
    assert saved.path == folder_of(tiny)
    assert sorted(p.name for p in saved.path.iterdir()) == sorted([WEIGHTS, CONFIG, METRICS])
    found, errors = store.find(NAME, tiny)
    assert errors == []
    assert found is not None and found.source == "cached" and found.path == saved.path
    assert found.config == registry.config_dict(tiny)
    assert found.config_hash == registry.config_hash(NAME, tiny)
    assert found.metrics == {"acc": 0.91}
    assert found.history == [[1, 0.5], [2, 0.25]]
    assert found.train_seconds == 3.14
    assert found.sha256 == store.sha256_bytes(found.weights_path.read_bytes())
    assert_same_tensors(store.load_state(found), {k: v.contiguous() for k, v in state.items()})
    assert leftovers(tiny) == []


def test_loaded_state_rebuilds_the_model(spec, tiny):
    model = build_model(spec, tiny).cpu()
    save(tiny, model.state_dict())
    found, _ = store.find(NAME, tiny)
    rebuilt = build_model(spec, spec.config_from_dict(found.config)).cpu()
    for p in rebuilt.parameters():
        torch.nn.init.zeros_(p)
    rebuilt.load_state_dict(store.load_state(found))
    x = torch.randn(5, 2)
    assert torch.equal(rebuilt(x), model(x))


def test_find_without_checkpoint(tiny):
    assert store.find(NAME, tiny) == (None, [])


def test_resave_replaces_the_checkpoint(tiny, state):
    save(tiny, state, metrics={"run": 1})
    changed = {k: v + 1 if v.is_floating_point() else v for k, v in state.items()}
    save(tiny, changed, metrics={"run": 2})
    found, errors = store.find(NAME, tiny)
    assert errors == [] and found.metrics == {"run": 2}
    assert torch.equal(store.load_state(found)["extra.scalar"], torch.tensor(4.25))
    assert leftovers(tiny) == []


def test_different_configs_get_different_folders(spec, tiny, state):
    a = save(tiny, state)
    b = save(spec.config("tiny", seed=1), state)
    assert a.path != b.path and a.path.exists() and b.path.exists()


# ---- atomic writes ----------------------------------------------------------------------------------------


def boom(*args, **kwargs):
    raise OSError(28, "No space left on device (simulated)")


@pytest.mark.parametrize("target", ["safetensors", "fsync", "replace"])
def test_failed_first_save_leaves_nothing_loadable(monkeypatch, tiny, state, target):
    owner, attr = {"safetensors": (store, "save_safetensors"), "fsync": (store.os, "fsync"),
                   "replace": (store.os, "replace")}[target]
    with monkeypatch.context() as m, pytest.raises(OSError, match="simulated"):
        m.setattr(owner, attr, boom)
        save(tiny, state)
    assert not folder_of(tiny).exists()
    assert leftovers(tiny) == []                      # no temporary folder left behind either
    assert store.find(NAME, tiny) == (None, [])


def test_failure_while_writing_files_mid_save(monkeypatch, tiny, state):
    """Die after the weights are written but before the metadata: the half-written folder is discarded."""
    real_write_text = type(folder_of(tiny)).write_text
    seen = []

    def write_text(self, *args, **kwargs):
        seen.append(self.name)
        if self.name == METRICS:
            raise OSError("disk yanked (simulated)")
        return real_write_text(self, *args, **kwargs)

    with monkeypatch.context() as m, pytest.raises(OSError, match="simulated"):
        m.setattr(type(folder_of(tiny)), "write_text", write_text)
        save(tiny, state)
    assert METRICS in seen
    assert not folder_of(tiny).exists() and leftovers(tiny) == []
    assert store.find(NAME, tiny) == (None, [])


@pytest.mark.parametrize("target", ["safetensors", "fsync"])
def test_good_checkpoint_survives_failed_resave(monkeypatch, tiny, state, target):
    good = save(tiny, state, metrics={"run": "good"})
    owner, attr = (store, "save_safetensors") if target == "safetensors" else (store.os, "fsync")
    with monkeypatch.context() as m, pytest.raises(OSError, match="simulated"):
        m.setattr(owner, attr, boom)
        save(tiny, {k: v * 0 for k, v in state.items()}, metrics={"run": "bad"})
    found, errors = store.find(NAME, tiny)
    assert errors == []
    assert found.metrics == {"run": "good"} and found.sha256 == good.sha256
    assert_same_tensors(store.load_state(found), {k: v.contiguous() for k, v in state.items()})
    assert leftovers(tiny) == []


def test_good_checkpoint_survives_failure_moving_old_aside(monkeypatch, tiny, state):
    good = save(tiny, state, metrics={"run": "good"})
    with monkeypatch.context() as m, pytest.raises(OSError, match="simulated"):
        m.setattr(store.os, "replace", boom)            # the first rename (old checkpoint aside) fails
        save(tiny, state, metrics={"run": "bad"})
    found, errors = store.find(NAME, tiny)
    assert errors == [] and found.sha256 == good.sha256 and found.metrics == {"run": "good"}


def test_good_checkpoint_survives_failure_renaming_new_one_in(monkeypatch, tiny, state):
    good = save(tiny, state, metrics={"run": "good"})
    real_replace = os.replace
    calls = []

    def replace_second_fails(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError("rename failed (simulated)")
        return real_replace(src, dst)

    with monkeypatch.context() as m, pytest.raises(OSError, match="simulated"):
        m.setattr(store.os, "replace", replace_second_fails)
        save(tiny, state, metrics={"run": "bad"})
    assert len(calls) == 3          # old one aside, new one in (fails), old one back
    found, errors = store.find(NAME, tiny)
    assert found is not None and found.sha256 == good.sha256


# ---- refusing damaged checkpoints -------------------------------------------------------------------------


def test_flipped_weight_byte_is_refused(tiny, state):
    ckpt = save(tiny, state)
    flip_byte(ckpt.weights_path, ckpt.weights_path.stat().st_size - 3)      # inside the tensor data
    found, errors = store.find(NAME, tiny)
    assert found is None
    assert len(errors) == 1
    assert str(ckpt.weights_path) in errors[0] and "sha256" in errors[0]
    with pytest.raises(CheckpointError, match="damaged or altered"):
        store.load_state(ckpt)                  # a Checkpoint read before the damage is refused too


def test_truncated_weights_are_refused(tiny, state):
    ckpt = save(tiny, state)
    data = ckpt.weights_path.read_bytes()
    ckpt.weights_path.write_bytes(data[: len(data) // 2])
    found, errors = store.find(NAME, tiny)
    assert found is None and len(errors) == 1 and WEIGHTS in errors[0]
    with pytest.raises(CheckpointError, match=WEIGHTS):
        store.load_state(ckpt)


def test_missing_weights_are_refused(tiny, state):
    ckpt = save(tiny, state)
    ckpt.weights_path.unlink()
    found, errors = store.find(NAME, tiny)
    assert found is None and "cannot be read" in errors[0] and WEIGHTS in errors[0]


def test_valid_checksum_but_malformed_safetensors_is_refused(tiny, state):
    """Weights whose recorded sha256 matches but that are not safetensors raise CheckpointError, not a crash."""
    ckpt = save(tiny, state)
    garbage = b"\xff" * 64
    ckpt.weights_path.write_bytes(garbage)
    meta = json.loads((ckpt.path / CONFIG).read_text())
    meta["weights_sha256"] = store.sha256_bytes(garbage)
    (ckpt.path / CONFIG).write_text(json.dumps(meta))
    found, errors = store.find(NAME, tiny)
    assert errors == [] and found is not None
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        store.load_state(found)


@pytest.mark.parametrize("damage", [b"{not json", b"", b"\xff\xfe\x00", b"[1, 2, 3]"])
def test_corrupt_config_json_is_refused(tiny, state, damage):
    ckpt = save(tiny, state)
    (ckpt.path / CONFIG).write_bytes(damage)
    found, errors = store.find(NAME, tiny)
    assert found is None and len(errors) == 1
    assert str(ckpt.path / CONFIG) in errors[0]


def test_config_json_missing_a_field_is_refused(tiny, state):
    ckpt = save(tiny, state)
    meta = json.loads((ckpt.path / CONFIG).read_text())
    del meta["weights_sha256"]
    (ckpt.path / CONFIG).write_text(json.dumps(meta))
    found, errors = store.find(NAME, tiny)
    assert found is None and "weights_sha256" in errors[0] and str(ckpt.path / CONFIG) in errors[0]


def test_corrupt_metrics_json_is_refused(tiny, state):
    ckpt = save(tiny, state)
    (ckpt.path / METRICS).write_text("{")
    found, errors = store.find(NAME, tiny)
    assert found is None and str(ckpt.path / METRICS) in errors[0]


# ---- shipped checkpoints and load order -------------------------------------------------------------------


def build_and_ship(tmp_path, tiny, state, preset="tiny", metrics=None):
    ckpt = store.save(tmp_path / "build", NAME, tiny, state, metrics or {"where": "shipped"}, [], 2.0)
    return store.ship(ckpt, preset)


def test_ship_writes_manifest_entry(tmp_path, no_shipped, tiny, state):
    shipped = build_and_ship(tmp_path, tiny, state, metrics={"acc": 0.7})
    assert shipped.source == "shipped"
    rel = f"{NAME}/{registry.config_hash(NAME, tiny)}"
    assert shipped.path == no_shipped / rel
    manifest = json.loads((no_shipped / MANIFEST).read_text())
    [entry] = manifest["checkpoints"]
    assert entry["name"] == NAME and entry["preset"] == "tiny" and entry["variant"] == {}
    assert entry["config_hash"] == registry.config_hash(NAME, tiny) and entry["path"] == rel
    weights = (no_shipped / rel / WEIGHTS).read_bytes()
    assert entry["sha256"] == store.sha256_bytes(weights) == shipped.sha256
    assert entry["bytes"] == len(weights)
    assert entry["metrics"] == {"acc": 0.7} and entry["train_seconds"] == 2.0
    assert sorted(p.name for p in no_shipped.iterdir()) == sorted([MANIFEST, NAME])   # no temporary folders left
    assert sorted(p.name for p in (no_shipped / NAME).iterdir()) == [registry.config_hash(NAME, tiny)]


def test_shipped_checkpoint_is_found_when_cache_is_empty(tmp_path, tiny, state):
    build_and_ship(tmp_path, tiny, state)
    found, errors = store.find(NAME, tiny)
    assert errors == [] and found.source == "shipped" and found.metrics == {"where": "shipped"}
    assert_same_tensors(store.load_state(found), {k: v.contiguous() for k, v in state.items()})


def test_reshipping_replaces_entry_for_same_preset_and_variant(tmp_path, no_shipped, spec, tiny, state,
                                                               monkeypatch):
    # An older preset definition (say, fewer steps) was shipped first: same (name, preset, variant), other hash.
    old_config = spec.config("tiny", steps=tiny.steps + 1)
    with monkeypatch.context() as m:
        m.setitem(spec.presets, "tiny", old_config)
        old = build_and_ship(tmp_path, old_config, state, metrics={"run": "old"})
    assert old.path.exists()
    new = build_and_ship(tmp_path, tiny, state, metrics={"run": "new"})
    [entry] = json.loads((no_shipped / MANIFEST).read_text())["checkpoints"]
    assert entry["config_hash"] == registry.config_hash(NAME, tiny) and entry["metrics"] == {"run": "new"}
    assert entry["sha256"] == new.sha256
    assert not old.path.exists()                         # the replaced checkpoint's files are removed
    # Shipping the same checkpoint again keeps one entry.
    build_and_ship(tmp_path, tiny, state, metrics={"run": "newer"})
    [entry] = json.loads((no_shipped / MANIFEST).read_text())["checkpoints"]
    assert entry["metrics"] == {"run": "newer"}


def test_variants_are_separate_manifest_entries(tmp_path, no_shipped, spec, tiny, state):
    build_and_ship(tmp_path, tiny, state)
    moons = spec.config("tiny", dataset="moons")
    build_and_ship(tmp_path, moons, state)
    entries = json.loads((no_shipped / MANIFEST).read_text())["checkpoints"]
    assert sorted(json.dumps(e["variant"]) for e in entries) == sorted(["{}", json.dumps({"dataset": "moons"})])
    assert store.find(NAME, moons)[0].source == "shipped"
    assert store.find(NAME, tiny)[0].source == "shipped"


def test_cache_is_preferred_over_shipped(tmp_path, tiny, state):
    build_and_ship(tmp_path, tiny, state, metrics={"where": "shipped"})
    save(tiny, state, metrics={"where": "cached"})
    found, errors = store.find(NAME, tiny)
    assert errors == [] and found.source == "cached" and found.metrics == {"where": "cached"}
    assert [source for _, source, _ in store.candidates(NAME, tiny, [])] == ["cached", "shipped"]


def test_damaged_cache_falls_back_to_shipped_and_reports(tmp_path, tiny, state):
    build_and_ship(tmp_path, tiny, state, metrics={"where": "shipped"})
    cached = save(tiny, state, metrics={"where": "cached"})
    flip_byte(cached.weights_path, cached.weights_path.stat().st_size - 1)
    found, errors = store.find(NAME, tiny)
    assert found is not None and found.source == "shipped" and found.metrics == {"where": "shipped"}
    assert len(errors) == 1 and str(cached.weights_path) in errors[0]


def test_damaged_shipped_weights_are_refused(tmp_path, tiny, state):
    shipped = build_and_ship(tmp_path, tiny, state)
    flip_byte(shipped.weights_path, shipped.weights_path.stat().st_size - 1)
    found, errors = store.find(NAME, tiny)
    assert found is None and str(shipped.weights_path) in errors[0]


def test_shipped_config_disagreeing_with_manifest_is_refused(tmp_path, no_shipped, tiny, state):
    build_and_ship(tmp_path, tiny, state)
    manifest = json.loads((no_shipped / MANIFEST).read_text())
    manifest["checkpoints"][0]["sha256"] = "0" * 64
    (no_shipped / MANIFEST).write_text(json.dumps(manifest))
    found, errors = store.find(NAME, tiny)
    assert found is None and "manifest" in errors[0]


def test_write_json_atomic_leaves_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "json" / "x.json"
    store.write_json_atomic(path, {"a": 1})
    with monkeypatch.context() as m, pytest.raises(OSError, match="simulated"):
        m.setattr(store.os, "replace", boom)
        store.write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]


def find_or_error(tiny):
    """find(), with a CheckpointError raised by it folded into the error list."""
    try:
        return store.find(NAME, tiny)
    except CheckpointError as e:
        return None, [str(e)]


def test_corrupt_manifest_is_reported(no_shipped, tiny):
    (no_shipped / MANIFEST).write_text("{ torn")
    found, errors = find_or_error(tiny)
    assert found is None and len(errors) == 1 and str(no_shipped / MANIFEST) in errors[0]


def test_corrupt_manifest_does_not_hide_good_cache(no_shipped, tiny, state):
    save(tiny, state)
    (no_shipped / MANIFEST).write_text("{ torn")
    found, errors = store.find(NAME, tiny)
    assert found is not None and found.source == "cached"
    assert any(MANIFEST in e for e in errors)
