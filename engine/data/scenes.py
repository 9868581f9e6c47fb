"""Seeded synthetic scenes and event videos whose captions come with the ground truth to score attention.

Xu et al. (2015), "Show, Attend and Tell: Neural Image Caption Generation with Visual Attention", arXiv:1502.03044,
let a caption decoder look at a different region of the image for every word it writes. Yao et al. (2015),
"Describing Videos by Exploiting Temporal Structure", arXiv:1502.08029, let a video decoder weigh the frames the
same way in time. Real caption sets say nothing about where each word's evidence lies; these small worlds do:

- a scene holds 1 to 4 flat shapes (6 shapes x 6 colours x 2 sizes) on a plain or faintly textured background, and
  every Thing carries the tight pixel box of its shape, so `object_words` can tell which words of any caption name
  which thing, and the share of those words whose attention peak falls inside the thing's box scores the attention;
- a video holds 1 or 2 shapes and 1 to 3 events in sequence (enters, leaves, moves in a direction, turns a colour),
  each with its frame span, so `event_words` does the same in time.

Captions come from a small regular grammar that a small LSTM learns: every noun phrase is "a [size] colour shape";
two things are related by the dominant axis of their box centres ("left of", "right of", "above", "below"); clauses
of a scene join with "," and "and"; events of a video join with ", then" or ", and then", "it" standing for the
thing of the event before. Five references per item vary the order, the relation's direction and the size words.

Everything is drawn without anti-aliasing, so a thing's pixels carry exactly its colour and its box is exact.
Generation draws only from the caller's `random.Random`; `scenes` and `videos` seed item i from (seed, i) alone.
"""
import functools
import random
from dataclasses import dataclass

import numpy as np

from engine.data import DataError

SHAPES = ("circle", "square", "triangle", "star", "cross", "diamond")
COLOURS = ("red", "green", "blue", "yellow", "purple", "white")
SIZES = ("small", "large")
RELATIONS = (("left", "of"), ("right", "of"), ("above",), ("below",))
EVENT_KINDS = ("enters", "leaves", "moves", "turns")
DIRECTIONS = ("left", "right", "up", "down")
BACKGROUND_KINDS = ("plain", "stripes", "checker", "noise")
ORIENTATIONS = ("horizontal", "vertical", "diagonal")

# Every object colour has a channel of 200 or more and every background pixel stays at 72 or less, so no background
# pixel can be mistaken for an object, and the colours are far apart from each other.
RGB = {"red": (230, 40, 40), "green": (40, 200, 70), "blue": (60, 110, 255),
       "yellow": (240, 220, 50), "purple": (180, 70, 230), "white": (245, 245, 245)}
BACKGROUND_RGB = ((28, 28, 34), (44, 38, 30), (24, 40, 46), (42, 30, 44), (34, 46, 30), (56, 56, 56))
MAX_CONTRAST = 16
SIDE = {"small": (0.15, 0.22), "large": (0.30, 0.40)}   # a thing's side as a share of the image side
MIN_VISIBLE = 0.5            # share of a thing's pixels that later things may not cover
MIN_SIZE = 24                # image side: a small thing still gets 4 pixels
REFERENCES = 5
_TRIES = 1000


@dataclass(frozen=True)
class Thing:
    shape: str
    colour: str
    size: str                                # "small" or "large"
    box: tuple[int, int, int, int]           # x0, y0, x1, y1 in pixels, x1 and y1 exclusive; tight around the shape


@dataclass(frozen=True)
class Background:
    kind: str = "plain"                      # one of BACKGROUND_KINDS
    rgb: tuple[int, int, int] = BACKGROUND_RGB[0]
    contrast: int = 0                        # textures vary each channel by +-contrast around rgb
    period: int = 8                          # stripes and checker: pixels per dark + light cycle
    orientation: str = "vertical"            # stripes: one of ORIENTATIONS
    seed: int = 0                            # noise


# eq=False: the arrays have no truth value, so items compare by identity; compare `image.tobytes()` instead.
@dataclass(frozen=True, eq=False)
class Scene:
    image: np.ndarray                        # (S, S, 3) uint8 RGB
    things: tuple[Thing, ...]                # in drawing order: later things cover earlier ones
    captions: tuple[tuple[str, ...], ...]    # REFERENCES token tuples
    background: Background


@dataclass(frozen=True)
class Event:
    kind: str                                # one of EVENT_KINDS
    thing: int                               # index into Video.things
    detail: str                              # "" for enters and leaves, a direction for moves, the new colour for turns
    start: int                               # first frame of the span
    end: int                                 # one past its last frame


@dataclass(frozen=True, eq=False)
class Video:
    frames: np.ndarray                       # (T, S, S, 3) uint8 RGB
    things: tuple[Thing, ...]                # first colour; box at frame 0, or where its entrance ends
    events: tuple[Event, ...]                # in time order, disjoint spans of 3 frames or more
    captions: tuple[tuple[str, ...], ...]
    tracks: tuple[tuple[tuple[int, int, int, int] | None, ...], ...]   # [frame][thing]: box, None when not in view
    background: Background


# ---------------------------------------------------------------- drawing

def _polygon(u: np.ndarray, v: np.ndarray, points: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Even-odd rule for a grid of pixel centres against a closed polygon."""
    inside = np.zeros(np.broadcast_shapes(u.shape, v.shape), dtype=bool)
    for (xa, ya), (xb, yb) in zip(points, points[1:] + points[:1]):
        if ya == yb:
            continue
        crosses = (ya > v) != (yb > v)
        x_cut = xa + (v - ya) * (xb - xa) / (yb - ya)
        inside ^= crosses & (u < x_cut)
    return inside


def _star() -> tuple[tuple[tuple[float, float], ...], tuple[tuple[float, float], ...]]:
    """A five-pointed star with a fat centre (small stars stay recognisable), scaled to the unit square; its tips."""
    angles = np.deg2rad(-90 + 36 * np.arange(10))
    radius = np.where(np.arange(10) % 2 == 0, 1.0, 0.5)
    x, y = radius * np.cos(angles), radius * np.sin(angles)
    x = (x - x.min()) / (x.max() - x.min())
    y = (y - y.min()) / (y.max() - y.min())
    points = tuple(zip(x.tolist(), y.tolist()))
    return points, points[0::2]


_EDGE_MIDDLES = ((0.5, 0.0), (1.0, 0.5), (0.5, 1.0), (0.0, 0.5))


@functools.lru_cache(maxsize=4096)
def shape_mask(shape: str, w: int, h: int) -> np.ndarray:
    """(h, w) bool mask of a shape that touches all four sides of its w x h box. Read-only: it is cached."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {', '.join(SHAPES)}")
    if w < 1 or h < 1:
        raise ValueError(f"a {w} x {h} box holds no pixels")
    u = np.linspace(0.0, 1.0, w)[None, :] if w > 1 else np.full((1, 1), 0.5)
    v = np.linspace(0.0, 1.0, h)[:, None] if h > 1 else np.full((1, 1), 0.5)
    # Pixel centres within half a pixel of the outline count as inside, so thin parts (a triangle's apex, a
    # diamond's corners) keep a pixel on every side of the box and the box stays tight.
    eu, ev = 0.5 / max(w - 1, 1) + 1e-9, 0.5 / max(h - 1, 1) + 1e-9
    x, y = u - 0.5, v - 0.5
    extremes: tuple[tuple[float, float], ...] = _EDGE_MIDDLES
    if shape == "circle":
        mask = (x / (0.5 + eu)) ** 2 + (y / (0.5 + ev)) ** 2 <= 1.0
    elif shape == "square":
        mask = np.ones((h, w), dtype=bool)
    elif shape == "triangle":
        mask = np.abs(x) <= 0.5 * v + eu
        extremes = ((0.5, 0.0), (0.0, 1.0), (1.0, 1.0))
    elif shape == "diamond":
        mask = np.abs(x) + np.abs(y) <= 0.5 + max(eu, ev)
    elif shape == "cross":
        mask = (np.abs(x) <= max(1 / 6, eu)) | (np.abs(y) <= max(1 / 6, ev))
    else:
        outline, extremes = _star()
        # A pixel that any of 3 x 3 points across it falls in is drawn, or small stars lose their thin tips.
        mask = np.zeros((h, w), dtype=bool)
        for du in (-1 / 3, 0.0, 1 / 3):
            for dv in (-1 / 3, 0.0, 1 / 3):
                mask |= _polygon(u + du * 2 * (eu - 1e-9), v + dv * 2 * (ev - 1e-9), outline)
    mask = np.broadcast_to(mask, (h, w)).copy()
    # The tips of a star (and, by the tolerance above, every other shape's extreme points) lie on the box's sides;
    # drawing the pixel under each makes the box exact at any size.
    for eu_, ev_ in extremes:
        mask[int(ev_ * (h - 1) + 0.5), int(eu_ * (w - 1) + 0.5)] = True
    mask.flags.writeable = False
    return mask


@functools.lru_cache(maxsize=256)
def _background(bg: Background, size: int) -> np.ndarray:
    if bg.kind not in BACKGROUND_KINDS:
        raise ValueError(f"unknown background {bg.kind!r}; choose one of {', '.join(BACKGROUND_KINDS)}")
    if not 0 <= bg.contrast <= MAX_CONTRAST:
        raise ValueError(f"background contrast {bg.contrast} is outside 0..{MAX_CONTRAST}")
    base = np.asarray(bg.rgb, dtype=np.int16)
    yy, xx = np.mgrid[0:size, 0:size]
    half = max(bg.period // 2, 1)
    if bg.kind == "plain":
        offset = np.zeros((size, size), dtype=np.int16)
    elif bg.kind == "noise":
        offset = np.random.default_rng(bg.seed).integers(-bg.contrast, bg.contrast + 1, (size, size), dtype=np.int16)
    else:
        if bg.kind == "checker":
            phase = yy // half + xx // half
        else:
            phase = {"horizontal": yy, "vertical": xx, "diagonal": xx + yy}[bg.orientation] // half
        offset = np.where(phase % 2 == 0, -bg.contrast, bg.contrast).astype(np.int16)
    image = np.clip(base + offset[..., None], 0, 255).astype(np.uint8)
    image.flags.writeable = False
    return image


def background_image(bg: Background, size: int = 64) -> np.ndarray:
    """(size, size, 3) uint8 image of a background, writable."""
    return _background(bg, size).copy()


def _clip(box: tuple[int, int, int, int], size: int):
    """The part of a box inside the image: the image slices and the matching slices of the box's own mask."""
    x0, y0, x1, y1 = box
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, size), min(y1, size)
    if cx0 >= cx1 or cy0 >= cy1:
        return None
    return (slice(cy0, cy1), slice(cx0, cx1)), (slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0))


def thing_mask(thing: Thing, size: int = 64) -> np.ndarray:
    """(size, size) bool mask of every pixel the thing covers when nothing lies on top of it."""
    out = np.zeros((size, size), dtype=bool)
    x0, y0, x1, y1 = thing.box
    parts = _clip(thing.box, size)
    if parts is not None:
        out[parts[0]] = shape_mask(thing.shape, x1 - x0, y1 - y0)[parts[1]]
    return out


def _draw(image: np.ndarray, owner: np.ndarray | None, index: int, shape: str, box, rgb) -> None:
    parts = _clip(box, image.shape[0])
    if parts is None:
        return
    x0, y0, x1, y1 = box
    local = shape_mask(shape, x1 - x0, y1 - y0)[parts[1]]
    image[parts[0]][local] = rgb
    if owner is not None:
        owner[parts[0]][local] = index


def render(things, background: Background = Background(), size: int = 64) -> tuple[np.ndarray, list[np.ndarray]]:
    """Draw things in order over a background: the (size, size, 3) uint8 image and, for each thing, the bool mask of
    the pixels it shows in it (later things cover earlier ones). Boxes may reach past the image; they are clipped."""
    if len(things) > 127:
        raise ValueError(f"{len(things)} things; at most 127 can be drawn together")
    image = background_image(background, size)
    owner = np.full((size, size), -1, dtype=np.int8)
    for i, t in enumerate(things):
        if t.colour not in RGB:
            raise ValueError(f"unknown colour {t.colour!r}; choose one of {', '.join(COLOURS)}")
        _draw(image, owner, i, t.shape, t.box, RGB[t.colour])
    return image, [owner == i for i in range(len(things))]


def _random_background(rng: random.Random) -> Background:
    kind = rng.choice(BACKGROUND_KINDS)
    rgb = rng.choice(BACKGROUND_RGB)
    if kind == "plain":
        return Background("plain", rgb)
    return Background(kind, rgb, contrast=rng.randint(5, 12), period=rng.choice((4, 6, 8, 10)),
                      orientation=rng.choice(ORIENTATIONS), seed=rng.getrandbits(32))


def _side(rng: random.Random, size_word: str, size: int) -> int:
    lo, hi = SIDE[size_word]
    return max(3, round(size * rng.uniform(lo, hi)))


def _check_size(size: int) -> None:
    if size < MIN_SIZE:
        raise DataError(f"images of {size} pixels are too small; use {MIN_SIZE} or more")


# ---------------------------------------------------------------- captions

def noun_phrase(thing: Thing, with_size: bool = True) -> tuple[str, ...]:
    return ("a", thing.size, thing.colour, thing.shape) if with_size else ("a", thing.colour, thing.shape)


def _centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def relation(a: Thing, b: Thing, size: int = 64) -> tuple[str, ...] | None:
    """Where a lies from b along the dominant axis of their centres' offset; None when neither axis clearly
    dominates (within size / 16 pixels), as a reader could then say either."""
    (ax, ay), (bx, by) = _centre(a.box), _centre(b.box)
    dx, dy = bx - ax, by - ay
    if abs(abs(dx) - abs(dy)) < size / 16:
        return None
    if abs(dx) > abs(dy):
        return ("left", "of") if dx > 0 else ("right", "of")
    return ("above",) if dy > 0 else ("below",)


def _listing(clauses: list[tuple[str, ...]]) -> tuple[str, ...]:
    """'x', 'x and y', 'x , y and z'."""
    out: tuple[str, ...] = clauses[0]
    for i, clause in enumerate(clauses[1:], start=1):
        out += ("and" if i == len(clauses) - 1 else ",",) + clause
    return out


def _scene_caption(rng: random.Random, things, size: int) -> tuple[str, ...]:
    order = list(range(len(things)))
    rng.shuffle(order)
    phrase = [noun_phrase(t, rng.random() < 0.5) for t in things]
    clauses, i = [], 0
    while i < len(order):
        a = order[i]
        rel = relation(things[a], things[order[i + 1]], size) if i + 1 < len(order) else None
        # Two things are always related; among more, some stand alone so the listing form is learnt too.
        if rel is not None and (len(things) == 2 or rng.random() < 0.6):
            clauses.append(phrase[a] + rel + phrase[order[i + 1]])
            i += 2
        else:
            clauses.append(phrase[a])
            i += 1
    return _listing(clauses)


def _references(draw, rng: random.Random) -> tuple[tuple[str, ...], ...]:
    """REFERENCES different captions where the grammar has that many, repeating in turn where it has fewer."""
    found: list[tuple[str, ...]] = []
    for _ in range(12 * REFERENCES):
        caption = draw(rng)
        if caption not in found:
            found.append(caption)
            if len(found) == REFERENCES:
                break
    return tuple(found[i % len(found)] for i in range(REFERENCES))


def describe(things, rng: random.Random, size: int = 64) -> tuple[tuple[str, ...], ...]:
    """Reference captions of a scene, e.g. for things a user placed; relations need the image side."""
    if not things:
        raise ValueError("a scene without things has no caption")
    return _references(lambda r: _scene_caption(r, things, size), rng)


def vocabulary() -> tuple[str, ...]:
    """Every token a scene or video caption can contain, sorted."""
    words = {"a", "and", ",", "then", "it"} | set(SHAPES) | set(COLOURS) | set(SIZES) | set(EVENT_KINDS)
    words |= {w for rel in RELATIONS for w in rel} | set(DIRECTIONS)
    return tuple(sorted(words))


def object_words(tokens, things) -> list[tuple[int, int]]:
    """(token position, thing index) for the colour and shape word of each noun phrase "a [size] colour shape" of a
    caption that fits exactly one thing (shape, colour, and size where stated); other phrases are skipped."""
    tokens = list(tokens)
    out = []
    for i, word in enumerate(tokens):
        if word != "a":
            continue
        j = i + 1
        size = tokens[j] if j < len(tokens) and tokens[j] in SIZES else None
        j += size is not None
        if j + 1 >= len(tokens) or tokens[j] not in COLOURS or tokens[j + 1] not in SHAPES:
            continue
        fits = [k for k, t in enumerate(things)
                if t.colour == tokens[j] and t.shape == tokens[j + 1] and size in (None, t.size)]
        if len(fits) == 1:
            out += [(j, fits[0]), (j + 1, fits[0])]
    return out


# ---------------------------------------------------------------- scenes

def _place_scene(rng: random.Random, size: int) -> list[Thing] | None:
    n = rng.randint(1, 4)
    kinds = rng.sample([(s, c) for s in SHAPES for c in COLOURS], n)   # no two things share shape and colour
    owner = np.full((size, size), -1, dtype=np.int8)
    full: list[int] = []          # pixels of each thing
    shown: list[int] = []         # pixels of each thing not yet covered
    things: list[Thing] = []
    for shape, colour in kinds:
        size_word = rng.choice(SIZES)
        side = _side(rng, size_word, size)
        for _ in range(50):
            x0, y0 = rng.randint(0, size - side), rng.randint(0, size - side)
            thing = Thing(shape, colour, size_word, (x0, y0, x0 + side, y0 + side))
            # Touching things of one colour would merge into one blob.
            if any(t.colour == colour and _near(t.box, thing.box) for t in things):
                continue
            if len(things) == 1 and n == 2 and relation(things[0], thing, size) is None:
                continue
            mask = shape_mask(shape, side, side)
            region = owner[y0:y0 + side, x0:x0 + side]
            lost = np.bincount(region[mask].astype(np.int64) + 1, minlength=len(things) + 1)[1:]
            if all(shown[k] - lost[k] >= MIN_VISIBLE * full[k] for k in range(len(things))):
                break
        else:
            return None
        region[mask] = len(things)
        shown = [s - int(lost_k) for s, lost_k in zip(shown, lost)] + [int(mask.sum())]
        full.append(int(mask.sum()))
        things.append(thing)
    return things


def _near(a, b, gap: int = 1) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def scene(rng: random.Random, size: int = 64) -> Scene:
    """One scene of 1 to 4 things, each at least MIN_VISIBLE visible, with REFERENCES captions."""
    _check_size(size)
    for _ in range(_TRIES):
        things = _place_scene(rng, size)
        if things is not None:
            break
    else:
        raise RuntimeError(f"no scene of {size} pixels after {_TRIES} tries")
    bg = _random_background(rng)
    image, _ = render(things, bg, size)
    return Scene(image, tuple(things), describe(things, rng, size), bg)


def scenes(n: int, seed: int, size: int = 64) -> list[Scene]:
    """n scenes; scene i depends on (seed, i) only, so a longer list starts with the shorter one."""
    return [scene(random.Random(f"scene:{seed}:{i}"), size) for i in range(n)]


# ---------------------------------------------------------------- videos

def _plan(rng: random.Random, n_things: int, frames: int) -> list[tuple[str, int, int, int]]:
    """(kind, thing, start, end) of each event: a thing enters only as its first event and does nothing after it
    leaves; spans of 3 frames or more, the spare frames spread over the spans and the quiet gaps around them."""
    state = ["new"] * n_things
    plan: list[tuple[str, int]] = []
    for _ in range(rng.randint(1, min(3, frames // 3))):
        options: dict[str, list[int]] = {}
        for i, s in enumerate(state):
            if s != "gone":
                for kind in EVENT_KINDS:
                    if kind != "enters" or s == "new":
                        options.setdefault(kind, []).append(i)
        if not options:
            break
        kind = rng.choice(sorted(options))
        thing = rng.choice(options[kind])
        state[thing] = "gone" if kind == "leaves" else "here"
        plan.append((kind, thing))
    bins = [0] * (2 * len(plan) + 1)          # gap, span, gap, span, ..., gap
    for _ in range(frames - 3 * len(plan)):
        bins[rng.randrange(len(bins))] += 1
    out, t = [], 0
    for k, (kind, thing) in enumerate(plan):
        t += bins[2 * k]
        length = 3 + bins[2 * k + 1]
        out.append((kind, thing, t, t + length))
        t += length
    return out


def _offscreen(x: int, y: int, side: int, size: int, edge: str, inside: int = 0) -> tuple[int, int]:
    """The position just past an edge, along the axis that crosses it, with `inside` pixels still in the image."""
    return {"left": (inside - side, y), "right": (size - inside, y), "up": (x, inside - side),
            "down": (x, size - inside)}[edge]


def _try_video(rng: random.Random, frames: int, size: int, colours, shapes, size_words, sides, plan):
    """Positions, paths and colours for a cast and a plan; None when a move has no room or the things touch."""
    n = len(colours)
    first_kind = {thing: kind for kind, thing, _, _ in reversed(plan)}
    pos = [(rng.randint(0, size - d), rng.randint(0, size - d)) for d in sides]
    # Per frame and thing: position, colour, and whether it is in the world at all.
    xy = [[p] * frames for p in pos]
    rgb = [[tuple(float(c) for c in RGB[colours[i]])] * frames for i in range(n)]
    present = [[first_kind.get(i) != "enters"] * frames for i in range(n)]
    names = list(colours)
    events, names_at_event = [], []
    for kind, i, start, end in plan:
        d, (x, y) = sides[i], xy[i][start - 1] if start else pos[i]
        names_at_event.append(names[i])
        detail, path_from, path_to = "", (x, y), (x, y)
        colour_from, colour_to = RGB[names[i]], RGB[names[i]]
        if kind == "enters":
            path_from = _offscreen(x, y, d, size, rng.choice(DIRECTIONS), inside=1)
        elif kind == "leaves":
            path_to = _offscreen(x, y, d, size, rng.choice(DIRECTIONS))
        elif kind == "moves":
            step = round(size * rng.uniform(0.2, 0.3))
            moves = {"left": (x - step, y), "right": (x + step, y), "up": (x, y - step), "down": (x, y + step)}
            fits = [k for k, (mx, my) in moves.items() if 0 <= mx <= size - d and 0 <= my <= size - d]
            if not fits:
                return None
            detail = rng.choice(fits)
            path_to = moves[detail]
        else:
            detail = rng.choice([c for c in COLOURS if c not in names])
            colour_to = RGB[detail]
            names[i] = detail
        for t in range(start, frames):
            # The first frame of a span already shows the change: an entering thing peeks in by one pixel.
            p = min((t - start) / (end - start - 1) if kind == "enters" else (t - start + 1) / (end - start), 1.0)
            xy[i][t] = (round(path_from[0] + (path_to[0] - path_from[0]) * p),
                        round(path_from[1] + (path_to[1] - path_from[1]) * p))
            rgb[i][t] = tuple(a + (b - a) * p for a, b in zip(colour_from, colour_to))
            present[i][t] = kind != "leaves" or p < 1.0
        events.append(Event(kind, i, detail, start, end))
    tracks, paint = [], []
    for t in range(frames):
        row = []
        for i in range(n):
            box = (xy[i][t][0], xy[i][t][1], xy[i][t][0] + sides[i], xy[i][t][1] + sides[i])
            row.append(box if present[i][t] and _clip(box, size) is not None else None)
        if n == 2 and row[0] is not None and row[1] is not None and _near(row[0], row[1]):
            return None                       # things never touch, so neither hides the other's event
        tracks.append(tuple(row))
        paint.append([tuple(int(c + 0.5) for c in rgb[i][t]) for i in range(n)])
    settled = [next((end - 1 for kind, j, _, end in plan if j == i and kind == "enters"), 0) for i in range(n)]
    things = tuple(Thing(shapes[i], colours[i], size_words[i],
                         (*xy[i][settled[i]], xy[i][settled[i]][0] + sides[i], xy[i][settled[i]][1] + sides[i]))
                   for i in range(n))
    return things, tuple(events), names_at_event, tuple(tracks), paint


def _video_caption(rng: random.Random, things, events, names_at_event) -> tuple[str, ...]:
    out: tuple[str, ...] = ()
    for k, (event, name) in enumerate(zip(events, names_at_event)):
        if k:
            out += (",", "and", "then") if rng.random() < 0.5 else (",", "then")
        thing = things[event.thing]
        if k and events[k - 1].thing == event.thing and rng.random() < 0.7:
            out += ("it",)
        else:
            out += noun_phrase(Thing(thing.shape, name, thing.size, thing.box), rng.random() < 0.5)
        out += (event.kind,) + ((event.detail,) if event.detail else ())
    return out


def video(rng: random.Random, frames: int = 16, size: int = 64) -> Video:
    """One video of 1 or 2 things and 1 to 3 events, with REFERENCES captions."""
    _check_size(size)
    if frames < 3:
        raise DataError(f"a video of {frames} frames cannot hold an event; use 3 frames or more")
    for _ in range(_TRIES):
        n = rng.randint(1, 2)
        colours = rng.sample(COLOURS, n)          # distinct at every moment: turns never takes the other's colour
        shapes = [rng.choice(SHAPES) for _ in range(n)]
        size_words = [rng.choice(SIZES) for _ in range(n)]
        sides = [_side(rng, s, size) for s in size_words]
        plan = _plan(rng, n, frames)
        # Placement is retried on its own first, so the cast and plan keep the odds they were drawn with.
        made = next(filter(None, (_try_video(rng, frames, size, colours, shapes, size_words, sides, plan)
                                  for _ in range(100))), None)
        if made is not None:
            break
    else:
        raise RuntimeError(f"no video of {frames} frames after {_TRIES} tries")
    things, events, names_at_event, tracks, paint = made
    bg = _random_background(rng)
    base = _background(bg, size)
    out = np.empty((frames, size, size, 3), dtype=np.uint8)
    for t in range(frames):
        out[t] = base
        for i in range(len(things)):
            if tracks[t][i] is not None:
                _draw(out[t], None, i, things[i].shape, tracks[t][i], paint[t][i])
    captions = _references(lambda r: _video_caption(r, things, events, names_at_event), rng)
    return Video(out, things, events, captions, tuple(tracks), bg)


def videos(n: int, seed: int, frames: int = 16, size: int = 64) -> list[Video]:
    """n videos; video i depends on (seed, i) only."""
    return [video(random.Random(f"video:{seed}:{i}"), frames, size) for i in range(n)]


def event_words(tokens, video: Video) -> list[tuple[int, int]]:
    """(token position, event index) for each verb of a caption and its direction or colour, matched in order:
    a verb takes the next unmatched event of its kind and detail; verbs with none left are skipped."""
    tokens = list(tokens)
    events = video.events
    out, next_event = [], 0
    for i, word in enumerate(tokens):
        if word not in EVENT_KINDS:
            continue
        positions, detail = [i], ""
        complements = {"moves": DIRECTIONS, "turns": COLOURS}.get(word, ())
        if i + 1 < len(tokens) and tokens[i + 1] in complements:
            positions.append(i + 1)
            detail = tokens[i + 1]
        for k in range(next_event, len(events)):
            if events[k].kind == word and events[k].detail == detail:
                out += [(p, k) for p in positions]
                next_event = k + 1
                break
    return out
