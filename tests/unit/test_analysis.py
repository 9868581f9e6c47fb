"""engine.analysis: interpolation, nearest neighbours, tangents, the DAE vector field and Markov chain."""
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from engine import registry
from engine.analysis.field import field_alignment, grid, markov_chain, vector_field
from engine.analysis.interpolation import different_class_pairs, interpolate, nearest_distance, plausibility_by_level
from engine.analysis.tangents import move_along, tangent_directions
from engine.models.dae import LEVELS
from engine.train import build_model


@pytest.fixture(scope="module")
def dae():
    spec = registry.get("dae")
    return build_model(spec, spec.config("tiny")).cpu().eval()


@pytest.fixture(scope="module")
def dae2d():
    spec = registry.get("dae2d")
    return build_model(spec, spec.config("tiny")).cpu().eval()


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


# ---- interpolation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS[1:])
def test_interpolation_endpoints_are_reconstructions(dae, level):
    xa, xb = rand(3, 784, seed=1), rand(3, 784, seed=2)
    with torch.no_grad():
        path = interpolate(dae, xa, xb, level, torch.tensor([0.0, 0.25, 0.5, 1.0]))
        ends_a = dae.decode(dae.encode(xa, level), level)
        ends_b = dae.decode(dae.encode(xb, level), level)
    assert path.shape == (3, 4, 784)
    assert torch.allclose(path[:, 0], ends_a, atol=1e-6)
    assert torch.allclose(path[:, -1], ends_b, atol=1e-6)
    assert not torch.allclose(path[:, 1], path[:, 0], atol=1e-4)     # the middle actually moves
    assert path.min() >= 0 and path.max() <= 1


def test_pixel_interpolation_is_the_linear_mix(dae):
    xa, xb = rand(2, 784, seed=1), rand(2, 784, seed=2)
    alphas = torch.tensor([0.0, 0.3, 0.5, 1.0])
    path = interpolate(dae, xa, xb, "pixel", alphas)
    for k, a in enumerate(alphas):
        assert torch.allclose(path[:, k], (1 - a) * xa + a * xb, rtol=0, atol=1e-7), a
    assert torch.equal(path[:, 0], xa) and torch.equal(path[:, -1], xb)


def test_nearest_distance_matches_brute_force():
    images, reference = rand(37, 784, seed=3), rand(50, 784, seed=4)
    dist, idx = nearest_distance(images, reference, chunk=8)          # several chunks, the last one partial
    brute = ((images[:, None, :] - reference[None, :, :]) ** 2).sum(-1).sqrt()   # (37, 50)
    assert dist.shape == (37,) and idx.shape == (37,)
    assert torch.allclose(dist, brute.min(1).values, atol=1e-4)
    assert torch.equal(idx, brute.argmin(1))


def test_nearest_distance_finds_exact_copies():
    reference = rand(20, 10, seed=5)
    order = torch.tensor([7, 3, 19, 0])
    dist, idx = nearest_distance(reference[order] + 1e-3, reference)
    assert torch.equal(idx, order) and (dist < 0.01).all()


def test_different_class_pairs_never_pair_a_class_with_itself():
    labels = torch.tensor([0, 0, 0, 0, 0, 0, 0, 0, 1, 2])            # mostly one class: same-class draws are common
    pairs = different_class_pairs(labels, 200, seed=0)
    assert pairs.shape == (200, 2)
    assert (labels[pairs[:, 0]] != labels[pairs[:, 1]]).all()
    assert len({tuple(p) for p in pairs.tolist()}) > 5                 # random, not one pair repeated


def test_different_class_pairs_is_deterministic():
    labels = torch.arange(100) % 10
    assert torch.equal(different_class_pairs(labels, 50, seed=3), different_class_pairs(labels, 50, seed=3))
    assert not torch.equal(different_class_pairs(labels, 50, seed=3), different_class_pairs(labels, 50, seed=4))


def test_plausibility_by_level_report(dae):
    classifier_spec = registry.get("mnist_classifier")
    classifier = build_model(classifier_spec, classifier_spec.config("tiny")).cpu().eval()
    x_test, y_test = rand(20, 784, seed=6), torch.arange(20) % 4
    data = SimpleNamespace(x_test=x_test, y_test=y_test, x_train=torch.cat([x_test, rand(30, 784, seed=7)]))
    report = plausibility_by_level(dae, classifier, data, LEVELS, n_pairs=6, n_points=5)
    assert report["pairs"] == 6 and report["alphas"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert set(report["levels"]) == set(LEVELS)
    for row in report["levels"].values():
        assert len(row["confidence_curve"]) == 5 and len(row["nn_distance_curve"]) == 5
        assert 0 < row["confidence"] <= 1 and row["nn_distance"] >= 0
    pixel = report["levels"]["pixel"]["nn_distance_curve"]
    assert pixel[0] < 0.01 and pixel[-1] < 0.01          # pixel endpoints are test digits, which are in x_train
    assert pixel[2] > 0.5                                  # the blend between two random images is not
    confidences = [report["levels"][lvl]["confidence"] for lvl in LEVELS]
    distances = [report["levels"][lvl]["nn_distance"] for lvl in LEVELS]
    assert report["holds_by_confidence"] == all(a < b for a, b in zip(confidences, confidences[1:]))
    assert report["holds_by_distance"] == all(a > b for a, b in zip(distances, distances[1:]))
    assert report["claim_holds"] == (report["holds_by_confidence"] and report["holds_by_distance"])


# ---- tangents ---------------------------------------------------------------------------------------------


def test_tangent_directions_are_orthonormal_and_sorted(dae):
    x = rand(784, seed=8)
    s, dirs = tangent_directions(dae, x, level="code", k=6)
    assert s.shape == (6,) and dirs.shape == (6, 784)
    assert (s[:-1] >= s[1:]).all() and (s > 0).all()
    assert torch.allclose(dirs.norm(dim=1), torch.ones(6), atol=1e-5)
    assert torch.allclose(dirs @ dirs.T, torch.eye(6), atol=1e-5)
    assert (dirs.sum(1) >= 0).all()                       # sign convention: each direction adds ink overall
    jac = torch.autograd.functional.jacobian(lambda v: dae.encode(v.unsqueeze(0), "code").squeeze(0), x)
    assert torch.allclose((jac @ dirs.T).norm(dim=0), s, rtol=1e-4, atol=1e-6)   # |J v_i| = s_i


def test_tangent_directions_capped_by_code_width(dae):
    s, dirs = tangent_directions(dae, rand(784, seed=9), level="code", k=50)
    width = registry.get("dae").config("tiny").code
    assert s.shape == (width,) and dirs.shape == (width, 784)


def test_move_along_returns_clean_digits(dae):
    x, direction = rand(784, seed=10), torch.zeros(784)
    direction[0] = 1.0
    out = move_along(dae, x, direction, torch.linspace(-1, 1, 5))
    assert out.shape == (5, 784) and out.min() >= 0 and out.max() <= 1
    assert not torch.allclose(out[0], out[-1])


# ---- 2-D field and chain ----------------------------------------------------------------------------------


def test_grid_covers_the_square():
    pts = grid(1.0, 3)
    assert pts.shape == (9, 2)
    assert {tuple(p) for p in pts.tolist()} == {(x, y) for x in (-1.0, 0.0, 1.0) for y in (-1.0, 0.0, 1.0)}


def test_markov_chain_shape_and_determinism(dae2d):
    start = rand(10, 2, seed=11) * 2 - 1
    paths = markov_chain(dae2d, start, steps=4, sigma=0.1, seed=3)
    assert paths.shape == (5, 10, 2)
    assert torch.equal(paths[0], start)
    assert torch.equal(paths, markov_chain(dae2d, start, steps=4, sigma=0.1, seed=3))
    assert not torch.equal(paths, markov_chain(dae2d, start, steps=4, sigma=0.1, seed=4))
    assert not paths.requires_grad


class ToNearest(nn.Module):
    """r(x) = the nearest data point, or (away=True) its reflection through x: the ideal and the worst field."""

    def __init__(self, data: torch.Tensor, away: bool = False):
        super().__init__()
        self.register_buffer("data", data)
        self.unused = nn.Parameter(torch.zeros(1))        # the analysis finds the device from the parameters
        self.away = away

    def forward(self, x):
        _, idx = nearest_distance(x, self.data)
        target = self.data[idx]
        return 2 * x - target if self.away else target


class Identity(ToNearest):
    def forward(self, x):
        return x.clone()


@pytest.fixture
def spiral():
    from engine.data.toy2d import make_toy
    return make_toy("spiral", 300, seed=0)


def test_field_alignment_of_the_ideal_field_is_one(spiral):
    assert field_alignment(ToNearest(spiral), spiral) == pytest.approx(1.0, abs=1e-5)


def test_field_alignment_of_a_field_pointing_away_is_minus_one(spiral):
    value = field_alignment(ToNearest(spiral, away=True), spiral)
    assert value < 0 and value == pytest.approx(-1.0, abs=1e-5)


def test_field_alignment_of_no_field_is_zero(spiral):
    assert field_alignment(Identity(spiral), spiral) == 0.0


def test_vector_field_is_r_minus_x(spiral):
    pts = grid(1.2, 5)
    field = vector_field(ToNearest(spiral), pts)
    assert torch.allclose(pts + field, spiral[nearest_distance(pts, spiral)[1]], atol=1e-6)


def test_markov_chain_of_the_ideal_field_lands_on_data(spiral):
    start = rand(20, 2, seed=12) * 2.4 - 1.2
    paths = markov_chain(ToNearest(spiral), start, steps=2, sigma=0.05, seed=0)
    exact = (paths[-1][:, None, :] - spiral[None, :, :]).abs().sum(-1).min(1).values   # brute force, no cdist
    assert exact.max() < 1e-6 and not math.isnan(exact.sum().item())
