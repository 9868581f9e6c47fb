"""Figures drawn for many users at once: one server process draws in the script threads of every session."""
import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from app.ui import charts


def gan_trace(steps: int = 4, points: int = 200, cells: int = 20) -> dict:
    rng = np.random.default_rng(0)
    return {"d": rng.random((steps, cells, cells)), "fake": rng.normal(size=(steps, points, 2)),
            "push": rng.normal(size=(steps, points, 2)), "step": np.arange(steps) * 10,
            "value": -np.log(4) + rng.normal(size=steps) * 0.01}


def draw_everything(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    frames = charts.gan_frames(rng.normal(size=(100, 2)), gan_trace(), 2.0, [0, 1, 2, 3])
    xs = np.linspace(-2, 2, 21)
    z = xs[None, :] ** 2 - xs[:, None] ** 2
    path = np.stack([np.linspace(1.5, 0, 10), np.linspace(0.1, 0, 10)], 1)
    frames += charts.surface_frames(xs, xs, z, [("newton", path, "#d62728")], [0, 5, 9])
    for fig in (charts.field_figure(rng.normal(size=(50, 2)), rng.normal(size=(25, 2)), rng.normal(size=(25, 2)),
                                    rng.normal(size=(5, 3, 2)), 2.0),
                charts.loss_plane_figure(xs, z - z.min() + 0.1, ("d1", "d2"), path)):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        frames.append(np.frombuffer(buffer.getvalue()[:64], dtype=np.uint8))
    return frames


def test_sixteen_users_drawing_at_once_get_the_frames_one_user_gets():
    alone = [draw_everything(seed) for seed in range(4)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        together = list(pool.map(draw_everything, [seed % 4 for seed in range(32)]))      # no exception raised
    for i, frames in enumerate(together):
        expected = alone[i % 4]
        assert len(frames) == len(expected)
        assert all(np.array_equal(a, b) for a, b in zip(frames, expected))


def test_no_figure_goes_through_pyplot(monkeypatch):
    import matplotlib.pyplot as plt

    def refuse(*args, **kwargs):
        raise AssertionError("a figure made through pyplot's global registry")

    for name in ("figure", "subplots", "close"):
        monkeypatch.setattr(plt, name, refuse)
    assert len(draw_everything(0)) == 4 + 3 + 2


def test_a_chart_spec_holds_all_its_rows_and_no_theme():
    import altair as alt
    import pandas as pd
    import pyarrow as pa

    frame = pd.DataFrame({"x": np.arange(6000), "y": np.arange(6000) % 7})
    spec = charts.vega_lite(alt.Chart(frame).mark_point().encode(x="x:Q", y="y:Q"))
    (data,) = spec["datasets"].values()
    table = pa.ipc.open_stream(data).read_all()                   # as Streamlit sends it, made once
    assert table.num_rows == 6000                                 # Altair alone refuses past 5,000
    assert table.column("x").to_pylist() == list(range(6000)) and table.column("y").to_pylist()[:8] == [
        0, 1, 2, 3, 4, 5, 6, 0]
    assert "config" not in spec or "view" not in spec["config"]   # no default theme's fixed sizes


def test_the_schema_check_the_page_tests_turn_on_refuses_a_bad_chart_and_keeps_every_row(monkeypatch):
    import altair as alt
    import pandas as pd
    import pytest
    from altair.utils.schemapi import SchemaValidationError

    chart = alt.Chart(pd.DataFrame({"x": np.arange(6000)})).mark_point().encode(x="x:Q")
    bad = chart.copy()
    bad.mark = "no-such-mark"
    assert "datasets" in charts.vega_lite(bad)                    # unchecked, as the server makes specs
    monkeypatch.setattr(charts, "CHECK_SCHEMA", True)
    with pytest.raises(SchemaValidationError):
        charts.vega_lite(bad)
    (data,) = charts.vega_lite(chart)["datasets"].values()        # checked, still past Altair's 5,000 rows
    assert len(data) > 0


def test_a_template_with_rows_is_the_chart_made_with_them():
    import altair as alt
    import pandas as pd
    import pyarrow as pa

    def heat(rows):
        base = alt.Chart().encode(x=alt.X("frame:O"), y=alt.Y("word:N", sort=None))
        return alt.layer(base.mark_rect().encode(color="weight:Q", tooltip=["word:N", "frame:O"]),
                         base.transform_filter("datum.event").mark_rect(fill=None), data=rows)

    def frame(words):
        return pd.DataFrame({"word": np.repeat(words, 3).astype(str), "frame": np.tile(np.arange(3), len(words)),
                             "weight": np.linspace(0, 1, 3 * len(words)), "event": np.arange(3 * len(words)) % 2 == 0})

    rows = frame(["a", "cat", "runs"])
    made = charts.vega_lite(heat(rows))
    template = charts.vega_lite(heat(frame([])))
    filled = charts.with_data(template, rows)
    (name,), (made_name,) = filled["datasets"], made["datasets"]
    assert filled["data"] == {"name": name} and made["data"] == {"name": made_name}
    assert {k: v for k, v in filled.items() if k not in ("data", "datasets")} == {
        k: v for k, v in made.items() if k not in ("data", "datasets")}
    as_table = [pa.ipc.open_stream(spec["datasets"][n]).read_all() for spec, n in ((filled, name), (made, made_name))]
    assert as_table[0].equals(as_table[1]) and as_table[0].num_rows == 9
    # named by its rows: other rows, another name (the browser redraws); the same rows, the same name
    assert charts.with_data(template, frame(["a", "dog", "runs"]))["data"] != filled["data"]
    assert charts.with_data(template, rows)["data"] == filled["data"]
