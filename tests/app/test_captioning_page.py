"""The captioning studio through Streamlit's AppTest on the tiny checkpoints: samples, uploads and bad files."""
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from engine import api
from engine.data import scenes
from engine.models import captioner
from tests.app.helpers import run_page, run_with_uploads, texts

pytestmark = pytest.mark.usefixtures("tiny_env")


def png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def mp4(tmp_path, frames: int = 20) -> bytes:
    path = str(tmp_path / "clip.mp4")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for t in range(frames):
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[10:30, 3 * t:3 * t + 12] = (0, 0, 230)                       # a red square moving right (BGR)
        writer.write(frame)
    writer.release()
    return (tmp_path / "clip.mp4").read_bytes()


def headings(at) -> str:
    return texts(at.markdown)


def test_a_test_scene_is_captioned_with_a_map_per_word():
    at = run_page("pages/captioning.py", scene=3, beam=1)
    assert not at.exception
    assert at.number_input(key="captioning:scene").value == 3
    assert "### " in headings(at) or "(no words)" in headings(at)
    assert "References:" in texts(at.caption)
    assert len(at.get("image")) >= 2                                # the strip and the enlarged word
    caption = next(m.value for m in at.markdown if m.value.startswith("### "))[4:].split()
    strip = [picture.caption for picture in at.get("image")[0].proto.imgs]
    assert strip[:len(caption)] == caption and len(strip) - len(caption) in (0, 1)    # a map per word (and <end>)
    buttons = at.button_group(key="captioning:word").options          # one per word, a repeated word numbered
    assert len(set(buttons)) == len(buttons) and [b.split(" (")[0] for b in buttons] == [s.split(" ")[0] for s in strip]
    assert "Paper vs. you" in [h.value for h in at.subheader] and "19.5" in headings(at)
    assert "The good and the bad" in [h.value for h in at.subheader]
    at.select_slider(key="captioning:beam").set_value(2).run()
    assert not at.exception and at.query_params["beam"] == "2" and at.query_params["scene"] == "3"


def test_another_scene_is_captioned_and_kept_in_the_link():
    at = run_page("pages/captioning.py", scene=3, beam=1)
    references = [c.value for c in at.caption if c.value.startswith("References:")]
    at.number_input(key="captioning:scene").set_value(5).run()
    assert not at.exception and at.query_params["scene"] == "5"
    assert [c.value for c in at.caption if c.value.startswith("References:")] not in ([], references)


@pytest.mark.parametrize("mode, name, control", [("image", "captioner", "scene"), ("video", "video_captioner", "clip")])
def test_every_test_item_shows_the_caption_its_model_writes_for_it_alone(mode, name, control):
    """The page captions test items together, shared by every session; each must read as if captioned alone."""
    config = api.config(name, "tiny")
    model, items = api.load(name, config).model, captioner.test_set(config)[0]
    describe = captioner.describe_image if mode == "image" else captioner.describe_clip
    at = run_page("pages/captioning.py", mode=mode, beam=3)
    for index, item in enumerate(items):
        at.number_input(key=f"captioning:{control}").set_value(index).run()
        assert not at.exception
        alone = describe(model, item.image if mode == "image" else item.frames, config, 3)[0]
        shown = next(m.value for m in at.markdown if m.value.startswith("### "))[4:]
        assert shown == (" ".join(alone.words) or "(no words)")


def test_a_link_past_the_last_scene_shows_the_last_one():
    at = run_page("pages/captioning.py", scene=9999)
    assert not at.exception
    assert at.number_input(key="captioning:scene").value == at.number_input(key="captioning:scene").max


def test_a_test_clip_is_captioned_with_attention_over_frames():
    at = run_page("pages/captioning.py", mode="video", clip=1)
    assert not at.exception
    assert len(at.get("vega_lite_chart")) >= 1                     # words x frames
    assert "References:" in texts(at.caption)
    assert at.query_params["mode"] == "video"


def test_an_uploaded_image_is_captioned_by_the_shapes_captioner_when_chosen():
    image, _ = scenes.render([scenes.Thing("star", "red", "large", (10, 10, 40, 40))], size=64)
    rgba = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    at = run_with_uploads("pages/captioning.py", [(png(rgba), "star.png")], src="upload", reader="shapes")
    assert not at.exception and not at.error
    assert "### " in headings(at) or "(no words)" in headings(at)
    assert "composed by rules" not in texts(at.caption)


def test_an_uploaded_shapes_picture_gets_an_honest_answer_from_the_photo_models():
    image, _ = scenes.render([scenes.Thing("star", "red", "large", (10, 10, 40, 40))], size=64)
    at = run_with_uploads("pages/captioning.py", [(png(image), "star.png")], src="upload")
    assert not at.exception and not at.error
    assert "No object" in headings(at)                              # nothing COCO knows; the guesses are shown
    assert "ImageNet's top 5" in headings(at) and len(at.get("image")) == 5


def test_a_sample_photo_is_described_with_a_map_per_noun_and_the_top_5():
    at = run_page("pages/captioning.py", src="photo", photo="chelsea")
    assert not at.exception and not at.error
    assert "### A cat." in headings(at)
    assert "composed by rules" in texts(at.caption)
    assert "ImageNet's top 5" in headings(at)
    assert len(at.get("image")) == 1 + 2 + 5                         # the strip, the enlarged word, the top 5
    at.selectbox(key="captioning:photo").set_value("coffee").run()
    assert "### A cup on a dining table." in headings(at) and at.query_params["photo"] == "coffee"


def test_an_uploaded_photo_goes_to_the_photo_models_and_can_be_switched(tmp_path):
    from engine.data import photos

    jpeg = io.BytesIO()
    Image.fromarray(photos.sample_photo("coffee")).save(jpeg, format="JPEG", quality=90)
    at = run_with_uploads("pages/captioning.py", [(jpeg.getvalue(), "coffee.jpg")], src="upload")
    assert not at.exception and not at.error
    assert "cup" in headings(at)
    at.selectbox(key="captioning:reader").set_value("shapes").run()
    assert not at.exception and "composed by rules" not in texts(at.caption)


def test_a_large_uploaded_photo_is_read_at_the_size_the_page_shows_it():
    from engine.data import photos

    jpeg = io.BytesIO()
    Image.fromarray(photos.sample_photo("coffee")).resize((1024, 768), Image.BICUBIC).save(jpeg, format="JPEG")
    at = run_with_uploads("pages/captioning.py", [(jpeg.getvalue(), "coffee.jpg")], src="upload")
    assert not at.exception and not at.error
    assert "coffee.jpg: downscaled from 1024 x 768 to 512 x 384." in texts(at.caption)
    assert "### A cup on a dining table." in headings(at)


def test_the_sample_pan_is_described_in_the_order_things_appear():
    at = run_page("pages/captioning.py", mode="video", vsrc="pan")
    assert not at.exception and not at.error
    assert "### A person, then a cat." in headings(at)
    assert len(at.get("vega_lite_chart")) >= 1                      # nouns x frames


@pytest.mark.parametrize("data, name, message", [
    (b"", "empty.png", "empty"),
    (b"this is not an image at all", "notes.png", "not"),
])
def test_a_bad_image_gets_a_message(data, name, message):
    at = run_with_uploads("pages/captioning.py", [(data, name)], src="upload")
    assert not at.exception
    assert name in texts(at.error) and message in texts(at.error).lower()


def test_an_uploaded_video_is_sampled_and_captioned(tmp_path):
    at = run_with_uploads("pages/captioning.py", [(mp4(tmp_path), "clip.mp4")], mode="video", vsrc="upload",
                          reader="shapes")
    assert not at.exception and not at.error
    assert "frames sampled from the first" in texts(at.caption)
    assert len(at.get("vega_lite_chart")) >= 1


def test_an_uploaded_real_video_is_described_by_the_photo_models(tmp_path):
    from engine.data import photos

    path = str(tmp_path / "pan.mp4")
    frames = photos.panned_clip(frames=30)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 10, (frames.shape[2], frames.shape[1]))
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    at = run_with_uploads("pages/captioning.py", [((tmp_path / "pan.mp4").read_bytes(), "pan.mp4")], mode="video",
                          vsrc="upload")
    assert not at.exception and not at.error
    assert "### A person, then a cat." in headings(at)


def test_a_video_with_no_frames_gets_a_message():
    at = run_with_uploads("pages/captioning.py", [(b"\x00\x00\x00\x18ftypmp42" + bytes(64), "broken.mp4")],
                          mode="video", vsrc="upload")
    assert not at.exception
    assert "broken.mp4" in texts(at.error)
