"""DRAW: a recurrent VAE that builds an image over T steps with differentiable attention (Gregor et al. 2015,
"DRAW: A Recurrent Neural Network For Image Generation", arXiv 1502.04623).

For t = 1..T (section 2):
    x^_t = x - sigmoid(c_{t-1})                      error image
    r_t = read(x, x^_t, h^dec_{t-1})
    h^enc_t = LSTM_enc(h^enc_{t-1}, [r_t, h^dec_{t-1}])
    z_t ~ Q(z_t | h^enc_t) = N(mu_t, sigma_t)
    h^dec_t = LSTM_dec(h^dec_{t-1}, z_t)
    c_t = c_{t-1} + write(h^dec_t)
Loss = -log D(x | c_T) + sum_t KL(Q(z_t | h^enc_t) || N(0, I)), the negative variational bound in nats.

Attention (section 3.2): an N x N grid of Gaussian filters with centre (g_X, g_Y), stride delta, variance sigma^2
and intensity gamma, all linear in h^dec:
    g_X = (A + 1) / 2 (g~_X + 1),  delta = (max(A, B) - 1) / (N - 1) delta~,
    mu_X^i = g_X + (i - N/2 - 0.5) delta,  F_X[i, a] = exp(-(a - mu_X^i)^2 / (2 sigma^2)) / Z_X
    read = gamma [F_Y x F_X^T, F_Y x^ F_X^T],   write = (1 / gamma^) F^_Y^T w_t F^_X
The no-attention baseline reads the whole image and error image and writes the whole canvas.
"""
import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.analysis.interpolation import nearest_distance
from engine.data.mnist import load_mnist
from engine.models.common import StepWeight, adam, model_device, sample_batch, side_by_side
from engine.registry import ModelSpec, register

SIZE = 28                    # A = B = 28: MNIST
PAPER_NLL = {"attention": 80.97, "no_attention": 87.40}   # Table 2, binarized MNIST, T = 64
WINDOW_FIELDS = ("gx", "gy", "delta", "sigma", "gamma")
WINDOW_SPAN = 0.7           # initial grid width as a share of the image


@dataclass(frozen=True)
class DrawConfig:
    glimpses: int = 16          # T; the paper uses 64 for MNIST, 16 keeps training within minutes on 2 cores
    enc_size: int = 256         # encoder LSTM units (paper: 256)
    dec_size: int = 256         # decoder LSTM units (paper: 256)
    z_size: int = 32            # latent units per step (paper: 100)
    # Window sizes: the paper's MNIST model reads 2 x 2 and writes 5 x 5 over T = 64 steps. With 4x fewer steps,
    # a 4 x 4 read and a 10 x 10 write keep the paper's totals (T N^2: 256 read and 1,600 written filter values).
    read_n: int = 4
    write_n: int = 10
    # For each of the two networks: about 9 minutes for the pair on 2 cores. At 1,650 steps the baseline was still
    # ahead (109.87 vs 109.22 nats); from about 2,000 on attention leads, as in the paper.
    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    eval_samples: int = 64      # generated samples compared with their nearest training digit


# ---------------------------------------------------------------- attention

@functools.cache
def _grid(n: int, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The filter offsets i - N/2 - 0.5 (N,) and the pixel positions 1..28 (28,), 1-based as in the paper."""
    return (torch.arange(1, n + 1, device=device, dtype=dtype) - n / 2 - 0.5,
            torch.arange(1, SIZE + 1, device=device, dtype=dtype))


def filterbank(params: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
    """Gaussian filterbanks F_X, F_Y (B, N, 28) and intensity gamma (B,) from raw attention params (B, 5).

    params = (g~_X, g~_Y, log sigma^2, log delta~, log gamma), linear in h^dec (paper eq. 21-24).
    """
    g = (SIZE + 1) / 2 * (params[:, :2] + 1)                                        # (B, 2): g_X, g_Y
    log_var, log_delta, log_gamma = params[:, 2], params[:, 3], params[:, 4]
    delta = (SIZE - 1) / max(n - 1, 1) * torch.exp(log_delta)                      # (B,)
    var = torch.exp(log_var)
    offsets, pixels = _grid(n, params.device, params.dtype)
    mu = g[..., None] + (offsets * delta[:, None])[:, None]                        # (B, 2, N): both axes at once
    # exp(-(a - mu)^2 / 2 sigma^2) / Z is a softmax over pixels a: each filter sums to 1 even when its centre lies
    # far outside the image, where the plain exponentials would all underflow to 0.
    f = torch.softmax((pixels - mu[..., None]) ** 2 / (-2 * var[:, None, None, None]), -1)    # (B, 2, N, 28)
    gamma = torch.exp(log_gamma)
    window = {"gx": g[:, 0], "gy": g[:, 1], "delta": delta, "sigma": var.sqrt(), "gamma": gamma}
    return f[:, 0], f[:, 1], gamma, window


def read_glimpse(image: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
    """F_Y x F_X^T: images (B, 784), or (B, K, 784) read through the same window -> glimpses (B, N*N) or
    (B, K, N*N)."""
    img = image.unflatten(-1, (SIZE, SIZE))                                        # (B, [K,] 28, 28)
    if img.dim() == 4:
        fx, fy = fx[:, None], fy[:, None]
    return (fy @ img @ fx.transpose(-1, -2)).flatten(-2)                            # (B, [K,] N*N)


def write_patch(patch: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
    """F^_Y^T w F^_X: (B, N*N) patch -> (B, 784) canvas update."""
    n = fx.shape[1]
    w = patch.view(-1, n, n)                                                        # (B, N, N)
    return (fy.transpose(1, 2) @ w @ fx).flatten(1)                                 # (B, 28, 28) -> (B, 784)


def window_params(dec_size: int, n: int, write: bool) -> nn.Linear:
    """The linear map h^dec -> (g~_X, g~_Y, log sigma^2, log delta~, log gamma) of an N x N window.

    The paper leaves the initial window open; the bias here sets it. A zero bias would span the grid over the whole
    image with sigma = 1, so a 2 x 2 read would start at the blank corners, see nothing and get no gradient to move.
    Instead every window starts centred, spanning 70% of the image, with sigma half the stride. Each write filter
    spreads one patch value over a Gaussian of unit mass, whose peak is only 1 / (2 pi sigma^2); the write's
    intensity 1 / gamma starts at 2 pi sigma^2, so a patch value of 1 adds about one logit at the filter centre
    instead of the output weights having to grow a hundredfold first.
    """
    layer = nn.Linear(dec_size, 5)
    delta = WINDOW_SPAN * (SIZE - 1) / max(n - 1, 1)
    var = (delta / 2) ** 2
    log_gamma = -math.log(2 * math.pi * var) if write else 0.0
    with torch.no_grad():
        layer.bias.copy_(torch.tensor([0.0, 0.0, math.log(var), math.log(WINDOW_SPAN), log_gamma]))
    return layer


class AttentiveRead(nn.Module):
    def __init__(self, config: DrawConfig):
        super().__init__()
        self.n = config.read_n
        self.params = window_params(config.dec_size, self.n, write=False)
        self.size = 2 * self.n * self.n

    def forward(self, x, x_hat, params):
        """The read of the image and the error image through the window of raw params (B, 5) (made from
        h^dec_{t-1} by self.params): (B, 2*N*N), and the window."""
        fx, fy, gamma, window = filterbank(params, self.n)
        glimpse = read_glimpse(torch.stack([x, x_hat], 1), fx, fy).flatten(1)          # both in one product
        return gamma[:, None] * glimpse, window


class AttentiveWrite(nn.Module):
    def __init__(self, config: DrawConfig):
        super().__init__()
        self.n = config.write_n
        self.patch = nn.Linear(config.dec_size, self.n * self.n)
        self.params = window_params(config.dec_size, self.n, write=True)

    def forward(self, h_dec):
        return self.draw(self.patch(h_dec), self.params(h_dec))

    def draw(self, patch, params):
        """The canvas update from a patch (B, N*N) and raw window params (B, 5), and the window."""
        fx, fy, gamma, window = filterbank(params, self.n)
        return write_patch(patch, fx, fy) / gamma[:, None], window


class FullWrite(nn.Module):
    """Baseline: the whole canvas at every step."""

    def __init__(self, config: DrawConfig):
        super().__init__()
        self.out = nn.Linear(config.dec_size, SIZE * SIZE)

    def forward(self, h_dec):
        return self.out(h_dec), None


# ---------------------------------------------------------------- the network

def lstm(gates: torch.Tensor, cell: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """nn.LSTMCell's update from its summed pre-activations (B, 4H), in PyTorch's gate order i, f, g, o: one
    sigmoid over all four (the g part unused) instead of three, split in chunks, whose backward is one operation
    (a slice's backward fills a whole zero tensor each)."""
    i, f, _, o = torch.sigmoid(gates).chunk(4, -1)
    cell = f * cell + i * torch.tanh(gates.chunk(4, -1)[2])
    return o * torch.tanh(cell), cell


class Draw(nn.Module):
    def __init__(self, config: DrawConfig, attention: bool):
        super().__init__()
        self.config = config
        self.attention = attention
        # The baseline reads the whole image and error image (Draw.forward uses them directly).
        self.read = AttentiveRead(config) if attention else None
        self.read_size = self.read.size if attention else 2 * SIZE * SIZE
        self.write = AttentiveWrite(config) if attention else FullWrite(config)
        self.encoder = nn.LSTMCell(self.read_size + config.dec_size, config.enc_size)
        self.decoder = nn.LSTMCell(config.z_size, config.dec_size)
        self.q = nn.Linear(config.enc_size, 2 * config.z_size)        # mu and log sigma of Q(z_t | h^enc_t)
        # c_0, a learned bias for both variants: the background starts dark, so the writes are spent on ink.
        self.canvas0 = nn.Parameter(torch.zeros(SIZE * SIZE))

    def forward(self, x: torch.Tensor, noise: torch.Tensor, record: bool = False):
        """Run the inference network on binary images x (B, 784) with eps noise (T, B, z).

        Returns reconstruction loss (B,), KL (B,) in nats, and when record=True the canvases (T, B, 784) and the
        read and write windows per step.

        The arithmetic is nn.LSTMCell's and the paper's, grouped into fewer and larger operations (a step is mostly
        small operations on 2 cores): the KL terms of all steps are summed at the end; h^dec_{t-1} and h^enc_{t-1}
        enter the encoder's gates through one product;
        the attention network gets its write patch, write window and next read window from h^dec_t in one product;
        and the baseline, which reads [x, x - sigmoid(c_{t-1})] whole, makes the share of its gates that comes from
        the unchanging x once: W_x x + W_e (x - s) = (W_x + W_e) x - W_e s. Every weight used at each glimpse gets
        its gradient from one product over all glimpses (common.StepWeight). tests/unit/test_draw.py checks the loss
        and every gradient against the plain formulation.
        """
        c = self.config
        b = len(x)
        canvas = self.canvas0.expand(b, -1)
        h_enc, c_enc = x.new_zeros(b, c.enc_size), x.new_zeros(b, c.enc_size)
        h_dec, c_dec = x.new_zeros(b, c.dec_size), x.new_zeros(b, c.dec_size)
        posteriors = []
        trace = {"canvases": [], "read": [], "write": []}
        enc, dec = self.encoder, self.decoder
        dec_bias = dec.bias_ih + dec.bias_hh
        w_read = enc.weight_ih[:, :self.read_size]                                       # (4 enc, read)
        enc_state = StepWeight(torch.cat([enc.weight_ih[:, self.read_size:], enc.weight_hh], 1))   # (4 enc, dec+enc)
        dec_z, dec_state, q = StepWeight(dec.weight_ih), StepWeight(dec.weight_hh), StepWeight(self.q.weight)
        bias = enc.bias_ih + enc.bias_hh
        if self.attention:
            n = self.write.n
            heads = (self.write.patch, self.write.params, self.read.params)
            w_heads = StepWeight(torch.cat([h.weight for h in heads]))                # (N N + 5 + 5, dec)
            b_heads = torch.cat([h.bias for h in heads])
            enc_read = StepWeight(w_read)
            read_params = self.read.params.bias.expand(b, -1)                          # h^dec_0 = 0
        else:
            w_x, w_err = w_read[:, :SIZE * SIZE], w_read[:, SIZE * SIZE:]
            fixed = F.linear(x, w_x + w_err, bias)                                     # (B, 4 enc)
            enc_err = StepWeight(-w_err)                                              # negated once, not per step
            write = StepWeight(self.write.out.weight)
        for t in range(c.glimpses):
            state = torch.cat([h_dec, h_enc], -1)                                      # (B, dec + enc)
            if self.attention:
                r, read_window = self.read(x, x - torch.sigmoid(canvas), read_params)
                gates = enc_state(enc_read(bias, r), state)
            else:
                read_window = None
                gates = enc_state(enc_err(fixed, torch.sigmoid(canvas)), state)
            h_enc, c_enc = lstm(gates, c_enc)
            posterior = q(self.q.bias, h_enc)                                           # (B, 2 z): mu, log sigma
            mu, log_sigma = posterior.chunk(2, -1)
            posteriors.append(posterior)
            z = mu + torch.exp(log_sigma) * noise[t]
            h_dec, c_dec = lstm(dec_state(dec_z(dec_bias, z), h_dec), c_dec)
            if self.attention:
                patch, write_params, read_params = w_heads(b_heads, h_dec).split([n * n, 5, 5], -1)
                update, write_window = self.write.draw(patch, write_params)
            else:
                update, write_window = write(self.write.out.bias, h_dec), None
            canvas = canvas + update
            if record:
                trace["canvases"].append(torch.sigmoid(canvas).detach().cpu())
                trace["read"].append(_window_row(read_window))
                trace["write"].append(_window_row(write_window))
        mu, log_sigma = torch.stack(posteriors).chunk(2, -1)                          # (T, B, z) each
        kl = 0.5 * (mu ** 2 + torch.exp(2 * log_sigma) - 2 * log_sigma - 1).sum((0, 2))   # all steps at once
        recon = F.binary_cross_entropy_with_logits(canvas, x, reduction="none").sum(-1)
        return recon, kl, (_stack(trace) if record else None)

    @torch.no_grad()
    def generate(self, noise: torch.Tensor) -> dict:
        """Sample from the prior: z_t = eps_t (T, B, z). Returns canvases (T, B, 784) and write windows."""
        c = self.config
        b = noise.shape[1]
        canvas = self.canvas0.expand(b, -1)
        h_dec, c_dec = noise.new_zeros(b, c.dec_size), noise.new_zeros(b, c.dec_size)
        trace = {"canvases": [], "read": [], "write": []}
        for t in range(c.glimpses):
            h_dec, c_dec = self.decoder(noise[t], (h_dec, c_dec))
            update, write_window = self.write(h_dec)
            canvas = canvas + update
            trace["canvases"].append(torch.sigmoid(canvas).cpu())
            trace["write"].append(_window_row(write_window))
        return _stack(trace)


def _window_row(window: dict | None) -> torch.Tensor | None:
    """Window parameters as (B, 5) in WINDOW_FIELDS order, on the CPU."""
    if window is None:
        return None
    return torch.stack([window[k] for k in WINDOW_FIELDS], -1).detach().cpu()


def _stack(trace: dict) -> dict:
    return {k: (torch.stack(v).numpy() if v and v[0] is not None else None) for k, v in trace.items()}


class DrawPair(nn.Module):
    """The attention model and its no-attention baseline, trained side by side with the same budget and data."""

    def __init__(self, config: DrawConfig):
        super().__init__()
        self.attention = Draw(config, attention=True)
        self.baseline = Draw(config, attention=False)

    def variant(self, attention: bool) -> Draw:
        return self.attention if attention else self.baseline

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The attention network's reconstruction of x (B, 784) with each z_t at its posterior mean."""
        noise = torch.zeros(self.attention.config.glimpses, len(x), self.attention.config.z_size, device=x.device)
        _, _, trace = self.attention(x, noise, record=True)
        return torch.from_numpy(trace["canvases"][-1])


# ---------------------------------------------------------------- data, training, evaluation

@dataclass(frozen=True)
class BinaryMnist:
    x_train: torch.Tensor     # (N, 784) in {0, 1}
    x_test: torch.Tensor
    gray_train: torch.Tensor  # the grey-level training digits, for nearest-neighbour pictures


@functools.cache
def binary_mnist() -> BinaryMnist:
    """MNIST binarized once by sampling each pixel from its intensity with a fixed seed (stochastic binarization)."""
    data = load_mnist()
    g = torch.Generator().manual_seed(0)
    return BinaryMnist(torch.bernoulli(data.x_train, generator=g), torch.bernoulli(data.x_test, generator=g),
                       data.x_train)


def training_digits() -> np.ndarray:
    """The grey-level training digits (N, 784) that samples are compared with."""
    return binary_mnist().gray_train.numpy()


def noise(config: DrawConfig, batch: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(config.glimpses, batch, config.z_size, generator=generator)


def optimizers(model: DrawPair, config: DrawConfig) -> dict:
    return {"pair": adam(model.parameters(), config.lr)}


def _backward(net: Draw, x: torch.Tensor, eps: torch.Tensor) -> float:
    recon, kl, _ = net(x, eps)
    loss = (recon + kl).mean()
    loss.backward()
    return loss.item()


def train_step(model: DrawPair, data, config: DrawConfig, generator, opts) -> float:
    """One minibatch for both networks, one Adam step over both; returns the sum of their losses.

    The networks share no weights, so on the CPU they compute their gradients at once (common.side_by_side): the
    attention network is thousands of small operations, which a second thread hardly speeds up, and the baseline
    mostly products. A GPU runs them one after the other."""
    (x,) = sample_batch(data.x_train, config.batch_size, generator)
    dev = model_device(model)
    x = x.to(dev)
    nets = (model.attention, model.baseline)
    eps = [noise(config, len(x), generator).to(dev) for _ in nets]
    tasks = [functools.partial(_backward, net, x, e) for net, e in zip(nets, eps)]
    opt = opts["pair"]
    opt.zero_grad(set_to_none=True)
    losses = side_by_side(tasks) if dev.type == "cpu" else [task() for task in tasks]
    opt.step()
    return sum(losses)


@torch.no_grad()
def negative_bound(net: Draw, x: torch.Tensor, seed: int, batch: int = 250) -> float:
    """Mean negative variational bound (nats per image), one z sample per image, fixed noise seed."""
    g = torch.Generator().manual_seed(seed)
    dev = model_device(net)
    total = 0.0
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].to(dev)
        recon, kl, _ = net(xb, noise(net.config, len(xb), g).to(dev))
        total += (recon + kl).sum().item()
    return total / len(x)


def evaluate(model, data, config, deps):
    g = torch.Generator().manual_seed(1)
    samples = model.attention.generate(noise(config, config.eval_samples, g).to(model_device(model)))
    final = torch.from_numpy(samples["canvases"][-1])
    sample_nn, _ = nearest_distance(final, data.gray_train)
    test_nn, _ = nearest_distance(load_mnist().x_test, data.gray_train)
    nll_att = negative_bound(model.attention, data.x_test, seed=2)
    nll_base = negative_bound(model.baseline, data.x_test, seed=2)
    return {"nll_attention": round(nll_att, 3), "nll_no_attention": round(nll_base, 3),
            "attention_better": nll_att < nll_base, "test_images": len(data.x_test),
            "sample_nn_distance": round(sample_nn.mean().item(), 4),
            "test_nn_distance": round(test_nn.mean().item(), 4),
            "setting": setting(config, len(data.x_train))}


def setting(config: DrawConfig, train_images: int) -> str:
    return (f"{train_images:,} training digits, T = {config.glimpses}, LSTMs of {config.enc_size}, "
            f"z = {config.z_size} per step, read {config.read_n} x {config.read_n}, write {config.write_n} x "
            f"{config.write_n}, {config.steps:,} steps of {config.batch_size} for each network "
            f"(paper: 60,000 digits, T = 64, LSTMs of 256, z = 100, read 2 x 2, write 5 x 5)")


register(ModelSpec(
    name="draw",
    title="DRAW with and without attention (binarized MNIST)",
    page="draw",
    config_cls=DrawConfig,
    presets={
        "tiny": DrawConfig(glimpses=3, enc_size=16, dec_size=16, z_size=4, steps=20, batch_size=16, eval_samples=8),
        "cpu": DrawConfig(),
        # Paper sizes; 0.4 to 0.6 s per step for the pair on an H200 (python -m tests.bench.gpu_check): 70 to 100 minutes.
        "gpu": DrawConfig(glimpses=64, z_size=100, read_n=2, write_n=5, steps=10000, batch_size=100),
    },
    build=DrawPair,
    data=lambda config: binary_mnist(),
    train_step=train_step,
    optimizers=optimizers,
    evaluate=evaluate,
    gpu_share=1.0,
))


# ---------------------------------------------------------------- replays for the page

@torch.no_grad()
def replay_generation(pair: DrawPair, attention: bool, n: int, seed: int) -> dict:
    """n samples from the prior, step by step: canvases (T, n, 784), write windows (T, n, 5) or None, and each
    final sample's nearest training digit (index and distance)."""
    net = pair.variant(attention)
    trace = net.generate(noise(net.config, n, torch.Generator().manual_seed(seed)).to(model_device(net)))
    dist, idx = nearest_distance(torch.from_numpy(trace["canvases"][-1]), binary_mnist().gray_train)
    return dict(trace, nearest=idx.numpy(), nearest_distance=dist.numpy())


@torch.no_grad()
def replay_reconstruction(pair: DrawPair, attention: bool, digit: np.ndarray, seed: int) -> dict:
    """DRAW reading a grey-level digit (784,), binarized with `seed`: canvases (T, 1, 784), read and write windows
    (T, 1, 5) or None, the binary input and the negative bound (nats) of this one reconstruction."""
    net = pair.variant(attention)
    g = torch.Generator().manual_seed(seed)
    x = torch.bernoulli(torch.from_numpy(np.asarray(digit, np.float32)).view(1, -1).clamp(0, 1), generator=g)
    recon, kl, trace = net(x.to(model_device(net)), noise(net.config, 1, g).to(model_device(net)), record=True)
    return dict(trace, input=x[0].numpy(), nll=(recon + kl).item())
