"""engine.models.common: the written-out attention energies against PyTorch's plain form."""
import pytest
import torch
from torch import nn

from engine.models.common import additive_scores


def plain_scores(keys, query, v):
    return v(torch.tanh(keys + query[:, None])).squeeze(-1)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_additive_scores_are_the_plain_ones_with_the_same_gradients(bias, dtype, tolerance):
    g = torch.Generator().manual_seed(0)
    keys = (3 * torch.randn(5, 7, 6, generator=g, dtype=dtype)).requires_grad_()     # large and small energies
    query = torch.randn(5, 6, generator=g, dtype=dtype).requires_grad_()
    v = nn.Linear(6, 1, bias=bias).to(dtype)
    target = torch.randn(5, 7, generator=g, dtype=dtype)
    results = []
    for score in (additive_scores, plain_scores):
        e = score(keys, query, v)
        loss = (torch.softmax(e, -1) * target).sum() + (e ** 2).sum()
        results.append((e, torch.autograd.grad(loss, [keys, query, *v.parameters()])))
    (fast, fast_grads), (plain, plain_grads) = results
    assert fast.shape == (5, 7)
    torch.testing.assert_close(fast, plain, rtol=tolerance, atol=tolerance)
    for a, b in zip(fast_grads, plain_grads):
        torch.testing.assert_close(a, b, rtol=tolerance, atol=tolerance)


def test_additive_scores_run_without_gradients():
    v = nn.Linear(4, 1)
    with torch.no_grad():
        e = additive_scores(torch.randn(2, 3, 4), torch.randn(2, 4), v)
    assert e.shape == (2, 3) and not e.requires_grad
