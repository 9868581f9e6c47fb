"""DRAW's Gaussian filterbank attention and the network's shapes (Gregor et al. 2015, section 3.2)."""
import math

import pytest
import torch

from engine import registry
from engine.models.draw import SIZE, WINDOW_FIELDS, Draw, DrawConfig, DrawPair, filterbank, read_glimpse, write_patch
from engine.train import build_model, make_step


def params(gx=0.0, gy=0.0, var=1.0, delta=1.0, gamma=1.0, batch=1):
    """Raw attention parameters (B, 5): g~_X, g~_Y, log sigma^2, log delta~, log gamma."""
    row = torch.tensor([gx, gy, math.log(var), math.log(delta), math.log(gamma)])
    return row.repeat(batch, 1)


def test_filterbank_rows_sum_to_one():
    raw = 2 * torch.randn(4, 5, generator=torch.Generator().manual_seed(0))   # some centres far outside the image
    fx, fy, gamma, _ = filterbank(raw, 5)
    assert fx.shape == (4, 5, SIZE) and fy.shape == (4, 5, SIZE) and gamma.shape == (4,)
    torch.testing.assert_close(fx.sum(-1), torch.ones(4, 5))
    torch.testing.assert_close(fy.sum(-1), torch.ones(4, 5))


def test_centred_window_with_large_stride_covers_the_image():
    n = 5
    fx, fy, _, window = filterbank(params(delta=1.0, var=9.0), n)     # delta~ = 1: grid spans the whole image
    assert abs(window["gx"].item() - (SIZE + 1) / 2) < 1e-5
    assert abs(window["delta"].item() * (n - 1) - (SIZE - 1)) < 1e-4
    coverage = fx[0].sum(0)                                            # weight each pixel column receives
    assert (coverage > 0.01).all()
    narrow, _, _, _ = filterbank(params(delta=0.05, var=0.25), n)
    assert (narrow[0].sum(0) < 1e-3).sum() > SIZE // 2                 # a small window leaves most columns unread


def test_read_then_write_with_identity_like_window_reproduces_the_image():
    x = torch.rand(2, SIZE * SIZE, generator=torch.Generator().manual_seed(1))
    n = SIZE                                                           # one filter per pixel, stride 1
    fx, fy, _, window = filterbank(params(delta=1.0, var=0.05, batch=2), n)
    assert torch.allclose(window["delta"], torch.ones(2))
    glimpse = read_glimpse(x, fx, fy)
    torch.testing.assert_close(glimpse, x, atol=1e-3, rtol=0)
    torch.testing.assert_close(write_patch(glimpse, fx, fy), x, atol=1e-3, rtol=0)


def test_shapes_for_a_batch_and_both_variants():
    config = DrawConfig(glimpses=3, enc_size=8, dec_size=8, z_size=4, read_n=2, write_n=3)
    x = torch.bernoulli(torch.full((5, SIZE * SIZE), 0.3), generator=torch.Generator().manual_seed(2))
    eps = torch.randn(config.glimpses, 5, config.z_size)
    for attention in (True, False):
        net = Draw(config, attention)
        recon, kl, trace = net(x, eps, record=True)
        assert recon.shape == (5,) and kl.shape == (5,)
        assert (recon > 0).all() and (kl >= 0).all()
        assert trace["canvases"].shape == (config.glimpses, 5, SIZE * SIZE)
        if attention:
            assert trace["read"].shape == trace["write"].shape == (config.glimpses, 5, len(WINDOW_FIELDS))
        else:
            assert trace["read"] is None and trace["write"] is None
        sample = net.generate(eps)
        assert sample["canvases"].shape == (config.glimpses, 5, SIZE * SIZE)
        assert ((sample["canvases"] >= 0) & (sample["canvases"] <= 1)).all()


def test_the_pair_keeps_two_independent_networks():
    pair = DrawPair(DrawConfig(glimpses=2, enc_size=8, dec_size=8, z_size=4))
    assert pair.variant(True) is pair.attention and pair.variant(False) is pair.baseline
    att = {id(p) for p in pair.attention.parameters()}
    assert not att & {id(p) for p in pair.baseline.parameters()}


def plain_loss(net: Draw, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The paper's step written out with the network's own modules, one operation per formula (no grouping)."""
    c = net.config
    b = len(x)
    canvas = net.canvas0.expand(b, -1)
    h_enc = c_enc = torch.zeros(b, c.enc_size, dtype=x.dtype)
    h_dec = c_dec = torch.zeros(b, c.dec_size, dtype=x.dtype)
    kl = torch.zeros(b, dtype=x.dtype)
    for t in range(c.glimpses):
        x_hat = x - torch.sigmoid(canvas)
        if net.attention:
            fx, fy, gamma, _ = filterbank(net.read.params(h_dec), net.read.n)
            r = gamma[:, None] * torch.cat([read_glimpse(x, fx, fy), read_glimpse(x_hat, fx, fy)], -1)
        else:
            r = torch.cat([x, x_hat], -1)
        h_enc, c_enc = net.encoder(torch.cat([r, h_dec], -1), (h_enc, c_enc))
        mu, log_sigma = net.q(h_enc).chunk(2, -1)
        z = mu + torch.exp(log_sigma) * noise[t]
        kl = kl + 0.5 * (mu ** 2 + torch.exp(2 * log_sigma) - 2 * log_sigma - 1).sum(-1)
        h_dec, c_dec = net.decoder(z, (h_dec, c_dec))
        if net.attention:
            fx, fy, gamma, _ = filterbank(net.write.params(h_dec), net.write.n)
            canvas = canvas + write_patch(net.write.patch(h_dec), fx, fy) / gamma[:, None]
        else:
            canvas = canvas + net.write.out(h_dec)
    recon = torch.nn.functional.binary_cross_entropy_with_logits(canvas, x, reduction="none").sum(-1)
    return (recon + kl).mean()


@pytest.mark.parametrize("attention", [True, False])
def test_the_grouped_step_is_the_plain_step(attention):
    """Same loss and same gradient for every weight, in float64, as the formulas written one by one."""
    torch.manual_seed(0)
    config = DrawConfig(glimpses=4, enc_size=32, dec_size=24, z_size=5, read_n=3, write_n=4)
    net = Draw(config, attention).double()
    with torch.no_grad():                                     # a trained-looking state, not the zero-ish start
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x = torch.bernoulli(torch.rand(6, SIZE * SIZE, dtype=torch.float64))
    noise = torch.randn(config.glimpses, 6, config.z_size, dtype=torch.float64)
    recon, kl, _ = net(x, noise)
    fast = (recon + kl).mean()
    fast_grads = torch.autograd.grad(fast, list(net.parameters()))
    plain = plain_loss(net, x, noise)
    plain_grads = torch.autograd.grad(plain, list(net.parameters()))
    torch.testing.assert_close(fast, plain, rtol=1e-10, atol=1e-10)
    for (name, _), a, b in zip(net.named_parameters(), fast_grads, plain_grads):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10, msg=name)


def test_the_two_networks_side_by_side_step_as_one_after_the_other():
    """A training step on two threads (the networks at once) and on one (one after the other) moves every weight
    alike, from the same batch and noise."""
    spec = registry.get("draw")
    config = spec.config("tiny")
    data = spec.data(config)
    before = torch.get_num_threads()
    pairs, losses = [], []
    try:
        for threads in (2, 1):
            torch.set_num_threads(threads)
            pair = build_model(spec, config).train()
            step = make_step(spec, pair, data, config, torch.Generator().manual_seed(3))
            losses.append([step() for _ in range(3)])
            pairs.append(pair)
    finally:
        torch.set_num_threads(before)
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    for (name, a), b in zip(pairs[0].named_parameters(), pairs[1].parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)
