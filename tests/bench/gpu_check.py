"""`python -m tests.bench.gpu_check`: the gpu presets on a CUDA machine.

For every registered model: seconds per training step of its gpu preset (after warm-up, synchronised), the
projected time of the full run, the peak GPU memory, and the step's operations as a share of the GPU's float32
matmul peak (tests/bench/throughput.py); then a short end-to-end run of the gpu preset (train, save,
reload, re-evaluate) in a throw-away cache, checking that the reloaded model gives the metrics it was saved with.
Prints one JSON line per model and writes them all to the file named by the first argument, if any; further
arguments name the models to check (all when none is named).
"""
import dataclasses
import json
import os
import sys
import tempfile
import time

import torch

from engine import api, registry
from engine.train import build_model, make_step
from tests.bench import throughput
from tests.integration.test_tiny_presets import assert_close

TIMED_STEPS = 20
WARMUP_STEPS = 3
SHORT_RUN_STEPS = 100


def seconds_per_step(spec, config) -> tuple[float, float, int]:
    """Mean seconds per optimisation step, peak GPU memory (GB) and the step's floating-point operations (PyTorch's
    counter) for `config` on the current device."""
    model = build_model(spec, config)
    data = spec.data(config)
    step = make_step(spec, model, data, config, torch.Generator().manual_seed(0))
    flops = throughput.step_flops(step)
    torch.cuda.reset_peak_memory_stats()
    for i in range(WARMUP_STEPS + TIMED_STEPS):
        if i == WARMUP_STEPS:
            torch.cuda.synchronize()
            start = time.perf_counter()
        step()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / TIMED_STEPS, torch.cuda.max_memory_allocated() / 1e9, flops


def close(a, b) -> bool:
    """Whether metrics a match b as the tiny-preset test requires."""
    try:
        assert_close(a, b)
    except AssertionError:
        return False
    return True


def check(spec, peak_flops: float) -> dict:
    config = spec.config("gpu")
    step_s, peak_gb, flops = seconds_per_step(spec, config)
    row = {"model": spec.name, "device": torch.cuda.get_device_name(), "s_per_step": round(step_s, 4),
           "steps": config.steps, "projected_minutes": round(step_s * config.steps / 60, 1),
           "peak_gb": round(peak_gb, 2), "gflop_per_step": round(flops / 1e9, 3),
           "share_of_matmul_peak": round(flops / step_s / peak_flops, 4)}
    short = dataclasses.replace(config, steps=SHORT_RUN_STEPS)
    ckpt = api.train_and_save(spec.name, short)
    metrics, again = api.evaluate(spec.name, short)
    row.update(short_run_seconds=round(ckpt.train_seconds, 1), reload_matches=close(metrics, ckpt.metrics),
               same_checkpoint=again.sha256 == ckpt.sha256,
               metrics={k: v for k, v in metrics.items() if isinstance(v, (int, float))})
    return row


def main() -> None:
    if not torch.cuda.is_available():
        sys.exit("no CUDA device: this check is for a GPU machine")
    rows, peak = [], throughput.peak_flops(8192)
    print(json.dumps({"float32_matmul_peak_tflops": round(peak / 1e12, 1)}), flush=True)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["PLAYGROUND_CACHE"] = cache
        names = sys.argv[2:]
        for spec in [s for s in registry.list_models() if not names or s.name in names]:
            try:
                row = check(spec, peak)
            except Exception as e:   # report every model, even when one fails
                row = {"model": spec.name, "error": f"{type(e).__name__}: {e}"}
            print(json.dumps(row), flush=True)
            rows.append(row)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
