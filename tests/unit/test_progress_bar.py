"""The CLI's progress bar in a log: one line per tenth, whatever the reporting interval."""
from engine.__main__ import ProgressBar
from engine.train import Progress


def test_a_log_gets_a_line_for_each_tenth_even_when_reports_skip_its_exact_step(capsys):
    bar = ProgressBar()
    for step in range(8, 1651, 8):              # reports every 8 steps: 165, 330, ... are never reported
        bar(Progress(step, 1650, 1.0, step / 10))
    bar(Progress(1650, 1650, 1.0, 165.0))
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 11                        # tenths 0..9, then the end
    assert lines[-1].strip().startswith("[" + "#" * 30 + "] 1650/1650")
