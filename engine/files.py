"""Atomic writes of files and folders: a reader finds the old content or the new one, whole, even when the writer
is killed halfway."""
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)          # mkstemp creates 0600; checkpoints, manifests and caches are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, obj) -> None:
    write_bytes_atomic(path, json.dumps(obj, indent=1, sort_keys=True).encode())


def aside(final: Path) -> Path:
    """Where replace_dir keeps the old folder while the new one is renamed in."""
    return final.parent / f".{final.name}.old"


def copies(final: Path) -> list[Path]:
    """The folders a reader may use for final, in the order to try them: final, then the old copy that an
    interrupted replace_dir left aside (the only copy when the writer died between its two renames)."""
    return [path for path in (final, aside(final)) if path.exists()]


def replace_dir(tmp: Path, final: Path, commit: Callable[[], None] | None = None) -> None:
    """Put the complete folder tmp in the place of final; a reader of copies(final) never finds neither.

    Protocol: rename final to aside(final), rename tmp to final, run commit (say, write a manifest naming the new
    folder), delete the aside folder. A leftover aside folder from a writer that died is stale when final exists,
    and is deleted first; when final is missing it is the only good copy, kept until tmp is in and commit has run.
    If commit fails, both folders stay and it raises. One writer per final at a time.
    """
    old = aside(final)
    if old.exists() and final.exists():
        shutil.rmtree(old)
    if final.exists():
        # A directory rename cannot replace a non-empty directory, hence the old one goes aside first.
        os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(old, final)
            raise
    else:
        os.replace(tmp, final)
    if commit is not None:
        commit()
    shutil.rmtree(old, ignore_errors=True)
