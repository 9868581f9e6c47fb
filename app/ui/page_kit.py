"""What every page starts from: its namespace (equal to its url path), widget keys, URL state and model panels.

    kit = PageKit("draw", DEFAULTS, ALLOWED)
    key = kit.key                       # "draw:step": session-state and widget key
    kit.bind()                          # URL -> session state, once per change of the URL
    loaded = kit.model("draw", config, mnist=True, missing="No DRAW checkpoint: train it under 'Model'.")
    ...
    kit.publish()                       # session state -> URL, so a copied link reproduces the view
    kit.share(summary, figure)          # a classroom student's "Send to class"
    kit.paper_vs_you(report)            # the page's claims, as Home lists them
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from app.ui import classroom, tables, url_state
from app.ui.digit_input import mnist_available
from app.ui.model_panel import model_panel
from engine import api

HOLDS = {True: "yes", False: "no", None: "-"}


@dataclass(frozen=True)
class PageKit:
    url_path: str                                           # the page's url path, also its key namespace
    defaults: dict[str, Any] = field(default_factory=dict)  # view state kept in the URL, with its defaults
    allowed: dict[str, Any] = field(default_factory=dict)   # choices or (low, high) range per URL value

    def key(self, name: str) -> str:
        return f"{self.url_path}:{name}"

    def bind(self) -> None:
        url_state.bind(self.url_path, self.defaults, self.allowed, reset=classroom.take_reset(self.url_path))

    def publish(self) -> None:
        url_state.publish(self.url_path, self.defaults)
        classroom.moved(self.url_path)          # a teacher with live follow on brings the class along

    def share(self, summary: Callable[[], str], figure: Callable[[], bytes | None]) -> None:
        """A classroom student's "Send to class": this view, a thumbnail of the page's main figure (PNG bytes) and
        a one-line result; both functions run only when the button is pressed. Call it at the page's top level
        (not in a fragment)."""
        classroom.share(self.url_path, summary, figure)

    def models(self, *wanted: tuple[str, Any], title: str = "", collapsed: bool = True, mnist: bool = False,
               missing: str = "") -> list[api.Loaded | None] | None:
        """A model panel per (name, config), in one collapsed expander (or in the page itself where the user picks
        the setting to train, collapsed=False); the loaded models in order. With mnist=True, None when the digits
        cannot be loaded (the reason is shown); with `missing`, that warning is shown when any model has no
        checkpoint."""
        if collapsed:
            with st.expander(title or ("Model" if len(wanted) == 1 else "Models on this page"), expanded=False):
                loaded = [model_panel(name, config, self.url_path) for name, config in wanted]
        else:
            loaded = [model_panel(name, config, self.url_path) for name, config in wanted]
        if mnist and not mnist_available():
            return None
        if missing and any(m is None for m in loaded):
            st.warning(missing)
        return loaded

    def model(self, name: str, config, *, title: str = "", collapsed: bool = True, mnist: bool = False,
              missing: str = "") -> api.Loaded | None:
        """models() for one model: the loaded model, or None (with the reason shown)."""
        loaded = self.models((name, config), title=title, collapsed=collapsed, mnist=mnist, missing=missing)
        return loaded[0] if loaded else None

    def paper_vs_you(self, report: api.Report, *measured_on: tuple[str, ...]) -> None:
        """The page's measured claims beside the papers' (the rows Home lists), or only those measured on the given
        sets of models (() for the claims that involve no trained model), and the models still missing."""
        st.subheader("Paper vs. you")
        claims = [c for c in report.claims if not measured_on or c.models in measured_on]
        models = {name for needs in measured_on for name in needs} if measured_on else None
        if claims:
            st.markdown(tables.markdown_table([{"claim": c.claim, "paper": c.paper, "ours": c.ours,
                                                "holds": HOLDS[c.holds]} for c in claims]))
            st.caption("Setting: " + "; ".join(dict.fromkeys(c.setting for c in claims)) + ".")
        for name, reason in report.missing.items():
            if models is None or name in models:
                st.info(f"`{name}`: {reason}; its claims are measured once it is trained.", icon=":material/info:")
