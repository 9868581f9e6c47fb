"""Real photos that installed packages ship (scikit-image's sample data, Matplotlib's sample data), read from disk
without importing those packages, and a clip panned across two of them.

They are what the captioning studio offers before anyone uploads, and what the tests describe. Each comes with
the words a person would accept for its main object, so the pretrained photo models can be scored on them.
"""
from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine.data import package_file


@dataclass(frozen=True)
class SamplePhoto:
    package: str
    path: str                   # inside the package
    about: str
    expected: tuple[str, ...]   # any of these words names its main object


# Every photo of these packages that shows an object with a name in COCO's or ImageNet's vocabulary. Left out:
# textures (brick, grass, gravel), microscopy, astronomy, text, logos and charts, which neither vocabulary names.
SAMPLES = {
    "chelsea": SamplePhoto("skimage", "data/chelsea.png", "Chelsea the cat (scikit-image)", ("cat",)),
    "coffee": SamplePhoto("skimage", "data/coffee.png", "a cup of coffee (scikit-image)", ("cup", "mug")),
    "astronaut": SamplePhoto("skimage", "data/astronaut.png", "Eileen Collins, astronaut (scikit-image)",
                             ("person",)),
    "camera": SamplePhoto("skimage", "data/camera.png", "the cameraman (scikit-image)", ("person", "tripod")),
    "grace_hopper": SamplePhoto("matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
                                "Rear Admiral Grace Hopper (Matplotlib)", ("person",)),
    "motorcycle": SamplePhoto("skimage", "data/motorcycle_left.png", "a motorcycle (scikit-image, left view)",
                              ("motorcycle",)),
    "motorcycle_right": SamplePhoto("skimage", "data/motorcycle_right.png",
                                    "a motorcycle (scikit-image, right view)", ("motorcycle",)),
    "rocket": SamplePhoto("skimage", "data/rocket.jpg", "a rocket on its launch pad (scikit-image)",
                          ("rocket", "missile", "projectile")),
    "clock": SamplePhoto("skimage", "data/clock_motion.png", "a clock, blurred by motion (scikit-image)",
                         ("clock",)),
    "horse": SamplePhoto("skimage", "data/horse.png", "a horse's silhouette (scikit-image)", ("horse",)),
}


def sample_photo(name: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB."""
    with Image.open(package_file(SAMPLES[name].package, SAMPLES[name].path)) as img:
        return np.asarray(img.convert("RGB"))


def panned_clip(names: tuple[str, ...] = ("grace_hopper", "chelsea"), frames: int = 16, height: int = 240,
                width: int = 320) -> np.ndarray:
    """(frames, height, width, 3) uint8: a camera panning left to right across the photos set side by side, so
    each comes into view in turn ("a person, then a cat")."""
    strips = []
    for name in names:
        rgb = sample_photo(name)
        strips.append(np.asarray(Image.fromarray(rgb).resize((round(rgb.shape[1] * height / rgb.shape[0]), height),
                                                             Image.BILINEAR)))
    strip = np.concatenate(strips, axis=1)
    if strip.shape[1] < width:
        raise ValueError(f"the photos are {strip.shape[1]} px wide together, narrower than the {width} px view")
    starts = np.linspace(0, strip.shape[1] - width, frames).round().astype(int)
    return np.stack([strip[:, x:x + width] for x in starts])
