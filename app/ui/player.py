"""A step player: a step slider, Play (the steps animated in the browser as a GIF) and a GIF download."""
from collections.abc import Callable

import streamlit as st


def stop(key: Callable[[str], str]) -> None:
    """Back to the still frame (any control that changes what is replayed calls this)."""
    st.session_state[key("playing")] = False


def step_player(key: Callable[[str], str], steps: list[int], frame: Callable[[int], object],
                animation: Callable[[], bytes], caption: Callable[[int], str], gif_name: str,
                publish: Callable[[], None]) -> None:
    """Show frame(step) for the step chosen on the slider under session key key("step"), snapped to `steps`.

    animation() makes the GIF of all steps; it runs only when Play or the download button is pressed.
    """
    wanted = st.session_state[key("step")]
    st.session_state[key("step")] = min(steps, key=lambda v: abs(v - wanted))
    left, mid, right = st.columns([5, 2, 2], vertical_alignment="bottom")
    step = left.select_slider("Step", steps, key=key("step"), on_change=stop, args=(key,))
    if mid.button("Play", key=key("play"), icon=":material/play_arrow:"):
        st.session_state[key("playing")] = True
    right.download_button("Download GIF", animation, file_name=gif_name, mime="image/gif", key=key("gif"),
                          icon=":material/download:", on_click="ignore")
    publish()
    if st.session_state.get(key("playing")):
        st.image(animation(), caption=f"all {len(steps)} frames, looping (move the slider to stop)")
    else:
        st.image(frame(step), caption=caption(step), output_format="PNG")
