"""A page's view state in the URL: read when a link is opened, written back after every change.

Values live in st.session_state under namespaced keys ("manifold:alpha"), which are also the widget keys,
so widgets and the URL stay in step. Values from the URL are checked against the default's type and the
allowed choices or range; anything else falls back to the default.
"""
from typing import Any

import streamlit as st


def _coerce(raw: str, default: Any, allowed) -> Any:
    try:
        if isinstance(default, bool):
            value = raw.lower() in ("1", "true", "yes")
        elif isinstance(default, int):
            value = int(raw)
        elif isinstance(default, float):
            value = float(raw)
        else:
            value = str(raw)
    except ValueError:
        return default
    if isinstance(allowed, tuple) and len(allowed) == 2 and not isinstance(default, str):
        lo, hi = allowed
        return value if lo <= value <= hi else default
    if allowed is not None and value not in allowed:
        return default
    return value


def bind(page: str, defaults: dict[str, Any], allowed: dict[str, Any] | None = None, reset: bool = False) -> None:
    """Seed `page:name` session keys from the URL when the URL differs from what this page last wrote. Values the
    URL does not name keep this session's (coming back to a page keeps its view), or, with reset (the view was
    handed over whole, as when a class follows its teacher), go back to their defaults. When the URL has not
    changed, only values gone from the session are seeded again: Streamlit forgets a widget's value after a run
    that does not draw it (as while a class is paused)."""
    allowed = allowed or {}
    written = st.session_state.get(f"{page}:_url")
    current = {k: st.query_params[k] for k in defaults if k in st.query_params}
    unchanged = written is not None and current == written and not reset
    for name, default in defaults.items():
        key = f"{page}:{name}"
        if unchanged and key in st.session_state:
            continue
        if name in current:
            st.session_state[key] = _coerce(current[name], default, allowed.get(name))
        elif reset or key not in st.session_state:
            st.session_state[key] = default
    st.session_state[f"{page}:_url"] = current


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def publish(page: str, defaults: dict[str, Any]) -> None:
    """Write the values that differ from their defaults into the URL, so a copied link reproduces the view."""
    for name, default in defaults.items():
        value = st.session_state.get(f"{page}:{name}", default)
        if value == default:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != _text(value):
            st.query_params[name] = _text(value)
    st.session_state[f"{page}:_url"] = {k: st.query_params[k] for k in defaults if k in st.query_params}
