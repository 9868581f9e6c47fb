"""The model panel every page shows: which checkpoint is loaded, its metrics, and Train / Retrain with live progress."""
import pandas as pd
import streamlit as st

from app.ui import classroom, resources
from engine import api

SOURCE_LABELS = {"shipped": "shipped with the app", "cached": "trained on this machine",
                 "own": "trained by you in this class (the class keeps using its own)"}


def _source_label(ckpt) -> str:
    if ckpt.source == "cached" and ckpt.created >= resources.configure_process():
        return "trained now"
    return SOURCE_LABELS[ckpt.source]


def _scalar_metrics(metrics: dict) -> str:
    parts = [f"{k.replace('_', ' ')} **{v:g}**" for k, v in metrics.items()
             if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return " · ".join(parts)


def _loss_chart(history: list) -> None:
    if history:
        st.line_chart(pd.DataFrame(history, columns=["step", "loss"]), x="step", y="loss", height=160)


def _place(job: api.JobStatus) -> str:
    """Where a waiting job stands in the training queue, in words."""
    ahead = "next to start" if job.position == 1 else f"{job.position - 1} jobs ahead of it"
    text = f"Waiting for a free training slot: {ahead}"
    if job.starts_in is not None:
        text += f", about {job.starts_in:.0f} s"
    return text + "."


def _job(name: str, config, owner: str) -> tuple[api.JobStatus | None, bool]:
    """The job `owner` would see, and whether training jobs can be reached at all (a cluster that does not answer
    is said on the page, not raised)."""
    try:
        return api.job_status(name, config, owner), True
    except api.JobsUnavailable as e:
        st.warning(f"Training is unavailable: {e}.", icon=":material/cloud_off:")
        return None, False


def _live_progress(name: str, config, key: str) -> None:
    owner = classroom.owner()
    job, reachable = _job(name, config, owner)
    if not reachable:
        return
    if job is None or not job.active:
        st.rerun(scope="app")       # finished: reload the page so it picks up the new checkpoint
    if job.waiting:
        st.progress(0.0, text=_place(job))
        if classroom.training_allowed() and st.button("Leave the queue", key=f"{key}:cancel", icon=":material/stop:"):
            _cancel(name, config, owner)
        return
    text = f"{job.phase or 'starting'} · step {job.step}/{job.total}"
    if job.loss is not None:
        text += f" · loss {job.loss:.4f}"
    if job.eta is not None:
        text += f" · about {job.eta:.0f} s left"
    if job.where:
        text += f" · on the cluster's {job.where}"
    st.progress(min(job.fraction, 1.0), text=text)
    _loss_chart(job.history)
    if classroom.training_allowed() and st.button("Cancel training", key=f"{key}:cancel", icon=":material/stop:"):
        _cancel(name, config, owner)


def _cancel(name: str, config, owner: str) -> None:
    try:
        api.cancel_job(name, config, owner)
    except (api.TrainingLocked, api.JobsUnavailable) as e:
        st.warning(f"Not cancelled: {e}.", icon=":material/lock:")


def model_panel(name: str, config, page: str) -> api.Loaded | None:
    """Render the panel for (name, config) and return the loaded model, or None when there is none to use."""
    spec = api.spec(name)
    chash = api.config_hash(name, config)
    key = f"{page}:model:{name}:{chash}"
    owner = classroom.owner()
    seat = api.seat(owner)
    ckpt, errors = api.locate(name, config, seat)
    with st.container(border=True, key=f"{page}_model_{name}"):      # class st-key-<page>_model_<name>
        st.markdown(f"**{spec.title}** · `{name}` · config `{chash}`")
        for error in errors:
            st.error(f"Refused a damaged checkpoint, not loaded: {error}. Retrain to replace it.",
                     icon=":material/gpp_bad:")
        if ckpt:
            st.caption(f"Checkpoint {_source_label(ckpt)}, trained in {ckpt.train_seconds:.0f} s. "
                       + _scalar_metrics(ckpt.metrics))
        else:
            st.info("No checkpoint for this setting yet: train it here (progress shows live; other pages keep "
                    "working meanwhile).", icon=":material/model_training:")
        job, reachable = _job(name, config, owner)
        if job is not None and job.active:
            st.fragment(_live_progress, run_every=1.0)(name, config, key)
        elif reachable:
            if job is not None and job.state == "failed":
                st.error(f"The last training run failed: {job.error}")
            elif job is not None and job.state == "cancelled":
                st.warning("The last training run was cancelled; nothing was saved.")
            if not classroom.training_allowed():
                st.caption(":material/lock: Training is off in this class: the teacher can turn it on.")
            elif st.button("Retrain" if ckpt else "Train", key=f"{key}:train", icon=":material/play_arrow:"):
                try:
                    api.start_job(name, config, owner)
                except (api.QueueFull, api.TrainingLocked, api.JobsUnavailable) as e:
                    st.warning(f"Not started: {e}.", icon=":material/hourglass_top:")
                else:
                    st.rerun()
    if ckpt is None:
        return None
    try:
        return resources.load(name, config, ckpt.sha256, seat if ckpt.source == "own" else "")
    except (api.CheckpointError, api.NotTrained) as e:
        st.error(f"Could not load the checkpoint: {e}")
        return None

