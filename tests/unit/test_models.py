"""engine.models: shapes and ranges of what the pages draw, and one training step of every registered model."""
import math

import pytest
import torch
import torch.nn.functional as F

from engine import registry
from engine.models.classifier import DigitNet, random_shift
from engine.models.dae import LEVELS, DeepDae, corrupt
from engine.train import build_model, make_step


@pytest.fixture
def dae():
    config = registry.get("dae").config("tiny")
    return build_model(registry.get("dae"), config).cpu().eval(), config


@pytest.fixture
def digits():
    return torch.rand(5, 784, generator=torch.Generator().manual_seed(0))


def test_deep_dae_encode_shapes_per_level(dae, digits):
    model, config = dae
    widths = {"pixel": 784, "h1": config.h1, "h2": config.h2, "code": config.code}
    for level in LEVELS:
        h = model.encode(digits, level)
        assert h.shape == (5, widths[level]), level
        if level != "pixel":
            assert h.abs().max() < 1                    # tanh units
    assert torch.equal(model.encode(digits, "pixel"), digits)


def test_deep_dae_decode_shapes_and_range(dae, digits):
    model, _ = dae
    for level in LEVELS[1:]:
        out = model.decode(model.encode(digits, level), level)
        assert out.shape == (5, 784), level
        assert out.min() >= 0 and out.max() <= 1, level
    out = model.decode(torch.full((2, 16), 100.0), "h2")        # saturated codes still give pixels in [0, 1]
    assert out.min() >= 0 and out.max() <= 1


def test_deep_dae_decode_at_pixel_passes_through(dae, digits):
    model, _ = dae
    assert torch.equal(model.decode(digits, "pixel"), digits)


def test_deep_dae_levels_use_their_own_decoders(dae, digits):
    model, _ = dae
    from_h1 = model.decode(model.encode(digits, "h1"), "h1")
    from_code = model.decode(model.encode(digits, "code"), "code")
    assert not torch.allclose(from_h1, from_code)
    assert torch.equal(model(digits), from_code)        # forward is the full reconstruction


def test_corrupt_masks_about_mask_prob():
    x = torch.ones(200, 784)
    noisy = corrupt(x, 0.3, torch.Generator().manual_seed(0))
    assert set(noisy.unique().tolist()) <= {0.0, 1.0}
    assert abs((noisy == 0).float().mean().item() - 0.3) < 0.01


def test_classifier_logits_and_confidence(digits):
    config = registry.get("mnist_classifier").config("tiny")
    model = build_model(registry.get("mnist_classifier"), config).cpu().eval()
    assert isinstance(model, DigitNet)
    logits = model(digits)
    assert logits.shape == (5, 10) and torch.isfinite(logits).all()
    conf, pred = model.confidence(digits)
    assert conf.shape == (5,) and pred.shape == (5,)
    assert (conf >= 0.1 - 1e-6).all() and (conf <= 1).all()      # the max of 10 probabilities is at least 0.1
    probs = F.softmax(logits, -1)
    assert torch.allclose(conf, probs.max(-1).values, atol=1e-6)
    assert torch.equal(pred, probs.argmax(-1))
    chunked, _ = model.confidence(digits, batch=2)                  # batching does not change the answer
    assert torch.allclose(chunked, conf, atol=1e-6)
    assert not conf.requires_grad


def test_random_shift_rolls_the_image():
    img = torch.zeros(1, 784)
    img.view(28, 28)[10, 10] = 1.0
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        shifted = random_shift(img, 2, g).view(28, 28)
        (y, x), = shifted.nonzero().tolist()
        assert abs(y - 10) <= 2 and abs(x - 10) <= 2
    assert random_shift(img, 0, g) is img


@pytest.mark.parametrize("spec", registry.list_models(), ids=lambda s: s.name)
def test_tiny_preset_forward_has_no_nan(spec):
    config = spec.config("tiny")
    model = build_model(spec, config).cpu().eval()
    data = spec.data(config)
    if isinstance(data, dict):                  # the word-vector model: one corpus per name, the grammar's first
        x = next(iter(data.values())).contexts[:4]
    else:
        x = next(getattr(data, name) for name in ("x_test", "test", "x") if hasattr(data, name))[:4]
    with torch.no_grad():
        out = model(x)
    assert out.shape[0] == 4 and torch.isfinite(out).all()


@pytest.mark.parametrize("spec", [s for s in registry.list_models() if not s.optimizers], ids=lambda s: s.name)
def test_train_step_gives_finite_scalar_with_grad(spec):
    config = spec.config("tiny")
    model = build_model(spec, config).train()
    data = spec.data(config)
    loss = spec.train_step(model, data, config, torch.Generator().manual_seed(config.seed))
    assert loss.dim() == 0 and loss.requires_grad
    assert math.isfinite(loss.item()) and loss.item() > 0
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]     # frozen weights (a study's initial copy) aside
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum().item() for g in grads) > 0


@pytest.mark.parametrize("spec", [s for s in registry.list_models() if s.optimizers], ids=lambda s: s.name)
def test_a_step_with_own_optimizers_moves_every_part(spec):
    config = spec.config("tiny")
    model = build_model(spec, config).train()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    loss = make_step(spec, model, spec.data(config), config, torch.Generator().manual_seed(config.seed))()
    assert isinstance(loss, float) and math.isfinite(loss) and loss > 0
    moved = {name.split(".")[0] for name, p in model.named_parameters() if not torch.equal(p, before[name])}
    # G and D; the trained RNNsearch and RNNenc and their served averages
    assert moved == {name for name, _ in model.named_children()}
    assert len(moved) >= 2


@pytest.mark.parametrize("spec", registry.list_models(), ids=lambda s: s.name)
def test_build_is_seeded(spec):
    config = spec.config("tiny")
    a, b = build_model(spec, config), build_model(spec, config)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = build_model(spec, spec.config("tiny", seed=config.seed + 1))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_train_step_is_deterministic_for_a_generator_seed():
    spec = registry.get("dae2d")
    config = spec.config("tiny")
    model, data = build_model(spec, config), spec.data(config)
    losses = [spec.train_step(model, data, config, torch.Generator().manual_seed(5)).item() for _ in range(2)]
    assert losses[0] == losses[1]


def test_deep_dae_is_a_deep_dae():
    assert isinstance(build_model(registry.get("dae"), registry.get("dae").config("tiny")), DeepDae)
