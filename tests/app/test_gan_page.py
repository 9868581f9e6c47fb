"""The GAN page through Streamlit's AppTest on the tiny checkpoints."""
import pytest

from engine import registry
from tests.app.helpers import run_page, texts

pytestmark = pytest.mark.usefixtures("tiny_env")
TOY = registry.get("gan2d").config("tiny")
GAN = registry.get("gan").config("tiny")
TOY_STEPS = [str(s) for s in range(0, TOY.steps + 1, TOY.steps // TOY.snapshots)]


def image_text(at) -> str:
    return " ".join(str(i.proto) for i in at.get("image"))


def test_the_game_replays_the_shipped_ring_run_at_its_last_step():
    at = run_page("pages/gan.py")
    assert not at.exception
    assert at.select_slider(key="gan:t_step").options == TOY_STEPS
    assert f"the game at step {TOY.steps} of {TOY.steps}" in image_text(at)
    assert at.get("download_button")
    assert "Ring modes covered here" in [m.label for m in at.metric]
    runs = at.dataframe[0].value
    assert "this one" in set(runs["run"]) and {"modes covered", "final V"} <= set(runs.columns)
    assert "Paper vs. you" in [h.value for h in at.subheader]


def test_scrubbing_moves_the_frame_and_the_link():
    at = run_page("pages/gan.py")
    at.select_slider(key="gan:t_step").set_value(0).run()
    assert not at.exception
    assert f"the game at step 0 of {TOY.steps}" in image_text(at)
    assert at.query_params["t_step"] == "0"


def test_play_animates_the_game():
    at = run_page("pages/gan.py", dataset="moons")
    at.button(key="gan:t_play").click().run()
    assert not at.exception and "looping" in image_text(at)
    assert "Ring modes covered here" not in [m.label for m in at.metric]     # the moons have no modes to count


def test_the_minimax_run_is_a_second_row_to_compare():
    at = run_page("pages/gan.py", loss="minimax")
    assert not at.exception
    runs = at.dataframe[0].value
    assert set(runs["generator loss"]) == {"minimax", "nonsaturating"}
    assert runs.loc[runs["run"] == "this one", "generator loss"].item() == "minimax"


def test_untrained_knobs_offer_training_instead_of_a_replay():
    at = run_page("pages/gan.py", k=5)
    assert not at.exception
    assert [b for b in at.button if b.label == "Train"]
    assert "gan:t_step" not in [s.key for s in at.select_slider]


def test_a_drawn_data_set_waits_for_a_drawing():
    at = run_page("pages/gan.py", dataset="drawn")
    assert not at.exception
    assert "No drawn data yet" in texts(at.info)


def test_the_mnist_trajectory_has_a_frame_per_snapshot():
    at = run_page("pages/gan.py", view="mnist")
    assert not at.exception
    steps = at.select_slider(key="gan:m_step").options
    assert len(steps) == GAN.snapshots + 1 and steps[0] == "0" and steps[-1] == str(GAN.steps)
    assert f"step {GAN.steps} of {GAN.steps}" in image_text(at)


@pytest.mark.parametrize("waypoints, message", [
    ("1, two", "whole numbers"), ("7", "between 2 and"), ("1, 2, 3, 4, 5, 6, 7, 8, 9", "between 2 and"),
    ("1, -5", "from 0 to"), ("", "between 2 and")])
def test_bad_waypoints_get_a_clear_message(waypoints, message):
    at = run_page("pages/gan.py", view="mnist", mview="walk")
    at.text_input(key="gan:waypoints").set_value(waypoints).run()
    assert not at.exception
    assert message in texts(at.error)


def test_a_latent_walk_has_every_frame_and_exports():
    at = run_page("pages/gan.py", view="mnist", mview="walk", waypoints="3, 9, 27", frames=5)
    assert not at.exception
    frames = at.select_slider(key="gan:w_step").options
    assert len(frames) == 2 * 5 + 1
    at.select_slider(key="gan:w_step").set_value(frames[-1]).run()
    assert "frame 10 of 10" in image_text(at) and at.query_params["w_step"] == "10"


def test_the_two_dimensional_manifold_is_one_grid():
    at = run_page("pages/gan.py", view="mnist", mview="manifold", cells=7)
    assert not at.exception
    assert "latent plane" in image_text(at)
    assert "Classes covered by this 2-D GAN" in [m.label for m in at.metric]


def test_samples_sit_beside_their_nearest_training_digits():
    at = run_page("pages/gan.py", view="mnist", mview="samples", seed=4)
    assert not at.exception
    assert len(at.get("image")) == 8
    assert "nearest training digit" in texts(at.caption)


@pytest.fixture
def sleeping_workers(monkeypatch):
    """Workers that only sleep (the queue's bookkeeping without training), killed at the end."""
    import subprocess

    from engine import jobs

    real, started = subprocess.Popen, []

    def popen(args, **kwargs):
        started.append(real(["sleep", "600"], start_new_session=True))
        return started[-1]

    monkeypatch.setattr(jobs.subprocess, "Popen", popen)
    monkeypatch.setenv(jobs.SLOTS_ENV, "1")
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def test_a_setting_waiting_for_a_slot_shows_its_place_and_can_leave_the_queue(sleeping_workers):
    from engine import api

    api.start_job("gan2d", TOY.__class__(**{**TOY.__dict__, "d_steps": 3}))      # another setting takes the slot
    at = run_page("pages/gan.py", k=5)
    [b for b in at.button if b.label == "Train"][0].click().run()
    assert not at.exception
    assert "Waiting for a free training slot: next to start" in " ".join(p.proto.text for p in at.get("progress"))
    [b for b in at.button if b.label == "Leave the queue"][0].click().run()
    assert api.job_status("gan2d", TOY.__class__(**{**TOY.__dict__, "d_steps": 5})).state == "cancelled"
    assert len(sleeping_workers) == 1                   # the left setting never started


def test_a_full_queue_refuses_with_a_message(sleeping_workers, monkeypatch):
    from engine import api, jobs

    monkeypatch.setattr(jobs, "MAX_WAITING", 0)
    api.start_job("gan2d", TOY.__class__(**{**TOY.__dict__, "d_steps": 3}))      # takes the one slot
    at = run_page("pages/gan.py", k=5)
    [b for b in at.button if b.label == "Train"][0].click().run()
    assert not at.exception
    assert "Not started: the training queue is full" in texts(at.warning)
    assert len(sleeping_workers) == 1
