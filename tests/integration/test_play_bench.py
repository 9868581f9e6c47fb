"""The live-training bench's short form, so that it keeps working: simulated users press Play on /depth over
Streamlit's websocket protocol and ask for frames. It checks that frames came and trained the network; the frame
rates are for `make bench`, not for a test."""
from tests.bench import play


def test_two_simulated_users_play_and_their_networks_train():
    lines = []
    rows = play.main(["--users", "1", "2", "--seconds", "2"], report=lines.append)
    assert [(r["users"], r["errors"]) for r in rows] == [(1, 0), (2, 0)], lines
    assert all(r["fps"] > 0 and r["steps_per_s"] > 0 and r["p95"] is not None for r in rows)
    assert lines[-1].startswith("| users playing |")
