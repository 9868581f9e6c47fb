"""engine.store: atomic checkpoint writes, checksum refusal, cache-before-shipped load order, shipping."""
import json
import os
import signal
import subprocess
import sys
import threading

import pytest
import torch

from engine import files, registry, store
from engine.store import CONFIG, MANIFEST, METRICS, WEIGHTS, CheckpointError
from engine.train import build_model
from tests.unit.dying import PREAMBLE

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


# ---- a writer killed at any step --------------------------------------------------------------------------

# Saves (or ships) the checkpoint at argv[3] into the cache (or the shipped root), SIGKILLing itself at its
# kill_at-th rename or delete instead of making that call.
WRITER = PREAMBLE + """
from engine import registry, store

mode, kill_at, source = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
ckpt = store.read(source, "cached")
state = store.load_state(ckpt)
if mode == "save":
    store.save_cached(ckpt.name, registry.get(ckpt.name).config("tiny"), state, ckpt.metrics, [], 1.0)
else:
    store.ship(ckpt, "tiny")
"""


RUNS = ("old", "new", "later", "last")


def weights(run):
    return {"w": torch.full((3,), float(RUNS.index(run)))}


def build(tmp_path, tiny, run):
    """A checkpoint outside the cache and shipped roots, whose weights and metrics tell which run it is."""
    return store.save(tmp_path / "build" / run, NAME, tiny, weights(run), {"run": run}, [], 1.0)


def run_writer(mode, kill_at, source):
    done = subprocess.run([sys.executable, "-c", WRITER, mode, str(kill_at), str(source.path)], cwd=store.REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr


def found_run(tiny):
    """The run of the checkpoint find() returns, after checking its weights are that run's."""
    found, errors = store.find(NAME, tiny)
    assert found is not None, errors
    run = found.metrics["run"]
    assert torch.equal(store.load_state(found)["w"], weights(run)["w"])
    return run


# kill_at -> (the run a reader finds, whether the old folder is aside); the steps are: old folder aside, new one in,
# aside one deleted.
SAVE_STEPS = {1: ("old", False), 2: ("old", True), 3: ("new", True)}


@pytest.mark.parametrize("kill_at", SAVE_STEPS)
def test_killed_save_leaves_old_or_new_checkpoint(tmp_path, tiny, kill_at):
    store.save_cached(NAME, tiny, weights("old"), {"run": "old"}, [], 1.0)
    run_writer("save", kill_at, build(tmp_path, tiny, "new"))
    expected, aside = SAVE_STEPS[kill_at]
    assert files.aside(folder_of(tiny)).exists() == aside
    assert folder_of(tiny).exists() == (kill_at != 2)
    assert found_run(tiny) == expected
    store.save_cached(NAME, tiny, weights("later"), {"run": "later"}, [], 1.0)
    assert found_run(tiny) == "later" and store.find(NAME, tiny)[1] == []
    assert files.copies(folder_of(tiny)) == [folder_of(tiny)]


def shipped_folder(tiny):
    return store.shipped_root() / NAME / registry.config_hash(NAME, tiny)


def manifest_runs(no_shipped):
    return [e["metrics"]["run"] for e in json.loads((no_shipped / MANIFEST).read_text())["checkpoints"]]


# kill_at -> the run a reader finds; the steps are: old folder aside, new one in, manifest written, aside one deleted.
SHIP_STEPS = {1: "old", 2: "old", 3: "old", 4: "new"}


@pytest.mark.parametrize("kill_at", SHIP_STEPS)
def test_killed_ship_leaves_old_or_new_checkpoint(tmp_path, no_shipped, tiny, kill_at):
    store.ship(build(tmp_path, tiny, "old"), "tiny")
    run_writer("ship", kill_at, build(tmp_path, tiny, "new"))
    assert manifest_runs(no_shipped) == ["new" if kill_at == 4 else "old"]
    assert files.aside(shipped_folder(tiny)).exists() == (kill_at > 1)
    assert found_run(tiny) == SHIP_STEPS[kill_at]
    store.ship(build(tmp_path, tiny, "later"), "tiny")
    assert found_run(tiny) == "later" and store.find(NAME, tiny)[1] == []
    assert manifest_runs(no_shipped) == ["later"]
    assert names_in(no_shipped / NAME) == [registry.config_hash(NAME, tiny)]


def names_in(folder):
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") or p.name.endswith(".old"))


@pytest.mark.parametrize("kill_at", [1, 2, 3, 4])
def test_ship_after_a_killed_ship_keeps_a_listed_checkpoint(tmp_path, no_shipped, tiny, kill_at):
    """The first ship dies with the new folder in but the manifest still naming the old one (kept aside); the
    next ship, killed at each of its steps (unlisted folder deleted, new one in, manifest, aside deleted), too."""
    store.ship(build(tmp_path, tiny, "old"), "tiny")
    run_writer("ship", 3, build(tmp_path, tiny, "new"))
    run_writer("ship", kill_at, build(tmp_path, tiny, "later"))
    assert found_run(tiny) == ("later" if kill_at == 4 else "old")
    store.ship(build(tmp_path, tiny, "last"), "tiny")
    assert found_run(tiny) == "last" and manifest_runs(no_shipped) == ["last"]
    assert names_in(no_shipped / NAME) == [registry.config_hash(NAME, tiny)]


# ---- each weights file is verified once per process -------------------------------------------------------


def settle(path, seconds_ago=60):
    """Date the file back, as a checkpoint saved in an earlier session would be."""
    then = path.stat().st_mtime_ns - seconds_ago * 10**9
    os.utime(path, ns=(then, then))


@pytest.fixture
def reads(monkeypatch):
    """The weights files read from disk, in order."""
    paths = []
    real = store._read_weights

    def counting(path):
        paths.append(path)
        return real(path)

    monkeypatch.setattr(store, "_read_weights", counting)
    return paths


def test_find_hashes_a_settled_checkpoint_once(tiny, state, reads):
    ckpt = save(tiny, state)
    settle(ckpt.weights_path)
    reads.clear()
    for _ in range(3):
        found, errors = store.find(NAME, tiny)
        assert found is not None and errors == []
    assert reads == [ckpt.weights_path]
    store.load_state(found)                              # loading reads the bytes, and verifies them, anyway
    assert len(reads) == 2


def test_load_state_remembers_what_it_verified(tiny, state, reads):
    ckpt = save(tiny, state)
    settle(ckpt.weights_path)
    store.load_state(ckpt)
    reads.clear()
    assert store.find(NAME, tiny)[0] is not None and reads == []


def test_a_freshly_written_file_is_hashed_every_time(tiny, state, reads):
    """Within a clock tick a file can change without its mtime changing, so a new file is not remembered yet."""
    save(tiny, state)
    reads.clear()
    store.find(NAME, tiny)
    store.find(NAME, tiny)
    assert len(reads) == 2


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_changed_file_is_hashed_again_and_refused(tiny, state, reads, damage):
    ckpt = save(tiny, state)
    path = ckpt.weights_path
    settle(path)
    assert store.find(NAME, tiny)[0] is not None
    mtime = path.stat().st_mtime_ns
    if damage == "flip":
        flip_byte(path, path.stat().st_size - 3)
        settle(path, seconds_ago=30)                      # a new mtime, long enough ago to be remembered
    else:
        path.write_bytes(path.read_bytes()[:-1])
        os.utime(path, ns=(mtime, mtime))                 # the same mtime, a new size
    reads.clear()
    for _ in range(2):
        found, errors = store.find(NAME, tiny)
        assert found is None and "damaged or altered" in errors[0]
    assert reads == [path, path]                           # refused files are not remembered


def test_concurrent_finds_agree(tiny, state, reads):
    ckpt = save(tiny, state)
    settle(ckpt.weights_path)
    results = []

    def find():
        results.append(store.find(NAME, tiny)[0].sha256)

    threads = [threading.Thread(target=find) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [ckpt.sha256] * 8
    reads.clear()
    store.find(NAME, tiny)
    assert reads == []
