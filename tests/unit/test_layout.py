"""Repository-wide rules: who may import whom (the layering the README draws), and code that passes ruff.

Every `import` and `from ... import` in app/, pages/ and engine/ (inside functions too) is read with `ast`, mapped
to the layer of the importing file and of the imported module, and checked against RULES. A layer's own modules
are not implied: a layer that may import itself says so.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from engine.store import REPO_ROOT

PAGE_FACING = {"engine.api", "engine.models", "engine.analysis", "engine.data"}

# layer -> the project layers it may import. A module belongs to the layer with the longest matching name.
RULES: dict[str, set[str]] = {
    # UI: pages call the engine through engine.api and call what a loaded model exposes for drawing (its
    # functions and constants in engine.models, pure computations in engine.analysis, inputs in engine.data);
    # never the registry, the store, the jobs or the training loop.
    "pages": {"app.ui"} | PAGE_FACING,
    "app.main": {"app.ui"},
    "app.serve": set(),                 # starts Streamlit's server for app/main.py
    "app.home": {"app.ui", "engine.api"},
    "app.ui": {"app.ui", "engine.api", "engine.data"},
    # The engine's front: the CLI is the one caller that also ships checkpoints and lists jobs directly.
    "engine.__main__": {"engine.api", "engine.data", "engine.device", "engine.jobs", "engine.registry",
                        "engine.store", "engine.worker"},
    "engine.worker": {"engine.api", "engine.device", "engine.files", "engine.jobs", "engine.registry", "engine.train"},
    # Jobs on a Ray cluster: the same job body as a local worker's, Ray imported only here.
    "engine.cluster": {"engine.jobs", "engine.registry", "engine.store", "engine.worker"},
    "engine.api": {"engine.claims", "engine.cluster", "engine.device", "engine.jobs", "engine.registry", "engine.rooms", "engine.store",
                   "engine.train"},
    # Classroom rooms live in a SQLite file in the cache, or on a Redis server for several web servers.
    "engine.rooms": {"engine.store", "engine.tables"},
    "engine.tables": set(),
    # Claims read stored metrics and the papers' numbers kept beside each model.
    "engine.claims": {"engine.analysis", "engine.data", "engine.models", "engine.registry", "engine.store"},
    "engine.jobs": {"engine.files", "engine.registry", "engine.store"},
    "engine.train": {"engine.device", "engine.registry"},
    "engine.store": {"engine.files", "engine.registry"},
    # Models: one module per family, built on pure computations and data sets, registered in the registry; the
    # photo networks size their worker pool by the cores the process may use (engine.device, a leaf).
    "engine.models": {"engine.analysis", "engine.data", "engine.device", "engine.models", "engine.registry"},
    "engine.analysis": {"engine.analysis", "engine.files"},
    "engine.data": {"engine.data"},
    # The registry fills its table by importing the model package once, on first use.
    "engine.registry": {"engine.models"},
    "engine.device": set(),
    "engine.files": set(),
    "a top package": set(),             # app/__init__.py, engine/__init__.py: only mark the packages
}
# Optional servers' clients, each imported by one module only, so that without its setting it is never imported.
ONE_IMPORTER = {"ray": "engine.cluster", "redis": "engine.tables"}
STREAMLIT_FREE = ("engine",)        # the engine runs in CLI and worker processes too: no Streamlit there
CHECKED = ("app", "pages", "engine")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    matches = [layer for layer in RULES if module == layer or module.startswith(layer + ".")]
    return max(matches, key=len) if matches else None


def imported_modules(node: ast.AST, root: Path) -> list[str]:
    """The modules an import statement reaches: `from engine import api` reaches engine.api."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    found = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        as_path = root / Path(*candidate.split("."))
        found.append(candidate if as_path.with_suffix(".py").exists() or as_path.is_dir() else base)
    return found


def violations(root: Path) -> list[str]:
    """One line per import that breaks a rule: file:line, the rule, the import as written."""
    found = []
    for top in CHECKED:
        for path in sorted((root / top).rglob("*.py")):
            module = module_name(path, root)
            layer = "a top package" if module in CHECKED else layer_of(module)
            where = f"{path.relative_to(root)}:"
            if layer is None:
                found.append(f"{where}1: {module} belongs to no layer; add it to RULES and the README's diagram")
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Import | ast.ImportFrom) or getattr(node, "level", 0):
                    continue
                text = ast.unparse(node)
                for target in imported_modules(node, root):
                    head = target.split(".")[0]
                    if head == "streamlit" and module.startswith(STREAMLIT_FREE):
                        found.append(f"{where}{node.lineno}: {layer} may not import streamlit ({text})")
                    if head in ONE_IMPORTER and module != ONE_IMPORTER[head]:
                        found.append(f"{where}{node.lineno}: only {ONE_IMPORTER[head]} imports {head} ({text})")
                    if head not in CHECKED:
                        continue
                    target_layer = layer_of(target)
                    if target_layer not in RULES[layer]:
                        found.append(f"{where}{node.lineno}: {layer} may not import {target_layer or target} ({text})")
    return found


def test_every_import_follows_the_layering():
    assert violations(REPO_ROOT) == []


def test_the_rules_catch_a_planted_violation(tmp_path):
    for top in CHECKED:
        (tmp_path / top).mkdir()
    (tmp_path / "engine" / "data").mkdir()
    (tmp_path / "engine" / "store.py").write_text("")
    (tmp_path / "engine" / "jobs.py").write_text("")
    (tmp_path / "engine" / "api.py").write_text("")
    (tmp_path / "engine" / "data" / "reader.py").write_text("import numpy\nfrom engine import store\n")
    (tmp_path / "pages" / "page.py").write_text("from engine import api\n\n\ndef f():\n    from engine.jobs import start\n")
    (tmp_path / "engine" / "data" / "widget.py").write_text("import streamlit as st\nimport ray.util\n")
    (tmp_path / "engine" / "stray.py").write_text("")
    found = sorted(violations(tmp_path))
    assert found == ["engine/data/reader.py:2: engine.data may not import engine.store (from engine import store)",
                     "engine/data/widget.py:1: engine.data may not import streamlit (import streamlit as st)",
                     "engine/data/widget.py:2: only engine.cluster imports ray (import ray.util)",
                     "engine/stray.py:1: engine.stray belongs to no layer; add it to RULES and the README's diagram",
                     "pages/page.py:5: pages may not import engine.jobs (from engine.jobs import start)"]


@pytest.mark.parametrize("module,layer", [("engine.models.draw", "engine.models"), ("engine.api", "engine.api"),
                                          ("pages.draw", "pages"), ("app.ui.page_kit", "app.ui")])
def test_a_module_belongs_to_its_longest_named_layer(module, layer):
    assert layer_of(module) == layer


def test_pages_do_not_build_train_or_open_checkpoints():
    forbidden = ("build_model", "train_and_save", "load_state", "safetensors", "torch.load", "nn.Module")
    offenders = [f"{p.name}: {word}" for p in (REPO_ROOT / "pages").glob("*.py") for word in forbidden
                 if word in p.read_text()]
    assert offenders == []


def test_code_passes_ruff():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "app", "engine", "pages", "tests"],
                         cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
