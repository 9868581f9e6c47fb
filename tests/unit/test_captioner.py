"""Show, attend and tell and its video twin (slides 111-118): attention shapes, decoding, and the scores."""
import numpy as np
import pytest
import torch

from engine.data import scenes
from engine.models import captioner
from engine.models.captioner import CaptionConfig, VideoCaptionConfig

IMAGE = CaptionConfig(size=32, grid=8, channels=16, emb=16, hidden=32, attend=16)
VIDEO = VideoCaptionConfig(size=32, frames=6, channels=16, emb=16, hidden=32, attend=16)


def words(*tokens: str) -> torch.Tensor:
    return torch.tensor([captioner.vocabulary().encode(tokens)])


@pytest.mark.parametrize("build, config, inputs, places", [
    (captioner.image_captioner, IMAGE, torch.rand(3, 3, 32, 32), 64),
    (captioner.video_captioner, VIDEO, torch.rand(3, 6, 3, 32, 32), 6)])
def test_attention_is_a_distribution_over_places_or_frames(build, config, inputs, places):
    torch.manual_seed(0)
    model = build(config).eval()
    tgt = torch.randint(4, len(captioner.vocabulary()), (3, 5))
    logits, alphas = model.read(inputs, tgt)
    assert logits.shape == (3, 5, len(captioner.vocabulary())) and alphas.shape == (3, 5, places)
    torch.testing.assert_close(alphas.sum(-1), torch.ones(3, 5))
    assert torch.isfinite(logits).all() and (alphas >= 0).all()


def test_beam_of_one_is_greedy_and_every_word_has_its_attention():
    torch.manual_seed(0)
    model = captioner.image_captioner(IMAGE).eval()
    x = torch.rand(3, 3, 32, 32)
    ids, _ = model.greedy(x)
    assert [c.words for c in model.captions(x, 1)] == [captioner.vocabulary().decode(row) for row in ids.tolist()]
    for wide in model.captions(x, 3):
        assert wide.attention.shape == (len(wide.words) + wide.ended, 64)
        np.testing.assert_allclose(wide.attention.sum(1), 1, rtol=1e-5)


def test_the_doubly_stochastic_penalty_is_zero_when_every_place_is_seen_once():
    spread = torch.eye(4)[None]                                   # 4 words, each on its own place of 4
    assert captioner.doubly_stochastic_penalty(spread, torch.ones(1, 4, dtype=torch.bool)) == 0
    stuck = torch.zeros(1, 4, 4)
    stuck[..., 0] = 1                                             # every word on place 0
    expected = ((1 - 4) ** 2 + 3 * 1) / 4
    assert captioner.doubly_stochastic_penalty(stuck, torch.ones(1, 4, dtype=torch.bool)) == pytest.approx(expected)
    # Padding does not count: two real words on place 0 leave (1 - 2)^2 + 3.
    mask = torch.tensor([[True, True, False, False]])
    assert captioner.doubly_stochastic_penalty(stuck, mask) == pytest.approx((1 + 3) / 4)


def test_an_object_word_hits_when_its_peak_cell_lies_in_the_box():
    things = (scenes.Thing("triangle", "red", "small", (0, 0, 16, 16)),
              scenes.Thing("circle", "blue", "large", (32, 32, 64, 64)))
    scene = scenes.Scene(np.zeros((64, 64, 3), np.uint8), things, (("a", "red", "triangle"),), scenes.Background())
    caption_words = ["a", "red", "triangle", "above", "a", "blue", "circle"]
    attention = np.full((len(caption_words) + 1, 64), 1e-3)
    attention[1, 0] = attention[2, 9] = 1        # cells (0, 0) and (1, 1): centres (4, 4) and (12, 12), in the box
    attention[5, 63] = 1                         # cell (7, 7): centre (60, 60), inside the circle's box
    attention[6, 0] = 1                          # "circle" looks at the triangle: a miss
    caption = captioner.Caption(caption_words, True, attention, 0.0)
    assert captioner.attention_hits([caption], [scene], grid=8, size=64) == (3, 4)


def test_an_event_word_hits_when_its_peak_frame_lies_in_the_event():
    star = scenes.Thing("star", "blue", "small", (0, 0, 8, 8))
    video = scenes.Video(np.zeros((8, 32, 32, 3), np.uint8), (star,),
                         (scenes.Event("enters", 0, "", 1, 4), scenes.Event("turns", 0, "red", 5, 8)),
                         (("a", "blue", "star", "enters"),), tracks=(), background=scenes.Background())
    caption_words = ["a", "blue", "star", "enters", ",", "then", "it", "turns", "red"]
    attention = np.full((len(caption_words) + 1, 8), 1e-3)
    attention[3, 2] = 1                          # "enters" at frame 2: inside 1-3
    attention[7, 6] = attention[8, 0] = 1        # "turns" inside 5-7; "red" at frame 0: a miss
    caption = captioner.Caption(caption_words, True, attention, 0.0)
    hits, total = captioner.temporal_hits([caption], [video])
    assert total == 3 and hits == 2


def test_bleu4_counts_any_reference():
    refs = [(("a", "red", "star", "left", "of", "a", "blue", "circle"),
             ("a", "blue", "circle", "right", "of", "a", "red", "star"))]
    assert captioner.bleu4([list(refs[0][1])], refs) == pytest.approx(100)
    assert captioner.bleu4([["a", "green", "cross"]], refs) < 10


def test_pictures_are_padded_to_a_square_not_cut():
    tall = np.zeros((40, 20, 3), np.uint8)
    tall[:, :, 0] = 255
    out = captioner.square(tall, 32)
    assert out.shape == (32, 32, 3)
    assert out[:, :8, 0].max() == 0 and out[:, 8:24, 0].min() == 255 and out[:, 24:, 0].max() == 0


def test_a_clip_of_the_wrong_length_is_refused():
    model = captioner.video_captioner(VIDEO).eval()
    with pytest.raises(ValueError, match="6 frames"):
        captioner.describe_clip(model, np.zeros((5, 32, 32, 3), np.uint8), VIDEO, 1)


@pytest.mark.parametrize("encoder", ["lite0", "lite0-tuned"])
def test_the_pretrained_encoder_stays_frozen_or_tunes_only_its_last_block(encoder):
    from engine.train import make_optimizer

    config = captioner.CaptionConfig(size=64, grid=2, train_scenes=8, test_scenes=2, channels=16, emb=16, hidden=32,
                                     attend=16, batch_size=4, encoder=encoder)
    model = captioner.image_captioner(config).train()
    backbone = model.encoder.backbone
    first, last = backbone._blocks[0]._depthwise_conv.weight, backbone._blocks[15]._project_conv.weight
    before = {"first": first.clone(), "last": last.clone(), "stats": backbone._bn1.running_mean.clone()}
    data, generator = captioner.image_data(config), torch.Generator().manual_seed(0)
    optimizer = make_optimizer(model, config)
    for _ in range(3):
        optimizer.zero_grad()
        captioner.train_step(model, data, config, generator).backward()
        optimizer.step()
    assert torch.equal(first, before["first"])                              # ImageNet's early layers are kept
    assert torch.equal(backbone._bn1.running_mean, before["stats"])          # and so are its batch statistics
    assert torch.equal(last, before["last"]) == (encoder == "lite0")
    assert model.encode(data.x[:2]).shape == (2, 4, 16)                      # a 2 x 2 grid of 16-d annotations
