"""The README's "Adding a model" and "Adding a page", followed literally on a copy of the repository: a tiny model
and a tiny page, then `engine list`, training, the navigation and Home find them."""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from engine.store import REPO_ROOT

MODEL = '''\
"""A line fitted by gradient descent: the smallest model that goes through the whole engine.

    y = w x + b,   L = mean (y - t)^2 over a seeded sample of t = 2 x + 1 + noise
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.registry import ModelSpec, register


@dataclass(frozen=True)
class LineConfig:
    points: int = 64        # enough points to pin down two numbers
    steps: int = 300        # Adam at this rate settles on a line well within this many steps
    lr: float = 0.05
    batch_size: int = 16
    seed: int = 0


class Line(nn.Module):
    def __init__(self, config: LineConfig):
        super().__init__()
        self.fit = nn.Linear(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fit(x)


def sample(config: LineConfig) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(config.seed)
    x = torch.rand(config.points, 1, generator=g)
    return x, 2 * x + 1 + 0.01 * torch.randn(config.points, 1, generator=g)


def train_step(model, data, config, generator):
    x, t = data
    rows = torch.randint(len(x), (config.batch_size,), generator=generator)
    return F.mse_loss(model(x[rows]), t[rows])


def evaluate(model, data, config, deps):
    return {"slope": round(model.fit.weight.item(), 3)}


register(ModelSpec(
    name="line", title="A fitted line", page="line", config_cls=LineConfig,
    presets={"tiny": LineConfig(), "cpu": LineConfig(steps=1000), "gpu": LineConfig(steps=1000)},
    build=Line, data=sample, train_step=train_step, evaluate=evaluate,
))
'''

CLAIM = '''

def fitted_line_rows(metrics: dict) -> list[Claim]:
    return [Claim(claim="Gradient descent finds the line's slope", paper="2 (by construction)",
                  ours=f"{metrics['slope']:.2f}", holds=abs(metrics["slope"] - 2) < 0.2, setting="64 seeded points")]
'''

PAGE = '''\
"""A fitted line: the smallest page."""
import streamlit as st

from app.ui import resources
from app.ui.page_kit import PageKit
from engine import api

KIT = PageKit("line", {"points": 64}, {"points": (2, 1000)})
key = KIT.key

st.title("A fitted line")
KIT.bind()
loaded = KIT.model("line", api.config("line", resources.preset()), missing="Train it under 'Model'.")
if loaded is not None:
    st.metric("Slope", f"{loaded.model.fit.weight.item():.2f}")
KIT.publish()
KIT.paper_vs_you(api.claims("line", resources.preset()))
'''

HOME_CHECK = '''\
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app/main.py", default_timeout=120).run()
assert not at.exception, at.exception
links = [e.proto.label for e in at.get("page_link")]
home = " ".join(str(m.value) for m in at.markdown)
page = AppTest.from_file("pages/line.py", default_timeout=120).run()
assert not page.exception, page.exception
print(links, "Gradient descent finds the line's slope ([/line](/line))" in home,
      " ".join(str(m.value) for m in page.markdown).count("Gradient descent finds"), page.metric[0].value)
'''


def follow_the_readme(copy):
    """Each step as the README words it, on the copy."""
    # Adding a model, 1-2: the module, and one more name on engine/models/__init__.py's import line.
    (copy / "engine/models/line.py").write_text(MODEL)
    init = copy / "engine/models/__init__.py"
    init.write_text(re.sub(r"(from engine\.models import [^#\n]+?)(\s+# noqa)", r"\1, line\2", init.read_text()))
    # 4: a function from its metrics to Claim rows, and its Source in the page's PAGES entry.
    claims = copy / "engine/claims.py"
    text = claims.read_text().replace("\n\n# ---------------------------------------------------------------- the table",
                                      CLAIM + "\n\n# ---------------------------------------------------------------- the table")
    claims.write_text(text.replace("PAGES: dict[str, tuple[Source, ...]] = {\n",
                                   'PAGES: dict[str, tuple[Source, ...]] = {\n    "line": (Source(("line",), fitted_line_rows),),\n'))
    # Adding a page, 1-2: the page, and its PageInfo in app/ui/catalog.py's PAGES.
    (copy / "pages/line.py").write_text(PAGE)
    catalog = copy / "app/ui/catalog.py"
    catalog.write_text(catalog.read_text().replace(
        "PAGES = [\n", 'PAGES = [\n    PageInfo("line", "A fitted line", ":material/show_chart:", "43-57", "Descent on a line"),\n'))


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo")
    for part in ("app", "engine", "pages", ".streamlit"):
        shutil.copytree(REPO_ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "assets").symlink_to(REPO_ROOT / "assets")
    follow_the_readme(root)
    return root


def run(copy, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLAYGROUND_CACHE": str(copy / "cache"), "PYTHONPATH": str(copy)}
    return subprocess.run([sys.executable, *args], cwd=copy, capture_output=True, text=True, env=env, timeout=280)


def test_the_new_model_is_listed_and_trains(copy):
    out = run(copy, "-m", "engine", "list", "--json")
    assert out.returncode == 0, out.stderr
    assert "line" in [row["name"] for row in json.loads(out.stdout)]
    out = run(copy, "-m", "engine", "train", "line", "--preset", "cpu")
    assert out.returncode == 0, out.stderr
    out = run(copy, "-m", "engine", "eval", "line", "--json")
    assert abs(json.loads(out.stdout)["slope"] - 2) < 0.2


def test_the_new_page_is_in_the_navigation_and_its_claim_on_home(copy):
    run(copy, "-m", "engine", "train", "line", "--preset", "cpu")
    out = run(copy, "-c", textwrap.dedent(HOME_CHECK))
    assert out.returncode == 0, out.stderr
    links, on_home, on_page, slope = out.stdout.strip().rsplit("\n", 1)[-1].rsplit(" ", 3)
    assert "'A fitted line'" in links            # Home links every page of the navigation
    assert on_home == "True" and on_page == "1"
    assert abs(float(slope) - 2) < 0.2
