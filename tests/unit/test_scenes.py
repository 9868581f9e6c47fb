"""engine.data.scenes: seeded scenes and event videos, their exact boxes and spans, captions and word grounding."""
import random

import numpy as np
import pytest

from engine.data import DataError, scenes
from engine.data.scenes import COLOURS, RGB, SHAPES, SIZES, Event, Thing, Video, event_words, object_words, render

SIZE = 64


@pytest.fixture(scope="module")
def world() -> list[scenes.Scene]:
    return scenes.scenes(600, 0)


@pytest.fixture(scope="module")
def clips() -> list[Video]:
    return scenes.videos(400, 0)


def bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def pixels_of(image: np.ndarray, rgb) -> np.ndarray:
    return np.all(image == np.asarray(rgb, dtype=np.uint8), axis=-1)


def centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


# ---- determinism -------------------------------------------------------------------------------------------


def same_scenes(a, b) -> bool:
    return all(x.image.tobytes() == y.image.tobytes() and x.things == y.things and x.captions == y.captions
               for x, y in zip(a, b, strict=True))


def test_same_seed_same_scenes_other_seed_other_scenes():
    assert same_scenes(scenes.scenes(30, 4), scenes.scenes(30, 4))
    assert same_scenes(scenes.scenes(30, 4)[:7], scenes.scenes(7, 4))        # scene i does not depend on n
    assert not same_scenes(scenes.scenes(30, 4), scenes.scenes(30, 5))


def test_same_seed_same_videos_and_video_i_does_not_depend_on_n():
    a, b, short = scenes.videos(12, 4), scenes.videos(12, 4), scenes.videos(5, 4)
    for x, y in zip(a, b):
        assert x.frames.tobytes() == y.frames.tobytes() and x.events == y.events and x.captions == y.captions
    assert [v.events for v in short] == [v.events for v in a[:5]]
    assert [v.frames.tobytes() for v in scenes.videos(12, 5)] != [v.frames.tobytes() for v in a]


def test_generation_leaves_the_global_random_state_alone():
    random.seed(7)
    expected = random.random()
    random.seed(7)
    scenes.scenes(5, 0)
    scenes.videos(3, 0)
    assert random.random() == expected


# ---- shapes and boxes --------------------------------------------------------------------------------------


def test_every_shape_touches_all_four_sides_of_its_box():
    for shape in SHAPES:
        for w, h in [(k, k) for k in range(3, 41)] + [(5, 11), (17, 9), (30, 21)]:
            mask = scenes.shape_mask(shape, w, h)
            assert mask.shape == (h, w)
            assert bbox(mask) == (0, 0, w, h), (shape, w, h)
            assert 0.3 * w * h <= mask.sum() <= w * h, (shape, w, h)   # a solid shape, not a few stray pixels


def test_shapes_differ_from_each_other():
    masks = {s: scenes.shape_mask(s, 20, 20) for s in SHAPES}
    for a in SHAPES:
        for b in SHAPES:
            if a < b:
                assert (masks[a] != masks[b]).sum() >= 30, (a, b)


def test_boxes_match_the_drawn_pixels_and_every_thing_stays_half_visible(world):
    for sc in world:
        image, masks = render(sc.things, sc.background, SIZE)
        assert np.array_equal(image, sc.image)
        background = scenes.background_image(sc.background, SIZE)
        assert np.array_equal(image[~np.any(masks, axis=0)], background[~np.any(masks, axis=0)])
        for thing, shown in zip(sc.things, masks):
            full = scenes.thing_mask(thing, SIZE)
            assert bbox(full) == thing.box
            assert not (shown & ~full).any()
            assert shown.sum() >= 0.5 * full.sum()
            assert pixels_of(image, RGB[thing.colour])[shown].all()


def test_a_lone_thing_is_exactly_the_pixels_of_its_colour(world):
    lone = [sc for sc in world if len(sc.things) == 1]
    assert len(lone) >= 40
    for sc in lone:
        (thing,) = sc.things
        assert bbox(pixels_of(sc.image, RGB[thing.colour])) == thing.box


def test_counts_sizes_and_backgrounds_vary_within_their_ranges(world):
    assert {len(sc.things) for sc in world} == {1, 2, 3, 4}
    assert {sc.background.kind for sc in world} == set(scenes.BACKGROUND_KINDS)
    for sc in world:
        for t in sc.things:
            x0, y0, x1, y1 = t.box
            lo, hi = scenes.SIDE[t.size]
            assert x1 - x0 == y1 - y0 and lo * SIZE - 1 <= x1 - x0 <= hi * SIZE + 1
            assert 0 <= x0 and 0 <= y0 and x1 <= SIZE and y1 <= SIZE
        kinds = [(t.shape, t.colour) for t in sc.things]
        assert len(set(kinds)) == len(kinds)
        for a in sc.things:        # things of one colour keep a pixel apart, or they would read as one blob
            for b in sc.things:
                if a is not b and a.colour == b.colour:
                    assert a.box[2] < b.box[0] or b.box[2] < a.box[0] or a.box[3] < b.box[1] or b.box[3] < a.box[1]
        # The faint background never takes an object's colour, nor comes close to one.
        background = scenes.background_image(sc.background, SIZE)
        assert background.max() <= 72


def test_render_clips_boxes_that_reach_past_the_image():
    things = [Thing("circle", "red", "large", (-10, 30, 10, 50)), Thing("star", "blue", "small", (30, 30, 40, 40))]
    image, (half, star) = render(things, scenes.Background("stripes", (40, 30, 42), 8), 48)
    assert image.shape == (48, 48, 3) and star.sum() == scenes.shape_mask("star", 10, 10).sum()
    assert bbox(half) == (0, 30, 10, 48) and np.array_equal(half, scenes.thing_mask(things[0], 48))
    with pytest.raises(ValueError):
        render([Thing("blob", "red", "small", (0, 0, 5, 5))])


# ---- captions ----------------------------------------------------------------------------------------------


def test_vocabulary_is_sorted_and_small():
    vocab = scenes.vocabulary()
    assert list(vocab) == sorted(set(vocab)) and len(vocab) == 30
    assert set(SHAPES) | set(COLOURS) | set(SIZES) | {",", "left", "of", "then", "it", "turns"} <= set(vocab)


def parse_scene_caption(tokens):
    """Clauses of 'NP', 'NP REL NP' joined by ',' and a final 'and'; each NP as (size, colour, shape)."""
    clauses, i, joiners = [], 0, []

    def noun_phrase():
        nonlocal i
        assert tokens[i] == "a", tokens
        i += 1
        size = tokens[i] if tokens[i] in SIZES else None
        i += size is not None
        colour, shape = tokens[i], tokens[i + 1]
        assert colour in COLOURS and shape in SHAPES, tokens
        i += 2
        return size, colour, shape

    while True:
        a = noun_phrase()
        rel = None
        for words in scenes.RELATIONS:
            if tuple(tokens[i:i + len(words)]) == words:
                rel = words
                i += len(words)
                break
        clauses.append((a, rel, noun_phrase() if rel else None))
        if i == len(tokens):
            break
        joiners.append(tokens[i])
        i += 1
    assert joiners == [","] * (len(joiners) - 1) + ["and"] * bool(joiners), tokens
    return clauses


def expected_relation(a: Thing, b: Thing) -> tuple[str, ...]:
    (ax, ay), (bx, by) = centre(a.box), centre(b.box)
    if abs(bx - ax) > abs(by - ay):
        return ("left", "of") if ax < bx else ("right", "of")
    return ("above",) if ay < by else ("below",)


def find(things, np_):
    size, colour, shape = np_
    (k,) = [k for k, t in enumerate(things) if (t.shape, t.colour) == (shape, colour) and size in (None, t.size)]
    return k


def test_scene_captions_follow_the_grammar_and_name_every_thing(world):
    vocab = set(scenes.vocabulary())
    for sc in world:
        assert len(sc.captions) == 5
        if len(sc.things) > 1:
            assert len(set(sc.captions)) == 5
        for caption in sc.captions:
            assert set(caption) <= vocab
            clauses = parse_scene_caption(caption)
            named = [find(sc.things, np_) for a, _, b in clauses for np_ in (a, b) if np_]
            assert sorted(named) == list(range(len(sc.things)))
            assert {k for _, k in object_words(caption, sc.things)} == set(range(len(sc.things)))
            for a, rel, b in clauses:
                if rel:
                    assert rel == expected_relation(sc.things[find(sc.things, a)], sc.things[find(sc.things, b)])


def test_two_things_are_always_related_and_references_vary_order_and_size_words(world):
    pairs = [sc for sc in world if len(sc.things) == 2]
    assert len(pairs) >= 40
    for sc in pairs:
        for caption in sc.captions:
            ((a, rel, b),) = parse_scene_caption(caption)
            assert rel is not None
        # Four ways to state the sizes in each order: five different references use both orders.
        assert len({parse_scene_caption(c)[0][0][1:] for c in sc.captions}) == 2
    with_size = sum("small" in c or "large" in c for sc in world for c in sc.captions)
    assert 0.3 < with_size / (5 * len(world)) < 0.99


def test_object_words_ground_unique_phrases_and_skip_the_rest():
    things = (Thing("triangle", "red", "small", (0, 0, 10, 10)), Thing("circle", "blue", "large", (20, 0, 45, 25)),
              Thing("star", "green", "small", (0, 30, 10, 40)), Thing("star", "green", "large", (30, 30, 55, 55)))
    caption = ("a small red triangle left of a blue circle and a green star above a yellow square , "
               "a large green star and a large red triangle").split()
    assert object_words(caption, things) == [(2, 0), (3, 0), (7, 1), (8, 1), (20, 3), (21, 3)]
    assert object_words("red triangle a".split(), things) == []          # no article, or cut short
    assert object_words(("a", "small", "green", "star"), things) == [(2, 2), (3, 2)]


# ---- videos ------------------------------------------------------------------------------------------------


def test_events_are_in_order_on_disjoint_spans_of_three_frames_or_more(clips):
    kinds = set()
    for v in clips:
        assert v.frames.shape == (16, SIZE, SIZE, 3) and v.frames.dtype == np.uint8
        assert 1 <= len(v.events) <= 3 and 1 <= len(v.things) <= 2
        end = 0
        for e in v.events:
            assert end <= e.start and e.end - e.start >= 3 and e.end <= 16
            end = e.end
            kinds.add(e.kind)
            if e.kind == "moves":
                assert e.detail in scenes.DIRECTIONS
            elif e.kind == "turns":
                assert e.detail in COLOURS
            else:
                assert e.detail == ""
    assert kinds == set(scenes.EVENT_KINDS)
    assert {len(v.things) for v in clips} == {1, 2} and {len(v.events) for v in clips} == {1, 2, 3}


def colour_at(v: Video, thing: int, frame: int) -> str:
    """The colour name a thing has by a frame, from its first colour and the turns that ended before it."""
    name = v.things[thing].colour
    for e in v.events:
        if e.thing == thing and e.kind == "turns" and e.end <= frame + 1:
            name = e.detail
    return name


def test_an_entering_thing_is_absent_before_its_span_and_whole_at_its_end(clips):
    entering = [(v, e) for v in clips for e in v.events if e.kind == "enters"]
    assert len(entering) >= 20
    for v, e in entering:
        rgb = RGB[v.things[e.thing].colour]
        for t in range(e.start):
            assert not pixels_of(v.frames[t], rgb).any() and v.tracks[t][e.thing] is None
        shown = pixels_of(v.frames[e.start], rgb).sum()
        whole = pixels_of(v.frames[e.end - 1], rgb).sum()
        side = v.things[e.thing].box[2] - v.things[e.thing].box[0]
        assert 0 < shown < whole == scenes.shape_mask(v.things[e.thing].shape, side, side).sum()
        assert v.tracks[e.start][e.thing] is not None
        assert v.tracks[e.end - 1][e.thing] == v.things[e.thing].box


def test_a_leaving_thing_is_gone_from_the_end_of_its_span(clips):
    leaving = [(v, e) for v in clips for e in v.events if e.kind == "leaves"]
    assert len(leaving) >= 20
    for v, e in leaving:
        rgb = RGB[colour_at(v, e.thing, e.start)]
        if e.start > 0:
            assert pixels_of(v.frames[e.start - 1], rgb).any()
        for t in range(e.end - 1, 16):
            assert not pixels_of(v.frames[t], rgb).any() and v.tracks[t][e.thing] is None


def test_a_turning_thing_changes_colour_across_its_span(clips):
    turning = [(v, e) for v in clips for e in v.events if e.kind == "turns" and e.start > 0]
    assert len(turning) >= 20
    for v, e in turning:
        before, after = RGB[colour_at(v, e.thing, e.start - 1)], RGB[e.detail]
        assert before != after
        box = v.tracks[e.start - 1][e.thing]
        assert box is not None and box == v.tracks[e.end - 1][e.thing]    # it stays put while it turns
        full = scenes.thing_mask(Thing(v.things[e.thing].shape, e.detail, "small", box), SIZE)
        assert pixels_of(v.frames[e.start - 1], before)[full].all()
        assert pixels_of(v.frames[e.end - 1], after)[full].all()
        middle = v.frames[e.start][full].astype(int)                    # the fade's first step is neither colour
        assert not pixels_of(middle, before).any() and not pixels_of(middle, after).any()


def test_a_moving_thing_goes_its_way_and_stays_in_view(clips):
    moving = [(v, e) for v in clips for e in v.events if e.kind == "moves"]
    assert len(moving) >= 20
    for v, e in moving:
        rgb = RGB[colour_at(v, e.thing, e.start)]
        first = e.start - 1 if e.start else 0
        (x0, y0), (x1, y1) = (centre(bbox(pixels_of(v.frames[t], rgb))) for t in (first, e.end - 1))
        dx, dy = x1 - x0, y1 - y0
        assert {"left": -dx, "right": dx, "up": -dy, "down": dy}[e.detail] >= 0.12 * SIZE
        assert abs(dx if e.detail in ("up", "down") else dy) < 1
        for t in range(e.start, e.end):
            box = v.tracks[t][e.thing]
            assert box is not None and min(box) >= 0 and max(box) <= SIZE


def test_things_are_present_for_the_events_that_need_them(clips):
    for v in clips:
        for e in v.events:
            if e.kind != "enters":
                assert v.tracks[max(e.start - 1, 0)][e.thing] is not None


def test_video_captions_name_each_event_in_order(clips):
    vocab = set(scenes.vocabulary())
    for v in clips:
        assert len(v.captions) == 5
        for caption in v.captions:
            assert set(caption) <= vocab and caption[0] == "a" and "it" not in caption[:3]
            verbs = [w for w in caption if w in scenes.EVENT_KINDS]
            assert verbs == [e.kind for e in v.events]
            grounded = event_words(caption, v)
            assert [k for _, k in grounded] == [k for k, e in enumerate(v.events) for _ in range(1 + bool(e.detail))]
            assert caption.count("then") == len(v.events) - 1


def bare_video(*events: Event) -> Video:
    return Video(np.zeros((16, 1, 1, 3), np.uint8), (), events, (), (), scenes.Background())


def test_event_words_match_verbs_to_events_in_order():
    v = bare_video(Event("enters", 0, "", 0, 4), Event("turns", 0, "blue", 5, 9), Event("moves", 0, "left", 10, 14))
    caption = "a red square enters , then it turns blue , and then it moves left".split()
    assert event_words(caption, v) == [(3, 0), (7, 1), (8, 1), (13, 2), (14, 2)]
    # A wrong colour, a verb out of order and a verb without its direction ground nothing.
    assert event_words("a red square turns green , then it moves left , then it enters".split(), v) == [(8, 2), (9, 2)]
    assert event_words("a red square moves , then it turns blue".split(), v) == [(7, 1), (8, 1)]
    assert event_words("it leaves".split(), v) == []


def test_event_words_take_repeated_events_one_after_the_other():
    v = bare_video(Event("moves", 0, "up", 0, 4), Event("moves", 1, "up", 5, 9))
    assert event_words("a red star moves up , then a blue circle moves up".split(), v) == [(3, 0), (4, 0), (10, 1),
                                                                                          (11, 1)]


# ---- arguments ---------------------------------------------------------------------------------------------


def test_impossible_sizes_are_refused():
    with pytest.raises(DataError, match="too small"):
        scenes.scenes(1, 0, size=16)
    with pytest.raises(DataError, match="frames"):
        scenes.videos(1, 0, frames=2)
    short = scenes.videos(5, 0, frames=3, size=32)
    assert all(len(v.events) == 1 and (v.events[0].start, v.events[0].end) == (0, 3) for v in short)
