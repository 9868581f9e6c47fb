"""Digits and grids as images for st.image (no model math)."""
import io

import numpy as np
from PIL import Image, ImageDraw


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


def to_pil(array: np.ndarray) -> Image.Image:
    return Image.fromarray(array)


def with_windows(pixels: np.ndarray, windows: list[tuple[np.ndarray, int, str]], scale: int = 4) -> Image.Image:
    """A digit with attention windows drawn as rectangles.

    Each window is (params, N, colour) with params (g_X, g_Y, delta, ...) in the paper's 1-based pixel units: the
    rectangle joins the centres of the first and last filters of the N x N grid.
    """
    img = Image.fromarray(digit(pixels, scale)).convert("RGB")
    pen = ImageDraw.Draw(img)
    for params, n, colour in windows:
        gx, gy, delta = float(params[0]), float(params[1]), float(params[2])
        half = (n - 1) / 2 * delta
        # The 1-based pixel coordinate u is the centre of 0-based pixel u - 1, i.e. (u - 0.5) * scale upscaled.
        box = [(gx - half - 0.5) * scale, (gy - half - 0.5) * scale, (gx + half - 0.5) * scale, (gy + half - 0.5) * scale]
        pen.rectangle(box, outline=colour, width=2)
    return img


def tile(images: list[Image.Image], cols: int, pad: int = 4, background: int = 60) -> Image.Image:
    """Images of one size laid out on a grid."""
    w, h = images[0].size
    rows = (len(images) + cols - 1) // cols
    out = Image.new("RGB", (cols * (w + pad) + pad, rows * (h + pad) + pad), (background,) * 3)
    for i, im in enumerate(images):
        out.paste(im, (pad + (i % cols) * (w + pad), pad + (i // cols) * (h + pad)))
    return out


def gif(frames: list[Image.Image], frame_ms: int = 120, hold_ms: int = 1200) -> bytes:
    """An endlessly looping animated GIF; the last frame is held a little longer."""
    buf = io.BytesIO()
    durations = [frame_ms] * (len(frames) - 1) + [hold_ms]
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return buf.getvalue()
