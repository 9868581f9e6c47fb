"""Turn a user's drawing into an MNIST-style digit: 28 x 28, white ink on black, centred by mass in a 20 x 20 box."""
import numpy as np
from PIL import Image

from engine.data import DataError

INK_MIN = 0.005     # below this fraction of inked pixels the drawing counts as empty
INK_MAX = 0.60      # above it the drawing is a filled canvas, not a digit


def drawing_to_digit(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) or (H, W, 3) uint8 drawing -> (784,) float32 in [0, 1]; DataError with a clear reason if unusable."""
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or min(rgba.shape[:2]) < 8:
        raise DataError("the drawing is not an image")
    rgb = rgba[..., :3].astype(np.float32) / 255.0
    ink = rgb.mean(-1)
    if rgba.shape[2] == 4:
        ink = ink * (rgba[..., 3].astype(np.float32) / 255.0)   # transparent pixels carry no ink
    inked = ink > 0.2
    fraction = inked.mean()
    if fraction < INK_MIN:
        raise DataError("the canvas is empty (or all black): draw a digit in white")
    if fraction > INK_MAX:
        raise DataError("the canvas is almost all white: draw a digit with a thin stroke on the black canvas")
    rows, cols = np.flatnonzero(inked.any(1)), np.flatnonzero(inked.any(0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    # MNIST digits fit a 20 x 20 box with their aspect ratio kept, then sit centred by mass in 28 x 28.
    scale = 20.0 / max(crop.shape)
    h, w = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize((w, h), Image.LANCZOS),
                       dtype=np.float32) / 255.0
    canvas = np.zeros((28, 28), np.float32)
    top, left = (28 - h) // 2, (28 - w) // 2
    canvas[top:top + h, left:left + w] = small
    ys, xs = np.indices(canvas.shape)
    mass = canvas.sum()
    dy, dx = round(14 - (ys * canvas).sum() / mass), round(14 - (xs * canvas).sum() / mass)
    canvas = np.roll(canvas, (int(np.clip(dy, -top, 28 - top - h)), int(np.clip(dx, -left, 28 - left - w))), (0, 1))
    return canvas.clip(0, 1).reshape(784)


POINT_CELLS = 48    # the drawing is read on a 48 x 48 lattice: one point per inked cell


def drawing_to_points(rgba: np.ndarray, box: float, max_points: int) -> tuple[tuple[float, float], ...]:
    """A drawing (H, W, 3|4) uint8 -> the centres of its inked lattice cells as (x, y) in [-box, box]^2, y up,
    at most max_points of them (evenly thinned); DataError when nothing is drawn."""
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or min(rgba.shape[:2]) < POINT_CELLS:
        raise DataError("the drawing is not an image")
    ink = rgba[..., :3].astype(np.float32).mean(-1) / 255.0
    if rgba.shape[2] == 4:
        ink = ink * (rgba[..., 3].astype(np.float32) / 255.0)
    h, w = ink.shape
    rows = np.minimum(np.arange(h) * POINT_CELLS // h, POINT_CELLS - 1)
    cols = np.minimum(np.arange(w) * POINT_CELLS // w, POINT_CELLS - 1)
    cells = np.zeros((POINT_CELLS, POINT_CELLS), bool)
    ys, xs = np.nonzero(ink > 0.2)
    cells[rows[ys], cols[xs]] = True
    r, c = np.nonzero(cells)
    if len(r) == 0:
        raise DataError("the canvas is empty: draw the shape of the data in white")
    keep = np.unique(np.linspace(0, len(r) - 1, min(len(r), max_points)).round().astype(int))
    x = ((c[keep] + 0.5) / POINT_CELLS * 2 - 1) * box
    y = (1 - (r[keep] + 0.5) / POINT_CELLS * 2) * box
    return tuple((round(float(a), 3), round(float(b), 3)) for a, b in zip(x, y))
