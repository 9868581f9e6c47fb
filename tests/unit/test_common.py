"""engine.models.common: the written-out attention energies and the step-shared weights against PyTorch's plain
forms, and a batch's beam search against each input's alone."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from torch import nn

from engine.models.common import BOS, EOS, StepWeight, additive_scores, beam_search, side_by_side


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


def recurrence(x: torch.Tensor, bias: torch.Tensor, product) -> list[torch.Tensor]:
    """h_t = tanh(W h_{t-1} + W x + b) from h_0 = x: two uses of W at each step, through `product`
    (base, rows) -> base + rows W^T."""
    h, outputs = x, []
    for _ in range(5):
        h = torch.tanh(product(product(bias, h), x))
        outputs.append(h)
    return outputs


@pytest.mark.parametrize("bias_rows", [False, True])
def test_a_step_weight_has_autograds_values_and_gradients(bias_rows):
    """Ten uses of one weight, the bias broadcast or per row, and the last step's output left out of the loss (its
    uses never see a gradient): the same outputs and the same gradient for the weight, the input and the bias."""
    g = torch.Generator().manual_seed(0)
    weight = (0.5 * torch.randn(6, 6, generator=g, dtype=torch.float64)).requires_grad_()
    x = torch.randn(4, 6, generator=g, dtype=torch.float64).requires_grad_()
    bias = torch.randn(4, 6, generator=g, dtype=torch.float64) if bias_rows else torch.randn(6, dtype=torch.float64)
    bias.requires_grad_()
    results = []
    for shared in (True, False):
        product = StepWeight(weight) if shared else (lambda base, rows: torch.addmm(base, rows, weight.t()))
        outputs = recurrence(x, bias, product)
        loss = sum((o ** 2).sum() * (t + 1) for t, o in enumerate(outputs[:-1]))
        results.append((outputs, torch.autograd.grad(loss, [weight, x, bias])))
    (fast, fast_grads), (plain, plain_grads) = results
    for a, b in zip(fast, plain):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(fast_grads, plain_grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_a_step_weight_without_gradients_is_a_plain_product():
    weight, x, bias = torch.randn(3, 4), torch.randn(2, 4), torch.randn(3)
    with torch.no_grad():
        shared = StepWeight(weight.requires_grad_())
        assert shared.token is None
        torch.testing.assert_close(shared(bias, x), torch.addmm(bias, x, weight.t()))


def markov_step(table: torch.Tensor):
    """A decoder whose next word depends only on its input and the last word (logits table[input, word]); its
    'attention' is the last word, one-hot, so each output row shows which hypothesis it came from."""
    def step(state, y, source):
        return table[source, y], state + 1, nn.functional.one_hot(y, table.shape[-1]).float()
    return step


@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_a_batch_is_searched_as_if_each_input_were_alone(width):
    table = 3 * torch.randn(8, 12, 12, generator=torch.Generator().manual_seed(width))
    table[:4, :, EOS] += 4                        # half the inputs tend to end early, the others run to the limit
    batch = beam_search(markov_step(table), torch.zeros(8), width, 6)
    for i, out in enumerate(batch):
        alone = beam_search(markov_step(table[i:i + 1]), torch.zeros(1), width, 6)[0]
        assert (out.ids, out.ended) == (alone.ids, alone.ended)
        assert out.log_prob == pytest.approx(alone.log_prob, abs=1e-5)
        assert out.attention.argmax(1).tolist() == [BOS, *out.ids][:len(out.ids) + out.ended]    # its own rows
        assert out.log_prob == pytest.approx(float(sum(
            table[i, a].log_softmax(0)[b] for a, b in zip([BOS, *out.ids], out.ids + [EOS] * out.ended))), abs=1e-4)
    assert {out.ended for out in batch} == {True, False}


def test_side_by_side_runs_tasks_at_once_each_with_its_share_of_threads():
    before = torch.get_num_threads()
    meet = threading.Barrier(2, timeout=30)                   # broken unless both tasks run at the same time

    def task(name):
        meet.wait()
        return name, threading.get_ident(), torch.get_num_threads()

    try:
        torch.set_num_threads(2)
        (a, ident_a, threads_a), (b, ident_b, threads_b) = side_by_side([lambda: task("a"), lambda: task("b")])
        assert (a, b) == ("a", "b") and ident_a != ident_b and threads_a == threads_b == 1
        assert torch.get_num_threads() == 2                   # this thread's count back, and a new thread's
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(torch.get_num_threads).result() == 2
        torch.set_num_threads(1)                              # too few threads: one after the other, here
        assert side_by_side([threading.get_ident, threading.get_ident]) == [threading.get_ident()] * 2
        torch.set_num_threads(2)
        with pytest.raises(ZeroDivisionError):
            side_by_side([lambda: 1 / 0, lambda: 1])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
