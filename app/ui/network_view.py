"""Pictures of a small network on the plane: its output as a coloured surface with the data on it, the network as a
diagram of unit thumbnails joined by weighted edges, and its linear regions (no model math)."""
import base64
import functools
import html
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from app.ui import images

NEGATIVE = np.array([245, 147, 34], dtype=np.float32)     # orange: -1, as in the Playground
POSITIVE = np.array([8, 119, 189], dtype=np.float32)      # blue: +1
NEUTRAL = np.array([232, 234, 235], dtype=np.float32)
THUMB = 48              # the grid the units are computed on: 3 x 16 rows, so JPEG's blocks never straddle two units
CELL, COLUMN, ROW = 50, 140, 64         # a unit's box, a layer's column and a unit's row in the diagram


def _palette() -> np.ndarray:
    v = np.linspace(-1, 1, 256, dtype=np.float32)[:, None]
    rgb = np.where(v < 0, NEUTRAL + (NEGATIVE - NEUTRAL) * -v, NEUTRAL + (POSITIVE - NEUTRAL) * v)
    return rgb.round().astype(np.uint8)


BLUE, ORANGE = "#0877bd", "#f59322"
PALETTE = _palette()        # 256 colours from -1 to 1: a lookup is ten times quicker than blending every pixel


def colour(values: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] (any shape) -> RGB uint8 (shape + (3,)): orange through light grey to blue."""
    index = np.asarray(values, dtype=np.float32) * 127.5 + 128
    return PALETTE[np.clip(index, 0, 255, out=index).astype(np.uint8)]


def _to_pixel(points: np.ndarray, extent: float, size: int) -> np.ndarray:
    return np.stack([(points[:, 0] + extent) / (2 * extent) * size,
                     (extent - points[:, 1]) / (2 * extent) * size], 1)


def _fills(y: np.ndarray, regression: bool) -> list[list[int]]:
    """Each point's colour: its label's (the sign of it, for classes)."""
    return colour(np.asarray(y) if regression else np.sign(y)).tolist()


def output_picture(output: np.ndarray, points: tuple, extent: float, size: int, regression: bool) -> np.ndarray:
    """The network's output over the box (grid rows from the top) scaled to size x size, with the training points
    (x, y) ringed in white: the picture a student sends to the class. The live frame draws the same in the browser
    (output_html, points_svg)."""
    image = Image.fromarray(colour(output)).resize((size, size), Image.BILINEAR)
    draw = ImageDraw.Draw(image)
    for (px, py), fill in zip(_to_pixel(np.asarray(points[0]), extent, size), _fills(points[1], regression)):
        draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=tuple(fill), outline=(255, 255, 255))
    return np.asarray(image)


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def svg_uri(svg: str) -> str:
    """An SVG drawing as an image source: st.html drops inline SVG, and keeps images."""
    return data_uri("image/svg+xml", svg.encode())


def _svg(width: float, height: float, body: str, stretch: bool = False) -> str:
    aspect = ' preserveAspectRatio="none"' if stretch else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"{aspect} font-family="sans-serif" '
            f'font-size="11">{body}</svg>')


@dataclass(frozen=True)
class Layout:
    """Where a network's diagram puts things (in pixels of a width x height drawing), and its parts that never
    change while it trains."""

    width: int
    height: int
    edges: list                 # per layer of weights, each edge's ends in the order of the weight matrix's entries
    names: str                  # SVG: the input names and the output's dot
    units: str                  # HTML: a box per unit, showing its tile of the frame's sprite


@functools.lru_cache(maxsize=64)
def layout(column_sizes: tuple[int, ...], names: tuple[str, ...]) -> Layout:
    tallest = max(column_sizes)
    width, height = COLUMN * len(column_sizes) + 30, ROW * tallest + 24
    centres = [[(30 + col * COLUMN + CELL / 2, 12 + (tallest - count) * ROW / 2 + row * ROW + CELL / 2)
                for row in range(count)] for col, count in enumerate(column_sizes)]
    output = (width - 14, height / 2)
    half = CELL / 2
    edges = [[((sx + half, sy), (tx - half, ty) if col + 1 < len(centres) else output)
              for tx, ty in (centres[col + 1] if col + 1 < len(centres) else [output]) for sx, sy in sources]
             for col, sources in enumerate(centres)]
    labels = "".join(f'<text x="2" y="{y + 4}" fill="#1e1e1e">{html.escape(name[:6])}</text>'
                     for (_, y), name in zip(centres[0], names))
    labels += f'<circle cx="{output[0]}" cy="{output[1]}" r="6" fill="#5a5a5a"/>'
    tiles = sum(column_sizes)
    units = "".join(f'<div class="u" style="left:{100 * (x - half) / width:.3f}%;top:{100 * (y - half) / height:.3f}%;'
                    f'width:{100 * CELL / width:.3f}%;height:{100 * CELL / height:.3f}%;'
                    f'background-position:0 {100 * k / max(tiles - 1, 1):.4f}%"></div>'
                    for k, (x, y) in enumerate(c for column in centres for c in column))
    return Layout(width, height, edges, labels, units)


def network_html(feature_maps: list[np.ndarray], names: list[str], unit_maps: list[np.ndarray],
                 layers: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """The network as TensorFlow Playground draws it, as HTML: a column per layer, each unit a thumbnail of its
    output over the plane (scaled by its largest size), edges coloured by the weight's sign (blue positive, orange
    negative) and as wide as its size. The thumbnails travel as one JPEG, the edges as SVG: a tenth of the bytes and
    of the server's time of drawing the whole diagram as a picture.
    feature_maps: (H, W) per input; unit_maps: per hidden layer (units, H, W); layers: (W, b) input to output."""
    maps = np.concatenate([np.stack(feature_maps)] + list(unit_maps))
    plan = layout((len(feature_maps), *(len(u) for u in unit_maps)), tuple(names))
    scale = np.abs(maps).reshape(len(maps), -1).max(1).clip(1e-6)[:, None, None]
    sprite = data_uri("image/jpeg", images.jpeg(colour(maps / scale).reshape(-1, maps.shape[2], 3)))
    largest = max((float(np.abs(w).max()) for w, _ in layers), default=1.0) or 1.0
    lines = []
    for (w, _), segments in zip(layers, plan.edges):
        widths = np.maximum(1, np.round(5 / largest * np.abs(w))).astype(int).ravel().tolist()
        lines += [f'<line x1="{a[0]}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}" stroke="{BLUE if positive else ORANGE}" '
                  f'stroke-width="{width}"/>'
                  for (a, b), width, positive in zip(segments, widths, (w > 0).ravel().tolist())]
    edges = svg_uri(_svg(plan.width, plan.height, "".join(lines) + plan.names, stretch=True))
    return (f'<style>.dlp-net{{position:relative;width:100%}}.dlp-net>img{{position:absolute;inset:0;width:100%;'
            f'height:100%}}.dlp-net .u{{position:absolute;box-shadow:0 0 0 1px #5a5a5a;background-image:url({sprite});'
            f'background-size:100% {100 * len(maps)}%}}</style><div class="dlp-net" style="aspect-ratio:'
            f'{plan.width}/{plan.height}"><img src="{edges}" alt="">{plan.units}</div>')


def points_svg(train: tuple, test: tuple | None, extent: float, regression: bool, size: int = 320) -> str:
    """The data as an SVG to lay over the output (made once per data set, not once per frame): each point in its
    label's colour, training points ringed in white, test points in black."""
    groups: dict[tuple, list[str]] = {}
    for (x, y), ring in [(train, "#fff")] + ([(test, "#282828")] if test is not None else []):
        for (px, py), (r, g, b) in zip(_to_pixel(np.asarray(x), extent, size), _fills(y, regression)):
            groups.setdefault((f"rgb({r},{g},{b})", ring), []).append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3"/>')
    dots = [f'<g fill="{fill}" stroke="{ring}">{"".join(circles)}</g>' for (fill, ring), circles in groups.items()]
    return _svg(size, size, "".join(dots))


def output_html(output: np.ndarray, points: str) -> str:
    """The network's output over the box (grid rows from the top), smoothed by the browser as it scales it up, under
    the points (an image source, points_svg's)."""
    picture = data_uri("image/jpeg", images.jpeg(colour(output)))
    style = "position:absolute;inset:0;width:100%;height:100%"
    return (f'<div style="position:relative;width:100%;aspect-ratio:1"><img src="{picture}" alt="" style="{style}">'
            f'<img src="{points}" alt="" style="{style}"></div>')


def loss_curves(history: list[tuple[int, float, float]], width: int = 360, height: int = 160) -> str:
    """The training and test loss against the step as an SVG line chart (history: (step, train, test) rows). Every
    frame of live training draws it: written directly, it costs a tenth of a Vega-Lite chart's data conversion."""
    rows = history[:: max(1, len(history) // 150)] + history[-1:]
    left, right, top, bottom = 44, 8, 22, 30
    last = max(rows[-1][0], 1)
    peak = max(max(train, test) for _, train, test in rows)
    ceiling = _round_up(peak if math.isfinite(peak) and peak > 0 else 1.0)
    def x(step): return left + (width - left - right) * step / last
    def y(value): return height - bottom - (height - top - bottom) * min(value, ceiling) / ceiling
    parts = []
    for tick in (0, ceiling / 2, ceiling):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e4e4e4"/>'
                     f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    parts.append(f'<text x="{left}" y="{height - bottom + 14}">0</text><text x="{width - right}" '
                 f'y="{height - bottom + 14}" text-anchor="end">{rows[-1][0]:,}</text><text x="{(left + width) / 2}" '
                 f'y="{height - 4}" text-anchor="middle">SGD step</text><text x="4" y="12">loss</text>')
    for column, (name, stroke) in enumerate((("training", "#6f6f6f"), ("test", "#1f5fa8")), start=1):
        points = " ".join(f"{x(row[0]):.1f},{y(row[column]):.1f}" for row in rows)
        parts.append(f'<polyline fill="none" stroke="{stroke}" stroke-width="2" points="{points}"/>'
                     f'<text x="{width - right - 70 * (2 - column)}" y="12" text-anchor="end" fill="{stroke}">'
                     f'— {name}</text>')
    return _svg(width, height, f'<g fill="#555">{"".join(parts)}</g>')


def _round_up(value: float) -> float:
    """The next of 1, 2, 5 times a power of ten at or above value."""
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def region_picture(ids: np.ndarray, size: int) -> np.ndarray:
    """Each region (cells sharing an id) in its own colour, neighbours told apart, edges darkened."""
    hues = np.random.default_rng(7).integers(60, 235, (int(ids.max()) + 1, 3)).astype(np.uint8)
    rgb = hues[ids]
    edge = np.zeros(ids.shape, dtype=bool)
    edge[:-1] |= ids[:-1] != ids[1:]
    edge[:, :-1] |= ids[:, :-1] != ids[:, 1:]
    rgb[edge] = (rgb[edge] * 0.45).astype(np.uint8)
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.NEAREST))
