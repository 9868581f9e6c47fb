"""What a rerun costs: moving a slider on a page serving the shipped checkpoints opens no weights file."""
import pytest

from engine import store
from tests.app.helpers import run_page


@pytest.fixture
def shipped_only(tmp_path, monkeypatch):
    """The shipped cpu checkpoints, written long before the test (a file saved in the last moments is hashed again
    on every read, in case it changes again within one tick of the clock)."""
    monkeypatch.setenv("PLAYGROUND_CACHE", str(tmp_path))
    monkeypatch.setenv("PLAYGROUND_PRESET", "cpu")


def caption_text(at) -> str:
    return " ".join(str(i.proto) for i in at.get("image"))


@pytest.mark.usefixtures("shipped_only")
def test_a_draw_step_move_reads_no_weights_file(monkeypatch):
    at = run_page("pages/draw.py")
    assert not at.exception and "step 1 of 16" in caption_text(at)
    reads = []
    real = store._read_weights
    monkeypatch.setattr(store, "_read_weights", lambda path: reads.append(path) or real(path))
    for step in ("4", "9"):
        at.select_slider[0].set_value(step).run()
        assert not at.exception and f"step {step} of 16" in caption_text(at)
    assert reads == []                      # the model panel looked the checkpoint up without opening its weights
