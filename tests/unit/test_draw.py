"""DRAW's Gaussian filterbank attention and the network's shapes (Gregor et al. 2015, section 3.2)."""
import math

import torch

from engine.models.draw import SIZE, WINDOW_FIELDS, Draw, DrawConfig, DrawPair, filterbank, read_glimpse, write_patch


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
