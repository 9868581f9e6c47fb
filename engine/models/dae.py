"""Deep denoising autoencoder on MNIST (Vincent et al. 2008, "Extracting and composing robust features with
denoising autoencoders"; Bengio et al. 2013, "Better mixing via deep representations", arXiv 1207.4404).

The encoder maps a corrupted digit x~ ~ C(x~ | x) through three tanh layers h1, h2, code; each level has its own
decoding path back to pixels, and all three paths are trained to reconstruct the clean digit:

    L(x) = sum_{l in {h1, h2, code}}  BCE( g_l(f_l(x~)), x )

so an interpolant taken at any level, h = (1 - a) f_l(x_a) + a f_l(x_b), can be decoded as g_l(h). Slide 89's claim
(Bengio et al. 2013) is that interpolants at deeper levels stay closer to the digit manifold.
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.analysis.interpolation import plausibility_by_level
from engine.analysis.representations import LAYER_DIGITS, knn_accuracy
from engine.data.mnist import load_mnist
from engine.models.common import model_device, sample_batch
from engine.registry import ModelSpec, register

LEVELS = ("pixel", "h1", "h2", "code")


@dataclass(frozen=True)
class DaeConfig:
    h1: int = 512               # first hidden layer: wide enough to keep stroke detail
    h2: int = 256               # second hidden layer
    code: int = 16              # code layer: small, so the code has to describe the digit, not copy pixels
    mask_prob: float = 0.5      # masking noise (Vincent et al. 2008); half the pixels gone forces abstraction (0.3 gave weaker space-filling)
    steps: int = 8000
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-5  # L2: weights of always-black border pixels would keep their random init and show up as noise in the encoder Jacobian
    seed: int = 0
    eval_pairs: int = 200       # random test pairs of different classes scored per level (slide 89 claim)
    eval_points: int = 9        # points along each interpolation path, endpoints included
    scorer: str = "cpu"         # preset of mnist_classifier that scores plausibility


class DeepDae(nn.Module):
    def __init__(self, config: DaeConfig):
        super().__init__()
        sizes = [784, config.h1, config.h2, config.code]
        self.enc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        # dec[i] maps level i+1 back to level i; dec[0] outputs pixel logits.
        self.dec = nn.ModuleList(nn.Linear(b, a) for a, b in zip(sizes[:-1], sizes[1:]))

    def encode(self, x: torch.Tensor, level: str = "code") -> torch.Tensor:
        """Representation of x (B, 784) at `level` ("pixel" returns x itself)."""
        h = x
        for layer in self.enc[:LEVELS.index(level)]:
            h = torch.tanh(layer(h))
        return h

    def layers(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every hidden level for digits x (B, 784), input side first."""
        return {f"autoencoder {level}": self.encode(x, level) for level in LEVELS[1:]}

    def decode_logits(self, h: torch.Tensor, level: str) -> torch.Tensor:
        depth = LEVELS.index(level)
        for i in reversed(range(1, depth)):
            h = torch.tanh(self.dec[i](h))
        return self.dec[0](h) if depth > 0 else torch.logit(h.clamp(1e-4, 1 - 1e-4))

    def decode(self, h: torch.Tensor, level: str) -> torch.Tensor:
        """Pixels (B, 784) in [0, 1] from a representation at `level` ("pixel" passes h through)."""
        return h if level == "pixel" else torch.sigmoid(self.decode_logits(h, level))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x), "code")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reconstruct(x)


def corrupt(x: torch.Tensor, mask_prob: float, generator: torch.Generator) -> torch.Tensor:
    keep = torch.rand(x.shape, generator=generator) >= mask_prob
    return x * keep


def train_step(model, data, config, generator):
    (x,) = sample_batch(data.x_train, config.batch_size, generator)
    noisy = corrupt(x, config.mask_prob, generator).to(model_device(model))
    x = x.to(noisy.device)
    h, loss = noisy, 0.0
    for depth, layer in enumerate(model.enc, start=1):
        h = torch.tanh(layer(h))
        loss = loss + F.binary_cross_entropy_with_logits(model.decode_logits(h, LEVELS[depth]), x,
                                                         reduction="sum") / len(x)
    return loss / len(model.enc)


def evaluate(model, data, config, deps):
    dev = model_device(model)
    x = data.x_test.to(dev)
    g = torch.Generator().manual_seed(1234)
    recon = model.reconstruct(x)
    denoised = model.reconstruct(corrupt(data.x_test, config.mask_prob, g).to(dev))
    return {
        "test_bce_nats": round(F.binary_cross_entropy(recon, x, reduction="sum").item() / len(x), 3),
        "test_denoise_mse": round(F.mse_loss(denoised, x, reduction="sum").item() / len(x), 3),
        "plausibility_by_level": plausibility_by_level(model, deps["mnist_classifier"], data, LEVELS,
                                                       config.eval_pairs, config.eval_points),
        "test_images": len(x),
        "layer_knn_accuracy": layer_scores(model, data),
    }


@torch.no_grad()
def layer_scores(model: DeepDae, data) -> dict[str, float]:
    """5-NN accuracy of each level's codes for the first held-out digits (slide 12, beside the classifier's)."""
    x, labels = data.x_test[:LAYER_DIGITS], data.y_test[:LAYER_DIGITS].numpy()
    layers = model.layers(x.to(model_device(model)))
    return {name: round(knn_accuracy(h.cpu().numpy(), labels), 4) for name, h in layers.items()}


register(ModelSpec(
    name="dae",
    title="Deep denoising autoencoder (MNIST)",
    page="manifold",
    config_cls=DaeConfig,
    presets={
        "tiny": DaeConfig(h1=32, h2=16, code=8, steps=40, batch_size=32, eval_pairs=12, eval_points=5,
                          scorer="tiny"),
        "cpu": DaeConfig(),
        "gpu": DaeConfig(h1=1000, h2=500, code=64, steps=60000, batch_size=256, eval_pairs=1000),
    },
    build=DeepDae,
    data=lambda config: load_mnist(),
    train_step=train_step,
    evaluate=evaluate,
    requires=lambda config: {"mnist_classifier": config.scorer},
))
