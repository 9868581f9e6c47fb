"""A network's loss landscape: the straight line, filter-normalised directions, planes and the kept trajectory."""
import torch
import torch.nn.functional as F

from engine import registry
from engine.analysis import loss_slices
from engine.data.mnist import load_mnist
from engine.train import build_model


def mlp():
    spec = registry.get("landscape")
    config = spec.config("tiny")
    return build_model(spec, config).cpu(), config, spec


def digits(n=64):
    data = load_mnist()
    return data.x_train[:n], data.y_train[:n]


def test_loss_at_the_model_weights_is_the_model_loss():
    model, _, _ = mlp()
    x, y = digits()
    with torch.no_grad():
        direct = F.cross_entropy(model(x), y).item()
    assert abs(loss_slices.loss_at(model, model.weights(), x, y) - direct) < 1e-6


def test_the_line_runs_from_start_to_end():
    model, _, _ = mlp()
    x, y = digits()
    start = model.weights()
    end = start + 0.1 * torch.randn(start.shape, generator=torch.Generator().manual_seed(0))
    losses = loss_slices.line(model, start, end, torch.tensor([0.0, 0.5, 1.0]), x, y)
    assert losses[0] == loss_slices.loss_at(model, start, x, y) and losses[-1] == loss_slices.loss_at(model, end, x, y)


def test_max_bump_is_zero_for_a_falling_curve_and_the_rise_otherwise():
    assert loss_slices.max_bump([3.0, 2.0, 2.0, 1.0]) == 0.0
    assert loss_slices.max_bump([3.0, 1.0, 1.5, 0.5, 2.5]) == 2.0


def test_filter_normalisation_keeps_each_filters_norm_and_ignores_biases():
    model, _, _ = mlp()
    d = loss_slices.filter_normalized_direction(model, torch.Generator().manual_seed(1))
    parts = dict(zip([n for n, _ in model.named_parameters()],
                     torch.split(d, [p.numel() for p in model.parameters()])))
    for name, p in model.named_parameters():
        part = parts[name].view(p.shape)
        if p.dim() == 1:
            assert (part == 0).all(), name
        else:
            torch.testing.assert_close(part.norm(dim=1), p.detach().norm(dim=1))


def test_the_plane_is_centred_on_the_weights():
    model, _, _ = mlp()
    x, y = digits()
    g = torch.Generator().manual_seed(2)
    d1, d2 = (loss_slices.filter_normalized_direction(model, g) for _ in range(2))
    seen = []
    grid = loss_slices.plane(model, model.weights(), d1, d2, torch.linspace(-1, 1, 5), x, y, on_progress=seen.append)
    assert grid.shape == (5, 5) and seen[-1] == 1.0 and len(seen) == 5
    assert abs(grid[2, 2].item() - loss_slices.loss_at(model, model.weights(), x, y)) < 1e-6
    assert abs(grid[0, 4].item() - loss_slices.loss_at(model, model.weights() + d1 - d2, x, y)) < 1e-6


def test_training_keeps_the_trajectory_and_its_plane_explains_it():
    model, config, spec = mlp()
    data = spec.data(config)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(0)
    start = model.weights().clone()
    for _ in range(config.steps):
        loss = spec.train_step(model, data, config, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    path = model.path()
    assert len(path) == config.snapshots + 1 and int(model.updates) == config.steps
    torch.testing.assert_close(path[0], start)                       # the first row is the initialisation
    torch.testing.assert_close(path[-1], model.weights())            # the last, the trained weights
    directions, coords, explained = loss_slices.trajectory_plane(path)
    torch.testing.assert_close(directions @ directions.T, torch.eye(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(coords[-1], torch.zeros(2), atol=1e-5, rtol=0)
    assert 0.5 < explained.sum().item() <= 1.0 + 1e-6
