"""Pictures of a small network on the plane: its output as a coloured surface with the data on it, the network as a
diagram of unit thumbnails joined by weighted edges, and its linear regions (no model math)."""
import numpy as np
from PIL import Image, ImageDraw

NEGATIVE = np.array([245, 147, 34], dtype=np.float32)     # orange: -1, as in the Playground
POSITIVE = np.array([8, 119, 189], dtype=np.float32)      # blue: +1
NEUTRAL = np.array([232, 234, 235], dtype=np.float32)
THUMB, COLUMN, ROW = 50, 140, 64        # THUMB: the grid the units are computed on, shown pixel for pixel


def _palette() -> np.ndarray:
    v = np.linspace(-1, 1, 256, dtype=np.float32)[:, None]
    rgb = np.where(v < 0, NEUTRAL + (NEGATIVE - NEUTRAL) * -v, NEUTRAL + (POSITIVE - NEUTRAL) * v)
    return rgb.round().astype(np.uint8)


PALETTE = _palette()        # 256 colours from -1 to 1: a lookup is ten times quicker than blending every pixel


def colour(values: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] (any shape) -> RGB uint8 (shape + (3,)): orange through light grey to blue."""
    index = ((np.clip(np.asarray(values, dtype=np.float32), -1, 1) + 1) * 127.5).round().astype(np.uint8)
    return PALETTE[index]


def normalised(values: np.ndarray) -> np.ndarray:
    """A unit's outputs scaled into [-1, 1] by their largest size (a ReLU's outputs are unbounded)."""
    return values / max(float(np.abs(values).max()), 1e-6)


def _to_pixel(points: np.ndarray, extent: float, size: int) -> np.ndarray:
    return np.stack([(points[:, 0] + extent) / (2 * extent) * size,
                     (extent - points[:, 1]) / (2 * extent) * size], 1)


def points_layer(train: tuple, test: tuple | None, extent: float, size: int, regression: bool) -> Image.Image:
    """The data as a transparent layer to lay over the output (drawn once per data set, not once per frame):
    each point in its label's colour, training points ringed in white, test points in black."""
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for (x, y), ring in [(train, (255, 255, 255))] + ([(test, (40, 40, 40))] if test is not None else []):
        labels = np.asarray(y) if regression else np.sign(y)
        fills = colour(np.asarray(labels)[None, :])[0]
        for (px, py), fill in zip(_to_pixel(np.asarray(x), extent, size), fills):
            draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=tuple(int(c) for c in fill), outline=ring)
    return layer


def surface(output: np.ndarray, size: int, points: Image.Image) -> np.ndarray:
    """The network's output over the box (grid rows from the top), scaled to size x size, under the points."""
    image = Image.fromarray(colour(output)).resize((size, size), Image.BILINEAR).convert("RGBA")
    return np.asarray(Image.alpha_composite(image, points).convert("RGB"))


def network(feature_maps: list[np.ndarray], names: list[str], unit_maps: list[np.ndarray],
            layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The network as TensorFlow Playground draws it: a column per layer, each unit a thumbnail of its output over
    the plane, edges coloured by the weight's sign (blue positive, orange negative) and as wide as its size.
    feature_maps: (H, W) per input; unit_maps: per hidden layer (units, H, W); layers: (W, b) input to output."""
    columns = [[normalised(m) for m in feature_maps]] + [[normalised(u) for u in layer] for layer in unit_maps]
    tallest = max(len(c) for c in columns)
    width, height = COLUMN * len(columns) + 30, ROW * tallest + 24
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)

    def centre(col: int, row: int, count: int) -> tuple[float, float]:
        top = 12 + (tallest - count) * ROW / 2
        return 30 + col * COLUMN + THUMB / 2, top + row * ROW + THUMB / 2

    largest = max((float(np.abs(w).max()) for w, _ in layers), default=1.0) or 1.0
    out_col = len(columns)
    for index, (w, _) in enumerate(layers):
        targets = len(columns[index + 1]) if index + 1 < len(columns) else 1
        for j in range(targets):
            tx, ty = centre(index + 1, j, targets) if index + 1 < out_col else (width - 14, height / 2)
            for i in range(len(columns[index])):
                sx, sy = centre(index, i, len(columns[index]))
                value = float(w[j, i])
                line = tuple(int(c) for c in (POSITIVE if value > 0 else NEGATIVE))
                draw.line([(sx + THUMB / 2, sy), (tx - THUMB / 2 if index + 1 < out_col else tx, ty)], fill=line,
                          width=max(1, round(5 * abs(value) / largest)))
    draw.ellipse([width - 20, height / 2 - 6, width - 8, height / 2 + 6], fill=(90, 90, 90))
    for row, name in enumerate(names):
        draw.text((2, centre(0, row, len(names))[1] - 6), name[:6], fill=(30, 30, 30))
    out = np.array(image)
    coloured = iter(colour(np.stack([m for maps in columns for m in maps])))      # every thumbnail at once
    half = THUMB // 2
    for col, maps in enumerate(columns):
        for row in range(len(maps)):
            cx, cy = (int(c) for c in centre(col, row, len(maps)))
            out[cy - half - 1:cy + half + 1, cx - half - 1:cx + half + 1] = 90          # a frame
            out[cy - half:cy + half, cx - half:cx + half] = next(coloured)
    return out


def region_picture(ids: np.ndarray, size: int) -> np.ndarray:
    """Each region (cells sharing an id) in its own colour, neighbours told apart, edges darkened."""
    hues = np.random.default_rng(7).integers(60, 235, (int(ids.max()) + 1, 3)).astype(np.uint8)
    rgb = hues[ids]
    edge = np.zeros(ids.shape, dtype=bool)
    edge[:-1] |= ids[:-1] != ids[1:]
    edge[:, :-1] |= ids[:, :-1] != ids[:, 1:]
    rgb[edge] = (rgb[edge] * 0.45).astype(np.uint8)
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.NEAREST))
