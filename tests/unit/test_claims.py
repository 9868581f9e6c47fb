"""The claims layer: one entry per page, every registered model measured somewhere, missing models reported."""
from app.ui import catalog
from engine import claims, registry


def test_every_page_has_claims_and_every_model_feeds_one():
    assert list(claims.PAGES) == [p.url_path for p in catalog.PAGES]
    fed = {name for sources in claims.PAGES.values() for source in sources for name in source.needs}
    assert fed == {spec.name for spec in registry.list_models()}


def test_the_shipped_checkpoints_measure_every_claim(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_CACHE", str(tmp_path))
    reports = claims.reports("cpu")
    assert all(not r.missing for r in reports)
    assert sum(len(r.claims) for r in reports) >= 20
    report = claims.report("loss-surface", "cpu")
    assert {c.models for c in report.claims} == {("landscape",), (), ("critical",)}
    assert set(report.metrics) == {"landscape", "critical"}


def test_a_missing_model_is_named_and_model_free_claims_still_show(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_CACHE", str(tmp_path))
    monkeypatch.setenv("PLAYGROUND_SHIPPED", str(tmp_path / "nothing shipped"))
    report = claims.report("loss-surface", "cpu")
    assert set(report.missing) == {"landscape", "critical"}
    assert report.missing["landscape"] == "not trained yet"
    assert [c.models for c in report.claims] == [(), (), ()]          # the three toy-saddle claims
    assert all(c.holds for c in report.claims)
