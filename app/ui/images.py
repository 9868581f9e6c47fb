"""Digits and grids as images for st.image (no model math)."""
import functools
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


def rgb(pixels: np.ndarray, scale: int = 4) -> np.ndarray:
    """(784,) in [0, 1] -> (28*scale, 28*scale, 3) uint8 grey as RGB."""
    return np.repeat(digit(pixels, scale)[..., None], 3, axis=-1)


def with_windows(pixels: np.ndarray, windows: list, scale: int = 4) -> np.ndarray:
    """A digit with attention windows drawn on it.

    windows: (centre_x, centre_y, stride, n, colour) in the paper's 1-based pixel coordinates; the rectangle spans
    the n x n grid of filter centres plus half a stride on each side, so a wider stride draws a wider box.
    """
    image = Image.fromarray(rgb(pixels, scale))
    draw = ImageDraw.Draw(image)
    for cx, cy, stride, n, colour in windows:
        half = n / 2 * stride
        box = [(cx - half - 0.5) * scale, (cy - half - 0.5) * scale, (cx + half - 0.5) * scale,
               (cy + half - 0.5) * scale]
        draw.rectangle(box, outline=colour, width=max(1, scale // 2))
    return np.asarray(image)


def tile(images: list[np.ndarray], cols: int, pad: int = 4, background: int = 60) -> np.ndarray:
    """Equal-sized RGB images laid out in rows of `cols`."""
    h, w = images[0].shape[:2]
    rows = -(-len(images) // cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), background, dtype=np.uint8)
    for k, im in enumerate(images):
        y, x = pad + (k // cols) * (h + pad), pad + (k % cols) * (w + pad)
        out[y:y + h, x:x + w] = im
    return out


def png(rgb: np.ndarray) -> bytes:
    """A uint8 picture (grey or RGB) encoded once, to be shown many times (st.image encodes an array on every run).
    zlib's fastest level: a fifth of the default's time, files a few percent larger."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def jpeg(rgb: np.ndarray) -> bytes:
    """A photo-like RGB picture (a photo, or attention laid over one) as JPEG: a hundredth of a PNG's encoding time
    and a seventh of its size, with no loss the eye sees in such pictures."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def gif(frames: list, frame_ms: int = 150, hold_ms: int = 1200) -> bytes:
    """Frames (RGB uint8 arrays, or PNG bytes) as a looping animated GIF; the last frame is held longer."""
    pictures = [Image.open(io.BytesIO(f)).convert("RGB") if isinstance(f, bytes) else Image.fromarray(f)
                for f in frames]
    durations = [frame_ms] * (len(pictures) - 1) + [hold_ms]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=durations, loop=0)
    return buffer.getvalue()


def resized(rgb: np.ndarray, size: int) -> np.ndarray:
    """An RGB image scaled to size x size, pixels kept crisp."""
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.NEAREST))


def with_boxes(rgb: np.ndarray, boxes: list, size: int = 256) -> np.ndarray:
    """An image scaled to size x size (pixels kept crisp) with boxes (x0, y0, x1, y1, in the image's pixels, x1 and
    y1 exclusive) outlined in amber."""
    scale = size / rgb.shape[1]
    image = Image.fromarray(resized(rgb, size))
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle([x0 * scale, y0 * scale, x1 * scale - 1, y1 * scale - 1], outline=(255, 176, 0), width=2)
    return np.asarray(image)


def attention_overlay(rgb: np.ndarray, alpha: np.ndarray, size: int = 192) -> np.ndarray:
    """attention_overlays for one grid of weights (g, g) over a square image: (size, size, 3) uint8."""
    return attention_overlays(rgb, np.asarray(alpha)[None], size, size)[0]


def attention_overlays(rgb: np.ndarray, maps: np.ndarray, width: int, height: int) -> np.ndarray:
    """An image (H, W, 3) uint8 under each of T maps of weights (T, h, w), as in Xu et al.'s figures: (T, height,
    width, 3) uint8, each map drawn smoothly (smooth_upsample) and scaled to its own maximum, the image kept bright
    where the model looks and dimmed elsewhere. All the maps at once, in two matrix products."""
    heat = smooth_upsample(np.asarray(maps, dtype=np.float32), width, height)
    heat /= np.maximum(heat.max(axis=(-2, -1), keepdims=True), 1e-12)
    image = np.asarray(Image.fromarray(rgb).resize((width, height), Image.BILINEAR), dtype=np.float32)
    shown = heat[..., None] * (0.85 * image + 60)        # image * (0.15 + 0.85 heat) + 60 heat
    shown += 0.15 * image
    return np.clip(shown, 0, 255, out=shown).astype(np.uint8)


def smooth_upsample(maps: np.ndarray, width: int, height: int) -> np.ndarray:
    """Maps (..., h, w) of a coarse grid -> (..., height, width) float32: each pixel a Gaussian-weighted mean of the
    cells around it (sigma 0.7 of a cell; a pixel's weights sum to 1, so a flat map stays flat)."""
    return _smoothing(maps.shape[-2], height) @ maps @ _smoothing(maps.shape[-1], width).T


@functools.lru_cache(maxsize=64)
def _smoothing(cells: int, pixels: int) -> np.ndarray:
    """(pixels, cells): how much each cell weighs in each pixel along one axis."""
    centres = (np.arange(cells) + 0.5) / cells
    x = (np.arange(pixels) + 0.5) / pixels
    weights = np.exp(-0.5 * ((x[:, None] - centres[None]) * cells / 0.7) ** 2)
    weights = (weights / weights.sum(1, keepdims=True)).astype(np.float32)
    weights.setflags(write=False)
    return weights


def photo_map(rgb: np.ndarray, cam: np.ndarray | None, boxes: tuple = (), width: int = 256) -> np.ndarray:
    """A photo at `width` pixels wide (its shape kept) with a map (h, w) over it as attention_overlay draws one
    (none: the photo as it is) and boxes (x0, y0, x1, y1, fractions of the photo) outlined in amber."""
    height = max(1, round(width * rgb.shape[0] / rgb.shape[1]))
    shown = (attention_overlays(rgb, np.asarray(cam)[None], width, height)[0] if cam is not None
             else np.asarray(Image.fromarray(rgb).resize((width, height), Image.BILINEAR)))
    image = Image.fromarray(shown)
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle([x0 * width, y0 * height, x1 * width - 1, y1 * height - 1], outline=(255, 176, 0),
                       width=max(2, width // 128))
    return np.asarray(image)


def frame_strip(frames: np.ndarray, weights: np.ndarray, size: int = 72, pad: int = 6) -> np.ndarray:
    """A clip's frames (T, H, W, 3) side by side, each framed in amber as thick and bright as its attention weight
    (the most attended frame gets the full frame), and dimmed where the weight is low: Yao et al.'s Figure 3."""
    w = np.asarray(weights, dtype=np.float32) / max(float(np.max(weights)), 1e-12)
    out = np.full((size + 2 * pad, len(frames) * (size + pad) + pad, 3), 245, dtype=np.uint8)
    amber = np.array([255, 176, 0], dtype=np.float32)
    for t, frame in enumerate(frames):
        x = pad + t * (size + pad)
        border = int(round(w[t] * pad))
        if border:
            out[pad - border:pad + size + border, x - border:x + size + border] = (
                245 + (amber - 245) * w[t]).astype(np.uint8)
        image = np.asarray(Image.fromarray(frame).resize((size, size), Image.NEAREST), dtype=np.float32)
        out[pad:pad + size, x:x + size] = (image * (0.35 + 0.65 * w[t])).astype(np.uint8)
    return out
