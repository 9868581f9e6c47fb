"""Attention drawn over an image: smooth, where the weights are, and the same for many maps as for one."""
import numpy as np

from app.ui import images


def test_a_flat_map_stays_flat_and_each_pixel_weighs_cells_to_one():
    flat = images.smooth_upsample(np.full((3, 4, 4), 0.25, dtype=np.float32), 40, 30)
    assert flat.shape == (3, 30, 40)
    np.testing.assert_allclose(flat, 0.25, rtol=1e-5)


def test_the_brightest_pixels_lie_over_the_hot_cell():
    rng = np.random.default_rng(0)
    rgb = rng.integers(60, 200, (64, 64, 3), dtype=np.uint8)
    alpha = np.zeros((8, 8), dtype=np.float32)
    alpha[2, 5] = 1.0                                  # row 2, column 5: y 32-48, x 80-96 at 128 px
    shown = images.attention_overlay(rgb, alpha, 128)
    heat = images.smooth_upsample(alpha, 128, 128)
    y, x = np.unravel_index(heat.argmax(), heat.shape)
    assert 32 <= y < 48 and 80 <= x < 96
    base = np.asarray(images.Image.fromarray(rgb).resize((128, 128), images.Image.BILINEAR), dtype=np.float32)
    assert shown[32:48, 80:96].mean() > base[32:48, 80:96].mean()                  # brightened where it looks
    assert shown[100:, :40].mean() < 0.3 * base[100:, :40].mean()                   # dimmed far away


def test_many_maps_at_once_equal_each_alone():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    maps = rng.random((5, 6, 8)).astype(np.float32)
    together = images.attention_overlays(rgb, maps, 96, 72)
    assert together.shape == (5, 72, 96, 3) and together.dtype == np.uint8
    for i in range(5):
        np.testing.assert_array_equal(together[i], images.attention_overlays(rgb, maps[i:i + 1], 96, 72)[0])
