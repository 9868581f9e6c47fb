"""2-D surfaces: the safe formula parser and the optimizers around a saddle (slides 35-38)."""
import pytest
import torch

from engine.analysis import surfaces


def at(f, x, y):
    return f(torch.tensor([x], dtype=torch.float64), torch.tensor([y], dtype=torch.float64)).item()


def test_formulas_evaluate_like_python():
    f = surfaces.parse("x^2 - 3*y + sin(x) * exp(-y^2) / 2 + abs(-pi)")
    x, y = 0.7, -1.3
    import math
    assert at(f, x, y) == pytest.approx(x**2 - 3 * y + math.sin(x) * math.exp(-y**2) / 2 + math.pi)


@pytest.mark.parametrize("text", ["__import__('os')", "__import__('os').system('true')", "x.__class__", "open('f')",
                                  "lambda: 1", "sin(x, y)", "[x, y]", "x if y else 1", "z + 1", "'a' * 3",
                                  "(x for x in y)", "x; y", "", "   ", "x +", "sin", "x" * 300])
def test_the_parser_refuses_anything_but_arithmetic_in_x_and_y(text):
    with pytest.raises(surfaces.FormulaError):
        surfaces.parse(text)


def test_huge_powers_overflow_instead_of_hanging():
    assert at(surfaces.parse("9^9^9^9"), 0.0, 0.0) == float("inf")


def test_gradient_and_hessian_of_the_saddle():
    value, g, h = surfaces.grad_hessian(surfaces.parse("x^2 - y^2"), torch.tensor([1.0, 2.0]))
    assert value.item() == pytest.approx(-3.0)
    torch.testing.assert_close(g, torch.tensor([2.0, -4.0], dtype=torch.float64))
    torch.testing.assert_close(h, torch.tensor([[2.0, 0.0], [0.0, -2.0]], dtype=torch.float64))


def test_newton_lands_on_the_saddle_and_saddle_free_newton_leaves_it():
    f = surfaces.parse("x^2 - y^2")
    newton = surfaces.run(f, "newton", (1.5, 0.05), 20)
    assert newton.points[-1].abs().max().item() < 1e-9 and newton.stopped == "converged"
    assert newton.eigenvalues[-1].min().item() < 0                       # it stopped at a saddle, not a minimum
    free = surfaces.run(f, "saddle-free newton", (1.5, 0.05), 20)
    first_step = free.points[1] - free.points[0]
    # |H| = diag(2, 2): the step is -g / 2 = (-x, +y): downhill in x and, unlike Newton, away from the saddle in y
    torch.testing.assert_close(first_step, torch.tensor([-1.5, 0.05], dtype=torch.float64))
    assert free.values[-1].item() < -1


def test_gradient_descent_slows_near_the_saddle_then_escapes():
    f = surfaces.parse("x^2 - y^2")
    path = surfaces.run(f, "gradient descent", (1.0, 1e-4), 200, lr=0.05)
    steps = (path.points[1:] - path.points[:-1]).norm(dim=1)
    assert steps.min() < 0.02 * steps[0]                 # it crawls past the saddle...
    assert path.values[-1].item() < -1                   # ...and leaves along -y^2 in the end


@pytest.mark.parametrize("optimizer", surfaces.OPTIMIZERS)
def test_every_optimizer_finds_the_minimum_of_a_bowl(optimizer):
    path = surfaces.run(surfaces.parse("(x - 1)^2 + 2*(y + 0.5)^2"), optimizer, (-1.0, 1.0), 400, lr=0.05)
    torch.testing.assert_close(path.points[-1], torch.tensor([1.0, -0.5], dtype=torch.float64), atol=2e-2, rtol=0)


def test_diverging_paths_stop_and_say_so():
    path = surfaces.run(surfaces.parse("-x^2 - y^2"), "gradient descent", (0.5, 0.5), 10_000, lr=0.5)
    assert path.stopped == "diverged" and len(path.points) < 10_000


def test_presets_parse_and_grid_shapes():
    for preset in surfaces.SURFACES.values():
        f = surfaces.parse(preset.formula)
        xs, ys, z = surfaces.grid_values(f, preset.lim, 21)
        assert z.shape == (21, 21) and torch.isfinite(z).all()
        assert at(f, xs[3].item(), ys[5].item()) == pytest.approx(z[5, 3].item())


def test_the_toy_claims_hold():
    claims = surfaces.saddle_claims()
    assert claims["newton_ends_at_saddle"] and claims["saddle_free_newton_escapes"]
    assert claims["gradient_descent_slowdown"] >= 10 and claims["gradient_descent_escapes"]
