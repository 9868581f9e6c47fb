"""Choose a digit: a held-out test digit by class and index, or one drawn on a canvas."""
import functools
from collections.abc import Callable

import numpy as np
import streamlit as st
import torch
from streamlit_drawable_canvas import st_canvas

from app.ui import images
from engine.data import DataError
from engine.data.drawing import drawing_to_digit
from engine.data.mnist import load_mnist

SOURCES = {"test": "Test digit", "draw": "Draw"}


def test_digit(cls: int, idx: int) -> np.ndarray:
    data = load_mnist()
    members = torch.nonzero(data.y_test == cls).flatten()
    return data.x_test[members[idx % len(members)]].numpy()


@functools.lru_cache(maxsize=10)
def class_count(cls: int) -> int:
    return int((load_mnist().y_test == cls).sum())


def mnist_available() -> bool:
    """Name the MNIST source in a caption, or show why the digits could not be loaded and return False."""
    try:
        st.caption(load_mnist().source)
    except DataError as e:
        st.error(f"The MNIST digits could not be loaded: {e}", icon=":material/error:")
        return False
    return True


def digit_input(key: Callable[[str], str], name: str, scale: int = 3) -> np.ndarray | None:
    """Widgets under session keys key("src"), key("cls"), key("idx"), key("canvas"); returns the digit's pixels
    (784,) in [0, 1], or None with a message shown when the drawing is empty or unusable."""
    src = st.segmented_control("Source", list(SOURCES), key=key("src"), required=True,
                               label_visibility="collapsed", format_func=SOURCES.get)
    if src == "draw":
        result = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=196,
                           width=196, drawing_mode="freedraw", return_image_data=True, key=key("canvas"))
        data = result.image_data if result is not None else None
        if data is None:
            st.info("Draw a digit in white on the black square.")
            return None
        try:
            pixels = drawing_to_digit(np.asarray(data))
        except DataError as e:
            st.warning(f"{name}: {e}.")
            return None
        st.image(images.digit(pixels, 2), caption="as the model sees it (28 x 28)", output_format="PNG")
        return pixels
    c1, c2 = st.columns(2)
    cls = c1.selectbox("Class", list(range(10)), key=key("cls"))
    n = class_count(cls)
    c2.number_input(f"Index (0-{n - 1})", min_value=0, max_value=n - 1, step=1, key=key("idx"))
    idx = st.session_state[key("idx")]
    st.image(test_digit_png(cls, idx, scale), output_format="PNG")     # PNG bytes, sent as they are
    return test_digit(cls, idx)


@functools.lru_cache(maxsize=1024)
def test_digit_png(cls: int, idx: int, scale: int) -> bytes:
    """A test digit's picture, encoded once per process (a class opening the same digits shares them)."""
    return images.png(images.digit(test_digit(cls, idx), scale))
