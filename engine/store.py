"""Checkpoints on disk: safetensors weights + config.json + metrics.json per (model name, config hash).

Two roots, read in order: the user's cache (PLAYGROUND_CACHE, default ~/.cache/dl-playground) and the shipped,
read-only assets/checkpoints/ (listed in manifest.json). Every write goes to a temporary folder first and is
renamed into place, so a reader never sees half a checkpoint. Weights are verified against their recorded
sha256 before they are loaded; nothing is unpickled.
"""
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from engine import registry

WEIGHTS = "weights.safetensors"
CONFIG = "config.json"
METRICS = "metrics.json"
MANIFEST = "manifest.json"
REPO_ROOT = Path(__file__).resolve().parent.parent


class CheckpointError(Exception):
    """A checkpoint that exists but must not be loaded (damaged, altered, unreadable)."""


def cache_root() -> Path:
    return Path(os.environ.get("PLAYGROUND_CACHE") or Path.home() / ".cache" / "dl-playground")


def shipped_root() -> Path:
    return Path(os.environ.get("PLAYGROUND_SHIPPED") or REPO_ROOT / "assets" / "checkpoints")


@dataclass
class Checkpoint:
    name: str
    config_hash: str
    path: Path
    source: str                     # "cached" or "shipped"
    config: dict
    sha256: str
    train_seconds: float
    created: float
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)   # [[step, loss], ...] of the training run

    @property
    def weights_path(self) -> Path:
        return self.path / WEIGHTS


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_json_atomic(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)          # mkstemp creates 0600; checkpoints and manifests are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path} is not readable JSON ({e.__class__.__name__})") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path} does not hold a JSON object")
    return value


def save(root: Path, name: str, config, state: dict[str, torch.Tensor], metrics: dict, history: list,
         train_seconds: float) -> Checkpoint:
    """Write one checkpoint atomically under root/name/hash and return it."""
    chash = registry.config_hash(name, config)
    final = Path(root) / name / chash
    final.parent.mkdir(parents=True, exist_ok=True)
    blob = save_safetensors({k: v.detach().cpu().contiguous() for k, v in state.items()})
    meta = {"name": name, "config_hash": chash, "config": registry.config_dict(config),
            "weights_sha256": sha256_bytes(blob), "train_seconds": round(train_seconds, 2),
            "created": time.time()}
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{chash}."))
    os.chmod(tmp, 0o755)
    try:
        (tmp / WEIGHTS).write_bytes(blob)
        (tmp / CONFIG).write_text(json.dumps(meta, indent=1, sort_keys=True))
        (tmp / METRICS).write_text(json.dumps({"metrics": metrics, "history": history}, indent=1, sort_keys=True))
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        if final.exists():
            # A directory rename cannot replace a non-empty directory: move the old one aside, put it back if the
            # new one cannot be renamed in, and delete it only once the new one is in place.
            trash = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{chash}.old."))
            os.replace(final, trash / "x")
            try:
                os.replace(tmp, final)
            except BaseException:
                os.replace(trash / "x", final)
                raise
            finally:
                shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return read(final, "cached")


def read(path: Path, source: str, expected_sha: str | None = None) -> Checkpoint:
    """Read a checkpoint's metadata and verify its weights; raise CheckpointError naming the bad file."""
    meta = _read_json(path / CONFIG)
    extra = _read_json(path / METRICS)
    try:
        sha = meta["weights_sha256"]
        ckpt = Checkpoint(name=meta["name"], config_hash=meta["config_hash"], path=path, source=source,
                          config=meta["config"], sha256=sha, train_seconds=float(meta["train_seconds"]),
                          created=float(meta["created"]), metrics=extra.get("metrics", {}),
                          history=extra.get("history", []))
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path / CONFIG} lacks field {e}") from None
    if expected_sha is not None and expected_sha != sha:
        raise CheckpointError(f"{path / CONFIG} records sha256 {sha[:12]}…, the manifest {expected_sha[:12]}…")
    _verified_bytes(ckpt)
    return ckpt


def _verified_bytes(ckpt: Checkpoint) -> bytes:
    try:
        blob = ckpt.weights_path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"{ckpt.weights_path} cannot be read ({e.strerror})") from None
    if sha256_bytes(blob) != ckpt.sha256:
        raise CheckpointError(f"{ckpt.weights_path} is damaged or altered: its sha256 does not match "
                              f"the one recorded when it was saved")
    return blob


def load_state(ckpt: Checkpoint) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors, from bytes whose checksum was just verified."""
    blob = _verified_bytes(ckpt)
    try:
        return load_safetensors(blob)
    except Exception as e:  # safetensors raises its own error types for malformed headers
        raise CheckpointError(f"{ckpt.weights_path} is not a valid safetensors file ({e})") from None


def read_manifest(root: Path | None = None) -> dict:
    path = (root or shipped_root()) / MANIFEST
    if not path.exists():
        return {"checkpoints": []}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path} is not readable JSON ({e.__class__.__name__})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("checkpoints"), list):
        raise CheckpointError(f"{path} does not hold a list of checkpoints")
    return manifest


def candidates(name: str, config, errors: list[str]) -> list[tuple[Path, str, str | None]]:
    """(path, source, expected sha) in load order: cache first, then shipped; a bad manifest goes to errors."""
    chash = registry.config_hash(name, config)
    found = []
    cached = cache_root() / "checkpoints" / name / chash
    if cached.exists():
        found.append((cached, "cached", None))
    try:
        entries = read_manifest()["checkpoints"]
    except CheckpointError as e:
        errors.append(str(e))
        entries = []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == name and entry.get("config_hash") == chash:
            found.append((shipped_root() / str(entry.get("path")), "shipped", entry.get("sha256")))
    return found


def find(name: str, config) -> tuple[Checkpoint | None, list[str]]:
    """First good checkpoint for (name, config) and the problems met on the way (damaged files)."""
    errors = []
    for path, source, expected in candidates(name, config, errors):
        try:
            return read(path, source, expected), errors
        except CheckpointError as e:
            errors.append(str(e))
    return None, errors


def save_cached(name: str, config, state, metrics, history, train_seconds) -> Checkpoint:
    return save(cache_root() / "checkpoints", name, config, state, metrics, history, train_seconds)


def ship(ckpt: Checkpoint, preset: str) -> Checkpoint:
    """Copy a checkpoint into assets/checkpoints and record it in the manifest (replacing the preset's old one)."""
    root = shipped_root()
    rel = f"{ckpt.name}/{ckpt.config_hash}"
    if ckpt.path.resolve() != (root / rel).resolve():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{ckpt.config_hash}."))
        os.chmod(tmp, 0o755)
        for f in (WEIGHTS, CONFIG, METRICS):
            shutil.copy2(ckpt.path / f, tmp / f)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    spec = registry.get(ckpt.name)
    base = registry.config_dict(spec.config(preset))
    variant = {k: v for k, v in ckpt.config.items() if base.get(k) != v}   # fields that differ from the preset
    manifest = read_manifest(root)
    kept = []
    for entry in manifest.get("checkpoints", []):
        if entry["name"] == ckpt.name and entry["preset"] == preset and entry["variant"] == variant:
            if entry["path"] != rel:
                shutil.rmtree(root / entry["path"], ignore_errors=True)
            continue
        kept.append(entry)
    kept.append({"name": ckpt.name, "preset": preset, "variant": variant, "config_hash": ckpt.config_hash, "path": rel,
                 "sha256": ckpt.sha256, "bytes": (root / rel / WEIGHTS).stat().st_size,
                 "metrics": ckpt.metrics, "train_seconds": ckpt.train_seconds})
    kept.sort(key=lambda e: (e["name"], e["preset"], json.dumps(e["variant"], sort_keys=True)))
    write_json_atomic(root / MANIFEST, {"checkpoints": kept})
    return read(root / rel, "shipped", ckpt.sha256)
