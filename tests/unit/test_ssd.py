"""The COCO detector run by PyTorch gives what OpenCV's runtime of the same graph gives, and the one the pages serve
(its label scores in 8-bit integers) finds what the exact one finds."""
import functools
import random

import cv2
import numpy as np
import pytest
import torch

from engine.data import media, photos
from engine.models import ssd, vision
from tests.bench.load import photo

LOW = 0.3                       # compared down to this score: below the page's threshold, so near-misses count too


@functools.cache
def reference_net():
    return cv2.dnn.readNetFromTensorflow(str(vision.verified("detector")), str(vision.verified("detector_config")))


def opencv_detections(rgb: np.ndarray) -> list[tuple[int, float, np.ndarray]]:
    net = reference_net()
    net.setInput(cv2.dnn.blobFromImage(np.ascontiguousarray(rgb), size=(ssd.SIDE, ssd.SIDE), swapRB=False))
    return [(int(label), float(score), np.array(box)) for _, label, score, *box in net.forward().reshape(-1, 7)
            if score >= LOW]


@functools.cache
def pictures() -> list[np.ndarray]:
    """The package's photos and four uploads."""
    shots = [photos.sample_photo(name) for name in photos.SAMPLES]
    return shots + [media.read_image(photo(random.Random(seed)), "upload.jpg").rgb for seed in range(4)]


def test_package_photos_and_uploads_get_opencvs_boxes_and_scores():
    detector = vision.detector()
    compared = 0
    for rgb in pictures():
        reference = opencv_detections(rgb)
        with torch.no_grad():
            scores, offsets = detector.exact(ssd.network_input(rgb))
        ours = ssd.detections(scores[0], offsets[0], detector.priors, LOW)
        assert [label for label, _, _ in ours] == [label for label, _, _ in reference]
        for (_, score, box), (_, want_score, want_box) in zip(ours, reference):
            assert score == pytest.approx(want_score, abs=1e-3)
            np.testing.assert_allclose(box, want_box, atol=2e-3)
        compared += len(reference)
    assert compared >= 12                                  # the photos hold enough objects to compare


def test_the_served_detector_with_8_bit_scores_finds_what_the_exact_one_finds():
    detector = vision.detector()
    assert all(isinstance(head, ssd.Int8Scores) for head in detector.model.scores)
    assert detector.model.blocks is detector.exact.blocks                # every other layer is shared
    found = 0
    for rgb in pictures():
        x = ssd.network_input(rgb)
        (exact, offsets), (served, served_offsets) = (vision.workers().submit(vision.infer, model, x).result()
                                                      for model in (detector.exact, detector.served))
        assert torch.equal(served_offsets, offsets)
        near = (exact >= LOW) | (served >= LOW)                           # every score near or over the threshold
        assert (served - exact).abs()[near].max() <= 0.03
        want = ssd.detections(exact[0], offsets[0], detector.priors, vision.MIN_SCORE)
        got = ssd.detections(served[0], offsets[0], detector.priors, vision.MIN_SCORE)
        assert [label for label, _, _ in got] == [label for label, _, _ in want]
        for (_, score, box), (_, want_score, want_box) in zip(got, want):
            assert score == pytest.approx(want_score, abs=0.03)
            np.testing.assert_allclose(box, want_box, atol=1e-6)
        found += len(want)
    assert found >= 8


def test_suppression_keeps_the_surest_of_overlapping_boxes():
    boxes = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.02, 0.0, 0.52, 0.5], [0.6, 0.6, 0.9, 0.9], [0.0, 0.0, 0.5, 0.3]])
    scores = torch.tensor([0.7, 0.9, 0.8, 0.6])
    # box 0 overlaps box 1 (surer) by IoU 0.92: dropped; box 3 overlaps box 1 by 0.58, under 0.6: kept
    assert ssd.suppress(boxes, scores) == [1, 2, 3]


def test_boxes_decode_around_their_priors():
    priors = ssd.Priors(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.2, 0.4]]))
    assert ssd.boxes(torch.zeros(1, 4), priors)[0].tolist() == pytest.approx([0.4, 0.3, 0.6, 0.7])
    shifted = ssd.boxes(torch.tensor([[1.0, 0.0, 0.0, np.log(2) / 0.2]]), priors)      # x by 0.1 w, twice as tall
    assert shifted[0].tolist() == pytest.approx([0.42, 0.1, 0.62, 0.9])
