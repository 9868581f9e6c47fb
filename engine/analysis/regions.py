"""Linear regions of rectifier networks on the plane (Montufar, Pascanu, Cho, Bengio 2014, "On the number of linear
regions of deep neural networks", arXiv 1402.1869).

A ReLU network is affine on each set of inputs that share one activation pattern (which units are on). For a
network on 2-D input every such set is a convex polygon: inside it each layer's input is an affine function of x,
so each unit's on/off boundary is a straight line there. `exact_regions` follows that: it splits the plotting box by
the first layer's lines, then splits every piece by the next layer's lines as they run inside it, and so on. The
grid count (`pattern_ids`) finds the patterns at the centres of a fine grid: a lower bound that misses the pieces
no cell centre falls in (small or thin ones), checked against the exact count in the tests.

Montufar et al.'s lower bound on the maximal number of regions of L layers of widths n_1..n_L >= n_0 on n_0
inputs:  prod_{i<L} floor(n_i / n_0)^{n_0} * sum_{j=0}^{n_0} C(n_L, j).  One layer of N units can make at most
sum_{j=0}^{n_0} C(N, j) (Zaslavsky: N lines in general position cut the plane into 1 + N + N(N-1)/2 pieces).
"""
import math

import numpy as np

Layer = tuple[np.ndarray, np.ndarray]      # (W (out, in), b (out,)) of one hidden ReLU layer


def shallow_max(units: int, inputs: int = 2) -> int:
    """The most regions one layer of `units` ReLUs can cut R^inputs into."""
    return sum(math.comb(units, j) for j in range(inputs + 1))


def montufar_bound(widths: list[int], inputs: int = 2) -> int:
    """Montufar et al. 2014's lower bound on the maximal number of regions of a deep ReLU net of these widths."""
    product = math.prod((n // inputs) ** inputs for n in widths[:-1])
    return product * shallow_max(widths[-1], inputs)


def pattern_ids(pre_activations: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """Each point's region id (points with the same on/off pattern share one) and the number of regions found.
    pre_activations: per hidden layer, (points, units) values before the ReLU."""
    on = np.concatenate([z > 0 for z in pre_activations], axis=1)              # (P, U)
    packed = np.packbits(on, axis=1)
    _, ids = np.unique(packed, axis=0, return_inverse=True)
    return ids.reshape(-1), int(ids.max()) + 1


def forward_patterns(layers: list[Layer], x: np.ndarray) -> list[np.ndarray]:
    """Pre-activations of each hidden ReLU layer at the points x (P, 2)."""
    out, h = [], x
    for w, b in layers:
        z = h @ w.T + b
        out.append(z)
        h = np.maximum(z, 0)
    return out


def grid(extent: tuple[float, float, float, float], size: int) -> np.ndarray:
    """(size * size, 2) cell centres of the box (x0, x1, y0, y1), row by row from the top (y1) down."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(size) + 0.5) * (x1 - x0) / size
    ys = y1 - (np.arange(size) + 0.5) * (y1 - y0) / size
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], 1)


def grid_count(layers: list[Layer], extent: tuple[float, float, float, float], size: int = 300) -> int:
    return pattern_ids(forward_patterns(layers, grid(extent, size)))[1]


def _clip(poly: np.ndarray, g: np.ndarray, d: float) -> np.ndarray:
    """The part of the convex polygon (k, 2) where g . x + d >= 0 (one edge of Sutherland-Hodgman)."""
    s = poly @ g + d
    out = []
    for i in range(len(poly)):
        j = (i + 1) % len(poly)
        if s[i] >= 0:
            out.append(poly[i])
        if (s[i] >= 0) != (s[j] >= 0):
            t = s[i] / (s[i] - s[j])
            out.append(poly[i] + t * (poly[j] - poly[i]))
    return np.array(out) if out else np.zeros((0, 2))


def _area(poly: np.ndarray) -> float:
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(x @ np.roll(y, -1) - y @ np.roll(x, -1)))


def exact_regions(layers: list[Layer], extent: tuple[float, float, float, float],
                  limit: int = 100_000) -> list[tuple[np.ndarray, tuple[bool, ...]]]:
    """Every activation region inside the box (x0, x1, y0, y1) as (polygon, on/off pattern). Pieces thinner than
    1e-12 of the box's area are boundaries, not regions. Raises ValueError past `limit` regions."""
    x0, x1, y0, y1 = extent
    box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    tiny = 1e-12 * (x1 - x0) * (y1 - y0)
    # Each piece: polygon, the layer input as an affine map of x (A x + c), the pattern so far.
    pieces = [(box, np.eye(2), np.zeros(2), ())]
    for w, b in layers:
        w, b = np.asarray(w, np.float64), np.asarray(b, np.float64)
        split = []
        for poly, a, c, pattern in pieces:
            g, d = w @ a, w @ c + b                      # pre-activations = g x + d inside this piece
            parts = [(poly, ())]
            for unit in range(len(d)):
                if not g[unit].any():           # constant here (its inputs are all off): on only if d > 0
                    parts = [(part, bits + (bool(d[unit] > 0),)) for part, bits in parts]
                    continue
                parts = [(half, bits + (on,)) for part, bits in parts
                         for half, on in ((_clip(part, g[unit], d[unit]), True),
                                          (_clip(part, -g[unit], -d[unit]), False)) if _area(half) > tiny]
            for part, bits in parts:
                mask = np.array(bits, dtype=np.float64)
                split.append((part, mask[:, None] * g, mask * d, pattern + bits))
            if len(split) > limit:
                raise ValueError(f"more than {limit:,} regions")
        pieces = split
    return [(poly, pattern) for poly, _, _, pattern in pieces]


def exact_count(layers: list[Layer], extent: tuple[float, float, float, float]) -> int:
    return len(exact_regions(layers, extent))


def zigzag_layers(depth: int, folds: int = 3) -> list[Layer]:
    """Montufar et al.'s construction on [0, 1]^2: each layer has `folds` ReLUs per coordinate whose sum
    z(u) = folds relu(u) - 2 folds relu(u - 1/folds) + 2 folds relu(u - 2/folds) - ... maps [0, 1] onto itself
    `folds` times, so L layers fold each coordinate folds^L times: folds^(2L) regions in the unit square from
    2 folds units per layer."""
    coeff = np.array([folds] + [2 * folds * (-1) ** k for k in range(1, folds)], dtype=np.float64)
    offsets = -np.arange(folds) / folds
    layers = []
    for level in range(depth):
        w = np.zeros((2 * folds, 2 if level == 0 else 2 * folds))
        for axis in range(2):
            rows = slice(axis * folds, (axis + 1) * folds)
            if level == 0:
                w[rows, axis] = 1.0
            else:
                w[rows, axis * folds:(axis + 1) * folds] = coeff        # every unit reads z(u) of its axis
        layers.append((w, np.tile(offsets, 2)))
    return layers


UNIT_SQUARE = (0.0, 1.0, 0.0, 1.0)
