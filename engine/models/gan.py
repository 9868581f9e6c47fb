"""A DCGAN-style generative adversarial net on MNIST (Goodfellow et al. 2014, "Generative Adversarial Nets",
arXiv 1406.2661; the convolutional players follow Radford et al. 2015, arXiv 1511.06434, with the discriminator
spectrally normalised as in Miyato et al. 2018, arXiv 1802.05957).

The game (eq. 1):
    min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],   z ~ N(0, I)
trained with the non-saturating generator loss -log D(G(z)) and one discriminator step per generator step.

Each player has a stride-1 convolution at 7 x 7 (config.convs_7x7), where a digit's whole shape is in view.

The model keeps its training trajectory: a fixed 8 x 8 grid of latent vectors rendered at evenly spaced steps.
With z_dim = 2 the whole learned manifold fits on one picture: G over a grid of the latent plane (slide 99).
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.analysis.generative import class_coverage, frechet_distance, step_ratio, walk
from engine.analysis.interpolation import nearest_distance
from engine.data.mnist import load_mnist
from engine.models.common import adam, model_device, sample_batch, snapshot_row
from engine.models.gan2d import d_loss, g_loss
from engine.registry import ModelSpec, register

TRACE_SAMPLES = 64          # the fixed latent grid: 8 x 8 digits per snapshot
EVAL_SAMPLES = 1000
WALK_PAIRS, WALK_FRAMES = 50, 16
# The 2-D GAN of slide 99 keeps the plainer players: with a 2-d z they already cover 10/10 classes.
MANIFOLD_VARIANT = {"z_dim": 2, "convs_7x7": 0}


@dataclass(frozen=True)
class GanConfig:
    z_dim: int = 64             # 100 in DCGAN; 64 is plenty for 4,500 digits. 2 gives the drawable manifold
    g_channels: int = 32        # G: z -> 2c x 7 x 7 -> c x 14 x 14 -> 28 x 28 (DCGAN uses 128+)
    d_channels: int = 32        # D mirrors it: 28 x 28 -> c x 14 x 14 -> 2c x 7 x 7 -> 1
    convs_7x7: int = 1          # stride-1 3 x 3 convolutions at 7 x 7 in each player, where G lays out a digit's
                                # shape and D judges it whole. Without: 3s too malformed to be read as 3s (3.9% of
                                # samples, 9/10 classes, Frechet distance 132). With one, seeds 0 / 1 / 2: 10/10,
                                # smallest class 5.8% / 7.0% / 7.6%, Frechet distance 92.8 / 74.0 / 58.0
    steps: int = 12000          # generator steps: about 10 minutes on 2 cores (6 without convs_7x7)
    batch_size: int = 64
    lr: float = 4e-4            # both players; at 2e-4 (DCGAN) 8,000 steps reached Frechet distance 245, at 4e-4 197
    beta1: float = 0.5          # DCGAN: with Adam's default 0.9 the game oscillates and training is unstable
    shift: int = 2              # D sees every image, real or generated, moved by up to this many pixels
    snapshots: int = 24         # recorded states of the latent grid besides the initial one
    scorer: str = "cpu"         # preset of mnist_classifier that judges the samples
    seed: int = 0


class Generator(nn.Module):
    def __init__(self, config: GanConfig):
        super().__init__()
        c = config.g_channels
        self.project = nn.Linear(config.z_dim, 2 * c * 7 * 7)
        # Batch norm in every layer but the output (DCGAN): without it the generator collapses early.
        at_7x7 = [layer for _ in range(config.convs_7x7)
                  for layer in (nn.Conv2d(2 * c, 2 * c, 3, 1, 1), nn.BatchNorm2d(2 * c), nn.ReLU())]
        self.net = nn.Sequential(
            nn.BatchNorm2d(2 * c), nn.ReLU(), *at_7x7,                                 # (B, 2c, 7, 7)
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.BatchNorm2d(c), nn.ReLU(),       # (B, c, 14, 14)
            nn.ConvTranspose2d(c, 1, 4, 2, 1))                                         # (B, 1, 28, 28)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(len(z), -1, 7, 7)                                     # (B, 2c, 7, 7)
        return torch.sigmoid(self.net(h)).flatten(1)                                   # (B, 784) in [0, 1]


class Discriminator(nn.Module):
    def __init__(self, config: GanConfig):
        super().__init__()
        c = config.d_channels
        # Strided convolutions and LeakyReLU as in DCGAN, but spectral normalisation (Miyato et al. 2018,
        # arXiv 1802.05957) instead of batch norm: every layer's largest singular value is kept at 1, so D cannot
        # grow sharp around the few modes G found. Measured on the cpu preset: batch norm in D left 6 of 10 digit
        # classes under 5% of the samples; spectral normalisation brought all but one up.
        sn = nn.utils.parametrizations.spectral_norm
        at_7x7 = [layer for _ in range(config.convs_7x7)
                  for layer in (sn(nn.Conv2d(2 * c, 2 * c, 3, 1, 1)), nn.LeakyReLU(0.2))]
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, c, 4, 2, 1)), nn.LeakyReLU(0.2),                           # (B, c, 14, 14)
            sn(nn.Conv2d(c, 2 * c, 4, 2, 1)), nn.LeakyReLU(0.2), *at_7x7,              # (B, 2c, 7, 7)
            nn.Flatten(), sn(nn.Linear(2 * c * 7 * 7, 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.view(-1, 1, 28, 28))                                         # (B, 1) logits


class Gan(nn.Module):
    def __init__(self, config: GanConfig):
        super().__init__()
        self.z_dim = config.z_dim
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)
        s = config.snapshots + 1
        self.register_buffer("trace_step", torch.zeros(s))
        self.register_buffer("trace_grid", torch.zeros(s, TRACE_SAMPLES, 784))       # G(z_grid) per snapshot
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """D(x) (B,): the discriminator's probability that images x (B, 784) are real."""
        return torch.sigmoid(self.discriminator(x)).squeeze(-1)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch: int = 500) -> torch.Tensor:
        """Images (N, 784) for latent vectors z (N, z_dim), with batch norm in inference mode."""
        training = self.generator.training
        self.generator.eval()
        dev = model_device(self)
        out = torch.cat([self.generator(z[i:i + batch].to(dev)).cpu() for i in range(0, len(z), batch)])
        self.generator.train(training)
        return out

    def latents(self, n: int, seed: int) -> torch.Tensor:
        return torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(seed))

    def manifold(self, extent: float, n: int) -> np.ndarray:
        """For z_dim = 2: G over an n x n grid of [-extent, extent]^2, rows top to bottom = z_2 high to low:
        (n, n, 784)."""
        if self.z_dim != 2:
            raise ValueError("the learned manifold is drawn for a 2-dimensional latent space only")
        axis = torch.linspace(-extent, extent, n)
        z2, z1 = torch.meshgrid(axis.flip(0), axis, indexing="ij")
        z = torch.stack([z1.reshape(-1), z2.reshape(-1)], 1)                           # (n*n, 2)
        return self.generate(z).view(n, n, 784).numpy()

    def walk(self, seeds: list[int], frames_per_leg: int, spherical: bool) -> np.ndarray:
        """Images (F, 784) along a walk through the latent vectors drawn from `seeds`."""
        waypoints = torch.cat([self.latents(1, s) for s in seeds])                      # (W, z)
        return self.generate(walk(waypoints, frames_per_leg, spherical)).numpy()

    def trajectory(self) -> dict:
        return {"step": self.trace_step.long().cpu().numpy(), "grid": self.trace_grid.cpu().numpy()}


# ---------------------------------------------------------------- training

def optimizers(model: Gan, config: GanConfig) -> dict:
    betas = (config.beta1, 0.999)
    return {"d": adam(model.discriminator.parameters(), config.lr, betas=betas),
            "g": adam(model.generator.parameters(), config.lr, betas=betas)}


def trace_latents(config: GanConfig) -> torch.Tensor:
    return torch.randn(TRACE_SAMPLES, config.z_dim, generator=torch.Generator().manual_seed(config.seed + 1))


@torch.no_grad()
def record(model: Gan, config: GanConfig) -> None:
    done = int(model.steps_done)
    i = snapshot_row(done, config.steps, config.snapshots)
    if i is None:
        return
    model.trace_step[i] = done
    model.trace_grid[i] = model.generate(trace_latents(config)).to(model.trace_grid.device)


def translate(x: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image of (B, 784) moved by its own random offset of up to `shift` pixels, zeros shifted in.

    Differentiable augmentation (Zhao et al. 2020, arXiv 2006.10738): with 4,500 digits the discriminator soon
    memorises the real ones and its gradient stops teaching the generator; translating real and generated images
    alike takes that shortcut away while the generator still has to make digits.
    """
    if shift == 0:
        return x
    b = len(x)
    padded = F.pad(x.view(b, 28, 28), (shift, shift, shift, shift))                  # (B, 28 + 2s, 28 + 2s)
    dy, dx = torch.randint(0, 2 * shift + 1, (2, b, 1), generator=generator).to(x.device)
    rows = torch.arange(28, device=x.device)[None] + dy                             # (B, 28)
    cols = torch.arange(28, device=x.device)[None] + dx
    return padded[torch.arange(b, device=x.device)[:, None, None], rows[:, :, None], cols[:, None, :]].flatten(1)


def train_step(model, data, config, generator, opts) -> float:
    """One discriminator step on a real and a generated batch, then one generator step (non-saturating loss)."""
    if int(model.steps_done) == 0:
        record(model, config)
    dev = model_device(model)
    (real,) = sample_batch(data.x_train, config.batch_size, generator)
    z = torch.randn(config.batch_size, config.z_dim, generator=generator).to(dev)
    fake = model.generator(z)
    seen_real, seen_fake = translate(real.to(dev), config.shift, generator), translate(fake, config.shift, generator)
    loss_d = d_loss(model.discriminator(seen_real), model.discriminator(seen_fake.detach()))
    opts["d"].zero_grad(set_to_none=True)
    loss_d.backward()
    opts["d"].step()
    loss_g = g_loss(model.discriminator(seen_fake), "nonsaturating").mean()
    opts["g"].zero_grad(set_to_none=True)
    loss_g.backward()
    opts["g"].step()
    model.steps_done += 1
    record(model, config)
    return loss_d.item()


# ---------------------------------------------------------------- evaluation

@torch.no_grad()
def features(classifier, x: torch.Tensor, batch: int = 1000) -> np.ndarray:
    classifier.eval()
    dev = model_device(classifier)
    return torch.cat([classifier.features(x[i:i + batch].to(dev)).cpu() for i in range(0, len(x), batch)]).numpy()


def walk_scores(model: Gan, classifier, seed: int) -> dict:
    """Spherical latent walks between random pairs, against pixel blends of the same two end images: the
    classifier's confidence on the interior frames, and how even the walk's steps are in pixel space."""
    g = torch.Generator().manual_seed(seed)
    walk_conf, blend_conf, ratios = [], [], []
    t = torch.linspace(0, 1, WALK_FRAMES)
    for _ in range(WALK_PAIRS):
        ends = torch.randn(2, model.z_dim, generator=g)
        frames = model.generate(walk(ends, WALK_FRAMES - 1, spherical=True))              # (F, 784)
        blend = (1 - t)[:, None] * frames[:1] + t[:, None] * frames[-1:]                # (F, 784)
        walk_conf.append(classifier.confidence(frames[1:-1])[0].mean().item())
        blend_conf.append(classifier.confidence(blend[1:-1])[0].mean().item())
        ratios.append(step_ratio(frames))
    return {"walk_confidence": round(float(np.mean(walk_conf)), 4),
            "pixel_blend_confidence": round(float(np.mean(blend_conf)), 4),
            "walk_step_ratio": round(float(np.median(ratios)), 3)}


def nearest_training_digits(samples: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """For images (N, 784): the nearest training digit of each (N, 784) and its Euclidean distance (N,)."""
    train = load_mnist().x_train
    dist, idx = nearest_distance(samples, train)
    return train[idx].numpy(), dist.numpy()


def evaluate(model, data, config, deps):
    classifier = deps["mnist_classifier"]
    samples = model.generate(model.latents(EVAL_SAMPLES, seed=config.seed + 2))
    conf, pred = classifier.confidence(samples)
    covered, shares = class_coverage(pred)
    held_out = features(classifier, data.x_test)
    half = len(data.x_test)
    sample_nn, _ = nearest_distance(samples, data.x_train)
    test_nn, _ = nearest_distance(data.x_test, data.x_train)
    return {"class_coverage": covered, "class_shares": shares,
            "classifier_confidence": round(conf.mean().item(), 4),
            "fid_classifier": round(frechet_distance(features(classifier, samples[:half]), held_out), 3),
            "fid_real_floor": round(frechet_distance(features(classifier, data.x_train[:half]), held_out), 3),
            "sample_nn_distance": round(sample_nn.mean().item(), 4),
            "test_nn_distance": round(test_nn.mean().item(), 4),
            **walk_scores(model, classifier, seed=config.seed + 3),
            "samples": EVAL_SAMPLES, "test_images": half}


register(ModelSpec(
    name="gan",
    title="DCGAN on MNIST",
    page="gan",
    config_cls=GanConfig,
    presets={
        "tiny": GanConfig(g_channels=4, d_channels=4, steps=30, batch_size=16, snapshots=3, scorer="tiny"),
        "cpu": GanConfig(),
        "gpu": GanConfig(z_dim=100, g_channels=128, d_channels=128, steps=30000, batch_size=128, snapshots=60),
    },
    build=Gan,
    data=lambda config: load_mnist(),
    train_step=train_step,
    optimizers=optimizers,
    evaluate=evaluate,
    requires=lambda config: {"mnist_classifier": config.scorer},
    variants=(MANIFOLD_VARIANT,),
))
