"""Critical points with the exact Hessian (Dauphin et al. 2014, Figure 1): Newton finds minima and saddles alike."""
import torch
from torch.func import grad, hessian

from engine.analysis import critical_points
from engine.models import critical as critical_model


def double_well(w: torch.Tensor) -> torch.Tensor:
    """x^4/4 - x^2/2 + y^2/2: minima at (+-1, 0), a saddle at (0, 0)."""
    return w[0] ** 4 / 4 - w[0] ** 2 / 2 + w[1] ** 2 / 2


def search_from(x: float, y: float) -> critical_points.Search:
    return critical_points.newton_search(grad(double_well), hessian(double_well), torch.tensor([x, y]), 30, 1e-12)


def test_newton_goes_to_the_nearest_critical_point_saddle_or_minimum():
    saddle = search_from(0.1, 0.3)
    assert saddle.grad_norm < 1e-12 and saddle.weights.abs().max() < 1e-9
    assert critical_points.index(torch.linalg.eigvalsh(hessian(double_well)(saddle.weights))) == 0.5
    minimum = search_from(0.9, 0.3)
    torch.testing.assert_close(minimum.weights, torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert critical_points.index(torch.linalg.eigvalsh(hessian(double_well)(minimum.weights))) == 0.0
    assert minimum.iterations < 10          # Newton converges quadratically


def test_a_search_stops_where_no_step_shrinks_the_gradient():
    # x^2 + 1 over x^2 has no critical point at x = 0.5 or anywhere near; |g| cannot reach the tolerance.
    def bowl_free(w):
        return w[0] ** 3 / 3 + w[0]      # gradient x^2 + 1 > 0 everywhere
    found = critical_points.newton_search(grad(bowl_free), hessian(bowl_free), torch.tensor([0.5]), 50, 1e-8)
    assert found.grad_norm >= 1.0 - 1e-6 and abs(found.weights.item()) < 1e-3      # stuck at the minimum of |g|


def test_index_is_the_share_of_negative_eigenvalues():
    assert critical_points.index(torch.tensor([-2.0, -1e-9, 0.5, 3.0])) == 0.25


def test_distinct_drops_copies():
    points = torch.tensor([[1.0, 2.0], [1.0, 2.0 + 1e-7], [-1.0, 2.0], [1.0, 2.0]], dtype=torch.float64)
    assert critical_points.distinct(points) == [0, 2]


def test_minimise_reaches_the_minimum_of_a_quadratic():
    a = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    b = torch.tensor([1.0, -1.0], dtype=torch.float64)
    found = critical_points.minimise(lambda w: 0.5 * w @ a @ w - b @ w, torch.zeros(2), 100)
    torch.testing.assert_close(found, torch.linalg.solve(a, b))


def test_restricted_holds_the_other_weights_at_zero():
    sub_loss, embed, free = critical_points.restricted(lambda w: (w * torch.arange(1.0, 5.0, dtype=w.dtype)).sum(),
                                                torch.tensor([1.0, 0.0, 1.0, 0.0]))
    assert free.tolist() == [0, 2]
    assert embed(torch.tensor([5.0, 7.0])).tolist() == [5.0, 0.0, 7.0, 0.0]
    assert sub_loss(torch.tensor([1.0, 1.0])).item() == 4.0


def small_network(units: int = 3):
    """A 49-3-10 tanh network's penalised loss on 60 random 'digits', and its masks by units switched on."""
    config = critical_model.CriticalConfig(hidden=units, examples=60, seeds=1)
    g = torch.Generator().manual_seed(0)
    data = critical_model.Digits(torch.rand(60, 49, generator=g, dtype=torch.float64), torch.arange(60) % 10)
    return config, data, critical_model.penalised_loss(config, data), critical_model.unit_masks(config)


def test_a_sub_network_critical_point_is_a_saddle_of_the_whole_network():
    config, data, loss, masks = small_network()
    sub_loss, embed, free = critical_points.restricted(loss, masks[1])         # one of three hidden units on
    start = critical_points.minimise(sub_loss, 0.1 * torch.randn(len(free), generator=torch.Generator().manual_seed(1),
                                                          dtype=torch.float64), 500)
    found = critical_points.newton_search(grad(sub_loss), hessian(sub_loss), start, 30, 1e-11)
    w = embed(found.weights)
    assert grad(loss)(w).norm() < 1e-10                                 # critical for all the weights, not just its own
    sub_values = torch.linalg.eigvalsh(hessian(sub_loss)(found.weights))
    values = torch.linalg.eigvalsh(hessian(loss)(w))
    assert critical_points.index(sub_values) == 0 and critical_points.index(values) > 0     # its minimum, the whole net's saddle


def test_copies_under_the_symmetries_count_once():
    config, data, loss, masks = small_network()
    w = 0.3 * torch.randn(masks.shape[1], generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    w1, b1, w2, b2 = (t.clone() for t in torch.split(w, [3 * 49, 3, 30, 10]))
    w1, b1, w2 = w1.view(3, 49), b1, w2.view(10, 3)
    swapped = torch.cat([w1[[1, 0, 2]].flatten(), b1[[1, 0, 2]], w2[:, [1, 0, 2]].flatten(), b2])
    flipped = torch.cat([(w1 * torch.tensor([[-1.0], [1.0], [1.0]], dtype=torch.float64)).flatten(),
                         b1 * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64),
                         (w2 * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)).flatten(), b2])
    other = w + 0.01
    points = [w, swapped, flipped, other]
    described = torch.stack([torch.cat([loss(p).reshape(1), torch.linalg.eigvalsh(hessian(loss)(p))]) for p in points])
    assert critical_points.distinct(described, relative=1e-6) == [0, 3]
