"""Home and the manifold page through Streamlit's AppTest on the tiny checkpoints: no browser, real engine."""
import threading

import pytest
import torch

from app.ui import resources
from engine import device, registry, store
from engine.models import vision
from tests.app.helpers import run_page, texts

pytestmark = pytest.mark.usefixtures("tiny_env")


def test_home_gathers_the_measured_claims():
    at = run_page("app/main.py")        # Home is the default page of the navigation
    assert not at.exception
    text = texts(at.markdown)
    assert "[Manifold interpolation](/manifold)" in text                  # the map links the page that exists
    assert "DRAW (Gregor et al. 2015)" in text and "[Attention alignment](/attention)" in text
    assert "[Captioning studio](/captioning)" in text and "(coming)" not in text         # every page is built
    claim_rows = [line for line in text.split("| ") if "(slide 89)" in line]
    assert claim_rows                                                      # the manifold claim is measured
    assert "**yes**" in text or "**no**" in text
    assert "not measured" not in text


def test_manifold_interpolates_two_test_digits():
    at = run_page("pages/manifold.py", a_cls=9, b_cls=3, alpha=0.25)
    assert not at.exception
    assert at.slider[0].value == 0.25
    # endpoints (2) + path grid + one image per level at the mixing weight (4)
    assert len(at.get("image")) >= 7
    at.slider[0].set_value(0.75).run()
    assert not at.exception
    assert at.query_params["alpha"] == "0.75"


def test_identical_endpoints_get_a_warning_not_a_path():
    at = run_page("pages/manifold.py", a_cls=5, b_cls=5)
    assert "same digit" in texts(at.warning)
    assert len(at.slider) == 0


@pytest.mark.parametrize("view,expected", [("field", "Field points at the data"), ("tangents", "Jacobian of")])
def test_other_views_render(view, expected):
    at = run_page("pages/manifold.py", view=view)
    assert not at.exception
    labels = [str(m.label) for m in at.get("metric")] + [s.label for s in at.selectbox]
    assert any(expected in label for label in labels)


def test_bad_link_values_fall_back_to_defaults():
    at = run_page("pages/manifold.py", alpha="lots", a_cls=42, view="nonsense")
    assert not at.exception
    assert at.slider[0].value == 0.5


def test_a_damaged_checkpoint_is_refused_and_retrain_offered(tiny_env):
    config = registry.get("dae").config("tiny")
    ckpt, _ = store.find("dae", config)
    blob = bytearray(ckpt.weights_path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    ckpt.weights_path.write_bytes(bytes(blob))
    at = run_page("pages/manifold.py")
    assert not at.exception
    assert "damaged or altered" in texts(at.error) and "weights.safetensors" in texts(at.error)
    assert any(b.label == "Train" for b in at.button)
    assert "needs the denoising autoencoder" in texts(at.warning)


def test_malformed_mnist_files_get_a_clear_error(tmp_path, monkeypatch):
    from engine.data.mnist import load_mnist

    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    load_mnist.cache_clear()
    try:
        at = run_page("pages/manifold.py")
    finally:
        load_mnist.cache_clear()
    assert not at.exception
    assert "could not be loaded" in texts(at.error) and "train-images-idx3-ubyte" in texts(at.error)


def test_a_cluster_that_does_not_answer_is_said_on_the_page(monkeypatch):
    from engine import jobs
    from tests.e2e.harness import free_port

    monkeypatch.setenv(jobs.RAY_ENV, f"127.0.0.1:{free_port()}")       # nothing listens there
    at = run_page("pages/manifold.py")
    assert not at.exception
    assert "Training is unavailable: the Ray cluster at PLAYGROUND_RAY_ADDRESS" in texts(at.warning)
    assert not any(b.label in ("Train", "Retrain") for b in at.button)
    assert at.slider[0].value == 0.5                                     # the page itself works


def test_a_page_computes_with_one_pytorch_thread_while_its_photo_networks_get_a_core_each():
    """One server runs many users' scripts at once: each operation gets one thread (engine.device, role "web"),
    and the photo networks keep their workers, one a core."""
    before = torch.get_num_threads()
    resources.configure_process.clear()
    try:
        at = run_page("pages/manifold.py")
        assert not at.exception
        seen = []
        thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))   # as a new script run
        thread.start()
        thread.join()
        assert seen == [1]
        assert vision.workers()._max_workers == device.cores()
    finally:
        torch.set_num_threads(before)
