"""Small helpers shared by the model families: minibatches, vocabularies, padding, beam search, TensorFlow's
'SAME' convolutions."""
import functools
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

PAD, BOS, EOS, UNK = 0, 1, 2, 3          # the first four ids of every Vocab


def sample_batch(x: torch.Tensor, batch_size: int, generator: torch.Generator, *others: torch.Tensor):
    """A random minibatch (with replacement across steps) drawn with the run's own generator."""
    idx = torch.randint(0, len(x), (batch_size,), generator=generator)
    return (x[idx], *(o[idx] for o in others))


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def adam(params, lr: float, **options) -> torch.optim.Adam:
    """Adam with PyTorch's fused kernel: one pass over each weight per step instead of a dozen whole-tensor
    operations, each with its temporaries (DRAW's pair: 3 ms an update instead of 9). Same update, up to
    float rounding."""
    return torch.optim.Adam(params, lr=lr, fused=True, **options)


def thread_pool(workers: int, torch_threads: int, name: str = "") -> ThreadPoolExecutor:
    """A pool of `workers` threads, each running PyTorch's CPU operators with `torch_threads` threads. PyTorch sets
    its thread count per thread, and a thread's first call takes the process's: each worker reads it, then sets its
    own."""
    def start() -> None:
        torch.get_num_threads()
        torch.set_num_threads(torch_threads)

    return ThreadPoolExecutor(workers, thread_name_prefix=name, initializer=start)


def side_by_side(tasks: list[Callable]) -> list:
    """The results of calling each of `tasks`, run at once on threads of their own, each with an equal share of
    PyTorch's CPU threads (at least one each; with fewer threads than tasks they run one after another).

    PyTorch's operators release the interpreter while they compute, so two networks that do not share weights train
    side by side: on 2 cores, two one-thread streams of operators keep both cores busy where one stream of small
    operators with two threads keeps them half idle. PyTorch sets its thread count per thread; this thread gets
    its own back at the end."""
    threads = torch.get_num_threads()
    if len(tasks) < 2 or threads < len(tasks):
        return [task() for task in tasks]
    share = threads // len(tasks)
    try:
        with thread_pool(len(tasks) - 1, share) as pool:
            torch.set_num_threads(share)
            others = [pool.submit(task) for task in tasks[1:]]
            first = tasks[0]()
            return [first, *(future.result() for future in others)]
    finally:
        torch.set_num_threads(threads)


class _AdditiveScores(torch.autograd.Function):
    """e = v^T tanh(keys + query) + b over (B, L, K) keys, written out: two-thirds of a captioner's training step
    went to PyTorch's plain form of it, whose tanh is five times slower than its sigmoid on the CPU and whose
    (B L, K) x (K, 1) products run as degenerate matrix products. With tanh(u) = 2 s - 1, s = sigmoid(2u):
        e = 2 v.s - sum(v) + b,   de/du = v (1 - tanh(u)^2) = 4 v s (1 - s),   de/dv = 2 s - 1
    so a word costs three passes over the (B, L, K) places forward (add, scale, sigmoid) and the products over them
    are matrix-vector products. tests/unit/test_common.py holds it to the plain form (values and gradients)."""

    @staticmethod
    def forward(ctx, keys, query, v, b):
        s = torch.add(keys, query[:, None]).mul_(2).sigmoid_()                      # sigmoid(2u), (B, L, K)
        ctx.save_for_backward(s, v)
        return torch.matmul(s, v).mul_(2).add_(b - v.sum())                         # (B, L)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        s, v = ctx.saved_tensors
        grad_u = torch.ops.aten.sigmoid_backward(v, s).mul_(4 * grad[..., None])     # (B, L, K): 4 g v s (1 - s)
        grad_v = torch.mv(s.flatten(0, 1).t(), grad.flatten()).mul_(2).sub_(grad.sum())   # sum_bl g (2 s - 1)
        return grad_u, grad_u.sum(1), grad_v, grad.sum()


def additive_scores(keys: torch.Tensor, query: torch.Tensor, v: torch.nn.Linear) -> torch.Tensor:
    """Bahdanau's attention energies v^T tanh(keys_j + query) (B, L) from projected keys (B, L, K), a projected
    query (B, K) and the linear map v: K -> 1."""
    bias = v.bias[0] if v.bias is not None else keys.new_zeros(())
    return _AdditiveScores.apply(keys, query, v.weight[0], bias)


class StepWeight:
    """A weight that a recurrence multiplies at each of its steps, its gradient made by one product over all of them.

    Autograd makes a repeated weight's gradient at each step that uses it, a product over the batch's B rows (64:
    a thin product at a fraction of the machine's speed), and sums the T results into a fresh tensor each time.
    Here each use's backward only keeps its input rows and the gradient reaching its output, and once the last
    use's backward has run (autograd runs `_Gathered.backward` after every node that depends on it), one product
    over all T B rows makes the weight's gradient. Same arithmetic, summed in another order.

        weight = StepWeight(lstm.weight_hh)           # (out, in), as F.linear takes it; once per forward
        gates = weight(bias_or_gates, h)              # base + h weight^T at each step, as torch.addmm

    Without gradients (evaluation, sampling) it is torch.addmm. tests/unit/test_common.py holds it to autograd's
    plain products (values and gradients).
    """

    def __init__(self, weight: torch.Tensor):
        self.weight = weight.detach()
        self.inputs: list[torch.Tensor] = []
        self.grads: list[torch.Tensor] = []
        self.token = _Gathered.apply(weight, self) if torch.is_grad_enabled() and weight.requires_grad else None

    def __call__(self, base: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.token is None:
            return torch.addmm(base, x, self.weight.t())
        return _StepProduct.apply(base, x, self.token, self)


class _Gathered(torch.autograd.Function):
    """An empty tensor that every use of a StepWeight takes as an input, so that its backward runs after theirs."""

    @staticmethod
    def forward(ctx, weight, shared):
        ctx.shared = shared
        return weight.new_empty(0)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, _):
        shared = ctx.shared
        grad = torch.cat(shared.grads).t() @ torch.cat(shared.inputs)                # (out, in), all steps at once
        shared.inputs.clear()
        shared.grads.clear()
        return grad, None


class _StepProduct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, base, x, token, shared):
        ctx.save_for_backward(x)
        ctx.shared, ctx.base_shape = shared, base.shape
        return torch.addmm(base, x, shared.weight.t())

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        shared = ctx.shared
        shared.inputs.append(x)
        shared.grads.append(grad)
        grad_base = None
        if ctx.needs_input_grad[0]:
            grad_base = grad if len(ctx.base_shape) == 2 else grad.sum(0).reshape(ctx.base_shape)
        grad_x = grad @ shared.weight if ctx.needs_input_grad[1] else None
        return grad_base, grad_x, grad.new_empty(0), None


def snapshot_row(done: int, steps: int, snapshots: int) -> int | None:
    """The trajectory row to fill after `done` of `steps` training steps, for `snapshots` + 1 rows spaced evenly
    (row 0 is the initial state, the last row the final one), or None between recorded steps."""
    every = max(1, steps // snapshots)
    if done % every and done != steps:
        return None
    return min(done // every, snapshots)


@dataclass(frozen=True)
class Vocab:
    words: tuple[str, ...]      # index -> word; the first four are PAD, BOS, EOS, UNK

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def encode(self, tokens) -> list[int]:
        return [self.index.get(t, UNK) for t in tokens]

    def decode(self, ids) -> list[str]:
        """Words up to the first EOS, without specials."""
        out = []
        for i in ids:
            if i == EOS:
                break
            if i > UNK:
                out.append(self.words[i])
        return out

    def __len__(self) -> int:
        return len(self.words)


def pad(rows: list[list[int]], length: int | None = None) -> torch.Tensor:
    length = length or max(map(len, rows))
    out = torch.full((len(rows), length), PAD, dtype=torch.long)
    for r, ids in enumerate(rows):
        out[r, :len(ids)] = torch.tensor(ids[:length], dtype=torch.long)
    return out


@torch.no_grad()
def greedy_search(step: Callable, state, y: torch.Tensor, limit: int):
    """Batched greedy decoding from the BOS ids `y` (B,): step(state, y) -> (logits (B, V), state, attention (B, ...)
    or None). Returns ids (B, T), each row ending with EOS (then PAD) or cut at `limit`, and the attention (B, T, ...)
    or None."""
    done = torch.zeros(len(y), dtype=torch.bool, device=y.device)
    ids, attention = [], []
    for _ in range(limit):
        logits, state, alpha = step(state, y)
        y = logits.argmax(-1).masked_fill(done, PAD)
        ids.append(y)
        attention.append(alpha)
        done |= y == EOS
        if done.all():
            break
    return torch.stack(ids, 1), (torch.stack(attention, 1) if attention[0] is not None else None)


@dataclass
class Decoded:
    ids: list[int]              # the output ids, without BOS and EOS
    ended: bool                 # False when the output was cut at the limit before the model wrote EOS
    attention: np.ndarray | None   # (len(ids) + ended, ...): the attention for each output id (and EOS), or None
    log_prob: float             # log p(ids, EOS | input), or log p(ids | input) when cut


def select(state, rows: torch.Tensor):
    """The beam rows `rows` of a decoder state: a tensor, or a tuple of tensors (an LSTM's (h, c))."""
    return tuple(s[rows] for s in state) if isinstance(state, tuple) else state[rows]


@torch.no_grad()
def beam_search(step: Callable, state, width: int, limit: int) -> list[Decoded]:
    """Beam search from BOS for a batch of inputs at once (width 1 is greedy): `state` has one row per input, and
    step(state, y, source) -> (logits (k, V), state, attention (k, ...) or None) advances k hypotheses by one word,
    hypothesis r belonging to input source[r]; the hypotheses of every input go through one step together. Each
    input's search is the same as if it were alone: its finished hypotheses are ranked by log-probability per word,
    so short outputs are not favoured."""
    device = (state[0] if isinstance(state, tuple) else state).device
    live = [[([BOS], 0.0, [])] for _ in range(len(state[0] if isinstance(state, tuple) else state))]
    finished = [[] for _ in live]           # per input: (ids, log prob, attention rows, ended)
    for _ in range(limit):
        source = [i for i, beams in enumerate(live) for _ in beams]
        if not source:
            break
        y = torch.tensor([b[0][-1] for beams in live for b in beams], device=device)
        logits, new_state, attention = step(state, y, torch.tensor(source, device=device))
        logp = F.log_softmax(logits, -1).cpu()                                        # (k, V)
        attention = attention.cpu().numpy() if attention is not None else None
        rows, first = [], 0
        for i, beams in enumerate(live):
            k = len(beams)
            if not k:
                continue
            total = torch.tensor([b[1] for b in beams]).unsqueeze(1) + logp[first:first + k]
            best = total.view(-1).topk(min(width, total.numel()))
            kept, kept_rows = [], []
            for score, flat in zip(best.values.tolist(), best.indices.tolist()):
                b, w = divmod(flat, logp.shape[1])
                ids, _, att = beams[b]
                att = att + ([attention[first + b]] if attention is not None else [])
                if w == EOS:
                    finished[i].append((ids[1:], score, att, True))
                else:
                    kept.append((ids + [w], score, att))
                    kept_rows.append(first + b)
            first += k
            if len(finished[i]) >= width or not kept:
                live[i] = []
            else:
                live[i] = kept
                rows += kept_rows
        if rows:
            state = select(new_state, torch.tensor(rows, device=device))
    out = []
    for done, beams in zip(finished, live):
        if not done:                        # cut at the limit: keep the best live hypothesis as it is
            done = [(b[0][1:], b[1], b[2], False) for b in beams]
        ids, score, att, ended = max(done, key=lambda f: f[1] / (len(f[0]) + 1))
        out.append(Decoded(ids, ended, np.stack(att) if att else None, score))
    return out


TF_BN_EPS = 1e-3                # TensorFlow's batch norm epsilon, which its released weights were trained with


class SameConv(nn.Conv2d):
    """A convolution padded like TensorFlow's 'SAME' (the extra pixel after, not before), for any input size."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (self.kernel_size == (1, 1) and self.stride == (1, 1) and self.groups == 1
                and x.is_contiguous(memory_format=torch.channels_last)):
            # A pointwise convolution of a channels-last map is one matrix product over its pixels' rows. PyTorch
            # runs it so with two threads or more, but with one, for a single image, as a general convolution
            # that copies the map out of channels-last and back (a third of the photo networks' time).
            return F.linear(x.permute(0, 2, 3, 1), self.weight[:, :, 0, 0], self.bias).permute(0, 3, 1, 2)
        (top, bottom), (left, right) = (same_pads(size, k, s) for size, k, s in
                                        zip(x.shape[-2:], self.kernel_size, self.stride))
        if top == bottom and left == right:           # even padding: the convolution pads, without a padded copy
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left), self.dilation, self.groups)
        return super().forward(F.pad(x, (left, right, top, bottom)))


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'SAME' padding before and after one side of `size` pixels."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2
