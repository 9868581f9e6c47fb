"""Running a page script headless and reading what it shows."""
from streamlit.testing.v1 import AppTest

from engine.store import REPO_ROOT


def run_page(path: str, **params) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / path), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = str(v)
    return at.run()


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)
