"""Digits and grids as images for st.image (no model math)."""
import numpy as np


def digit(pixels: np.ndarray, scale: int = 4) -> np.ndarray:
    """(784,) in [0, 1] -> (28*scale, 28*scale) uint8, nearest-neighbour upscaled so pixels stay crisp."""
    img = (np.clip(np.asarray(pixels, dtype=np.float32).reshape(28, 28), 0, 1) * 255).astype(np.uint8)
    return np.kron(img, np.ones((scale, scale), dtype=np.uint8))


def grid(rows: np.ndarray, scale: int = 3, pad: int = 2, highlight: int | None = None) -> np.ndarray:
    """(R, C, 784) digits -> one RGB image; column `highlight` gets an amber frame."""
    rows = np.asarray(rows)
    r, c = rows.shape[:2]
    size = 28 * scale
    out = np.full((r * (size + pad) + pad, c * (size + pad) + pad, 3), 60, dtype=np.uint8)
    for i in range(r):
        for j in range(c):
            y, x = pad + i * (size + pad), pad + j * (size + pad)
            out[y:y + size, x:x + size] = digit(rows[i, j], scale)[..., None]
    if highlight is not None:
        x = pad + highlight * (size + pad)
        amber = np.array([255, 176, 0], dtype=np.uint8)
        out[:, max(0, x - pad):x] = amber
        out[:, x + size:x + size + pad] = amber
    return out


def signed(direction: np.ndarray, scale: int = 4) -> np.ndarray:
    """(784,) signed pixels -> RGB: red where positive, blue where negative, white at zero."""
    v = np.asarray(direction, dtype=np.float32).reshape(28, 28)
    v = v / (np.abs(v).max() + 1e-8)
    rgb = np.ones((28, 28, 3), dtype=np.float32)
    rgb[..., 1] -= np.abs(v)
    rgb[..., 2] -= np.clip(v, 0, None)
    rgb[..., 0] -= np.clip(-v, 0, None)
    img = (rgb.clip(0, 1) * 255).astype(np.uint8)
    return np.kron(img, np.ones((scale, scale, 1), dtype=np.uint8))
