"""An MNIST convnet (LeCun et al. 1998, "Gradient-based learning applied to document recognition").

Trained independently of the autoencoders, it scores how digit-like an image is: the plausibility of an
interpolant is the classifier's confidence max_k p(y = k | x), next to the distance to the nearest real digit.
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.analysis.representations import LAYER_DIGITS, knn_accuracy
from engine.data.mnist import load_mnist
from engine.models.common import model_device, sample_batch
from engine.registry import ModelSpec, register


@dataclass(frozen=True)
class ClassifierConfig:
    channels: int = 32      # first conv width; the second has twice as many
    hidden: int = 128       # fully connected layer before the softmax
    dropout: float = 0.3    # 4,500 training digits overfit quickly without it
    max_shift: int = 2      # random translation in pixels: cheap augmentation for a small training set
    steps: int = 3000
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0


class DigitNet(nn.Module):
    def __init__(self, config: ClassifierConfig):
        super().__init__()
        c = config.channels
        self.conv1 = nn.Conv2d(1, c, 5, padding=2)
        self.conv2 = nn.Conv2d(c, 2 * c, 5, padding=2)
        self.fc = nn.Linear(2 * c * 7 * 7, config.hidden)
        self.out = nn.Linear(config.hidden, 10)
        self.dropout = nn.Dropout(config.dropout)

    def layers(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every hidden layer for digits x (B, 784), input side first, each flattened to (B, width)."""
        h1 = F.max_pool2d(F.relu(self.conv1(x.view(-1, 1, 28, 28))), 2)    # (B, c, 14, 14)
        h2 = F.max_pool2d(F.relu(self.conv2(h1)), 2)                        # (B, 2c, 7, 7)
        top = F.relu(self.fc(h2.flatten(1)))                                # (B, hidden)
        return {"classifier conv 1": h1.flatten(1), "classifier conv 2": h2.flatten(1), "classifier top hidden": top}

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer (B, hidden): the space Frechet distances between digit sets are measured in."""
        return self.layers(x)["classifier top hidden"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(self.features(x)))    # (B, 10) logits

    @torch.no_grad()
    def confidence(self, x: torch.Tensor, batch: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
        """(max probability, predicted class) per image of (N, 784), with dropout off."""
        self.eval()
        probs = torch.cat([F.softmax(self(x[i:i + batch].to(model_device(self))), -1).cpu()
                           for i in range(0, len(x), batch)])
        return probs.max(-1)


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    if max_shift == 0:
        return x
    dx, dy = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
    return torch.roll(x.view(-1, 28, 28), shifts=(dy, dx), dims=(1, 2)).reshape(-1, 784)


def train_step(model, data, config, generator):
    x, y = sample_batch(data.x_train, config.batch_size, generator, data.y_train)
    x = random_shift(x, config.max_shift, generator)
    dev = model_device(model)
    return F.cross_entropy(model(x.to(dev)), y.to(dev))


def evaluate(model, data, config, deps):
    _, pred = model.confidence(data.x_test)
    x, labels = data.x_test[:LAYER_DIGITS], data.y_test[:LAYER_DIGITS].numpy()
    model.eval()
    with torch.no_grad():
        layers = {"pixels": x, **{k: v.cpu() for k, v in model.layers(x.to(model_device(model))).items()}}
    return {"test_accuracy": round((pred == data.y_test).float().mean().item(), 4),
            "test_images": len(data.y_test),
            "layer_knn_accuracy": {name: round(knn_accuracy(h.numpy(), labels), 4) for name, h in layers.items()},
            "layer_digits": len(labels)}


register(ModelSpec(
    name="mnist_classifier",
    title="MNIST convnet (plausibility scorer)",
    page="manifold",
    config_cls=ClassifierConfig,
    presets={
        "tiny": ClassifierConfig(channels=4, hidden=16, steps=60, batch_size=32, lr=3e-3),
        "cpu": ClassifierConfig(),
        "gpu": ClassifierConfig(channels=64, hidden=256, steps=20000, batch_size=128),
    },
    build=DigitNet,
    data=lambda config: load_mnist(),
    train_step=train_step,
    evaluate=evaluate,
))
