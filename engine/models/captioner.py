"""Captions with visible attention: over the places of an image, and over the frames of a video.

Images: Xu et al. 2015, "Show, Attend and Tell: Neural Image Caption Generation with Visual Attention",
arXiv 1502.03044. A convolutional encoder gives L annotation vectors a_i (one per cell of its last feature grid);
an LSTM writes the caption, and before each word it looks at the image through soft attention (section 4.2):
    e_ti = f_att(a_i, h_{t-1}) = w^T tanh(W_a a_i + W_h h_{t-1}),   alpha_t = softmax_i(e_t)
    z_t = beta_t sum_i alpha_ti a_i,   beta_t = sigmoid(f_beta(h_{t-1}))                  (the gating scalar)
    h_t = LSTM(h_{t-1}, [E y_{t-1}; z_t]),   p(y_t) = softmax(L_o(E y_{t-1} + L_h h_t + L_z z_t))  (deep output)
    h_0, c_0 = f_init(mean_i a_i)
Training adds the "doubly stochastic" penalty lambda * sum_i (1 - sum_t alpha_ti)^2 (eq. 14), which asks every
place to be looked at about once over the whole caption.

Videos: Yao et al. 2015, "Describing Videos by Exploiting Temporal Structure", arXiv 1502.08029. The same decoder
attends over the T frames instead of the L places (section 2.3): one feature vector per frame, from a CNN that also
sees the frame's difference to the previous one (the paper's local motion features come from a 3-D CNN), plus a
learned embedding of the frame's time.

Both learn on synthetic worlds (engine.data.scenes) that know each object's box and each event's frames, so the
attention can be scored: does the word "triangle" look at the triangle, does "enters" look at the frames where
something enters?
"""
import collections
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sacrebleu
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from engine.data import DataError, caption_sets, media, scenes
from engine.models import common, vision
from engine.models.common import BOS, EOS, PAD, Vocab, model_device, pad
from engine.registry import ModelSpec, added, register

# Xu et al. 2015, Table 1: BLEU-4 (0-100) with soft attention, and the best earlier result on each set.
PAPER_BLEU4 = {"Flickr8k": 19.5, "Flickr30k": 19.1, "COCO": 24.3}
# Yao et al. 2015, Table 1: BLEU-4 on Youtube2Text with temporal attention (local + global).
PAPER_VIDEO_BLEU4 = 41.92
MAX_WORDS = 40                     # longest caption a model may write (the grammar's longest is shorter)


@dataclass(frozen=True)
class CaptionConfig:
    size: int = 64              # image side in pixels (the paper: 224 x 224 photos)
    train_scenes: int = 20000   # generated training scenes, 5 reference captions each (Flickr8k: 6,000 photos)
    test_scenes: int = 500      # held-out scenes for BLEU-4 and the attention hit rate
    channels: int = 64          # D, the length of each annotation vector (paper: 512, from VGG)
    grid: int = 16              # the annotation grid is grid x grid = L places (paper: 14 x 14 = 196); a cell is
                                # 4 px, so even the smallest shape covers several cells. With 8 x 8 cells of 8 px the
                                # peak of half the object words fell outside their object (hit rate 0.52)
    emb: int = 64               # word vectors; the synthetic vocabulary has a few dozen words
    hidden: int = 256           # LSTM units (paper: 1800)
    attend: int = 128           # hidden units of f_att
    doubly_stochastic: float = 1.0   # lambda of eq. 14 (paper: 1)
    start_from_image: bool = True    # h_0, c_0 = f_init(mean_i a_i) as in the paper; False starts from a learned
                                     # state, so all the decoder learns of the image comes through its attention
    steps: int = 3000           # minibatches: about 17 minutes on 2 cores
    batch_size: int = 64
    lr: float = 1e-3            # Adam (paper: RMSProp on Flickr8k, Adam on the others)
    beam: int = 3               # beam width of the captions that are scored and shown
    # Photos instead of scenes (python -m engine train captioner --preset gpu --set photos=PATH): a Flickr8k folder,
    # or with `annotations` a COCO images folder. Every 10th photo is held out; there are no boxes to score.
    photos: str = ""
    annotations: str = ""       # a COCO captions JSON for the photos folder
    vocab_size: int = 10000     # photos: the most frequent caption words kept (paper: 10,000)
    # The annotation vectors: "scratch", the CNN below trained with the captioner; or the last feature grid of the
    # ImageNet-pretrained EfficientNet-Lite0 (the paper used VGG's conv5_4), "lite0" frozen or "lite0-tuned" with
    # its last block and head trained too. Its cells are 32 px, so grid = size / 32 (224 px: the paper's 7 x 7 of
    # a 224 x 224 photo is 14 x 14 from VGG; 448 px gives that).
    encoder: str = added("scratch")
    seed: int = 0

    def __post_init__(self):
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, not {self.encoder!r}")
        if self.encoder != "scratch" and (self.size % 32 or self.grid != self.size // 32):
            raise ValueError(f"the pretrained encoder's cells are 32 px, so size must be a multiple of 32 and grid "
                             f"size / 32 (got size={self.size}, grid={self.grid}; e.g. size=224 grid=7)")


ENCODERS = ("scratch", "lite0", "lite0-tuned")


@dataclass(frozen=True)
class VideoCaptionConfig:
    size: int = 48              # frame side in pixels
    frames: int = 16            # T, frames per clip (paper: 26 sampled frames)
    train_videos: int = 6000    # generated training clips, 5 reference captions each (Youtube2Text: 1,200)
    test_videos: int = 300      # held-out clips
    channels: int = 48          # length of each frame's feature vector (paper: 1024 + 352 from GoogLeNet + 3-D CNN)
    emb: int = 64
    hidden: int = 256           # LSTM units (paper: 3518 in total)
    attend: int = 128
    doubly_stochastic: float = 0.0   # the video model has no such penalty in the paper: a word may use a few frames
    start_from_image: bool = True    # h_0, c_0 from the mean frame feature, as in the paper
    steps: int = 2000           # about 15 minutes on 2 cores
    batch_size: int = 32
    lr: float = 1e-3            # Adam (paper: Adadelta)
    beam: int = 3
    seed: int = 0


SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")


@functools.cache
def vocabulary(config=None) -> Vocab:
    """The synthetic worlds' words, fixed by their grammar, so a checkpoint's ids never depend on its data; for a
    model of photos, the training captions' vocab_size most frequent words (ties in alphabetical order)."""
    if not getattr(config, "photos", ""):
        return Vocab(SPECIALS + tuple(scenes.vocabulary()))
    counts = collections.Counter(w for item in photo_split(config)[0] for c in item.captions for w in c)
    return Vocab(SPECIALS + tuple(sorted(counts, key=lambda w: (-counts[w], w))[:config.vocab_size]))


# ---------------------------------------------------------------- encoders

def conv(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation),
                         nn.BatchNorm2d(c_out), nn.ReLU())


class ImageEncoder(nn.Module):
    """(B, 3, S, S) pixels in [0, 1] -> (B, L, D) annotation vectors, one per cell of a grid x grid map, each with a
    learned embedding of its place added (the decoder has to know where a cell is to say "left of")."""

    def __init__(self, config: CaptionConfig):
        super().__init__()
        d, stride = config.channels, config.size // config.grid
        layers, c = [], 3
        while stride > 1:                           # halve the resolution down to the grid
            layers.append(conv(c, d // 2 if c == 3 else d, stride=2))
            c, stride = layers[-1][0].out_channels, stride // 2
        # One more 3 x 3 layer: at 4 px cells a cell then sees 15 px around it, a small shape whole and a large one
        # in part but not the whole scene, so what an annotation says stays where it is and attention has to go
        # there to read it.
        layers.append(conv(c, d))
        self.net = nn.Sequential(*layers)
        self.place = nn.Parameter(torch.zeros(config.grid * config.grid, d))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        a = self.net(images)                                                   # (B, D, grid, grid)
        return a.flatten(2).transpose(1, 2) + self.place                      # (B, L, D)


class PretrainedEncoder(nn.Module):
    """(B, 3, S, S) pixels in [0, 1] -> (B, L, D): EfficientNet-Lite0's last feature grid (1280-d per 32 px cell,
    pretrained on ImageNet), projected to D, with a learned embedding of each place added."""

    TUNED = ("_blocks.15.", "_conv_head.", "_bn1.")     # the last block and the head

    def __init__(self, config: CaptionConfig):
        super().__init__()
        self.backbone = vision.lite0()
        for name, p in self.backbone.named_parameters():
            p.requires_grad = config.encoder == "lite0-tuned" and name.startswith(self.TUNED)
        self.project = nn.Linear(1280, config.channels)
        self.place = nn.Parameter(torch.zeros(config.grid * config.grid, config.channels))

    def train(self, mode: bool = True) -> "PretrainedEncoder":
        # The backbone's batch statistics stay ImageNet's: a few thousand caption photos must not move them.
        super().train(mode)
        self.backbone.eval()
        return self

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        a = self.backbone.features((images * 255 - vision.MEAN) / vision.STD)        # (B, 1280, grid, grid)
        return self.project(a.flatten(2).transpose(1, 2)) + self.place              # (B, L, D)


class FrameEncoder(nn.Module):
    """(B, T, 3, S, S) frames in [0, 1] -> (B, T, D): each frame and its difference to the previous frame through a
    small CNN, averaged over space, plus a learned embedding of the frame's time."""

    def __init__(self, config: VideoCaptionConfig):
        super().__init__()
        d = config.channels
        self.net = nn.Sequential(conv(6, d // 2, stride=2), conv(d // 2, d, stride=2), conv(d, d, stride=2),
                                 conv(d, d, dilation=2))
        self.time = nn.Parameter(torch.zeros(config.frames, d))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        b, t = frames.shape[:2]
        motion = frames - torch.cat([frames[:, :1], frames[:, :-1]], 1)          # (B, T, 3, S, S)
        x = torch.cat([frames, motion], 2).flatten(0, 1)                        # (B T, 6, S, S)
        features = self.net(x).mean((2, 3)).view(b, t, -1)                     # (B, T, D)
        return features + self.time[:t]


# ---------------------------------------------------------------- the attending decoder

class Attention(nn.Module):
    """f_att: alpha_t = softmax_i(w^T tanh(W_a a_i + W_h h_{t-1}))."""

    def __init__(self, features: int, hidden: int, attend: int):
        super().__init__()
        self.w_a = nn.Linear(features, attend)
        self.w_h = nn.Linear(hidden, attend)
        self.w = nn.Linear(attend, 1)

    def forward(self, wa: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return F.softmax(common.additive_scores(wa, self.w_h(h), self.w), -1)                   # (B, L)


class Decoder(nn.Module):
    """The LSTM that writes one word per step from a soft-attention glimpse z_t of the annotations."""

    def __init__(self, n_words: int, features: int, emb: int, hidden: int, attend: int, start_from_image: bool):
        super().__init__()
        self.start_from_image = start_from_image
        self.embed = nn.Embedding(n_words, emb, padding_idx=PAD)
        self.attention = Attention(features, hidden, attend)
        self.init_h = nn.Linear(features, hidden)
        self.init_c = nn.Linear(features, hidden)
        self.gate = nn.Linear(hidden, 1)                                        # f_beta
        self.lstm = nn.LSTMCell(emb + features, hidden)
        self.out_h = nn.Linear(hidden, emb)                                     # L_h
        self.out_z = nn.Linear(features, emb)                                   # L_z
        self.out = nn.Linear(emb, n_words)                                      # L_o

    def start(self, a: torch.Tensor) -> dict:
        """What every step needs: the annotations, W_a a_i (computed once), and (h_0, c_0)."""
        mean = a.mean(1) if self.start_from_image else torch.zeros_like(a[:, 0])
        return {"a": a, "wa": self.attention.w_a(a), "state": (torch.tanh(self.init_h(mean)),
                                                              torch.tanh(self.init_c(mean)))}

    def step(self, a: torch.Tensor, wa: torch.Tensor, state: tuple, y_prev: torch.Tensor):
        """One word: (logits (B, V), (h, c), alpha (B, L))."""
        h, c = state
        alpha = self.attention(wa, h)
        z = torch.sigmoid(self.gate(h)) * torch.einsum("bl,bld->bd", alpha, a)     # (B, D)
        e = self.embed(y_prev)
        h, c = self.lstm(torch.cat([e, z], -1), (h, c))
        logits = self.out(e + self.out_h(h) + self.out_z(z))
        return logits, (h, c), alpha

    def forward(self, a: torch.Tensor, tgt_in: torch.Tensor):
        """Teacher forcing: (logits (B, T, V), alphas (B, T, L))."""
        memory = self.start(a)
        state, logits, alphas = memory["state"], [], []
        for t in range(tgt_in.shape[1]):
            out, state, alpha = self.step(a, memory["wa"], state, tgt_in[:, t])
            logits.append(out)
            alphas.append(alpha)
        return torch.stack(logits, 1), torch.stack(alphas, 1)


class Captioner(nn.Module):
    """An encoder (image or frames) and the attending decoder."""

    def __init__(self, encoder: nn.Module, config):
        super().__init__()
        self.encoder = encoder
        self.vocab = vocabulary(config)
        self.decoder = Decoder(len(self.vocab), config.channels, config.emb, config.hidden, config.attend,
                               config.start_from_image)

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) or clips (B, T, 3, S, S), uint8 or floats in [0, 1] -> annotations (B, L or T, D)."""
        return self.encoder(pixels.float() / 255 if pixels.dtype == torch.uint8 else pixels)

    def read(self, inputs: torch.Tensor, tgt_in: torch.Tensor):
        """Teacher forcing: (logits (B, W, V), alphas (B, W, L or T))."""
        return self.decoder(self.encode(inputs), tgt_in)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Greedy caption ids (B, W)."""
        return self.greedy(inputs)[0]

    @torch.no_grad()
    def greedy(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Batched greedy captions: ids (B, T) ending with EOS or cut at MAX_WORDS, and alphas (B, T, L)."""
        memory = self.decoder.start(self.encode(inputs))
        bos = torch.full((len(inputs),), BOS, dtype=torch.long, device=inputs.device)
        return common.greedy_search(lambda state, y: self.decoder.step(memory["a"], memory["wa"], state, y),
                                    memory["state"], bos, MAX_WORDS)

    @torch.no_grad()
    def captions(self, inputs: torch.Tensor, beam: int) -> list["Caption"]:
        """Inputs (B, ...) captioned by beam search, all at once, with the attention of each word (and of EOS)."""
        memory = self.decoder.start(self.encode(inputs))

        def step(state, y, source):
            return self.decoder.step(memory["a"][source], memory["wa"][source], state, y)

        return [Caption(self.vocab.decode(out.ids), out.ended, out.attention, out.log_prob)
                for out in common.beam_search(step, memory["state"], beam, MAX_WORDS)]


@dataclass
class Caption:
    words: list[str]
    ended: bool                 # False when cut at MAX_WORDS before the model wrote EOS
    attention: np.ndarray       # (len(words) + ended, L): the attention before each word (and before EOS)
    log_prob: float


def image_captioner(config: CaptionConfig) -> Captioner:
    return Captioner(ImageEncoder(config) if config.encoder == "scratch" else PretrainedEncoder(config), config)


def video_captioner(config: VideoCaptionConfig) -> Captioner:
    return Captioner(FrameEncoder(config), config)


# ---------------------------------------------------------------- data

@dataclass(frozen=True)
class CaptionData:
    x: torch.Tensor             # (N, ...) uint8 images (N, 3, S, S) or clips (N, T, 3, S, S)
    captions: torch.Tensor      # (N, R, W) padded ids of the R reference captions: BOS words EOS
    test: list                  # scenes.Scene or scenes.Video, held out
    x_test: torch.Tensor        # uint8, like x


def channels_first(pixels: np.ndarray) -> torch.Tensor:
    """(..., S, S, 3) uint8 -> (..., 3, S, S) uint8."""
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(pixels, -1, -3)))




def reference_ids(items: list, voc: Vocab, references: int = scenes.REFERENCES) -> torch.Tensor:
    """(N, R, W) padded ids of each item's first R captions (an item with fewer repeats its own)."""
    rows = [[BOS] + voc.encode(item.captions[r % len(item.captions)])[:MAX_WORDS] + [EOS]
            for item in items for r in range(references)]
    ids = pad(rows)
    return ids.view(len(items), references, ids.shape[-1])


@functools.cache
def photo_split(config: CaptionConfig) -> tuple[list, list]:
    """(training, held-out) photos of a Flickr8k folder or a COCO captions JSON: every 10th held out."""
    items = (caption_sets.read_coco(Path(config.annotations), Path(config.photos)) if config.annotations
             else caption_sets.read_flickr8k(Path(config.photos)))
    return [p for i, p in enumerate(items) if i % 10], [p for i, p in enumerate(items) if not i % 10]


def photo_pixels(items: list, size: int) -> torch.Tensor:
    """The photos read as uploads are (any mode, EXIF rotation), squared to size x size, channels first."""
    try:
        return channels_first(np.stack([square(media.read_image(p.image_path.read_bytes(), p.image_path.name).rgb,
                                               size) for p in items]))
    except OSError as e:
        raise DataError(f"cannot read a photo: {e}") from None


@functools.cache
def test_set(config) -> tuple[list, torch.Tensor]:
    """The held-out scenes (CaptionConfig) or clips (VideoCaptionConfig), and their pixels (uint8, channels first).
    A seed of its own, so none of them is a training item."""
    if isinstance(config, CaptionConfig) and config.photos:
        items = photo_split(config)[1][:config.test_scenes]
        return items, photo_pixels(items, config.size)
    if isinstance(config, CaptionConfig):
        items = scenes.scenes(config.test_scenes, config.seed + 1, config.size)
        return items, channels_first(np.stack([s.image for s in items]))
    items = scenes.videos(config.test_videos, config.seed + 1, config.frames, config.size)
    return items, channels_first(np.stack([v.frames for v in items]))


@functools.cache
def image_data(config: CaptionConfig) -> CaptionData:
    voc = vocabulary(config)
    if config.photos:
        train = photo_split(config)[0][:config.train_scenes]
        return CaptionData(photo_pixels(train, config.size), reference_ids(train, voc), *test_set(config))
    train = scenes.scenes(config.train_scenes, config.seed, config.size)
    return CaptionData(channels_first(np.stack([s.image for s in train])), reference_ids(train, voc),
                       *test_set(config))


@functools.cache
def video_data(config: VideoCaptionConfig) -> CaptionData:
    train = scenes.videos(config.train_videos, config.seed, config.frames, config.size)
    return CaptionData(channels_first(np.stack([v.frames for v in train])), reference_ids(train, vocabulary(config)),
                       *test_set(config))


# ---------------------------------------------------------------- training

def train_step(model, data, config, generator) -> torch.Tensor:
    """Cross-entropy of one reference caption per input (drawn at random among its references), plus the doubly
    stochastic penalty on the attention."""
    idx = torch.randint(0, len(data.x), (config.batch_size,), generator=generator)
    ref = torch.randint(0, data.captions.shape[1], (config.batch_size,), generator=generator)
    dev = model_device(model)
    tgt = data.captions[idx, ref]
    tgt = tgt[:, :int((tgt != PAD).sum(1).max())].to(dev)                       # (B, W)
    logits, alphas = model.read(data.x[idx].to(dev), tgt[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1), ignore_index=PAD)
    if config.doubly_stochastic:
        loss = loss + config.doubly_stochastic * doubly_stochastic_penalty(alphas, tgt[:, 1:] != PAD)
    return loss


def doubly_stochastic_penalty(alphas: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
    """Eq. 14's sum_i (1 - sum_t alpha_ti)^2, over the real words (`words`: (B, T) bool, padding excluded),
    averaged over the batch and divided by L so that lambda does not depend on the grid's size."""
    seen = (alphas * words[..., None]).sum(1)                                    # (B, L): attention summed over t
    return ((1 - seen) ** 2).sum(1).mean() / alphas.shape[-1]


# ---------------------------------------------------------------- evaluation

def bleu4(hypotheses: list[list[str]], references: list) -> float:
    """Corpus BLEU-4 (sacrebleu, 0-100) against every reference caption of each item."""
    streams = [[" ".join(refs[r]) for refs in references] for r in range(len(references[0]))]
    return sacrebleu.corpus_bleu([" ".join(h) for h in hypotheses], streams, tokenize="none").score


def cell_centres(grid: int, size: int) -> np.ndarray:
    """(L, 2) pixel (x, y) of each grid cell's centre, in the encoder's row-major order."""
    centre = (np.arange(grid) + 0.5) * size / grid
    ys, xs = np.meshgrid(centre, centre, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], 1)


def object_hits(words: list[str], attention: np.ndarray, things, grid: int, size: int) -> dict[int, bool]:
    """Object word position -> hit: whether the centre of its most attended cell lies inside the box of the object
    it names. `attention` has one row (L values, or grid x grid) per word."""
    centres = cell_centres(grid, size)
    out = {}
    for pos, thing in scenes.object_words(words, things):
        x, y = centres[attention[pos].argmax()]
        x0, y0, x1, y1 = things[thing].box
        out[pos] = bool(x0 <= x < x1 and y0 <= y < y1)
    return out


def event_hits(words: list[str], attention: np.ndarray, video) -> dict[int, bool]:
    """Event word position -> hit: whether its most attended frame lies in the event's span."""
    return {pos: video.events[event].start <= int(attention[pos].argmax()) < video.events[event].end
            for pos, event in scenes.event_words(words, video)}


def attention_hits(captions: list, test: list, grid: int, size: int) -> tuple[int, int]:
    """(hits, object words) over captioned scenes."""
    marks = [object_hits(c.words, c.attention, scene.things, grid, size) for c, scene in zip(captions, test)]
    return sum(sum(m.values()) for m in marks), sum(map(len, marks))


def temporal_hits(captions: list, test: list) -> tuple[int, int]:
    """(hits, event words) over captioned clips."""
    marks = [event_hits(c.words, c.attention, video) for c, video in zip(captions, test)]
    return sum(sum(m.values()) for m in marks), sum(map(len, marks))


def caption_all(model: Captioner, x: torch.Tensor, beam: int, batch: int = 25) -> list[Caption]:
    dev = model_device(model)
    return [c for start in range(0, len(x), batch) for c in model.captions(x[start:start + batch].to(dev), beam)]


def evaluate_images(model, data, config, deps) -> dict:
    model.eval()
    captions = caption_all(model, data.x_test, config.beam)
    metrics = {"bleu4": round(bleu4([c.words for c in captions], [s.captions for s in data.test]), 2),
               "exact": round(float(np.mean([tuple(c.words) in s.captions for c, s in zip(captions, data.test)])), 4),
               "test_scenes": len(data.test), "setting": image_setting(config)}
    if not config.photos:                                       # photos come without boxes
        hits, total = attention_hits(captions, data.test, config.grid, config.size)
        metrics |= {"attention_hit_rate": round(hits / max(total, 1), 4), "object_words": total}
    return metrics


def evaluate_videos(model, data, config, deps) -> dict:
    model.eval()
    captions = caption_all(model, data.x_test, config.beam)
    hits, total = temporal_hits(captions, data.test)
    return {"bleu4": round(bleu4([c.words for c in captions], [v.captions for v in data.test]), 2),
            "temporal_hit_rate": round(hits / max(total, 1), 4), "event_words": total,
            "exact": round(float(np.mean([tuple(c.words) in v.captions for c, v in zip(captions, data.test)])), 4),
            "test_videos": len(data.test), "setting": video_setting(config)}


def image_setting(config: CaptionConfig) -> str:
    encoder = {"scratch": "a CNN trained with the captioner",
               "lite0": "EfficientNet-Lite0 pretrained on ImageNet, frozen",
               "lite0-tuned": "EfficientNet-Lite0 pretrained on ImageNet, last block tuned"}[config.encoder]
    if config.photos:
        return (f"photos from {config.annotations or config.photos} at {config.size} x {config.size} px, "
                f"{config.vocab_size:,} words, a {config.grid} x {config.grid} grid from {encoder}, LSTM of "
                f"{config.hidden}, beam {config.beam}")
    return (f"synthetic shape scenes of {config.size} x {config.size} px, {config.train_scenes:,} for training with "
            f"5 captions each, {config.test_scenes} held out; a {config.grid} x {config.grid} grid of "
            f"{config.channels}-d annotations from {encoder}, LSTM of {config.hidden}, beam "
            f"{config.beam} (paper: photos, VGG features pretrained on ImageNet, 14 x 14 x 512, LSTM of 1800)")


def video_setting(config: VideoCaptionConfig) -> str:
    return (f"synthetic event clips of {config.frames} frames of {config.size} x {config.size} px, "
            f"{config.train_videos:,} for training with 5 captions each, {config.test_videos} held out; "
            f"{config.channels}-d frame features from a CNN over each frame and its difference to the previous one, "
            f"LSTM of {config.hidden}, beam {config.beam} (paper: Youtube2Text, 1,970 real clips, GoogLeNet and "
            f"3-D CNN features)")


register(ModelSpec(
    name="captioner",
    title="Show, attend and tell (synthetic shape scenes)",
    page="captioning",
    config_cls=CaptionConfig,
    presets={
        "tiny": CaptionConfig(size=32, train_scenes=200, test_scenes=8, channels=16, grid=8, emb=16, hidden=32,
                              attend=16, steps=20, batch_size=16, beam=2),
        "cpu": CaptionConfig(),
        # Twice the resolution and ten times the scenes; a user with photos trains on them with this preset.
        "gpu": CaptionConfig(size=128, train_scenes=100000, test_scenes=1000, channels=256, grid=16, emb=128,
                             hidden=512, attend=256, steps=30000, batch_size=128),
    },
    build=image_captioner,
    data=image_data,
    train_step=train_step,
    evaluate=evaluate_images,
    gpu_share=1.0,
))

register(ModelSpec(
    name="video_captioner",
    title="Temporal attention for video captions (synthetic event clips)",
    page="captioning",
    config_cls=VideoCaptionConfig,
    presets={
        "tiny": VideoCaptionConfig(size=32, frames=8, train_videos=60, test_videos=4, channels=16, emb=16,
                                   hidden=32, attend=16, steps=10, batch_size=8, beam=2),
        "cpu": VideoCaptionConfig(),
        "gpu": VideoCaptionConfig(size=64, frames=24, train_videos=50000, test_videos=1000, channels=256, emb=128,
                                  hidden=512, attend=256, steps=30000, batch_size=64),
    },
    build=video_captioner,
    data=video_data,
    train_step=train_step,
    evaluate=evaluate_videos,
    gpu_share=1.0,
))


# ---------------------------------------------------------------- the page's calls

def square(rgb: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3) uint8: padded to a square with black (the scenes' backgrounds are dark,
    and no part of the picture is cut off), then resized with area averaging."""
    h, w = rgb.shape[:2]
    side = max(h, w)
    canvas = np.zeros((side, side, 3), dtype=np.uint8)
    canvas[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = rgb
    return np.asarray(Image.fromarray(canvas).resize((size, size), Image.BOX))


def describe_image(model: Captioner, rgb: np.ndarray, config: CaptionConfig, beam: int) -> tuple[Caption, np.ndarray]:
    """(the caption with its attention maps (len(words) + ended, grid, grid), the square image the model saw)."""
    seen = square(rgb, config.size)
    caption = model.captions(channels_first(seen[None]).to(model_device(model)), beam)[0]
    caption.attention = caption.attention.reshape(-1, config.grid, config.grid)        # (T, grid, grid)
    return caption, seen


def describe_clip(model: Captioner, frames: np.ndarray, config: VideoCaptionConfig,
                  beam: int) -> tuple[Caption, np.ndarray]:
    """(the caption with its attention over frames (len(words) + ended, T), the square frames the model saw).
    `frames` must already be sampled to config.frames."""
    if len(frames) != config.frames:
        raise ValueError(f"the model reads clips of {config.frames} frames, not {len(frames)}")
    seen = np.stack([square(f, config.size) for f in frames])
    return model.captions(channels_first(seen[None]).to(model_device(model)), beam)[0], seen


@dataclass(frozen=True)
class Example:
    index: int                  # into the test set
    bleu: float                 # sentence BLEU-4 (0-100) against the item's references
    words: tuple[str, ...]
    attention: np.ndarray       # (len(words) + 1, L or T)


@torch.no_grad()
def ranked_examples(model: Captioner, config, count: int) -> list[Example]:
    """The first `count` test items captioned greedily, best sentence BLEU first."""
    items, pixels = test_set(config)
    voc, dev = model.vocab, model_device(model)
    out = []
    for start in range(0, min(count, len(items)), 50):
        stop = min(start + 50, count, len(items))
        ids, alphas = model.greedy(pixels[start:stop].to(dev))
        for row, (seq, alpha) in enumerate(zip(ids.tolist(), alphas.cpu().numpy())):
            words = voc.decode(seq)
            refs = [" ".join(r) for r in items[start + row].captions]
            score = sacrebleu.sentence_bleu(" ".join(words), refs, tokenize="none").score
            out.append(Example(start + row, score, tuple(words), alpha[:len(words) + 1]))
    return sorted(out, key=lambda e: -e.bleu)
