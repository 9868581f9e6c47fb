"""Hessian-vector products and Lanczos (slides 35-38): checked against finite differences and exact eigenvalues."""
import torch
import torch.nn.functional as F
from torch.func import functional_call

from engine import registry
from engine.analysis import curvature
from engine.analysis.loss_slices import unflatten
from engine.data.mnist import load_mnist
from engine.train import build_model


def tiny_mlp_in_float64():
    spec = registry.get("landscape")
    model = build_model(spec, spec.config("tiny")).cpu().double()
    data = load_mnist()
    return model, data.x_train[:50].double(), data.y_train[:50]


def gradient(model, w, x, y):
    w = w.detach().requires_grad_(True)
    loss = F.cross_entropy(functional_call(model, unflatten(model, w), (x,)), y)
    return torch.autograd.grad(loss, w)[0]


def test_hessian_vector_product_matches_finite_differences():
    model, x, y = tiny_mlp_in_float64()
    w = model.weights()
    v = torch.randn(w.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    eps = 1e-5
    numeric = (gradient(model, w + eps * v, x, y) - gradient(model, w - eps * v, x, y)) / (2 * eps)
    exact = curvature.hvp_function(model, w, x, y)(v)
    torch.testing.assert_close(exact, numeric, rtol=1e-5, atol=1e-7)


def small_hessian() -> torch.Tensor:
    """The exact Hessian (60, 60) of a small non-convex function, with eigenvalues of both signs."""
    g = torch.Generator().manual_seed(3)
    a = torch.randn(20, 60, generator=g, dtype=torch.float64)
    w0 = torch.randn(60, generator=g, dtype=torch.float64)
    return torch.autograd.functional.hessian(lambda w: torch.tanh(a @ w).sum() + 0.1 * (w ** 2).sum(), w0)


def test_lanczos_top_eigenvalue_matches_eigvalsh():
    h = small_hessian()
    exact = torch.linalg.eigvalsh(h)
    assert exact.min() < 0 < exact.max()
    values, weights = curvature.lanczos(lambda v: (h @ v.double()).float(), 60, 30, torch.Generator().manual_seed(0))
    assert abs(values.max().item() - exact.max().item()) < 1e-4 * exact.abs().max().item()
    assert abs(values.min().item() - exact.min().item()) < 1e-4 * exact.abs().max().item()
    assert abs(weights.sum().item() - 1) < 1e-6


def test_a_full_lanczos_run_recovers_the_spectrum():
    h = small_hessian()
    exact = torch.linalg.eigvalsh(h)
    values, weights = curvature.lanczos(lambda v: (h @ v.double()).float(), 60, 60, torch.Generator().manual_seed(1))
    assert len(values) >= 55                          # float32 products may close the Krylov space a step or two early
    gaps = (values[:, None] - exact[None]).abs().min(1).values
    assert (gaps < 1e-3 * exact.abs().max()).all()    # every Ritz value is an eigenvalue
    share = curvature.summary(values, weights)["negative_share"]
    assert abs(share - (exact < 0).double().mean().item()) < 0.2      # one probe vector: a rough estimate


def test_the_spectrum_of_the_trained_network_is_recorded():
    spec = registry.get("landscape")
    config = spec.config("tiny")
    model = build_model(spec, config).cpu()
    data = spec.data(config)
    critical = registry.get("critical")
    metrics = spec.evaluate(model, data, config, {"critical": build_model(critical, critical.config("tiny"))})
    along = metrics["curvature_along_training"]
    assert len(along["step"]) == config.curvature_points and all(t > 0 for t in along["top_eigenvalue"])
    assert abs(sum(metrics["final_spectrum"]["weights"]) - 1) < 1e-3
