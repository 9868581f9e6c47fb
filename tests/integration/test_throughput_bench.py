"""The training throughput bench in its short form: it runs, counts real work and prints its table."""
from tests.bench import throughput


def test_the_throughput_table_counts_every_step():
    lines = []
    rows = throughput.main(["--preset", "tiny", "--steps", "2", "--models", "draw", "mnist_classifier"],
                           report=lines.append)
    assert [r["model"] for r in rows] == ["draw", "mnist_classifier"]
    for row in rows:
        assert row["flops"] > 1e5 and row["steps_per_s"] > 0 and 0 < row["share"] < 2
        assert row["operators"] > 10 and 0 < row["product_share"] < 1 and 0 < row["other_op"] < 1
    print("\n".join(lines))
    assert lines[1].startswith("| model |") and len(lines) == 5


def test_a_step_run_on_two_threads_is_counted_whole():
    """DRAW's two networks train side by side on two threads; the count covers both."""
    counts = [throughput.main(["--preset", "tiny", "--steps", "1", "--threads", str(n), "--models", "draw"],
                              report=lambda line: None)[0] for n in (1, 2)]
    assert counts[0]["flops"] == counts[1]["flops"] and counts[0]["operators"] == counts[1]["operators"]
