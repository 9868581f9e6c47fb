"""The captioning studio in Chromium: images and videos, synthetic and real, through the real uploader; a bad file."""

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.data import photos, scenes
from tests.e2e.harness import draw_stroke, exceptions, open_page, screenshot, wait_ready

pytestmark = pytest.mark.e2e


def upload(page, path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    wait_ready(page)


def test_an_uploaded_image_gets_a_caption_and_a_map_per_word(server, page, tmp_path):
    image, _ = scenes.render([scenes.Thing("triangle", "yellow", "large", (8, 30, 30, 52)),
                              scenes.Thing("circle", "blue", "large", (36, 6, 58, 28))], size=64)
    path = tmp_path / "scene.jpg"
    Image.fromarray(image).resize((512, 512), Image.NEAREST).save(path, quality=95)
    open_page(page, f"{server}/captioning?src=upload&reader=shapes")
    upload(page, path)
    page.locator("h3").first.wait_for(timeout=60_000)
    caption = page.locator("h3").first.inner_text()
    assert any(shape in caption for shape in scenes.SHAPES)
    words = caption.split()
    page.get_by_text(f"“{words[0]}”: attention over").wait_for(timeout=30_000)   # the enlarged word, drawn last
    captions = page.locator('[data-testid="stImageCaption"]').all_inner_texts()
    assert captions[:len(words)] == words                          # and before it a map for every word, in order
    assert exceptions(page) == []
    screenshot(page, "captioning-upload")


def test_a_file_that_is_not_an_image_gets_a_message(server, page, tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("shopping list: eggs, milk")
    open_page(page, f"{server}/captioning?src=upload")
    upload(page, path)
    error = page.locator('[data-testid="stAlertContentError"]')
    error.first.wait_for(timeout=30_000)
    assert "notes.png" in error.first.inner_text()
    assert exceptions(page) == []


def test_an_uploaded_video_gets_a_caption_and_attention_over_frames(server, page, tmp_path):
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (96, 96))
    for t in range(30):
        frame = np.full((96, 96, 3), 30, np.uint8)
        frame[36:60, 2 * t:2 * t + 24] = (40, 200, 70)[::-1]          # a green square moving right (BGR)
        writer.write(frame)
    writer.release()
    open_page(page, f"{server}/captioning?mode=video&vsrc=upload&reader=shapes")
    upload(page, path)
    page.get_by_text("frames sampled from the first").wait_for(timeout=60_000)
    assert page.locator("h3").first.inner_text().strip()
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 1
    assert exceptions(page) == []
    screenshot(page, "captioning-video")


def test_a_drawn_square_gets_a_caption(server, page):
    open_page(page, f"{server}/captioning?src=draw")
    assert page.get_by_text("Draw one to four shapes").count() == 1
    draw_stroke(page, page.locator("canvas.upper-canvas").first, [(0.3, 0.35), (0.7, 0.75)])   # a red rectangle
    wait_ready(page)
    page.locator("h3").first.wait_for(timeout=60_000)
    assert page.get_by_text("Draw one to four shapes").count() == 0
    assert page.locator("h3").first.inner_text().strip()
    assert exceptions(page) == []
    screenshot(page, "captioning-drawn")


def test_an_uploaded_photo_names_its_objects_and_each_word_shows_its_map(server, page, tmp_path):
    path = tmp_path / "coffee.png"
    Image.fromarray(photos.sample_photo("coffee")).save(path)
    open_page(page, f"{server}/captioning?src=upload")
    upload(page, path)
    page.locator("h3").first.wait_for(timeout=60_000)
    assert "cup" in page.locator("h3").first.inner_text()
    assert page.get_by_text("composed by rules").count() == 1
    page.get_by_role("radio", name="dining table", exact=True).click()
    wait_ready(page)
    assert page.get_by_text("“dining table”: the detector's box").count() == 1
    assert page.get_by_text("where the classifier found it").count() == 1
    assert exceptions(page) == []
    screenshot(page, "captioning-photo")


def test_an_uploaded_real_clip_is_told_in_order_with_each_word_s_frames(server, page, tmp_path):
    path = tmp_path / "pan.mp4"
    frames = photos.panned_clip(frames=30)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (frames.shape[2], frames.shape[1]))
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    open_page(page, f"{server}/captioning?mode=video&vsrc=upload")
    upload(page, path)
    page.locator("h3").first.wait_for(timeout=60_000)
    assert page.locator("h3").first.inner_text().strip() == "A person, then a cat."
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=30_000)     # drawn after the heading
    page.get_by_role("radio", name="cat", exact=True).click()
    wait_ready(page)
    assert page.get_by_text("“cat”: seen in").count() == 1
    assert exceptions(page) == []
    screenshot(page, "captioning-real-clip")
