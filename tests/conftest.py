"""Shared fixtures. Every test that touches the store or jobs gets its own cache and shipped roots."""
import os
from pathlib import Path

import pytest

from tests.e2e.harness import RAY_TOKEN

# Ray's client reads its authentication settings once per process, when Ray is first imported (which a page test may
# do long before a test starts a cluster): the clusters the tests start use this token, set here for the session.
os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=RAY_TOKEN)


@pytest.fixture
def spec():
    """The store and job tests' model: the 2-D DAE, whose tiny preset trains in about a second."""
    from engine import registry

    return registry.get("dae2d")


@pytest.fixture
def tiny(spec):
    return spec.config("tiny")


def empty_folder_in(variable: str, root: Path, monkeypatch) -> Path:
    root.mkdir()
    monkeypatch.setenv(variable, str(root))
    return root


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """PLAYGROUND_CACHE pointed at a fresh, empty folder (checkpoints and jobs land here)."""
    return empty_folder_in("PLAYGROUND_CACHE", tmp_path / "cache", monkeypatch)


@pytest.fixture
def no_shipped(tmp_path, monkeypatch) -> Path:
    """PLAYGROUND_SHIPPED pointed at an empty folder, so the repository's assets/checkpoints are never read."""
    return empty_folder_in("PLAYGROUND_SHIPPED", tmp_path / "shipped", monkeypatch)


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory) -> Path:
    """A cache folder into which every registered model's tiny preset (and variants) is trained once per session."""
    from engine import api, registry

    root = tmp_path_factory.mktemp("tiny-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLAYGROUND_CACHE", str(root))
        for spec in registry.list_models():
            for config in spec.configs("tiny"):
                if api.locate(spec.name, config)[0] is None:
                    api.train_and_save(spec.name, config)
    return root


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """A real Redis server for the session (started here, stopped at the end)."""
    from tests.e2e.harness import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"])
def room_store(request, monkeypatch):
    """Each classroom test once with rooms in SQLite (the default) and once in Redis (PLAYGROUND_REDIS_URL), each
    time empty."""
    from engine import tables

    tables.close_all()
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        monkeypatch.setenv(tables.REDIS_ENV, url)
        import redis
        redis.Redis.from_url(url).flushdb()
    yield request.param
    tables.close_all()
