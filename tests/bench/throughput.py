"""How close each model's training step comes to what this machine can do.

For every registered model, on one preset: steps per second and samples per second, the floating-point operations
of one step counted by PyTorch's own counter (`torch.utils.flop_counter`: matrix products and convolutions, forward
and backward), and the FLOP/s achieved as a share of this machine's peak, a large float32 matrix product measured in
the same run with the same threads. Not pass/fail: prints one table.

    python -m tests.bench.throughput [--preset cpu] [--steps 20] [--threads N] [--models draw gan ...]

On a CUDA machine, `--preset gpu` measures the gpu presets on the GPU against its own matmul peak.
"""
import argparse
import contextlib
import os
import platform
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from engine import registry
from engine.device import get_device, keep_freed_memory, thread_count
from engine.train import build_model, make_step


def peak_flops(side: int = 2048, repeats: int = 5) -> float:
    """The best FLOP/s of a side x side float32 matrix product (2 side^3 operations) on the training device."""
    device = get_device()
    a, b = torch.randn(side, side, device=device), torch.randn(side, side, device=device)
    best = float("inf")
    for _ in range(repeats + 1):                # the first product warms the library up
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * side ** 3 / best


def step_flops(step) -> int:
    """Operations of one call of `step`, as PyTorch counts them."""
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


# PyTorch's operators that do the products FlopCounterMode counts (their own time, without what they call).
PRODUCTS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::mkldnn_convolution",
            "aten::cudnn_convolution", "aten::convolution_backward"}


def step_profile(step) -> tuple[int, float, float]:
    """What bounds a step, from PyTorch's profiler over one call: the operators it runs, the share of its operator
    time spent in matrix products and convolutions, and the mean time of one of the other operators (s). A step of
    many small operators is bound by their per-operator cost, not by arithmetic."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    total = sum(e.self_cpu_time_total for e in events)
    products = sum(e.self_cpu_time_total for e in events if e.key in PRODUCTS)
    others = [e for e in events if e.key not in PRODUCTS]
    calls = sum(e.count for e in others)
    return (sum(e.count for e in events), products / total if total else 0.0,
            (total - products) / calls / 1e6 if calls else 0.0)


@contextlib.contextmanager
def one_thread():
    """PyTorch's FLOP counter and profiler see the operators of the thread they were started on, and a step may run
    parts on threads of its own (common.side_by_side); with one thread those parts run one after another, here,
    and the count and the profile see the same operators."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def measure(name: str, preset: str, steps: int) -> dict:
    spec = registry.get(name)
    config = spec.config(preset)
    model, data = build_model(spec, config), spec.data(config)
    model.train()
    step = make_step(spec, model, data, config, torch.Generator().manual_seed(0))
    step()                                      # first steps allocate and record initial states
    with one_thread():
        flops = step_flops(step)
        operators, product_share, other_op = step_profile(step)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        if get_device().type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    batch = getattr(config, "batch_size", None)
    return {"model": name, "seconds": seconds, "steps_per_s": 1 / seconds,
            "samples_per_s": batch / seconds if batch else None, "flops": flops, "flops_per_s": flops / seconds,
            "operators": operators, "product_share": product_share, "other_op": other_op}


def main(argv: list[str] | None = None, report=print) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu", choices=registry.PRESETS)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per model (median reported)")
    parser.add_argument("--threads", type=int, default=thread_count("worker"),
                        help="torch threads, as a training worker uses (default: cores - 1)")
    parser.add_argument("--models", nargs="+", default=[s.name for s in registry.list_models()])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    keep_freed_memory()                         # as a training worker does
    peak = peak_flops()
    rows = [measure(name, args.preset, args.steps) for name in args.models]
    report(f"\nTraining steps, preset {args.preset}, {args.threads} thread(s), {get_device()} on "
           f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores), torch {torch.__version__}; "
           f"peak: {peak / 1e9:.1f} GFLOP/s (2048 x 2048 float32 matmul)")
    report("| model | ms / step | steps / s | samples / s | MFLOP / step | GFLOP/s | share of peak | operators / step "
           "| time in products | other operators' mean |")
    report("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        samples = f"{r['samples_per_s']:,.0f}" if r["samples_per_s"] else "-"
        report(f"| {r['model']} | {r['seconds'] * 1000:.1f} | {r['steps_per_s']:.1f} | {samples} | "
               f"{r['flops'] / 1e6:,.1f} | {r['flops_per_s'] / 1e9:.2f} | {r['flops_per_s'] / peak:.0%} | "
               f"{r['operators']:,} | {r['product_share']:.0%} | {r['other_op'] * 1e6:.0f} us |")
        r["share"] = r["flops_per_s"] / peak
    return rows


if __name__ == "__main__":
    main()
