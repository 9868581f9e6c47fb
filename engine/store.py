"""Checkpoints on disk: safetensors weights + config.json + metrics.json per (model name, config hash).

Two roots, read in order: the user's cache (PLAYGROUND_CACHE, default ~/.cache/dl-playground) and the shipped,
read-only assets/checkpoints/ (listed in manifest.json). Every write goes to a temporary folder first and is
renamed into place (files.replace_dir), so a reader never sees half a checkpoint, nor none while one is replaced.
Weights are verified against their recorded sha256 before they are loaded, and a file unchanged since it was
verified in this process is not hashed again; nothing is unpickled.
"""
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from engine import files, registry

WEIGHTS = "weights.safetensors"
CONFIG = "config.json"
METRICS = "metrics.json"
MANIFEST = "manifest.json"
REPO_ROOT = Path(__file__).resolve().parent.parent
SETTLED_NS = 2_000_000_000
VERIFIED_LIMIT = 4096

# Weight files already verified in this process, as (path, size, mtime_ns, sha256): the pages call find() on every
# rerun, and hashing every checkpoint each time is the slow part. One entry per version of a checkpoint file, so it
# stays at a few hundred; it is emptied at VERIFIED_LIMIT all the same, for a process that saves without end.
_verified: set[tuple[str, int, int, str]] = set()
_verified_lock = threading.Lock()       # the web server runs its sessions in threads
_json_files: dict[str, tuple[int, int, object]] = {}   # path -> (size, mtime_ns, parsed value), as _verified


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
    source: str                     # "own" (a seat's), "cached" or "shipped"
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


def _parsed(path: Path):
    """A JSON file's value, parsed once per version of the file (path, size, mtime) while it stays settled: every
    page run looks its models up, and their config, metrics and the manifest rarely change. The value is shared
    within the process: read it, never change it."""
    status = path.stat()
    known = _json_files.get(str(path))
    if known is not None and known[:2] == (status.st_size, status.st_mtime_ns):
        return known[2]
    value = json.loads(path.read_text())
    if status.st_mtime_ns < time.time_ns() - SETTLED_NS:        # as for weights: only settled files are kept
        with _verified_lock:
            if len(_json_files) >= VERIFIED_LIMIT:
                _json_files.clear()
            _json_files[str(path)] = (status.st_size, status.st_mtime_ns, value)
    return value


def _read_json(path: Path) -> dict:
    try:
        value = _parsed(path)
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path} is not readable JSON ({e.__class__.__name__})") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path} does not hold a JSON object")
    return value


def save(root: Path, name: str, config, state: dict[str, torch.Tensor], metrics: dict, history: list,
         train_seconds: float, source: str = "cached") -> Checkpoint:
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
        _fsync_files(tmp)
        files.replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return read(final, source)


def _fsync_files(folder: Path) -> None:
    for f in folder.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())


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
    _verify(ckpt)
    return ckpt


def _weights_key(ckpt: Checkpoint, status: os.stat_result) -> tuple[str, int, int, str]:
    return str(ckpt.weights_path.resolve()), status.st_size, status.st_mtime_ns, ckpt.sha256


def _verify(ckpt: Checkpoint) -> None:
    """Verify the weights, unless this same file version (path, size, mtime) was verified before in this process."""
    try:
        status = ckpt.weights_path.stat()
    except OSError as e:
        raise CheckpointError(f"{ckpt.weights_path} cannot be read ({e.strerror})") from None
    with _verified_lock:
        if _weights_key(ckpt, status) in _verified:
            return
    _verified_bytes(ckpt)


def _read_weights(path: Path) -> tuple[bytes, os.stat_result]:
    with open(path, "rb") as f:
        return f.read(), os.fstat(f.fileno())


def _verified_bytes(ckpt: Checkpoint) -> bytes:
    try:
        blob, status = _read_weights(ckpt.weights_path)
    except OSError as e:
        raise CheckpointError(f"{ckpt.weights_path} cannot be read ({e.strerror})") from None
    if sha256_bytes(blob) != ckpt.sha256:
        raise CheckpointError(f"{ckpt.weights_path} is damaged or altered: its sha256 does not match "
                              f"the one recorded when it was saved")
    # A file written moments ago can be written again without its mtime changing (timestamps are as coarse as the
    # clock tick, 2 s on some file systems), and the status is taken after the read: only settled files are kept.
    if status.st_mtime_ns < time.time_ns() - SETTLED_NS:
        with _verified_lock:
            if len(_verified) >= VERIFIED_LIMIT:
                _verified.clear()
            _verified.add(_weights_key(ckpt, status))
    return blob


def load_state(ckpt: Checkpoint) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors, from bytes whose checksum was just verified."""
    blob = _verified_bytes(ckpt)
    try:
        return load_safetensors(blob)
    except Exception as e:  # safetensors raises its own error types for malformed headers
        raise CheckpointError(f"{ckpt.weights_path} is not a valid safetensors file ({e})") from None


def read_manifest(root: Path | None = None) -> dict:
    """The manifest of shipped checkpoints (shared within the process: read it, do not change it)."""
    path = (root or shipped_root()) / MANIFEST
    try:
        manifest = _parsed(path)
    except FileNotFoundError:
        return {"checkpoints": []}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path} is not readable JSON ({e.__class__.__name__})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("checkpoints"), list):
        raise CheckpointError(f"{path} does not hold a list of checkpoints")
    return manifest


def checkpoints_root(seat: str = "") -> Path:
    """Where trained checkpoints are saved: the cache's, or a seat's own (a classroom student's training, which
    must not replace what the class uses)."""
    return cache_root() / "seats" / seat / "checkpoints" if seat else cache_root() / "checkpoints"


def candidates(name: str, config, errors: list[str], seat: str = "") -> list[tuple[Path, str, str | None]]:
    """(path, source, expected sha) in load order: the seat's own, the cache, then shipped; a bad manifest goes to
    errors."""
    chash = registry.config_hash(name, config)
    found = [(path, "own", None) for path in files.copies(checkpoints_root(seat) / name / chash)] if seat else []
    found += [(path, "cached", None) for path in files.copies(checkpoints_root() / name / chash)]
    try:
        entries = read_manifest()["checkpoints"]
    except CheckpointError as e:
        errors.append(str(e))
        entries = []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == name and entry.get("config_hash") == chash:
            final = shipped_root() / str(entry.get("path"))
            # A listed folder that is missing is still tried, so that find() reports it.
            found += [(path, "shipped", entry.get("sha256")) for path in files.copies(final) or [final]]
    return found


def find(name: str, config, seat: str = "") -> tuple[Checkpoint | None, list[str]]:
    """First good checkpoint for (name, config) (a seat's own first) and the problems met on the way (damaged
    files)."""
    errors = []
    for path, source, expected in candidates(name, config, errors, seat):
        try:
            return read(path, source, expected), errors
        except CheckpointError as e:
            errors.append(str(e))
    return None, errors


def save_cached(name: str, config, state, metrics, history, train_seconds, seat: str = "") -> Checkpoint:
    return save(checkpoints_root(seat), name, config, state, metrics, history, train_seconds,
                "own" if seat else "cached")


def ship(ckpt: Checkpoint, preset: str) -> Checkpoint:
    """Copy a checkpoint into assets/checkpoints and record it in the manifest (replacing the preset's old one).

    The manifest is written while the replaced folder is still kept aside, and the folders it stops naming are
    deleted after it is written, so a reader always finds a folder that agrees with the manifest."""
    root = shipped_root()
    rel = f"{ckpt.name}/{ckpt.config_hash}"
    dest = root / rel
    spec = registry.get(ckpt.name)
    base = registry.config_dict(spec.config(preset))
    variant = {k: v for k, v in ckpt.config.items() if base.get(k) != v}   # fields that differ from the preset
    manifest = read_manifest(root)
    kept, dropped = [], []
    for entry in manifest.get("checkpoints", []):
        if entry["name"] == ckpt.name and entry["preset"] == preset and entry["variant"] == variant:
            if entry["path"] != rel:
                dropped.append(root / entry["path"])
            continue
        kept.append(entry)
    kept.append({"name": ckpt.name, "preset": preset, "variant": variant, "config_hash": ckpt.config_hash, "path": rel,
                 "sha256": ckpt.sha256, "bytes": ckpt.weights_path.stat().st_size,
                 "metrics": ckpt.metrics, "train_seconds": ckpt.train_seconds})
    kept.sort(key=lambda e: (e["name"], e["preset"], json.dumps(e["variant"], sort_keys=True)))

    def write_manifest():
        files.write_json_atomic(root / MANIFEST, {"checkpoints": kept})

    if ckpt.path.resolve() == dest.resolve():
        write_manifest()
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        _drop_unlisted_copy(root, rel, manifest)
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{ckpt.config_hash}."))
        try:
            os.chmod(tmp, 0o755)
            for f in (WEIGHTS, CONFIG, METRICS):
                shutil.copy2(ckpt.path / f, tmp / f)
            _fsync_files(tmp)
            files.replace_dir(tmp, dest, commit=write_manifest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    for folder in dropped:
        for path in files.copies(folder):
            shutil.rmtree(path, ignore_errors=True)
    return read(dest, "shipped", ckpt.sha256)


def _drop_unlisted_copy(root: Path, rel: str, manifest: dict) -> None:
    """After a ship that died between renaming its folder in and writing the manifest, readers use the copy kept
    aside (the one the manifest names): delete the unlisted dest instead, which replace_dir then fills again and
    keeps the aside copy until the new manifest is written."""
    dest = root / rel
    if not (dest.exists() and files.aside(dest).exists()):
        return
    listed = {entry.get("sha256") for entry in manifest["checkpoints"]
              if isinstance(entry, dict) and entry.get("path") == rel}
    try:
        recorded = _read_json(dest / CONFIG).get("weights_sha256")
    except CheckpointError:
        recorded = None
    if recorded not in listed:
        shutil.rmtree(dest)
