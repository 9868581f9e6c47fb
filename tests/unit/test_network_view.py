"""The live frame's pictures on /depth: the network diagram, the output with its points and the loss curves, drawn
as HTML with inline images; read back here from what the browser would get."""
import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from app.ui import network_view as nv


def inline_images(html: str, mime: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(rf"data:{re.escape(mime)};base64,([A-Za-z0-9+/=]+)", html)]


def network(widths=(3, 2), inputs=2, seed=0):
    rng = np.random.default_rng(seed)
    sizes = (inputs, *widths, 1)
    layers = [(rng.normal(size=(b, a)), rng.normal(size=b)) for a, b in zip(sizes[:-1], sizes[1:])]
    maps = [rng.normal(size=(inputs, nv.THUMB, nv.THUMB))] + [rng.normal(size=(n, nv.THUMB, nv.THUMB)) for n in widths]
    return list(maps[0]), maps[1:], layers


def test_colour_runs_from_orange_through_grey_to_blue():
    rgb = nv.colour(np.array([-1.0, 0.0, 1.0, -7.0, 7.0]))
    assert rgb.dtype == np.uint8 and rgb.shape == (5, 3)
    assert rgb[0].tolist() == nv.NEGATIVE.tolist() and rgb[2].tolist() == nv.POSITIVE.tolist()
    assert abs(rgb[1].astype(int) - nv.NEUTRAL).max() <= 2
    assert rgb[3].tolist() == rgb[0].tolist() and rgb[4].tolist() == rgb[2].tolist()      # clipped


def test_the_diagram_has_a_box_per_unit_and_an_edge_per_weight_coloured_by_sign():
    features, units, layers = network((3, 2))
    html = nv.network_html(features, ["x1", "x2"], units, layers)
    assert html.count('class="u"') == 2 + 3 + 2
    sprite, = inline_images(html, "image/jpeg")
    assert Image.open(io.BytesIO(sprite)).size == (nv.THUMB, 7 * nv.THUMB)       # every unit's tile, one under another
    svg, = (b.decode() for b in inline_images(html, "image/svg+xml"))
    weights = np.concatenate([w.ravel() for w, _ in layers])
    assert svg.count("<line") == len(weights) == 2 * 3 + 3 * 2 + 2
    assert svg.count(f'stroke="{nv.BLUE}"') == int((weights > 0).sum())
    assert svg.count(f'stroke="{nv.ORANGE}"') == int((weights <= 0).sum())
    widths = [int(w) for w in re.findall(r'stroke-width="(\d+)"', svg)]
    assert max(widths) == 5 and min(widths) >= 1                 # the largest weight is drawn widest
    assert ">x1</text>" in svg and ">x2</text>" in svg


def test_a_tile_shows_its_units_output_scaled_by_its_largest_size():
    features, units, layers = network((1,), inputs=1)
    units[0][0] = np.full((nv.THUMB, nv.THUMB), -0.01)           # a unit whose output is small and negative
    sprite, = inline_images(nv.network_html(features, ["x1"], units, layers), "image/jpeg")
    tiles = np.asarray(Image.open(io.BytesIO(sprite)).convert("RGB")).astype(int)
    assert abs(tiles[nv.THUMB + 8:-8, 8:-8].mean((0, 1)) - nv.NEGATIVE).max() < 6       # full orange, not grey


def test_diagram_layouts_are_made_once_per_shape_and_names_are_escaped():
    features, units, layers = network((2,))
    nv.network_html(features, ["<b>", "x2"], units, layers)
    again = nv.layout((2, 2), ("<b>", "x2"))
    assert nv.layout((2, 2), ("<b>", "x2")) is again
    assert "&lt;b&gt;" in again.names and "<b>" not in again.names


def test_output_is_the_grid_as_a_picture_under_the_points():
    points = nv.svg_uri(nv.points_svg((np.array([[0.0, 0.0], [6.0, 6.0]]), np.array([1.0, -1.0])),
                                      (np.array([[-6.0, -6.0]]), np.array([1.0])), 6.0, regression=False))
    svg = inline_images(points, "image/svg+xml")[0].decode()
    assert svg.count("<circle") == 3
    assert re.findall(r'<g fill="([^"]+)" stroke="([^"]+)">', svg) == [
        ("rgb(8,119,189)", "#fff"), ("rgb(245,147,34)", "#fff"), ("rgb(8,119,189)", "#282828")]
    assert '<circle cx="160.0" cy="160.0"' in svg and '<circle cx="320.0" cy="0.0"' in svg   # the box's centre, corner
    html = nv.output_html(np.zeros((nv.THUMB, nv.THUMB)), points)
    picture, = inline_images(html, "image/jpeg")
    assert Image.open(io.BytesIO(picture)).size == (nv.THUMB, nv.THUMB)
    assert points in html


@pytest.mark.parametrize("peak, ceiling", [(0.43, 0.5), (0.5, 0.5), (1.7, 2), (0.0, 1.0), (3e-4, 5e-4)])
def test_loss_curves_draw_both_losses_under_a_round_ceiling(peak, ceiling):
    history = [(0, peak, peak / 2), (10, peak / 2, peak / 4), (20, peak / 4, peak / 8)]
    svg = nv.loss_curves(history)
    assert svg.count("<polyline") == 2
    assert f">{ceiling:g}</text>" in svg and ">20</text>" in svg
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')


def test_loss_curves_keep_at_most_about_150_points():
    history = [(i, 1.0 / (i + 1), 1.0 / (i + 1)) for i in range(2000)]
    train = re.search(r'points="([^"]+)"', nv.loss_curves(history)).group(1).split()
    assert 150 <= len(train) <= 160


def test_the_shared_picture_is_the_output_with_the_training_points():
    picture = nv.output_picture(np.zeros((nv.THUMB, nv.THUMB)), (np.array([[0.0, 0.0]]), np.array([-1.0])), 6.0,
                                320, regression=False)
    assert picture.shape == (320, 320, 3)
    assert picture[160, 160].tolist() == nv.NEGATIVE.tolist()          # the point, in its label's colour
    assert picture[160, 163].tolist() == [255, 255, 255]              # ringed in white
    assert abs(picture[20, 20].astype(int) - nv.NEUTRAL).max() <= 2   # the output, 0 everywhere
