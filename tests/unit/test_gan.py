"""GAN measurements on hand-built cases: the generator's push, mode and class counts, Frechet distance, latent walks,
drawn data sets, the recorded trajectory, and the MNIST players' shapes."""
import json
import math

import numpy as np
import pytest
import torch
from scipy import linalg

from engine import registry
from engine.analysis.generative import (
    class_coverage,
    covered_modes,
    frechet_distance,
    generator_push,
    lerp,
    slerp,
    step_ratio,
    walk,
)
from engine.data import DataError
from engine.data.drawing import drawing_to_points
from engine.data.toy2d import ring_modes
from engine.models.common import snapshot_row
from engine.models.gan import Gan, GanConfig
from engine.models.gan2d import BOX, MAX_DRAWN, check_points, g_loss
from engine.train import train


class LinearD(torch.nn.Module):
    """D(x) = sigmoid(w . x + b): it says "real" more and more towards +w."""

    def __init__(self, w, b):
        super().__init__()
        self.w, self.b = torch.tensor(w), b

    def forward(self, x):
        return (x @ self.w + self.b)[:, None]


@pytest.mark.parametrize("kind", ["nonsaturating", "minimax"])
def test_the_push_points_up_the_discriminator_with_the_losss_own_size(kind):
    d = LinearD([2.0, -1.0], 0.5)
    fake = torch.tensor([[0.0, 0.0], [1.0, 1.0], [-3.0, 2.0], [0.5, -4.0]])
    push = generator_push(d, fake, lambda f: g_loss(f, kind))
    assert push.shape == fake.shape
    p = torch.sigmoid(fake @ d.w + d.b)
    # -d/dx of -log D(x) is (1 - D) w; of log(1 - D(x)) it is D w: both point towards +w.
    size = (1 - p) if kind == "nonsaturating" else p
    assert torch.allclose(push, size[:, None] * d.w, atol=1e-6)
    assert (push @ d.w > 0).all()


def test_the_minimax_push_vanishes_where_d_rejects_the_samples():
    d = LinearD([4.0, 0.0], -8.0)
    fake = torch.tensor([[-1.0, 0.0], [0.0, 0.3]])            # D(x) < 0.001: confidently fake
    minimax = generator_push(d, fake, lambda f: g_loss(f, "minimax")).norm(dim=1)
    saturating_free = generator_push(d, fake, lambda f: g_loss(f, "nonsaturating")).norm(dim=1)
    assert (minimax < 0.01).all() and (saturating_free > 3.9).all()


def test_modes_count_only_when_enough_samples_sit_near_them():
    centres = ring_modes()
    g = torch.Generator().manual_seed(0)
    near = torch.cat([centres[k] + 0.01 * torch.randn(30, 2, generator=g) for k in range(5)])   # 5 modes, 30 each
    stray = centres[5] + 0.01 * torch.randn(2, 2, generator=g)                                    # 2 samples: 1.2%
    far = torch.full((134, 2), 5.0)
    covered, quality = covered_modes(torch.cat([near, stray, far]), centres, radius=0.09, min_share=0.02)
    assert covered.tolist() == [True] * 5 + [False] * 3
    assert quality == pytest.approx(152 / 286)


def test_class_coverage_counts_classes_over_the_threshold():
    predicted = torch.tensor([0] * 50 + [1] * 30 + [2] * 15 + [3] * 4 + [4] * 1)
    covered, shares = class_coverage(predicted, min_share=0.05)
    assert covered == 3 and shares[:5] == [0.5, 0.3, 0.15, 0.04, 0.01] and sum(shares) == pytest.approx(1)


def test_frechet_distance_matches_the_matrix_square_root_formula():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 6))
    b = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) + 1.5
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * linalg.sqrtm(ca @ cb).real)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    assert frechet_distance(a, a + 2.0) == pytest.approx(6 * 4.0, rel=1e-6)     # a shifted mean adds |shift|^2


def test_frechet_distance_survives_dead_features():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(100, 4)), rng.normal(size=(100, 4))
    a[:, 0] = b[:, 0] = 0.0                                    # a unit that never fires: singular covariances
    assert np.isfinite(frechet_distance(a, b))


def test_slerp_keeps_the_radius_and_ends_on_its_endpoints():
    za, zb = torch.tensor([3.0, 0.0, 0.0]), torch.tensor([0.0, 3.0, 0.0])
    t = torch.linspace(0, 1, 9)
    path = slerp(za, zb, t)
    assert torch.allclose(path[0], za) and torch.allclose(path[-1], zb, atol=1e-6)
    assert torch.allclose(path.norm(dim=1), torch.full((9,), 3.0), atol=1e-5)
    assert lerp(za, zb, t)[4].norm() == pytest.approx(3 / math.sqrt(2))        # the straight line cuts inside


def test_a_walk_visits_its_waypoints_with_even_steps():
    waypoints = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]])
    path = walk(waypoints, frames_per_leg=4, spherical=False)
    assert path.shape == (9, 2)
    assert torch.equal(path[0], waypoints[0]) and torch.equal(path[4], waypoints[1]) and torch.equal(path[-1],
                                                                                                    waypoints[2])
    assert step_ratio(path[:5]) == pytest.approx(1.0)
    jump = torch.tensor([[0.0], [0.1], [0.2], [5.0], [5.1]])
    assert step_ratio(jump) > 3


def test_a_drawn_line_becomes_points_along_it_with_y_up():
    canvas = np.zeros((240, 240, 4), np.uint8)
    canvas[30:36, 20:220] = 255                          # a horizontal stroke near the top
    points = np.array(drawing_to_points(canvas, BOX, MAX_DRAWN))
    assert 20 <= len(points) <= MAX_DRAWN
    assert (np.abs(points) <= BOX).all()
    assert points[:, 1].min() > 0.8 * BOX * (1 - 2 * 36 / 240)          # near the top, so y is large and positive
    assert np.ptp(points[:, 0]) > 1.5 * BOX


def test_a_drawing_is_thinned_to_the_point_limit_and_an_empty_one_refused():
    full = np.full((240, 240, 3), 255, np.uint8)
    assert len(drawing_to_points(full, BOX, 50)) == 50
    with pytest.raises(DataError, match="empty"):
        drawing_to_points(np.zeros((240, 240, 4), np.uint8), BOX, MAX_DRAWN)
    with pytest.raises(DataError, match="not an image"):
        drawing_to_points(np.zeros((10, 10), np.uint8), BOX, MAX_DRAWN)


@pytest.mark.parametrize("points, reason", [
    ([(0.1, 0.2)] * 3, "at least"),
    ([(0.0, 0.0)] * (MAX_DRAWN + 1), "at most"),
    ([(0.0, 0.0)] * 19 + [(3.0, 0.0)], "box"),
    ([(0.0, 0.0)] * 19 + [(float("nan"), 0.0)], "box"),
])
def test_unusable_drawn_points_are_refused(points, reason):
    with pytest.raises(DataError, match=reason):
        check_points(points)


def test_a_drawn_data_set_round_trips_through_json_with_the_same_hash():
    spec = registry.get("gan2d")
    config = spec.config("tiny", dataset="drawn", points=[[0.1, 0.2], [0.3, -0.4]])
    back = spec.config_from_dict(json.loads(json.dumps(registry.config_dict(config))))
    assert back == config and hash(back) == hash(config)
    assert registry.config_hash("gan2d", back) == registry.config_hash("gan2d", config)


def test_a_drawn_data_set_trains_and_its_trajectory_is_recorded():
    spec = registry.get("gan2d")
    angle = torch.linspace(0, 2 * math.pi, 40)
    circle = tuple((round(0.6 * math.cos(a), 3), round(0.6 * math.sin(a), 3)) for a in angle.tolist())
    config = spec.config("tiny", dataset="drawn", points=circle)
    result = train(spec, config, {})
    trace = result.model.trajectory()
    assert trace["step"].tolist() == [0, 10, 20, 30, 40]
    assert trace["fake"].shape == (5, 512, 2) and trace["d"].shape == (5, 41, 41)
    assert not np.allclose(trace["fake"][0], trace["fake"][-1])       # the generator moved
    assert ((trace["d"] >= 0) & (trace["d"] <= 1)).all()
    assert np.allclose(trace["value"], -trace["d_loss"])
    assert "modes_covered" not in result.metrics and 0 <= result.metrics["near_data_fraction"] <= 1


def test_snapshot_rows_are_evenly_spaced_and_end_on_the_last_step():
    rows = {done: snapshot_row(done, 35, 3) for done in range(36)}
    assert {d: r for d, r in rows.items() if r is not None} == {0: 0, 11: 1, 22: 2, 33: 3, 35: 3}


@pytest.mark.parametrize("convs", [0, 2])
def test_convolutions_at_7x7_deepen_both_players_and_keep_their_shapes(convs):
    model = Gan(GanConfig(z_dim=3, g_channels=4, d_channels=6, convs_7x7=convs))
    images = model.generate(torch.randn(5, 3))
    assert images.shape == (5, 784) and 0 <= images.min() and images.max() <= 1
    assert model(images).shape == (5,)
    plain = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]   # not the transposed ones
    assert sum(m.in_channels == m.out_channels == 8 for m in plain) == convs        # G: 2 x 4 channels at 7 x 7
    assert sum(m.in_channels == m.out_channels == 12 for m in plain) == convs       # D: 2 x 6 channels at 7 x 7
