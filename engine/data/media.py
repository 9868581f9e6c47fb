"""Uploaded images and videos, turned into RGB arrays for the captioning models or refused with a message.

- Images are decoded with Pillow (PNG, JPEG, WebP, BMP, GIF). Whatever their colour mode (CMYK, 16-bit, paletted,
  with transparency, grey) they come back as 8-bit RGB, upright as their EXIF orientation says, no larger than asked.
- Videos are decoded with OpenCV's FFmpeg, which needs a path: the bytes go into a temporary folder that is removed
  whatever happens. Frames are read in order (seeking is unreliable in many files) and sampled evenly over the first
  MAX_SECONDS. An animated GIF counts as a video and is decoded with Pillow.
- Size limits are checked on the declared dimensions, before any pixel is decoded, so a small file that claims to
  be enormous (a decompression bomb) costs nothing.
"""
import io
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data import DataError

MAX_IMAGE_BYTES = 20 * 1024**2
MAX_VIDEO_BYTES = 100 * 1024**2     # the uploader's own cap
MAX_PIXELS = 40_000_000             # per image or video frame
MIN_SIDE = 16
MAX_ASPECT = 8
MAX_SECONDS = 60                    # of video sampled; the rest of a longer one is not read
IMAGE_TYPES = ("png", "jpg", "jpeg", "webp", "bmp", "gif")
VIDEO_TYPES = ("mp4", "webm", "avi", "mov", "gif")

# Only these decoders may look at an upload: Pillow's rarer format plugins are a needless risk.
_PIL_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")    # JPEG includes MPO, which it opens itself
_ANIMATED_FORMATS = {"GIF": "GIF", "PNG": "PNG", "WEBP": "WebP"}    # MPO's extra pictures are not an animation
_GIF_MIN_DELAY = 2      # centiseconds: browsers show shorter (or missing) GIF frame delays as 0.1 s, and so does this
_GIF_DEFAULT_DELAY = 10
_MAX_FPS = 1000.0       # FFmpeg reports a time base instead of a rate for some files; beyond this it is not a rate
_ASSUMED_FPS = 25.0
_CODEC_ADVICE = "Converting it to an H.264 MP4 or a WebM file (for example with HandBrake or ffmpeg) should help."


@dataclass(frozen=True)
class Picture:
    rgb: np.ndarray             # (H, W, 3) uint8
    notes: tuple[str, ...]      # what was done to the upload that its owner should know


@dataclass(frozen=True)
class Clip:
    frames: np.ndarray          # (T, H, W, 3) uint8 RGB, sampled evenly over the used span, in time order
    fps: float
    duration: float             # seconds in the whole file (MAX_SECONDS when it records no length and runs longer)
    used_seconds: float         # seconds from the start that the frames were sampled from
    source_frames: int          # frames in the whole file, as the file reports or as counted
    notes: tuple[str, ...]


def _extension(name: str) -> str:
    return Path(name).suffix.lower().lstrip(".")


def _accepted(types: tuple[str, ...]) -> str:
    return ", ".join(f".{t}" for t in types)


def kind_of(name: str, data: bytes | None = None) -> str | None:
    """'image', 'video' or None from the file name. A GIF is an image unless its bytes are given and animated."""
    ext = _extension(name)
    if ext == "gif":
        return "video" if data is not None and is_animated_gif(data) else "image"
    if ext in IMAGE_TYPES:
        return "image"
    if ext in VIDEO_TYPES:
        return "video"
    return None


def is_animated_gif(data: bytes) -> bool:
    """Whether the bytes are a GIF with more than one frame (reads headers only)."""
    from PIL import Image

    if not data.startswith((b"GIF87a", b"GIF89a")):
        return False
    try:
        with Image.open(io.BytesIO(data), formats=["GIF"]) as img:
            return bool(getattr(img, "is_animated", False))
    except Exception:  # any failure to parse means it is not a usable animation
        return False


def _check_size(data: bytes, name: str, limit: int) -> None:
    if not data:
        raise DataError(f"{name} is empty (0 bytes).")
    if len(data) > limit:
        raise DataError(f"{name} is {len(data) / 2**20:.1f} MB; the limit is {limit // 2**20} MB.")


def _check_dimensions(width: int, height: int, name: str, what: str = "image") -> None:
    if width * height > MAX_PIXELS:
        raise DataError(f"{name} is a {width:,} x {height:,} {what} ({width * height / 1e6:.0f} megapixels); the "
                        f"limit is {MAX_PIXELS / 1e6:.0f} megapixels. Please upload a smaller one.")
    if min(width, height) < MIN_SIDE:
        raise DataError(f"{name} is a {width} x {height} {what}; both sides must be at least {MIN_SIDE} pixels.")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise DataError(f"{name} is a {width:,} x {height:,} {what}: one side is more than {MAX_ASPECT} times the "
                        f"other, which the models cannot use. Please crop it.")


def _fitted(width: int, height: int, max_side: int) -> tuple[int, int]:
    if max_side < 1:
        raise ValueError(f"max_side must be positive, not {max_side}")
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


# ---------------------------------------------------------------- images

def _open(data: bytes, name: str):
    """A Pillow image whose header has been read, and only the header; or a DataError."""
    from PIL import Image

    try:
        return Image.open(io.BytesIO(data), formats=list(_PIL_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard, which fires at open for sizes far past MAX_PIXELS (the warning only where warnings are
        # made errors); the header is not trusted enough to quote.
        raise DataError(f"{name} declares a picture of more than {MAX_PIXELS / 1e6:.0f} megapixels, which is too "
                        f"large to decode safely.") from None
    except Exception:  # Pillow's plugins raise many types on malformed headers
        raise DataError(f"{name} is not an image that can be read; please upload a "
                        f"{_accepted(IMAGE_TYPES)} file.") from None


def _exif_orientation(img) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # damaged metadata must not cost the picture
        return 1


def _to_8_bits(img) -> tuple[np.ndarray, str]:
    """An L-mode array from a 16-bit, 32-bit or float greyscale image, scaled (not clipped) to 0..255."""
    values = np.asarray(img)
    if img.mode.startswith("I;16") or (img.mode == "I" and values.min() >= 0 and values.max() <= 65535):
        return np.rint(values.astype(np.float32) / 257).astype(np.uint8), "16-bit image scaled to 8 bits"
    values = values.astype(np.float64)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    scaled = (np.nan_to_num(values, nan=low, posinf=high, neginf=low) - low) / (high - low or 1.0)
    kind = "floating-point" if img.mode == "F" else "32-bit"
    note = f"{kind} image scaled to 8 bits from its range {low:g} to {high:g}"
    return np.rint(np.clip(scaled, 0, 1) * 255).astype(np.uint8), note


def _on_white(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4].astype(np.float32) / 255
    return np.rint(rgba[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)


def _rgb(img) -> tuple[np.ndarray, list[str]]:
    """Any loaded Pillow image as (H, W, 3) uint8, and notes on the conversions the user would notice."""
    notes = []
    mode = img.mode
    if mode in ("P", "PA"):
        notes.append("paletted image converted to RGB")
    if mode == "CMYK":
        notes.append("converted from CMYK (colours may differ slightly from a colour-managed viewer)")
    if mode.startswith("I") or mode == "F":
        grey, note = _to_8_bits(img)
        notes.append(note)
        return np.repeat(grey[..., None], 3, axis=2), notes
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = np.asarray(img.convert("RGBA"))
        if (rgba[..., 3] < 255).any():
            notes.append("transparent pixels shown on white")
        return _on_white(rgba), notes
    try:
        return np.asarray(img.convert("RGB")), notes
    except ValueError:
        raise DataError(f"Images in colour mode {mode} are not supported; please save it as an RGB PNG or JPEG.") \
            from None


def read_image(data: bytes, name: str, max_side: int = 1024) -> Picture:
    """An upload as an upright RGB picture whose longer side is at most max_side, or a DataError saying why not."""
    from PIL import Image, ImageOps

    _check_size(data, name, MAX_IMAGE_BYTES)
    with _open(data, name) as img:
        width, height = img.size
        _check_dimensions(width, height, name)
        notes = []
        if getattr(img, "is_animated", False) and img.format in _ANIMATED_FORMATS:
            notes.append(f"first frame of an animated {_ANIMATED_FORMATS[img.format]} used")
        # JPEG can decode straight at a fraction of its size, which saves most of the work on a phone photo.
        img.draft("RGB", _fitted(width, height, max_side))
        turned = _exif_orientation(img) in (5, 6, 7, 8)
        if turned:
            width, height = height, width
        try:
            img.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise DataError(f"{name} is too large to decode safely.") from None
        except Exception:  # truncated or corrupt data; Pillow's error types vary by format
            raise DataError(f"{name} could not be decoded: the file looks damaged or cut short. Please upload it "
                            f"again or re-save it.") from None
        try:
            upright = ImageOps.exif_transpose(img)
        except Exception:  # a broken orientation tag should not cost the picture
            upright = img
            if turned:
                width, height = height, width
            notes.append("EXIF orientation could not be read; shown as stored")
        rgb, converted = _rgb(upright)
    notes.extend(converted)
    size = _fitted(width, height, max_side)
    if rgb.shape[1::-1] != size:
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0))
    if size != (width, height):
        notes.append(f"downscaled from {width} x {height} to {size[0]} x {size[1]}")
    return Picture(np.ascontiguousarray(rgb, dtype=np.uint8), tuple(notes))


# ---------------------------------------------------------------- videos

def _sample(n_used: int, frames: int) -> np.ndarray:
    """frames indices spread evenly over 0..n_used-1, first and last included, repeating when there are too few."""
    return np.rint(np.linspace(0, n_used - 1, frames)).astype(int)


def _frame(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if rgb.shape[1::-1] == size:
        return rgb
    grow = size[0] > rgb.shape[1]
    return cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR if grow else cv2.INTER_AREA)


def _clip(got: list[np.ndarray], max_side: int, **fields) -> Clip:
    # A stream may change size midway; every frame takes the first one's fitted size so that they stack.
    size = _fitted(got[0].shape[1], got[0].shape[0], max_side)
    frames = np.stack([_frame(f, size) for f in got])
    return Clip(frames=np.ascontiguousarray(frames, dtype=np.uint8), **fields)


def _fewer_note(n_used: int, frames: int) -> list[str]:
    if n_used >= frames:
        return []
    return [f"only {n_used} frames to sample from, so some of the {frames} are repeats"]


def _gif_delays(data: bytes) -> list[int]:
    """Each frame's delay in centiseconds (GIF's own unit, which keeps the sums exact), from the GIF's blocks
    without decoding a pixel."""
    def skip_sub_blocks(pos: int) -> int:
        while pos < len(data) and data[pos]:
            pos += data[pos] + 1
        return pos + 1

    pos = 13
    if data[10] & 0x80:
        pos += 3 << ((data[10] & 7) + 1)
    delays: list[int] = []
    delay = None
    while pos < len(data):
        block = data[pos]
        if block == 0x21 and pos + 1 < len(data):
            if data[pos + 1] == 0xF9 and pos + 6 < len(data):
                delay = int.from_bytes(data[pos + 4:pos + 6], "little")
            pos = skip_sub_blocks(pos + 2)
        elif block == 0x2C and pos + 10 < len(data):
            flags = data[pos + 9]
            pos += 10 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)
            pos = skip_sub_blocks(pos + 1)
            delays.append(_GIF_DEFAULT_DELAY if delay is None or delay < _GIF_MIN_DELAY else delay)
            delay = None
        else:
            break   # the trailer, or damage after which Pillow will not find frames either
    return delays


def _read_gif(data: bytes, name: str, frames: int, max_side: int) -> Clip:
    with _open(data, name) as img:
        _check_dimensions(*img.size, name, "animation")
        delays = _gif_delays(data)
        if not delays:
            raise DataError(f"{name} holds no frames that could be found: the file looks damaged.")
        if len(delays) == 1:
            raise DataError(f"{name} is a single still image; please upload it as an image, not a video.")
        starts = np.concatenate([[0], np.cumsum(delays[:-1])])
        n_used = int(np.searchsorted(starts, MAX_SECONDS * 100, side="left"))
        # Frames are held for their delays, so sample in time: the frame on screen at each evenly spaced moment.
        moments = np.linspace(0, starts[n_used - 1], frames) + 1e-6
        wanted = np.searchsorted(starts, moments, side="right") - 1
        got = []
        try:
            for index in wanted:
                if index != img.tell():
                    img.seek(int(index))    # moves forward frame by frame; GIF frames build on the previous one
                got.append(_on_white(np.asarray(img.convert("RGBA"))))
        except Exception:  # a damaged frame; Pillow's error types vary
            raise DataError(f"{name} could not be decoded past frame {img.tell() + 1}: the file looks damaged or "
                            f"cut short.") from None
    duration = sum(delays) / 100
    used = min(sum(delays[:n_used]) / 100, float(MAX_SECONDS))
    notes = _fewer_note(n_used, frames)
    if n_used < len(delays):
        notes.append(f"the animation lasts {duration:.1f} s; frames were sampled from its first {MAX_SECONDS} s")
    return _clip(got, max_side, fps=len(delays) / duration, duration=duration, used_seconds=used,
                 source_frames=len(delays), notes=tuple(notes))


def _reported(capture) -> tuple[float, int]:
    """The rate and frame count the container claims; 0 where it claims nothing believable."""
    import cv2

    fps = capture.get(cv2.CAP_PROP_FPS)
    count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
    fps = fps if math.isfinite(fps) and 0 < fps <= _MAX_FPS else 0.0
    count = int(count) if math.isfinite(count) and 0 < count < 2**31 else 0
    return fps, count


def _decode(path: str, wanted: np.ndarray, stop: int) -> tuple[dict[int, np.ndarray], int]:
    """The RGB frames at the wanted indices, read in order and no further than stop; and how many frames were read
    (fewer than stop only where the file ends or breaks first)."""
    import cv2

    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    need = set(wanted.tolist())
    got: dict[int, np.ndarray] = {}
    read = 0
    try:
        while read < stop and capture.grab():
            if read in need:
                ok, bgr = capture.retrieve()
                if not ok or bgr is None:
                    break
                if bgr.ndim == 2:
                    bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
                got[read] = cv2.cvtColor(bgr[..., :3], cv2.COLOR_BGR2RGB)
            read += 1
    finally:
        capture.release()
    return got, read


def _read_ffmpeg(path: str, name: str, frames: int, max_side: int) -> Clip:
    import cv2

    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise DataError(f"{name} could not be opened as a video: its format or codec could not be decoded. "
                            f"{_CODEC_ADVICE}")
        fps, count = _reported(capture)
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()
    if width > 0 and height > 0:
        _check_dimensions(width, height, name, "video")
    notes = []
    if not fps:
        fps = _ASSUMED_FPS
        notes.append(f"the file does not give a usable frame rate; {_ASSUMED_FPS:g} fps assumed")
    limit = max(1, math.floor(MAX_SECONDS * fps + 1e-6))
    length_known = count > 0
    if not length_known:
        _, count = _decode(path, np.empty(0, int), limit)     # count by decoding, but no further than is used
    for _ in range(2):
        if count == 0:
            raise DataError(f"{name} holds no video frames that could be decoded. {_CODEC_ADVICE}")
        if count == 1:
            raise DataError(f"{name} holds a single frame; please upload it as an image, not a video.")
        n_used = min(count, limit)
        wanted = _sample(n_used, frames)
        got, read = _decode(path, wanted, int(wanted[-1]) + 1)
        if read > wanted[-1]:
            break
        count = read    # the file claimed more frames than it has: plan again on what is really there
    else:
        raise DataError(f"{name} could not be decoded consistently: the file looks damaged.")
    if not length_known and count >= limit:
        notes.append(f"the file does not record its length; only its first {MAX_SECONDS} s were read")
    elif count > limit:
        notes.append(f"the video lasts {count / fps:.1f} s; frames were sampled from its first {MAX_SECONDS} s")
    notes.extend(_fewer_note(n_used, frames))
    return _clip([got[int(i)] for i in wanted], max_side, fps=float(fps), duration=count / fps,
                 used_seconds=n_used / fps, source_frames=count, notes=tuple(notes))


def read_video(data: bytes, name: str, frames: int = 16, max_side: int = 256) -> Clip:
    """frames RGB frames sampled evenly over the first MAX_SECONDS of an uploaded video (longer side at most
    max_side), or a DataError saying why not."""
    if frames < 1:
        raise ValueError(f"frames must be positive, not {frames}")
    _check_size(data, name, MAX_VIDEO_BYTES)
    ext = _extension(name)
    if ext not in VIDEO_TYPES:
        raise DataError(f"{name} is not a video type that can be read; please upload a {_accepted(VIDEO_TYPES)} "
                        f"file.")
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _read_gif(data, name, frames, max_side)
    if _is_still_image(data):
        raise DataError(f"{name} is a still image, not a video; please upload it as an image.")
    with tempfile.TemporaryDirectory(prefix="upload-") as folder:
        path = Path(folder) / f"video.{ext}"
        path.write_bytes(data)
        return _read_ffmpeg(str(path), name, frames, max_side)


def _is_still_image(data: bytes) -> bool:
    # FFmpeg opens a picture as a one-frame video; better to say what it is than to caption a still.
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=list(_PIL_FORMATS)):
            return True
    except Image.DecompressionBombError:
        return True
    except Exception:  # not a picture Pillow knows, so FFmpeg gets to try
        return False
