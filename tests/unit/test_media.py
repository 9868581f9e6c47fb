"""Uploaded images and videos: every colour mode and container comes back as RGB, bad uploads are refused with a
message, and no temporary file outlives a call. Every input is built here."""
import io
import struct
import tempfile
import time
import warnings
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.data import DataError, media

# (extension, fourcc) pairs this OpenCV build writes; 'avc1' / 'H264' have no encoder in the pip wheel.
VIDEO_FORMATS = [("mp4", "mp4v"), ("webm", "VP80"), ("avi", "MJPG"), ("mov", "mp4v")]


@pytest.fixture(autouse=True)
def temp_root(tmp_path, monkeypatch):
    """tempfile's default folder pointed at an empty folder that must be empty again after the test."""
    root = tmp_path / "temp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root
    assert list(root.iterdir()) == []


def encoded(array: np.ndarray | Image.Image, fmt: str, **options) -> bytes:
    img = array if isinstance(array, Image.Image) else Image.fromarray(array)
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but which holds almost no pixel data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def rising(n: int, width: int = 64, height: int = 48) -> list[np.ndarray]:
    """n BGR frames whose brightness rises with time, with a little texture for the codecs to chew on."""
    texture = (np.indices((height, width)).sum(0) % 8).astype(np.uint8)
    return [np.repeat((texture + 20 + int(i * 200 / max(n - 1, 1)))[..., None], 3, axis=2) for i in range(n)]


def video(tmp_path, ext: str, fourcc: str, n: int, fps: float = 10, size=(64, 48)) -> bytes:
    path = tmp_path / f"made.{ext}"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"this OpenCV cannot write {fourcc} into .{ext}"
    for frame in rising(n, *size):
        writer.write(frame)
    writer.release()
    return path.read_bytes()


def gif(colours: list[tuple[int, int, int]], durations: list[int] | int = 100, size=(32, 24)) -> bytes:
    frames = [Image.new("RGB", size, c) for c in colours]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   disposal=1, optimize=False)


# ---------------------------------------------------------------- images

def test_routing_by_name_and_animation():
    assert media.kind_of("a.PNG") == "image" and media.kind_of("b.jpeg") == "image"
    assert media.kind_of("c.mp4") == "video" and media.kind_of("d.MOV") == "video"
    assert media.kind_of("e.txt") is None and media.kind_of("noext") is None
    still, moving = gif([(255, 0, 0)]), gif([(255, 0, 0), (0, 255, 0)])
    assert media.kind_of("f.gif") == "image" and media.kind_of("f.gif", still) == "image"
    assert media.kind_of("f.gif", moving) == "video"
    assert media.is_animated_gif(moving) and not media.is_animated_gif(still)
    assert not media.is_animated_gif(b"GIF89a broken") and not media.is_animated_gif(b"")


def test_rgb_image_comes_back_unchanged():
    pixels = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    for fmt in ["PNG", "BMP"]:
        picture = media.read_image(encoded(pixels, fmt), f"a.{fmt.lower()}")
        np.testing.assert_array_equal(picture.rgb, pixels)
        assert picture.notes == ()
    webp = media.read_image(encoded(pixels, "WEBP", lossless=True), "a.webp")
    np.testing.assert_array_equal(webp.rgb, pixels)


def test_grey_and_bilevel_become_three_equal_channels():
    grey = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (20, 1))
    rgb = media.read_image(encoded(grey, "PNG"), "g.png").rgb
    assert rgb.shape == (20, 32, 3) and (rgb == grey[..., None]).all()
    bilevel = media.read_image(encoded(Image.fromarray(grey > 100).convert("1"), "PNG"), "b.png").rgb
    assert set(np.unique(bilevel)) == {0, 255}


@pytest.mark.parametrize("data, message", [
    (b"", "is empty"),
    (b"hello, this is a text file\n" * 10, "not an image that can be read"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not an image that can be read"),
])
def test_unusable_bytes_are_refused(data, message):
    with pytest.raises(DataError, match=message) as refused:
        media.read_image(data, "upload.png")
    assert "upload.png" in str(refused.value)


def test_a_format_outside_the_accepted_ones_is_refused_with_the_list():
    tiff = encoded(np.zeros((32, 32, 3), np.uint8), "TIFF")
    with pytest.raises(DataError, match=r"\.png, \.jpg, \.jpeg, \.webp, \.bmp, \.gif"):
        media.read_image(tiff, "scan.tif")


def test_over_the_byte_limit(monkeypatch):
    monkeypatch.setattr(media, "MAX_IMAGE_BYTES", 1000)
    data = encoded(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8), "PNG")
    with pytest.raises(DataError, match="the limit is"):
        media.read_image(data, "big.png")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_are_refused_not_padded(fmt):
    data = encoded(np.random.default_rng(2).integers(0, 256, (120, 160, 3), dtype=np.uint8), fmt)
    with pytest.raises(DataError, match="damaged or cut short"):
        media.read_image(data[: len(data) // 2], f"cut.{fmt.lower()}")


@pytest.mark.parametrize("width, height", [(50_000, 50_000), (10_000, 10_000), (8_000, 6_000)])
def test_a_header_claiming_too_many_pixels_is_refused_before_decoding(width, height):
    data = png_header(width, height)
    assert len(data) < 200
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # Pillow's bomb warning must be handled even where warnings are errors
        with pytest.raises(DataError, match="megapixels"):
            media.read_image(data, "bomb.png")
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("width, height, message", [
    (1, 1, "at least 16 pixels"),
    (10, 300, "at least 16 pixels"),
    (10_000, 50, "more than 8 times the other"),
])
def test_too_small_or_too_thin_is_refused(width, height, message):
    with pytest.raises(DataError, match=message):
        media.read_image(encoded(np.zeros((height, width, 3), np.uint8), "PNG"), "odd.png")


def test_cmyk_jpeg_is_converted():
    data = encoded(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG", quality=95)
    picture = media.read_image(data, "print.jpg")
    red = picture.rgb[16, 16].astype(int)
    assert red[0] > 230 and red[1] < 30 and red[2] < 30
    assert any("CMYK" in n for n in picture.notes)


def test_16_bit_png_is_scaled_not_clipped():
    values = np.tile(np.array([0, 32768, 65535, 257 * 100], np.uint16), (16, 4))
    data = encoded(Image.fromarray(values), "PNG")
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode.startswith("I")
    picture = media.read_image(data, "deep.png")
    assert picture.rgb[0, :4, 0].tolist() == [0, 128, 255, 100]
    assert "16-bit image scaled to 8 bits" in picture.notes


def test_16_bit_rgb_png_keeps_its_colour():
    ok, data = cv2.imencode(".png", np.full((16, 16, 3), [0, 32768, 65535], np.uint16))    # BGR order
    assert ok
    rgb = media.read_image(data.tobytes(), "deep-rgb.png").rgb
    assert rgb[0, 0].tolist() == [255, 128, 0]


def test_paletted_png_with_transparency_shows_white():
    img = Image.new("P", (20, 20), 0)
    img.putpalette([0, 0, 0, 0, 0, 255] + [0] * (3 * 254))
    img.paste(1, (0, 0, 10, 20))
    picture = media.read_image(encoded(img, "PNG", transparency=0), "logo.png")
    assert picture.rgb[5, 2].tolist() == [0, 0, 255] and picture.rgb[5, 15].tolist() == [255, 255, 255]
    assert "transparent pixels shown on white" in picture.notes
    assert any("paletted" in n for n in picture.notes)


def test_rgba_png_is_composited_on_white():
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[:, :8] = [200, 10, 10, 255]
    rgba[:, 8:12] = [0, 0, 0, 0]
    rgba[:, 12:] = [0, 0, 0, 128]
    picture = media.read_image(encoded(rgba, "PNG"), "cut-out.png")
    assert picture.rgb[0, 0].tolist() == [200, 10, 10]
    assert picture.rgb[0, 9].tolist() == [255, 255, 255]
    assert picture.rgb[0, 13].tolist() == [127, 127, 127]
    assert "transparent pixels shown on white" in picture.notes
    opaque = rgba.copy()
    opaque[..., 3] = 255
    assert media.read_image(encoded(opaque, "PNG"), "solid.png").notes == ()


def test_grey_with_alpha_is_composited_too():
    la = Image.merge("LA", [Image.new("L", (16, 16), 50), Image.new("L", (16, 16), 0)])
    assert media.read_image(encoded(la, "PNG"), "la.png").rgb[0, 0].tolist() == [255, 255, 255]


def test_gif_gives_its_first_frame():
    picture = media.read_image(gif([(250, 0, 0), (0, 250, 0), (0, 0, 250)]), "anim.gif")
    assert picture.rgb.shape == (24, 32, 3)
    assert picture.rgb[5, 5].tolist() == [250, 0, 0]
    assert "first frame of an animated GIF used" in picture.notes
    assert not any("animated" in n for n in media.read_image(gif([(1, 2, 3)]), "still.gif").notes)


def test_exif_orientation_is_applied():
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = 255                     # left half white as stored
    exif = Image.Exif()
    exif[0x0112] = 6                         # shown rotated 90 degrees clockwise
    picture = media.read_image(encoded(pixels, "JPEG", exif=exif, quality=95), "phone.jpg")
    assert picture.rgb.shape == (40, 20, 3)
    assert picture.rgb[5, 10].mean() > 200 and picture.rgb[35, 10].mean() < 50     # left became top


def test_large_images_are_downscaled_keeping_their_aspect():
    pixels = np.random.default_rng(3).integers(0, 256, (1000, 2000, 3), dtype=np.uint8)
    for fmt in ["PNG", "JPEG"]:
        picture = media.read_image(encoded(pixels, fmt), f"wide.{fmt.lower()}", max_side=500)
        assert picture.rgb.shape == (250, 500, 3) and picture.rgb.dtype == np.uint8
        assert "downscaled from 2000 x 1000 to 500 x 250" in picture.notes


# ---------------------------------------------------------------- videos

def assert_in_time_order(frames: np.ndarray, strictly: bool = True) -> None:
    means = frames.reshape(len(frames), -1).mean(1)
    steps = np.diff(means)
    assert ((steps > 0) if strictly else (steps >= -1)).all(), means


@pytest.mark.parametrize("ext, fourcc", VIDEO_FORMATS)
def test_each_container_decodes_in_order(tmp_path, ext, fourcc):
    clip = media.read_video(video(tmp_path, ext, fourcc, 40), f"clip.{ext}", frames=16)
    assert clip.frames.shape == (16, 48, 64, 3) and clip.frames.dtype == np.uint8
    assert clip.source_frames == 40 and clip.fps == pytest.approx(10)
    assert clip.duration == pytest.approx(4) and clip.used_seconds == pytest.approx(4)
    assert clip.notes == ()
    assert_in_time_order(clip.frames)
    # the first and last frames are among those sampled
    first, last = clip.frames[0].mean(), clip.frames[-1].mean()
    assert abs(first - 23.5) < 6 and abs(last - 223.5) < 6


def test_frames_are_downscaled_to_max_side(tmp_path):
    clip = media.read_video(video(tmp_path, "mp4", "mp4v", 12, size=(320, 240)), "big.mp4", frames=4, max_side=80)
    assert clip.frames.shape == (4, 60, 80, 3)


def test_a_short_video_repeats_frames_evenly(tmp_path):
    clip = media.read_video(video(tmp_path, "avi", "MJPG", 5), "short.avi", frames=16)
    assert clip.frames.shape[0] == 16 and clip.source_frames == 5
    assert_in_time_order(clip.frames, strictly=False)
    means = np.rint(clip.frames.reshape(16, -1).mean(1))
    assert len(np.unique(means)) == 5
    assert any("repeats" in n for n in clip.notes)


def test_only_the_first_max_seconds_are_used(tmp_path, monkeypatch):
    monkeypatch.setattr(media, "MAX_SECONDS", 1)
    data = video(tmp_path, "mp4", "mp4v", 30)            # 3 s at 10 fps
    clip = media.read_video(data, "long.mp4", frames=5)
    assert clip.duration == pytest.approx(3) and clip.used_seconds == pytest.approx(1)
    assert clip.source_frames == 30
    assert any("first 1 s" in n for n in clip.notes)
    assert clip.frames[-1].mean() < 23.5 + 200 * 10 / 29      # nothing from after the first second
    assert_in_time_order(clip.frames)


@pytest.mark.parametrize("claimed", [0, 1000])
def test_a_wrong_frame_count_is_corrected_by_counting(tmp_path, monkeypatch, claimed):
    reported = media._reported
    monkeypatch.setattr(media, "_reported", lambda capture: (reported(capture)[0], claimed))
    clip = media.read_video(video(tmp_path, "webm", "VP80", 20), "lying.webm", frames=8)
    assert clip.source_frames == 20 and clip.frames.shape[0] == 8
    assert clip.duration == pytest.approx(2)
    assert_in_time_order(clip.frames)


def test_an_unknown_length_longer_than_the_limit_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(media, "MAX_SECONDS", 1)
    reported = media._reported
    monkeypatch.setattr(media, "_reported", lambda capture: (reported(capture)[0], 0))
    clip = media.read_video(video(tmp_path, "mp4", "mp4v", 30), "stream.mp4", frames=4)
    assert clip.used_seconds == pytest.approx(1) and clip.source_frames == 10
    assert any("does not record its length" in n for n in clip.notes)


def test_animated_gif_as_video_samples_in_time():
    colours = [(i * 25, 0, 0) for i in range(10)]
    clip = media.read_video(gif(colours, durations=[100] * 9 + [1000]), "anim.gif", frames=4)
    assert clip.source_frames == 10 and clip.duration == pytest.approx(1.9)
    assert clip.fps == pytest.approx(10 / 1.9)
    assert [int(f[0, 0, 0]) for f in clip.frames] == [0, 75, 150, 225]
    assert clip.frames.shape == (4, 24, 32, 3)


def test_gif_frames_without_delays_last_a_tenth_of_a_second(monkeypatch):
    monkeypatch.setattr(media, "MAX_SECONDS", 1)
    clip = media.read_video(gif([(i * 10, 0, 0) for i in range(20)], durations=0), "fast.gif", frames=3)
    assert clip.duration == pytest.approx(2) and clip.used_seconds == pytest.approx(1)
    assert [int(f[0, 0, 0]) for f in clip.frames] == [0, 40, 90]
    assert any("first 1 s" in n for n in clip.notes)


def test_still_pictures_sent_as_videos_are_sent_back():
    for data, name in [(gif([(1, 2, 3)]), "still.gif"), (encoded(np.zeros((32, 32, 3), np.uint8), "PNG"), "x.mp4"),
                       (encoded(np.zeros((32, 32, 3), np.uint8), "JPEG"), "x.mov")]:
        with pytest.raises(DataError, match="upload it as an image"):
            media.read_video(data, name)


def test_a_one_frame_video_is_sent_back_as_an_image(tmp_path):
    with pytest.raises(DataError, match="single frame; please upload it as an image"):
        media.read_video(video(tmp_path, "mp4", "mp4v", 1), "one.mp4")


@pytest.mark.parametrize("ext, fourcc", [("avi", "MJPG"), ("mp4", "mp4v")])
def test_a_video_without_frames_is_refused(tmp_path, ext, fourcc):
    # an AVI with no frames opens but yields nothing; an MP4 with none has no index and does not open
    with pytest.raises(DataError, match="no video frames|could not be opened"):
        media.read_video(video(tmp_path, ext, fourcc, 0), f"empty.{ext}")


def test_undecodable_codec_and_garbage_are_refused_with_advice(tmp_path):
    unknown_codec = video(tmp_path, "avi", "MJPG", 10).replace(b"MJPG", b"ZZZZ")
    garbage = np.random.default_rng(4).bytes(5000)
    for data, name in [(unknown_codec, "odd.avi"), (garbage, "random.mov"), (b"\0" * 500 + b"moov", "x.mp4")]:
        with pytest.raises(DataError, match="codec could not be decoded.*H.264 MP4 or a WebM"):
            media.read_video(data, name)


def test_a_truncated_video_is_refused(tmp_path):
    data = video(tmp_path, "mp4", "mp4v", 20)
    with pytest.raises(DataError, match="could not be"):
        media.read_video(data[: len(data) // 2], "cut.mp4")


@pytest.mark.parametrize("name", ["clip.mkv", "clip.png", "clip"])
def test_other_extensions_are_refused_with_the_accepted_list(tmp_path, name):
    with pytest.raises(DataError, match=r"\.mp4, \.webm, \.avi, \.mov, \.gif"):
        media.read_video(video(tmp_path, "webm", "VP80", 4), name)


def test_empty_and_oversized_videos_are_refused(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="empty"):
        media.read_video(b"", "nothing.mp4")
    data = video(tmp_path, "mp4", "mp4v", 10)
    monkeypatch.setattr(media, "MAX_VIDEO_BYTES", len(data) - 1)
    with pytest.raises(DataError, match="the limit is"):
        media.read_video(data, "big.mp4")


def test_video_frames_are_held_to_the_image_limits(tmp_path):
    with pytest.raises(DataError, match="more than 8 times"):
        media.read_video(video(tmp_path, "avi", "MJPG", 4, size=(320, 32)), "strip.avi")
