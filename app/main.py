"""Streamlit entry: run from the repository root with `make run` (`python -m app.serve`, which runs this script)."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app.ui import catalog, classroom  # noqa: E402
from app.ui.resources import configure_process  # noqa: E402

# A local icon: a material or emoji icon would make the browser fetch the favicon from the internet.
st.set_page_config(page_title="Deep Learning Playground", page_icon=str(ROOT / "assets" / "icon.png"), layout="wide")
configure_process()

pages = [st.Page("home.py", title="Home", icon=":material/home:", default=True)]  # served at /
pages += [st.Page(str(Path("..") / "pages" / p.file.name), title=p.title, icon=p.icon, url_path=p.url_path)
          for p in catalog.available()]
pages.append(st.Page(str(Path("..") / "pages" / "classroom.py"), title="Classroom", icon=":material/school:",
                     url_path="classroom"))
page = st.navigation(pages)
if classroom.gate(page.url_path):      # a student's class may be paused, or held to some pages
    page.run()
