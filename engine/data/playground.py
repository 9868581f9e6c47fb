"""The 2-D data sets of a neural-network playground, in the square [-6, 6]^2, with labels.

Classification sets label each point -1 or +1 (circle, XOR, two Gaussians, spiral, moons); regression sets give a
value in [-1, 1] (a tilted plane, a mix of Gaussian bumps). Every set is drawn from a seed, so a link that names the
set, its noise and its seed reproduces the same points. Users can also bring their own points (drawn on a canvas or
read from a CSV file), checked by `parse_points`.
"""
import csv
import io
import math

import numpy as np

from engine.data import DataError

EXTENT = 6.0                # points live in [-EXTENT, EXTENT]^2
CLASSIFY = ("circle", "xor", "gauss", "spiral", "moons")
REGRESS = ("plane", "bumps")
MAX_POINTS = 2000           # a user's own set: enough for any drawing, small enough to train at screen rate
MAX_CSV_BYTES = 200_000


def _circle(n: int, noise: float, g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    radius = 5.0
    inside = np.arange(n) < n // 2
    r = np.where(inside, g.uniform(0, radius * 0.5, n), g.uniform(radius * 0.7, radius, n))
    angle = g.uniform(0, 2 * math.pi, n)
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
    x += g.uniform(-radius, radius, (n, 2)) * noise
    return x, np.where(inside, 1.0, -1.0)


def _xor(n: int, noise: float, g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = g.uniform(-5, 5, (n, 2))
    x += np.sign(x) * 0.3                       # a margin around the axes, as in the Playground
    y = np.where(x[:, 0] * x[:, 1] >= 0, 1.0, -1.0)
    return x + g.uniform(-5, 5, (n, 2)) * noise, y


def _gauss(n: int, noise: float, g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    spread = 0.5 + noise * 3.5                  # noise widens the two clouds until they overlap
    first = np.arange(n) < n // 2
    centre = np.where(first[:, None], 2.0, -2.0)
    return centre + g.normal(0, spread, (n, 2)), np.where(first, 1.0, -1.0)


def _spiral(n: int, noise: float, g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    i = np.concatenate([np.arange(half), np.arange(n - half)])
    turn = np.concatenate([np.zeros(half), np.full(n - half, math.pi)])     # the second arm, half a turn on
    r = i / max(half, 1) * 5
    t = 1.75 * i / max(half, 1) * 2 * math.pi + turn
    x = np.stack([r * np.sin(t), r * np.cos(t)], 1) + g.uniform(-1, 1, (n, 2)) * noise * 3
    return x, np.where(np.arange(n) < half, 1.0, -1.0)


def _moons(n: int, noise: float, g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    first = np.arange(n) < n // 2
    t = g.uniform(0, math.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], 1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    x = (np.where(first[:, None], upper, lower) - [0.5, 0.25]) * 4.5
    return x + g.normal(0, 0.1 + noise * 3, (n, 2)), np.where(first, 1.0, -1.0)


def _plane(n: int, noise: float, g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = g.uniform(-EXTENT, EXTENT, (n, 2))
    y = (x[:, 0] + x[:, 1]) / (2 * EXTENT) + g.uniform(-1, 1, n) * noise
    return x, np.clip(y, -1, 1)


BUMPS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def _bumps(n: int, noise: float, g: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = g.uniform(-EXTENT, EXTENT, (n, 2))
    y = sum(sign * np.exp(-((x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2) / 2) for cx, cy, sign in BUMPS)
    return x, np.clip(y + g.uniform(-1, 1, n) * noise, -1, 1)


GENERATORS = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "moons": _moons,
              "plane": _plane, "bumps": _bumps}


def make(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2) points and (n,) labels of the named set, noise in [0, 0.5]; the same seed gives the same points."""
    if name not in GENERATORS:
        raise DataError(f"unknown data set {name!r}; choose one of {', '.join(GENERATORS)}")
    x, y = GENERATORS[name](n, float(noise), np.random.default_rng(seed))
    return np.clip(x, -EXTENT, EXTENT).astype(np.float32), y.astype(np.float32)


def split(x: np.ndarray, y: np.ndarray, train_share: float, seed: int) -> tuple[np.ndarray, ...]:
    """Shuffle with the seed, then the first train_share of the points train and the rest test."""
    order = np.random.default_rng(seed + 1).permutation(len(x))
    cut = min(max(1, round(len(x) * train_share)), len(x) - 1)
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def parse_points(text: str, regression: bool) -> tuple[np.ndarray, np.ndarray]:
    """Points from CSV text: rows of x1, x2, label (a header row is allowed). Labels are -1/+1 (0 counts as -1)
    for classification, numbers in [-1, 1] for regression; x1 and x2 must lie in [-6, 6]. Raises DataError with
    the first problem found."""
    size = len(text.encode("utf-8"))
    if size > MAX_CSV_BYTES:
        raise DataError(f"the file is {size:,} bytes; at most {MAX_CSV_BYTES:,} are read")
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if rows and not _numeric(rows[0][0]):
        rows = rows[1:]                                         # a header
    if len(rows) < 4:
        raise DataError("at least 4 points are needed (rows of x1, x2, label)")
    if len(rows) > MAX_POINTS:
        raise DataError(f"{len(rows):,} points; at most {MAX_POINTS:,}")
    values = []
    for line, row in enumerate(rows, start=1):
        if len(row) != 3 or not all(_numeric(c) for c in row):
            raise DataError(f"row {line} is {','.join(row)[:60]!r}: expected three numbers x1, x2, label")
        values.append([float(c) for c in row])
    data = np.array(values, dtype=np.float64)
    if not np.isfinite(data).all():
        raise DataError("the file holds a value that is not a finite number")
    if np.abs(data[:, :2]).max() > EXTENT:
        raise DataError(f"x1 and x2 must lie in [-{EXTENT:g}, {EXTENT:g}]")
    y = data[:, 2]
    if regression:
        if np.abs(y).max() > 1:
            raise DataError("regression labels must lie in [-1, 1]")
    else:
        if not np.isin(y, (-1, 0, 1)).all():
            raise DataError("class labels must be -1 or 1 (0 is read as -1)")
        y = np.where(y > 0, 1.0, -1.0)
        if len(np.unique(y)) < 2:
            raise DataError("both classes need at least one point")
    return data[:, :2].astype(np.float32), y.astype(np.float32)


def _numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def to_csv(x: np.ndarray, y: np.ndarray) -> str:
    """The points as the CSV parse_points reads, for download."""
    lines = ["x1,x2,label"] + [f"{a:.4f},{b:.4f},{c:g}" for (a, b), c in zip(x, y)]
    return "\n".join(lines) + "\n"
