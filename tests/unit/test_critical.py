"""Critical points with the exact Hessian (Dauphin et al. 2014, Figure 1): Newton finds minima and saddles alike."""
import torch
from torch.func import grad, hessian

from engine.analysis import critical


def double_well(w: torch.Tensor) -> torch.Tensor:
    """x^4/4 - x^2/2 + y^2/2: minima at (+-1, 0), a saddle at (0, 0)."""
    return w[0] ** 4 / 4 - w[0] ** 2 / 2 + w[1] ** 2 / 2


def search_from(x: float, y: float) -> critical.Search:
    return critical.newton_search(grad(double_well), hessian(double_well), torch.tensor([x, y]), 30, 1e-12)


def test_newton_goes_to_the_nearest_critical_point_saddle_or_minimum():
    saddle = search_from(0.1, 0.3)
    assert saddle.grad_norm < 1e-12 and saddle.weights.abs().max() < 1e-9
    assert critical.index(torch.linalg.eigvalsh(hessian(double_well)(saddle.weights))) == 0.5
    minimum = search_from(0.9, 0.3)
    torch.testing.assert_close(minimum.weights, torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert critical.index(torch.linalg.eigvalsh(hessian(double_well)(minimum.weights))) == 0.0
    assert minimum.iterations < 10          # Newton converges quadratically


def test_a_search_stops_where_no_step_shrinks_the_gradient():
    # x^2 + 1 over x^2 has no critical point at x = 0.5 or anywhere near; |g| cannot reach the tolerance.
    def bowl_free(w):
        return w[0] ** 3 / 3 + w[0]      # gradient x^2 + 1 > 0 everywhere
    found = critical.newton_search(grad(bowl_free), hessian(bowl_free), torch.tensor([0.5]), 50, 1e-8)
    assert found.grad_norm >= 1.0 - 1e-6 and abs(found.weights.item()) < 1e-3      # stuck at the minimum of |g|


def test_index_is_the_share_of_negative_eigenvalues():
    assert critical.index(torch.tensor([-2.0, -1e-9, 0.5, 3.0])) == 0.25


def test_distinct_drops_copies():
    points = torch.tensor([[1.0, 2.0], [1.0, 2.0 + 1e-7], [-1.0, 2.0], [1.0, 2.0]], dtype=torch.float64)
    assert critical.distinct(points) == [0, 2]
