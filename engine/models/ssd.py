"""SSD MobileNet v2 (Liu et al. 2016, arXiv 1512.02325; Sandler et al. 2018, arXiv 1801.04381) in PyTorch, with the
COCO weights of TensorFlow's model zoo as a pip package ships them.

The package ships a frozen TensorFlow graph; OpenCV's DNN module reads it (its weights, its batch norms, and the
prior boxes its graph text describes), and the network runs here, batch norms folded, tensors channels-last, and
many users' scripts can run it at once (OpenCV's network object takes one at a time). The pages serve it with its
label-score heads in 8-bit integers (with_int8_scores): those six convolutions are 2.3 of its 3.75 GFLOP, and in
integers a photo takes 49 ms of a core instead of 75, its scores within 0.03 of the exact network's.

    x = 2 p / 255 - 1 for RGB pixels p of the photo squeezed to 300 x 300
    MobileNet v2: inverted bottlenecks (1 x 1 expansion, depthwise 3 x 3, 1 x 1 projection), ReLU6, TensorFlow's
        'SAME' padding; six feature maps (19, 10, 5, 3, 2, 1 cells on a side): the 13th block's expansion, the
        last 1 x 1 convolution, and four extra depthwise-separable stride-2 layers
    each map: a 3 x 3 convolution scores 91 COCO labels (sigmoid, 0 = background) for every prior box of a cell,
        another predicts each prior's box offsets (t_x, t_y, t_w, t_h)
    box = centre (c_p + v_0 t_x w_p, ...), size (w_p exp(v_2 t_w), h_p exp(v_3 t_h)), v = (0.1, 0.1, 0.2, 0.2)
    per label: boxes over the score threshold, greedy non-maximum suppression at IoU 0.6, at most 100 in all

tests/unit/test_ssd.py checks the exact network's boxes and scores against OpenCV's runtime of the same graph, and
the served one's against the exact one's.
"""
import copy
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.models.common import TF_BN_EPS, SameConv

SIDE = 300                      # the graph's input
LABELS = 91                     # COCO's 90 ids and the background (0)
VARIANCE = (0.1, 0.1, 0.2, 0.2)
NMS_IOU, TOP_K = 0.6, 100       # the graph's DetectionOutput: suppression overlap, boxes kept per label and in all
# MobileNet v2's bottlenecks: (expansion, out channels, repeats, first stride); block names count from 0.
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
TAP_BLOCK = 13                  # the first feature map is this block's expansion (576 channels, 19 x 19)
EXTRAS = ((256, 512), (128, 256), (128, 256), (64, 128))     # (1 x 1 channels, stride-2 separable channels)
ANCHORS = (3, 6, 6, 6, 6, 6)    # prior boxes per cell on each feature map
BACKBONE = "FeatureExtractor/MobilenetV2/"


class Conv(SameConv):
    """A convolution with its batch norm folded in (a bias), padded like TensorFlow's 'SAME'; ReLU6 after it if
    `relu`."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 1, stride: int = 1, groups: int = 1, relu: bool = True):
        super().__init__(c_in, c_out, kernel, stride, groups=groups)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = super().forward(x)
        return F.relu6(x) if self.relu else x


class Bottleneck(nn.Module):
    def __init__(self, c_in: int, c_out: int, expand: int, stride: int):
        super().__init__()
        mid = c_in * expand
        self.expand = Conv(c_in, mid) if expand != 1 else None
        self.depthwise = Conv(mid, mid, 3, stride, groups=mid)
        self.project = Conv(mid, c_out, relu=False)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor, expanded: torch.Tensor | None = None) -> torch.Tensor:
        y = expanded if expanded is not None else (self.expand(x) if self.expand is not None else x)
        y = self.project(self.depthwise(y))
        return x + y if self.residual else y


class SsdMobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Conv(3, 32, 3, 2)
        blocks, c_in = [], 32
        for expand, c_out, repeats, stride in STAGES:
            for r in range(repeats):
                blocks.append(Bottleneck(c_in, c_out, expand, stride if r == 0 else 1))
                c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self.head = Conv(320, 1280)
        extras, c_in = [], 1280
        for mid, c_out in EXTRAS:
            extras.append(nn.Sequential(Conv(c_in, mid), Conv(mid, mid, 3, 2, groups=mid), Conv(mid, c_out)))
            c_in = c_out
        self.extras = nn.ModuleList(extras)
        maps = (576, 1280) + tuple(c for _, c in EXTRAS)
        self.scores = nn.ModuleList(Conv(c, a * LABELS, 3, relu=False) for c, a in zip(maps, ANCHORS))
        self.offsets = nn.ModuleList(Conv(c, a * 4, 3, relu=False) for c, a in zip(maps, ANCHORS))

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        maps = []
        for i, block in enumerate(self.blocks):
            if i == TAP_BLOCK:
                maps.append(block.expand(x))
                x = block(x, maps[-1])
            else:
                x = block(x)
        maps.append(self.head(x))
        for extra in self.extras:
            maps.append(extra(maps[-1]))
        return maps

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised pixels (B, 3, 300, 300) -> label scores (B, P, 91) and box offsets (B, P, 4) of the P = 1917
        prior boxes, in the priors' order (feature map, row, column, anchor)."""
        maps = self.feature_maps(x)
        b = x.shape[0]
        scores = torch.cat([s(m).permute(0, 2, 3, 1).reshape(b, -1, LABELS) for s, m in zip(self.scores, maps)], 1)
        offsets = torch.cat([o(m).permute(0, 2, 3, 1).reshape(b, -1, 4) for o, m in zip(self.offsets, maps)], 1)
        return torch.sigmoid(scores), offsets


SCORE_LOGITS = (-4.0, 8.0)      # the 8-bit score heads' output range: scores 0.018 to 0.9997, within 0.006 at 0.6
RELU6_STEPS = 127               # a ReLU6 map in 7 bits: FBGEMM's products of 8-bit pairs would overflow 16 bits
# PyTorch marks its quantized tensors for removal in a later release (pytorch/pytorch#184982); the pinned one has them
# and tests/unit/test_ssd.py runs them. Said once here, not at every server's first photo.
warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel .* deprecated")


class Int8Scores(nn.Module):
    """A label-score head (a 3 x 3 convolution, stride 1, of a ReLU6 map) in 8-bit integers, run by FBGEMM: the
    map quantized on its known range [0, 6], the weights per output channel, the logits read back on SCORE_LOGITS
    (below it a score is under 0.02, above it over 0.9996)."""

    def __init__(self, conv: Conv):
        super().__init__()
        assert conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.groups == 1 and not conv.relu
        weight = conv.weight.detach().float().contiguous()
        scales = (weight.abs().amax((1, 2, 3)).clamp(min=1e-12) / 127).double()
        weight = torch.quantize_per_channel(weight, scales, torch.zeros(len(weight), dtype=torch.long), 0, torch.qint8)
        self.conv = torch.ao.nn.quantized.Conv2d(conv.in_channels, conv.out_channels, 3, padding=1)
        self.conv.set_weight_bias(weight, conv.bias.detach().float())
        low, high = SCORE_LOGITS
        self.conv.scale = (high - low) / 255
        self.conv.zero_point = round(-low / self.conv.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.quantize_per_tensor(x, 6 / RELU6_STEPS, 0, torch.quint8)).dequantize()


def with_int8_scores(model: SsdMobileNetV2) -> SsdMobileNetV2:
    """The model with its label-score heads in 8-bit integers (Int8Scores), sharing every other layer with it."""
    served = copy.copy(model)
    served._modules = dict(model._modules)
    served.scores = nn.ModuleList(Int8Scores(head) for head in model.scores)
    return served


def layer_names(model: SsdMobileNetV2) -> dict[nn.Conv2d, str]:
    """Each convolution of the model -> the graph's name of that convolution (its batch norm shares the prefix)."""
    names = {model.stem: BACKBONE + "Conv", model.head: BACKBONE + "Conv_1"}
    for i, block in enumerate(model.blocks):
        prefix = BACKBONE + ("expanded_conv" if i == 0 else f"expanded_conv_{i}")
        if block.expand is not None:
            names[block.expand] = prefix + "/expand"
        names[block.depthwise] = prefix + "/depthwise"
        names[block.project] = prefix + "/project"
    for i, ((mid, c_out), extra) in enumerate(zip(EXTRAS, model.extras), start=2):
        names[extra[0]] = BACKBONE + f"layer_19_1_Conv2d_{i}_1x1_{mid}"
        names[extra[1]] = BACKBONE + f"layer_19_2_Conv2d_{i}_3x3_s2_{c_out}_depthwise"
        names[extra[2]] = BACKBONE + f"layer_19_2_Conv2d_{i}_3x3_s2_{c_out}"
    for i, (s, o) in enumerate(zip(model.scores, model.offsets)):
        names[s], names[o] = f"BoxPredictor_{i}/ClassPredictor", f"BoxPredictor_{i}/BoxEncodingPredictor"
    return names


@dataclass(frozen=True)
class Priors:
    centres: torch.Tensor       # (P, 2): x, y as fractions of the image
    sizes: torch.Tensor         # (P, 2): width, height


def read_graph(graph: str, text: str) -> tuple[SsdMobileNetV2, Priors]:
    """The network with the graph's weights (batch norms folded into their convolutions), and its prior boxes, as
    OpenCV's DNN module reads them from the frozen graph and its text description."""
    import cv2

    net = cv2.dnn.readNetFromTensorflow(graph, text, cv2.dnn.ENGINE_CLASSIC)
    net.setInput(np.zeros((1, 3, SIDE, SIDE), np.float32))
    corners = net.forward("PriorBox/concat")[0, 0].reshape(-1, 4)         # (P, 4): x0, y0, x1, y1; then variances
    layers = {name: net.getLayer(net.getLayerId(name)) for name in net.getLayerNames()}
    model = SsdMobileNetV2()
    with torch.no_grad():
        for conv, name in layer_names(model).items():
            kind = "depthwise" if name.endswith("depthwise") else "Conv2D"
            weight_blobs = layers[f"{name}/{kind}"].blobs
            weight = torch.from_numpy(weight_blobs[0])
            norm = layers.get(f"{name}/BatchNorm/batchnorm/add_1")
            if norm is None:                                                 # the box predictors: a plain bias
                bias = torch.from_numpy(weight_blobs[1]).reshape(-1)
            else:
                mean, var, gamma, beta = (torch.from_numpy(b).reshape(-1) for b in norm.blobs)
                scale = gamma / torch.sqrt(var + TF_BN_EPS)
                weight, bias = weight * scale[:, None, None, None], beta - mean * scale
            conv.weight.copy_(weight)
            conv.bias.copy_(bias)
    corners = torch.from_numpy(corners)
    priors = Priors((corners[:, :2] + corners[:, 2:]) / 2, corners[:, 2:] - corners[:, :2])
    return model.eval(), priors


def network_input(rgb: np.ndarray) -> torch.Tensor:
    """An RGB photo as the network takes it: squeezed to 300 x 300 as OpenCV's runtime of the graph squeezes it
    (bilinear), then 2 p / 255 - 1; (1, 3, 300, 300), channels-last."""
    import cv2

    blob = cv2.dnn.blobFromImage(np.ascontiguousarray(rgb), size=(SIDE, SIDE), swapRB=False)
    return (torch.from_numpy(blob) * (2 / 255) - 1).contiguous(memory_format=torch.channels_last)


def boxes(offsets: torch.Tensor, priors: Priors) -> torch.Tensor:
    """Box offsets (..., P, 4) -> boxes (..., P, 4) as (x0, y0, x1, y1) fractions of the image."""
    v = torch.tensor(VARIANCE, dtype=offsets.dtype)
    centres = priors.centres + offsets[..., :2] * v[:2] * priors.sizes
    sizes = priors.sizes * torch.exp(offsets[..., 2:] * v[2:])
    return torch.cat([centres - sizes / 2, centres + sizes / 2], -1)


def suppress(boxes: torch.Tensor, scores: torch.Tensor) -> list[int]:
    """Greedy non-maximum suppression: the indices kept, surest first, each overlapping no surer kept box by more
    than NMS_IOU (boxes (N, 4), scores (N,))."""
    order = scores.argsort(descending=True)[:TOP_K]
    boxes = boxes[order]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    low = torch.maximum(boxes[:, None, :2], boxes[None, :, :2])
    high = torch.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = (high - low).clamp(min=0).prod(-1)
    iou = inter / (area[:, None] + area[None, :] - inter)
    kept: list[int] = []
    for i in range(len(order)):
        if all(iou[i, k] <= NMS_IOU for k in kept):
            kept.append(i)
    return [int(order[k]) for k in kept]


def detections(scores: torch.Tensor, offsets: torch.Tensor, priors: Priors, threshold: float
               ) -> list[tuple[int, float, tuple[float, float, float, float]]]:
    """One image's (label, score, box) over `threshold`, per label after suppression, surest first, at most
    TOP_K (scores (P, 91), offsets (P, 4))."""
    found = []
    decoded = boxes(offsets, priors)
    for label in torch.nonzero((scores[:, 1:] >= threshold).any(0)).flatten().tolist():
        label += 1
        candidates = torch.nonzero(scores[:, label] >= threshold).flatten()
        for k in suppress(decoded[candidates], scores[candidates, label]):
            p = int(candidates[k])
            found.append((label, float(scores[p, label]), tuple(decoded[p].tolist())))
    return sorted(found, key=lambda d: -d[1])[:TOP_K]
