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


def run_with_uploads(path: str, uploads: list, **params) -> AppTest:
    """The page with files already uploaded: each st.file_uploader call, in order, returns the next of `uploads`
    ((bytes, file name) or None). AppTest cannot drive the uploader, so the page gets what the uploader would
    give it."""
    at = AppTest.from_function(_uploaded_page, args=(path, uploads, params), default_timeout=120)
    return at.run()


def _uploaded_page(path: str, uploads: list, params: dict) -> None:
    import runpy
    import zlib
    from unittest import mock

    import streamlit as st

    from engine.store import REPO_ROOT

    class File:
        def __init__(self, data: bytes, name: str):
            self.data, self.name = data, name
            self.file_id = f"{name}-{zlib.crc32(data):08x}"          # an upload's own id, as Streamlit gives one

        def getvalue(self) -> bytes:
            return self.data

    files = iter([File(*u) if u else None for u in uploads])
    for k, v in params.items():
        st.query_params[k] = str(v)
    def uploader(*args, **kwargs):
        return next(files, None)

    # st.file_uploader is bound to the main area when Streamlit is imported, so it is replaced on its own.
    with mock.patch.object(st.delta_generator.DeltaGenerator, "file_uploader", uploader), \
            mock.patch.object(st, "file_uploader", uploader):
        runpy.run_path(str(REPO_ROOT / path))
