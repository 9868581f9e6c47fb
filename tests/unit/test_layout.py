"""Repository-wide rules: the engine never imports Streamlit, pages never build models, code passes ruff."""
import re
import subprocess
import sys

from engine.store import REPO_ROOT


def test_engine_does_not_import_streamlit():
    offenders = [str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "engine").rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+streamlit", p.read_text(), re.M)]
    assert offenders == []


def test_pages_do_not_build_train_or_open_checkpoints():
    forbidden = re.compile(r"\b(build_model|train_and_save|load_state|safetensors|torch\.load|nn\.Module)\b")
    offenders = [str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "pages").glob("*.py")
                 if forbidden.search(p.read_text())]
    assert offenders == []


def test_code_passes_ruff():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "app", "engine", "pages", "tests"],
                         cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
