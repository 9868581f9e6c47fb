"""Captioning studio (slides 111-118): captions for images and videos, with the attention behind every word."""
import hashlib
from collections.abc import Callable

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app.ui import charts, images, resources
from app.ui.page_kit import PageKit
from engine import api
from engine.data import DataError, media, photos, scenes
from engine.models import captioner, vision

MODES = {"image": "Image", "video": "Video"}
IMAGE_SOURCES = {"sample": "Test scene", "photo": "Sample photo", "upload": "Upload an image",
                 "draw": "Draw a scene"}
VIDEO_SOURCES = {"sample": "Test clip", "pan": "Sample pan over photos", "upload": "Upload a video"}
READERS = {"auto": "Automatic", "photo": "Photo models (pretrained)", "shapes": "Shapes captioner (learned)"}
REAL = {"photo", "upload", "pan"}   # the sources that "Automatic" gives to the photo models
BEAMS = [1, 2, 3, 5]
DEFAULTS = {"mode": "image", "src": "sample", "vsrc": "sample", "scene": 0, "clip": 0, "beam": 3, "reader": "auto",
            "photo": "chelsea"}
ALLOWED = {"mode": list(MODES), "src": list(IMAGE_SOURCES), "vsrc": list(VIDEO_SOURCES), "scene": (0, 10_000),
           "clip": (0, 10_000), "beam": BEAMS, "reader": list(READERS), "photo": list(photos.SAMPLES)}
END = "<end>"                      # the attention before the model wrote its end-of-caption token
CANVAS = 256
FUNCTION_WORDS = {"a", ",", "of", "and", "then", END}   # words not shown in the small strips
STRIP = 10
PHOTO_WIDTH = 384                  # the widest picture of a photo or upload the page shows
UPLOAD_SIDE = 512                  # an uploaded image's longer side once read: every picture made from it is smaller
STRIP_PX = 104                     # a word's attention picture in the strip
ENLARGED_PX = 384                  # the enlarged word's
TEST_BLOCK = 25                    # test scenes or clips captioned together: 25 cost what 5-10 cost one by one
RANKED = 100                       # test items ranked by BLEU for "the good and the bad"
SHOWN = 3
KIT = PageKit("captioning", DEFAULTS, ALLOWED)
key = KIT.key


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


@st.cache_data(max_entries=256, show_spinner="Captioning…")
def described_image(_model, sha: str, _rgb: np.ndarray, pixels: str, _config, beam: int):
    return captioner.describe_image(_model, _rgb, _config, beam)


@st.cache_data(max_entries=64, show_spinner="Captioning…")
def described_clip(_model, sha: str, _frames: np.ndarray, pixels: str, _config, beam: int):
    return captioner.describe_clip(_model, _frames, _config, beam)


@st.cache_resource(show_spinner="Loading the pretrained photo models (the first time only, a few seconds)…")
def photo_models() -> None:
    vision.load()


@st.cache_data(max_entries=256, show_spinner="Looking at the photo…")
def described_photo(sha: str, _rgb: np.ndarray) -> vision.PhotoDescription:
    photo_models()
    return vision.describe_photo(_rgb)


@st.cache_data(max_entries=64, show_spinner="Looking at every sampled frame…")
def described_video(sha: str, _frames: np.ndarray) -> vision.VideoDescription:
    photo_models()
    return vision.describe_video(_frames)


@st.cache_data(max_entries=32, show_spinner="Reading the upload…")
def read_upload(data: bytes, name: str, frames: int | None):
    """A Picture (frames None) or a Clip; DataError is raised again for the page to show."""
    return media.read_image(data, name, UPLOAD_SIDE) if frames is None else media.read_video(data, name, frames)


# ---------------------------------------------------------------- inputs

def sample_scene(config) -> tuple[np.ndarray, scenes.Scene]:
    items = captioner.test_set(config)[0]
    st.session_state[key("scene")] = min(st.session_state[key("scene")], len(items) - 1)    # a link from a larger set
    index = st.number_input(f"Test scene (0-{len(items) - 1})", 0, len(items) - 1, step=1, key=key("scene"))
    return items[index].image, items[index]


@st.cache_resource(max_entries=200, show_spinner="Captioning the test items…")
def test_block(_model, sha: str, _config, beam: int, block: int) -> list[captioner.Caption]:
    """The captions of the test scenes or clips block * TEST_BLOCK onwards, made together in one beam search and
    shared by every session (read only): a class moving among them mostly finds its next one made. A scene's
    attention comes as (words, grid, grid)."""
    inputs = captioner.test_set(_config)[1][block * TEST_BLOCK:(block + 1) * TEST_BLOCK]
    captions = captioner.caption_all(_model, inputs, beam, TEST_BLOCK)
    if isinstance(_config, captioner.CaptionConfig):
        for caption in captions:
            caption.attention = caption.attention.reshape(-1, _config.grid, _config.grid)
    return captions


def test_item(loaded, beam: int, config, name: str) -> tuple[captioner.Caption, scenes.Scene | scenes.Video]:
    """The caption of the test scene or clip this session shows (its index under session key `name`), and the
    item."""
    items = captioner.test_set(config)[0]
    index = min(st.session_state[key(name)], len(items) - 1)
    block = test_block(loaded.model, loaded.checkpoint.sha256, config, beam, index // TEST_BLOCK)
    return block[index % TEST_BLOCK], items[index]


def test_scene_caption(loaded, beam: int, config) -> None:
    """A held-out scene and its caption: a fragment, so a new scene (a class's most frequent move here) reruns only
    this part of the page."""
    rgb, _ = sample_scene(config)
    KIT.publish()
    caption, scene = test_item(loaded, beam, config, "scene")
    image_caption((loaded.checkpoint.sha256, digest(rgb), beam), caption, rgb, scene, config)


def current_test_scene(loaded, beam: int, config):
    """(caption, seen, scene) of the test scene this session shows (for "Send to class", read when pressed)."""
    caption, scene = test_item(loaded, beam, config, "scene")
    return caption, scene.image, scene


def uploaded_image() -> np.ndarray | None:
    file = st.file_uploader("Image", type=list(media.IMAGE_TYPES), key=key("image_file"),
                            help=f"PNG, JPEG, WebP, BMP or GIF (its first frame), up to "
                                 f"{media.MAX_IMAGE_BYTES // 2**20} MB.")
    if file is None:
        st.info("Upload a photo or a picture to describe it.", icon=":material/upload:")
        return None
    try:
        picture = read_upload(file.getvalue(), file.name, None)
    except DataError as e:
        st.error(f"{file.name}: {e}", icon=":material/broken_image:")
        return None
    for note in picture.notes:
        st.caption(f"{file.name}: {note}.")
    return picture.rgb


def drawn_scene() -> np.ndarray | None:
    c1, c2 = st.columns([2, 3])
    colour = c1.selectbox("Colour", list(scenes.RGB), key=key("colour"))
    mode = c2.segmented_control("Draw", ["rect", "circle", "polygon", "freedraw"], key=key("tool"),
                                default="rect", required=True,
                                format_func={"rect": "Rectangle", "circle": "Circle", "polygon": "Polygon (click the "
                                             "corners, right-click to close)", "freedraw": "Free hand"}.get)
    hex_colour = "#{:02x}{:02x}{:02x}".format(*scenes.RGB[colour])
    result = st_canvas(fill_color=hex_colour, stroke_color=hex_colour, stroke_width=2 if mode != "freedraw" else 12,
                       background_color="#202020", height=CANVAS, width=CANVAS, drawing_mode=mode,
                       return_image_data=True, key=key("canvas"))
    data = result.image_data if result is not None else None
    if data is None or not (np.asarray(data)[..., 3] > 0).any():
        st.info("Draw one to four shapes on the dark square, each in its own colour.", icon=":material/draw:")
        return None
    rgba = np.asarray(data, dtype=np.float32)
    over = rgba[..., 3:] / 255
    return (rgba[..., :3] * over + 0x20 * (1 - over)).astype(np.uint8)


# ---------------------------------------------------------------- image output

def word_labels(words: list[str], ended: bool) -> list[str]:
    return [*words, END] if ended else list(words)


def pill_labels(labels: list[str]) -> list[str]:
    """A caption's words as buttons, a repeated word numbered ("a", "large", ..., "a (2)"): buttons with the same
    text are one button to the browser, which would mark another "a" than the one picked."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


@st.cache_resource(max_entries=256, show_spinner=False)
def strip_jpegs(picture: tuple, _seen: np.ndarray, _attention: np.ndarray) -> list[bytes]:
    """Every word's attention over the image as JPEGs, made at once per (checkpoint, image, beam) and shared by
    every session showing it (a class on the same scene gets one set)."""
    return [images.jpeg(overlay) for overlay in images.attention_overlays(_seen, _attention, STRIP_PX, STRIP_PX)]


@st.cache_resource(max_entries=1024, show_spinner=False)
def enlarged_jpeg(picture: tuple, word: int, _seen: np.ndarray, _alpha: np.ndarray) -> bytes:
    """One word's attention over the image, enlarged, as a JPEG (per picture and word, shared)."""
    return images.jpeg(images.attention_overlay(_seen, _alpha, ENLARGED_PX))


def attention_strip(picture: tuple, seen: np.ndarray, labels: list[str], attention: np.ndarray,
                    marks: dict[int, bool]) -> None:
    """Every word's attention, in one element of pictures (they wrap to the page's width)."""
    st.image(strip_jpegs(picture, seen, attention), width=STRIP_PX, output_format="JPEG",
             caption=[label + {True: " ✓", False: " ✗"}.get(marks.get(i), "") for i, label in enumerate(labels)])


def source_and_reader(sources: dict, source_key: str) -> tuple[str, str]:
    """The input source and who describes it: 'photo' (the pretrained photo models) or 'shapes' (the learned
    captioner). 'Automatic' gives real photos and videos to the photo models and the shapes world to the captioner."""
    c1, c2 = st.columns([3, 2])
    source = c1.segmented_control("Input", list(sources), key=key(source_key), format_func=sources.get,
                                  required=True, label_visibility="collapsed")
    reader = c2.selectbox("Described by", list(READERS), key=key("reader"), format_func=READERS.get,
                          help="The learned captioner knows only the synthetic shapes world it was trained on; the "
                               "photo models are a pretrained COCO detector and ImageNet classifier. Automatic: "
                               "sample photos, pans and uploads go to the photo models, test and drawn scenes to "
                               "the captioner.")
    return source, reader if reader != "auto" else ("photo" if source in REAL else "shapes")


def learned_model(name: str, config, what: str):
    """The learned captioner's panel and beam width: (loaded model, beam), or None with a message."""
    loaded = KIT.model(name, config, missing=f"No {what.lower()} captioner: train it under 'Model'.")
    if loaded is None:
        return None
    return loaded, st.select_slider("Beam width", BEAMS, key=key("beam"), help="1 is greedy decoding.")


def sample_photo() -> np.ndarray:
    name = st.selectbox("Photo", list(photos.SAMPLES), key=key("photo"),
                        format_func=lambda n: photos.SAMPLES[n].about)
    return cached_sample_photo(name)


@st.cache_resource(max_entries=16, show_spinner=False)
def cached_sample_photo(name: str) -> np.ndarray:
    return photos.sample_photo(name)


def image_view(config):
    """The image input and its description; returns the learned captioner when it described it (or None)."""
    source, reader = source_and_reader(IMAGE_SOURCES, "src")
    if reader == "shapes":
        chosen = learned_model("captioner", config, "Image")
        if chosen is None:
            return None
        loaded, beam = chosen
        if source == "sample":
            st.fragment(test_scene_caption)(loaded, beam, config)
            share_image(lambda: current_test_scene(loaded, beam, config), config)
            return loaded
    if reader == "photo":
        st.fragment(photo_input)(source, config)
        share_photo()
        return None
    rgb = image_input(source, config)
    if rgb is None:
        return None
    pixels = digest(rgb)
    caption, seen = described_image(loaded.model, loaded.checkpoint.sha256, rgb, pixels, config, beam)
    st.fragment(image_caption)((loaded.checkpoint.sha256, pixels, beam), caption, seen, None, config)
    share_image(lambda: (caption, seen, None), config)
    return loaded


def image_input(source: str, config) -> np.ndarray | None:
    """The picture from a test scene, a sample photo, an upload or the canvas (None, with a message, if none)."""
    try:
        if source == "sample":
            return sample_scene(config)[0]
        if source == "photo":
            return sample_photo()
        return uploaded_image() if source == "upload" else drawn_scene()
    except DataError as e:
        st.error(str(e), icon=":material/broken_image:")
        return None


def image_caption(picture: tuple, caption: captioner.Caption, seen: np.ndarray, scene: scenes.Scene | None,
                  config) -> None:
    """The caption, each word's attention and one word enlarged; `picture` (checkpoint, image digest, beam) names
    the pictures in the shared cache."""
    labels = word_labels(caption.words, caption.ended)
    st.markdown(f"### {' '.join(caption.words) or '(no words)'}")
    if not caption.ended:
        st.caption(f"Cut at {captioner.MAX_WORDS} words: the model did not end its caption.")
    marks = (captioner.object_hits(caption.words, caption.attention, scene.things, config.grid, config.size)
             if scene is not None else {})
    if scene is not None:
        st.caption("References: " + " · ".join(" ".join(c) for c in scene.captions)
                   + (f" — ✓/✗: does the object word look inside its object's box? {sum(marks.values())} of "
                      f"{len(marks)} do." if marks else ""))
    st.markdown("Where the model looked before each word (bright = more attention):")
    attention_strip(picture, seen, labels, caption.attention, marks)
    left, right = st.columns(2)
    picked = left.pills("Enlarge a word", range(len(labels)), format_func=pill_labels(labels).__getitem__,
                        key=key("word"), default=0)
    if picked is not None and picked < len(labels):
        right.image(enlarged_jpeg(picture, picked, seen, caption.attention[picked]),
                    caption=f"“{labels[picked]}”: attention over the {config.grid} x {config.grid} grid",
                    width="stretch", output_format="JPEG")
        boxes = [t.box for t in scene.things] if scene is not None else []
        left.image(images.with_boxes(seen, boxes), width=256,
                   caption=f"what the model sees ({config.size} x {config.size} px)"
                           + (", with each object's box" if boxes else ""))


def picked_word(name: str, labels: list[str]) -> int | None:
    """The word picked in the pills under session key `name`, if it is one of these labels."""
    picked = st.session_state.get(key(name))
    return picked if picked is not None and picked < len(labels) else None


def share_image(current: Callable[[], tuple[captioner.Caption, np.ndarray, scenes.Scene | None]], config) -> None:
    """The class gets the caption, how many object words look inside their object, and the enlarged word's picture
    beside the scene; current() gives what this session shows: (caption, the square image seen, the test scene or
    None), read when the button is pressed."""

    def summary() -> str:
        caption, seen, scene = current()
        labels = word_labels(caption.words, caption.ended)
        marks = (captioner.object_hits(caption.words, caption.attention, scene.things, config.grid, config.size)
                 if scene is not None else {})
        text = f"“{' '.join(caption.words)}”"
        if marks:
            text += f": {sum(marks.values())} of {len(marks)} object words look inside their object's box"
        i = picked_word("word", labels)
        if i is not None:
            text += f"; enlarged: “{labels[i]}”" + {True: " ✓", False: " ✗"}.get(marks.get(i), "")
        return text

    def figure() -> bytes:
        caption, seen, scene = current()
        labels = word_labels(caption.words, caption.ended)
        boxes = [t.box for t in scene.things] if scene is not None else []
        i = picked_word("word", labels)
        shown = [images.with_boxes(seen, boxes)]
        if i is not None:
            shown.append(images.attention_overlay(seen, caption.attention[i], 256))
        return images.png(images.tile(shown, cols=len(shown)))

    KIT.share(summary, figure)


# ---------------------------------------------------------------- video

def sample_clip(config) -> tuple[np.ndarray, scenes.Video]:
    items = captioner.test_set(config)[0]
    st.session_state[key("clip")] = min(st.session_state[key("clip")], len(items) - 1)    # a link from a larger set
    index = st.number_input(f"Test clip (0-{len(items) - 1})", 0, len(items) - 1, step=1, key=key("clip"))
    return items[index].frames, items[index]


def uploaded_clip(count: int) -> np.ndarray | None:
    file = st.file_uploader("Video", type=list(media.VIDEO_TYPES), key=key("video_file"),
                            help=f"MP4, WebM, AVI, MOV or an animated GIF, up to {media.MAX_VIDEO_BYTES // 2**20} MB; "
                                 f"the first {media.MAX_SECONDS} s are used.")
    if file is None:
        st.info(f"Upload a video: it is sampled to {count} evenly spaced frames.", icon=":material/upload:")
        return None
    try:
        clip = read_upload(file.getvalue(), file.name, count)
    except DataError as e:
        st.error(f"{file.name}: {e}", icon=":material/videocam_off:")
        return None
    st.caption(f"{file.name}: {clip.duration:.1f} s, {clip.source_frames} frames at {clip.fps:.0f} fps; "
               f"{count} frames sampled from the first {clip.used_seconds:.1f} s."
               + "".join(f" {note}." for note in clip.notes))
    return clip.frames


def frames_rows(labels: list[str], attention: np.ndarray, spans: dict[int, tuple[int, int]]) -> pd.DataFrame:
    """The words x frames heat map's rows: a word's weight on each frame, and whether the frame is in the word's
    true event."""
    count = attention.shape[1]
    frame = np.arange(count)
    span = np.array([spans.get(i, (0, 0)) for i in range(len(labels))], dtype=int).reshape(-1, 2)
    return pd.DataFrame({"word": np.repeat([f"{i:02d} {w}" for i, w in enumerate(labels)], count).astype(str),
                         "frame": np.tile(frame, len(labels)),
                         "weight": np.asarray(attention, dtype=float).reshape(-1),
                         "event": ((span[:, :1] <= frame) & (frame < span[:, 1:])).reshape(-1)})


def frames_chart(rows: pd.DataFrame) -> alt.Chart:
    """Words x frames heat map of the temporal attention; the true event frames of event words outlined."""
    base = alt.Chart().encode(
        x=alt.X("frame:O", title="frame", axis=alt.Axis(labelAngle=0)), y=alt.Y("word:N", sort=None, title=None,
                                                   axis=alt.Axis(labelExpr="slice(datum.label, 3)")))
    heat = base.mark_rect().encode(color=alt.Color("weight:Q", scale=alt.Scale(scheme="oranges"), legend=None),
                                   tooltip=["word:N", "frame:O", alt.Tooltip("weight:Q", format=".2f")])
    truth = base.transform_filter("datum.event").mark_rect(fill=None, stroke="#1f5fa8", strokeWidth=1.5)
    # The data once, on the layer: given to each layer, Altair hashes and compares their copies to merge them.
    return alt.layer(heat, truth, data=rows).properties(height=alt.Step(20))


@st.cache_resource(show_spinner=False)
def frames_template() -> dict:
    """The heat map's spec, made once: a clip's spec is this with its rows (charts.with_data)."""
    return charts.vega_lite(frames_chart(frames_rows([], np.zeros((0, 0)), {})))


def frames_heat_spec(labels: list[str], attention: np.ndarray, spans: dict[int, tuple[int, int]]) -> dict:
    return charts.with_data(frames_template(), frames_rows(labels, attention, spans))


def test_clip_caption(loaded, beam: int, config) -> None:
    """A held-out clip and its caption: a fragment, so a new clip reruns only this part of the page."""
    frames, _ = sample_clip(config)
    KIT.publish()
    caption, video = test_item(loaded, beam, config, "clip")
    clip_caption((loaded.checkpoint.sha256, digest(frames), beam), caption, frames, video)   # frames: the model's size


def current_test_clip(loaded, beam: int, config):
    """(caption, seen, video) of the test clip this session shows (for "Send to class", read when pressed)."""
    caption, video = test_item(loaded, beam, config, "clip")
    return caption, video.frames, video


def video_view(config):
    """The video input and its description; returns the learned captioner when it described it (or None)."""
    source, reader = source_and_reader(VIDEO_SOURCES, "vsrc")
    if reader == "shapes":
        chosen = learned_model("video_captioner", config, "Video")
        if chosen is None:
            return None
        loaded, beam = chosen
        if source == "sample":
            st.fragment(test_clip_caption)(loaded, beam, config)
            share_clip(lambda: current_test_clip(loaded, beam, config))
            return loaded
    frames = clip_input(source, vision.FRAMES if reader == "photo" else config.frames, config)
    if frames is None:
        return None
    if reader == "photo":
        photo_clip_view(frames)
        return None
    pixels = digest(frames)
    caption, seen = described_clip(loaded.model, loaded.checkpoint.sha256, frames, pixels, config, beam)
    st.fragment(clip_caption)((loaded.checkpoint.sha256, pixels, beam), caption, seen, None)
    share_clip(lambda: (caption, seen, None))
    return loaded


def clip_input(source: str, count: int, config) -> np.ndarray | None:
    """The frames of a test clip, the sample pan or an upload (None, with a message, if none)."""
    try:
        if source == "sample":
            return sample_clip(config)[0]
        if source == "pan":
            st.caption("A camera panning across two photos that ship with Matplotlib and scikit-image: Grace "
                       "Hopper, then Chelsea the cat.")
            return cached_pan(count)
        return uploaded_clip(count)
    except DataError as e:
        st.error(str(e), icon=":material/videocam_off:")
        return None


@st.cache_resource(max_entries=2, show_spinner=False)
def cached_pan(frames: int) -> np.ndarray:
    return photos.panned_clip(frames=frames)


@st.cache_resource(max_entries=256, show_spinner=False)
def frames_spec(picture: tuple, labels: tuple, _attention: np.ndarray, _spans: dict) -> dict:
    """The words x frames heat map as Vega-Lite with its rows in Arrow, made once per (checkpoint, clip, beam) and
    shared."""
    return frames_heat_spec(list(labels), _attention, _spans)


@st.cache_resource(max_entries=1024, show_spinner=False)
def word_frames(picture: tuple, word: int, _seen: np.ndarray, _weights: np.ndarray,
                _span: tuple[int, int] | None) -> tuple[dict, bytes]:
    """One word's attention over the frames: its bars (Vega-Lite) and its frames framed as strongly as their weight
    (JPEG), made once per (checkpoint, clip, beam, word) and shared."""
    frame = np.arange(len(_seen))
    bars = pd.DataFrame({"frame": frame, "weight": np.asarray(_weights, dtype=float),
                         "event frame": (_span[0] <= frame) & (frame < _span[1]) if _span else np.zeros(len(frame), bool)})
    return charts.with_data(bars_template(_span is not None), bars), images.jpeg(images.frame_strip(_seen, _weights))


@st.cache_resource(max_entries=2, show_spinner=False)
def bars_template(legend: bool) -> dict:
    """One word's attention over the frames as bars, the event's frames in blue (with a legend when the word has an
    event): the spec made once, a word's is this with its rows (charts.with_data)."""
    empty = pd.DataFrame({"frame": np.arange(0), "weight": np.zeros(0), "event frame": np.zeros(0, dtype=bool)})
    return charts.vega_lite(alt.Chart(empty).mark_bar().encode(
        x=alt.X("frame:O", axis=alt.Axis(labelAngle=0)), y=alt.Y("weight:Q", title="attention"),
        color=alt.Color("event frame:N", scale=alt.Scale(domain=[False, True], range=["#f28e2b", "#1f5fa8"]),
                        legend=alt.Legend() if legend else None),      # at the side: on top it took the bars' height
        tooltip=["frame:O", alt.Tooltip("weight:Q", format=".3f")]).properties(height=140))


def clip_caption(picture: tuple, caption: captioner.Caption, seen: np.ndarray, video: scenes.Video | None) -> None:
    """The caption, its words x frames attention and one word's frames; `picture` (checkpoint, clip digest, beam)
    names the charts and pictures in the shared caches."""
    labels = word_labels(caption.words, caption.ended)
    st.markdown(f"### {' '.join(caption.words) or '(no words)'}")
    spans = {}
    if video is not None:
        spans = {pos: (video.events[e].start, video.events[e].end) for pos, e in scenes.event_words(caption.words,
                                                                                                    video)}
        hit = sum(captioner.event_hits(caption.words, caption.attention, video).values())
        st.caption("References: " + " · ".join(" ".join(c) for c in video.captions)
                   + (f" — {hit} of {len(spans)} event words look most at a frame of their event (outlined in blue)."
                      if spans else ""))
    st.vega_lite_chart(frames_spec(picture, tuple(labels), caption.attention, spans), width="stretch")
    picked = st.pills("Show a word's frames", range(len(labels)), format_func=pill_labels(labels).__getitem__,
                      key=key("vword"), default=0)
    if picked is not None and picked < len(labels):
        bars, strip = word_frames(picture, picked, seen, caption.attention[picked], spans.get(picked))
        st.vega_lite_chart(bars, width="stretch")
        st.image(strip, output_format="JPEG", width="stretch",
                 caption=f"“{labels[picked]}”: the frames it attends to, framed in amber as strongly as their weight")


def share_clip(current: Callable[[], tuple[captioner.Caption, np.ndarray, scenes.Video | None]]) -> None:
    """The class gets the caption, how many event words look at their event, and the words x frames heat map;
    current() gives what this session shows: (caption, the frames seen, the test clip or None), read when the button
    is pressed."""

    def summary() -> str:
        caption, _, video = current()
        labels = word_labels(caption.words, caption.ended)
        text = f"“{' '.join(caption.words)}”"
        if video is not None:
            hits = captioner.event_hits(caption.words, caption.attention, video)
            text += f": {sum(hits.values())} of {len(hits)} event words look most at a frame of their event"
        i = picked_word("vword", labels)
        if i is None:
            return text
        top = int(caption.attention[i].argmax())
        return text + f"; “{labels[i]}” looks most at frame {top} ({caption.attention[i, top]:.2f})"

    def figure() -> bytes:
        caption, seen, video = current()
        labels = word_labels(caption.words, caption.ended)
        spans = scenes.event_words(caption.words, video) if video is not None else []
        boxes = [(video.events[e].start, pos, video.events[e].end - video.events[e].start, 1, "#1f5fa8")
                 for pos, e in spans]
        return charts.png(charts.heatmap_figure(caption.attention, labels, [str(t) for t in range(len(seen))], boxes,
                                                "Oranges"))

    KIT.share(summary, figure)


# ---------------------------------------------------------------- real photos and videos: the pretrained models

RULES = ("This sentence is **composed by rules** from what a pretrained COCO object detector (SSD MobileNet v2) "
         "found, counted and placed, not written by a learned captioner: no captioned photos can be had offline "
         "to train one (see above). Each noun's map is where an ImageNet classifier (EfficientNet-Lite0) found it: "
         "its class activation map over the classifier's 7 x 7 feature grid, the part Show, Attend and Tell's "
         "annotation vectors play, with the detector's boxes in amber.")


@st.cache_resource(max_entries=1024, show_spinner=False)
def photo_jpeg(sha: str, what: str, width: int, _rgb: np.ndarray, _cam: np.ndarray | None, _boxes: tuple) -> bytes:
    """A photo with a map and boxes as a JPEG, made once per (photo, word or guess, width) and shared by every
    session showing it."""
    return images.jpeg(images.photo_map(shown_photo(sha, _rgb, width), _cam, _boxes, width))


@st.cache_resource(max_entries=192, show_spinner=False)
def shown_photo(sha: str, _rgb: np.ndarray, width: int = PHOTO_WIDTH) -> np.ndarray:
    """The photo at a width the page shows it, made once: at PHOTO_WIDTH from the upload, narrower from that. The
    page's ten pictures come in three widths, and shrinking the photo again for each took most of their time."""
    return images.photo_map(_rgb if width == PHOTO_WIDTH else shown_photo(sha, _rgb), None, (), width)


def photo_input(source: str, config) -> None:
    """A sample photo, an upload or a drawing, described by the photo models: a fragment, so a new photo (a class's
    most frequent move here) reruns only this part of the page. What it shows is kept for "Send to class"."""
    rgb = image_input(source, config)
    KIT.publish()
    st.session_state[key("described")] = photo_view(rgb) if rgb is not None else None


def photo_view(rgb: np.ndarray) -> tuple[np.ndarray, vision.PhotoDescription] | None:
    """The photo's description and pictures; (the photo as shown, its description), or None with a message."""
    sha = digest(rgb)
    try:
        description = described_photo(sha, rgb)
    except DataError as e:                  # a model file missing or damaged
        st.error(str(e), icon=":material/error:")
        return None
    st.fragment(photo_words)(sha, rgb, description)
    return shown_photo(sha, rgb), description


def noun_label(noun: vision.Noun) -> str:
    return f"{noun.phrase} · {noun.score:.2f}"


def photo_words(sha: str, rgb: np.ndarray, description: vision.PhotoDescription) -> None:
    st.markdown(f"### {description.sentence}")
    st.caption(RULES)
    nouns = description.nouns
    if nouns:
        columns = st.columns(max(3, len(nouns)))
        for i, noun in enumerate(nouns):
            columns[i].image(photo_jpeg(sha, f"noun{i}", 256, rgb, noun.cam, noun.boxes), caption=noun_label(noun),
                             width="stretch", output_format="JPEG")
        left, right = st.columns(2)
        picked = left.pills("Enlarge a word", range(len(nouns)), format_func=lambda i: nouns[i].word,
                            key=key("noun"), default=0)
        if picked is not None and picked < len(nouns):
            noun = nouns[picked]
            left.image(photo_jpeg(sha, f"boxes{picked}", PHOTO_WIDTH, rgb, None, noun.boxes), width="stretch",
                       output_format="JPEG",
                       caption=(f"“{noun.word}”: the detector's {'box' if noun.count == 1 else 'boxes'} "
                                f"(best score {noun.score:.2f})") if noun.boxes else "the photo")
            if noun.cam is not None:
                right.image(photo_jpeg(sha, f"cam{picked}", PHOTO_WIDTH, rgb, noun.cam, ()), width="stretch",
                            output_format="JPEG",
                            caption=f"“{noun.word}”: where the classifier found it, from its ImageNet classes "
                                    f"{', '.join(noun.cam_classes)} (probability)")
            else:
                right.info(f"ImageNet has no class for “{noun.word}”, so the classifier has no map of it: the "
                           "detector's box is where it was found.", icon=":material/info:")
    st.markdown("**ImageNet's top 5**, each with its class activation map:")
    columns = st.columns(len(description.guesses))
    for i, guess in enumerate(description.guesses):
        columns[i].image(photo_jpeg(sha, f"guess{i}", 192, rgb, guess.cam, ()), width="stretch", output_format="JPEG",
                         caption=f"{guess.name} ({guess.word}) {guess.probability:.2f}")


def share_photo() -> None:
    """The class gets the sentence, ImageNet's best guess and the enlarged word's map with its boxes, of the photo
    on show when the button is pressed."""
    def chosen(description: vision.PhotoDescription) -> vision.Noun | None:
        picked = st.session_state.get(key("noun"))
        nouns = description.nouns
        return nouns[picked] if picked is not None and picked < len(nouns) else None

    def summary() -> str:
        if st.session_state.get(key("described")) is None:
            return "No photo described yet."
        _, description = st.session_state[key("described")]
        best, noun = description.guesses[0], chosen(description)
        return (f"“{description.sentence}” ImageNet: {best.name} {best.probability:.2f}"
                + (f"; enlarged: “{noun.word}”" if noun is not None else ""))

    def figure() -> bytes | None:
        if st.session_state.get(key("described")) is None:
            return None
        rgb, description = st.session_state[key("described")]
        noun = chosen(description)
        return images.png(images.photo_map(rgb, noun.cam if noun else None, noun.boxes if noun else (), 360))

    KIT.share(summary, figure)


def photo_clip_view(frames: np.ndarray) -> None:
    sha = digest(frames)
    try:
        description = described_video(sha, frames)
    except DataError as e:
        st.error(str(e), icon=":material/error:")
        return
    st.fragment(photo_clip_words)(sha, frames, description)
    share_photo_clip(description)


@st.cache_resource(max_entries=256, show_spinner=False)
def track_strip_jpeg(sha: str, track: int, _frames: np.ndarray, _boxes: tuple, _weights: np.ndarray) -> bytes:
    """A noun's frames with its boxes, framed by how surely it was seen: made once per (clip, noun), shared."""
    boxed = np.stack([images.photo_map(f, None, boxes, _frames.shape[2]) for f, boxes in zip(_frames, _boxes)])
    return images.jpeg(images.frame_strip(boxed, _weights))


def photo_clip_words(sha: str, frames: np.ndarray, description: vision.VideoDescription) -> None:
    st.markdown(f"### {description.sentence}")
    st.caption(f"Composed by rules from the objects a pretrained COCO detector found in each of the {len(frames)} "
               "sampled frames, in the order they appear; not written by a learned captioner. For each noun, its "
               "frames weighted by how surely it was seen: the temporal-attention view of the learned video "
               "captioner.")
    tracks = description.tracks
    if not tracks:
        st.image(images.frame_strip(frames, np.ones(len(frames))), caption="the sampled frames", width="stretch")
        return
    labels, attention = [t.phrase for t in tracks], description.attention()
    st.vega_lite_chart(frames_heat_spec(labels, attention, {}), width="stretch")
    picked = st.pills("Show a word's frames", range(len(tracks)), format_func=lambda i: tracks[i].word,
                      key=key("vnoun"), default=0)
    if picked is not None and picked < len(tracks):
        track = tracks[picked]
        st.image(track_strip_jpeg(sha, picked, frames, track.boxes, attention[picked]), width="stretch",
                 output_format="JPEG", caption=f"“{track.word}”: seen in {int((track.presence > 0).sum())} of {len(frames)} frames, "
                         "framed in amber as surely as it was seen, with the detector's boxes")


def share_photo_clip(description: vision.VideoDescription) -> None:
    labels = [t.phrase for t in description.tracks]

    def figure() -> bytes | None:
        if not labels:
            return None
        attention = description.attention()
        return charts.png(charts.heatmap_figure(attention, labels, [str(t) for t in range(attention.shape[1])], [],
                                                "Oranges"))

    KIT.share(lambda: f"“{description.sentence}”", figure)


# ---------------------------------------------------------------- the good and the bad, paper vs. you

@st.cache_resource(max_entries=4, show_spinner=f"Captioning {RANKED} test items to rank them…")
def good_and_bad_views(_model, sha: str, name: str, _config) -> list[tuple[str, list[tuple[str, object, str]]]]:
    """The best and the worst held-out captions, each as (text, picture: PNG bytes for a scene or a Vega-Lite chart
    for a clip, caption): made once per checkpoint and shared by every session, since no input changes them."""
    examples = captioner.ranked_examples(_model, _config, RANKED)
    items = captioner.test_set(_config)[0]
    groups = []
    for title, chosen in (("Best", examples[:SHOWN]), ("Worst", examples[-SHOWN:])):
        views = []
        for example in chosen:
            item = items[example.index]
            labels = [*example.words, END]
            text = (f"#{example.index} · BLEU {example.bleu:.0f} · **{' '.join(example.words)}**  \n"
                    f"reference: {' '.join(item.captions[0])}")
            if name == "captioner":
                shown = [i for i, w in enumerate(labels) if w not in FUNCTION_WORDS][:STRIP]
                maps = example.attention.reshape(-1, _config.grid, _config.grid)
                picture = images.png(images.tile([images.resized(item.image, 96)] + [
                    images.attention_overlay(item.image, maps[i], 96) for i in shown], cols=STRIP + 1, background=255))
                views.append((text, picture, "the scene · " + " · ".join(labels[i] for i in shown)))
            else:
                views.append((text, frames_heat_spec(labels, example.attention, {}), ""))
        groups.append((title, views))
    return groups


def good_and_bad(loaded, name: str, config) -> None:
    st.subheader("The good and the bad")
    st.caption(f"The first {RANKED} held-out items captioned greedily and ranked by sentence BLEU-4 against "
               "their five references: the best three, then the worst three.")
    for title, views in good_and_bad_views(loaded.model, loaded.checkpoint.sha256, name, config):
        st.markdown(f"**{title}**")
        for text, picture, caption in views:
            st.markdown(text)
            if isinstance(picture, bytes):
                st.image(picture, caption=caption, width="stretch", output_format="PNG")
            else:
                st.vega_lite_chart(picture, width="stretch")


def paper_vs_you(report: api.Report) -> None:
    KIT.paper_vs_you(report)
    image_metrics, video_metrics = report.metrics.get("captioner"), report.metrics.get("video_captioner")
    settings = [m["setting"] for m in (image_metrics, video_metrics) if m]
    st.caption("Ours: " + "; ".join(settings) + ". The paper's numbers are on real photos and clips with "
               "vocabularies of thousands of words, so ours, on a small synthetic world with a few dozen words, are "
               "far higher; what carries over is that the attention of each word lands on what the word names.")


TRAINED_ON = (
    "**What these models know.** The shipped captioners learned only from synthetic worlds generated here: scenes "
    "of one to four shapes ({shapes}) in {colours}, small or large, on plain or textured backgrounds, and short "
    "clips in which shapes enter, leave, move or change colour: a photo of a dog comes out as shapes and colours. "
    "Training a captioner of photos takes a real data set (Flickr8k: 8,000 photos with 5 captions each) and the "
    "`gpu` preset: hours on one GPU. Photos and real videos are therefore described by **pretrained photo models** "
    "(an object detector and an image classifier that pip packages ship), with rules that compose their findings "
    "into a sentence: choose under “Described by”.")


def main() -> None:
    st.title("Captioning studio")
    st.markdown("A captioner that looks at a different part of the image for every word it writes (tutorial slides "
                "111-118; Xu et al. 2015, Show, Attend and Tell), and a video captioner that picks, for every word, "
                "the frames to look at (Yao et al. 2015).")
    st.info(TRAINED_ON.format(shapes=", ".join(scenes.SHAPES), colours=", ".join(scenes.RGB)),
            icon=":material/info:")
    KIT.bind()
    preset = resources.preset()
    image_config = api.config("captioner", preset)
    video_config = api.config("video_captioner", preset)
    mode = st.segmented_control("Caption", list(MODES), key=key("mode"), format_func=MODES.get, required=True)
    if mode == "image":
        loaded, name, config = image_view(image_config), "captioner", image_config
    else:
        loaded, name, config = video_view(video_config), "video_captioner", video_config
    KIT.publish()
    if loaded is not None:
        good_and_bad(loaded, name, config)
    paper_vs_you(api.claims("captioning", preset))


main()
