"""Latency of one reconstruction step (encode + recurrent step + decode) per preset.

For each preset (random weights), the bundled trained model ("default") and each device:
the median wall time of one step at batch 1 under ``torch.inference_mode`` after warm-up;
the step's FLOPs counted from the conv/linear layer shapes with forward hooks (executed:
unpooled Conv3d layers run as stride-2 transposed convs, an eighth of the naive work;
naive: as if the zero-inserted input were convolved densely; elementwise ops not counted);
the achieved GFLOP/s; and, measured in the same run, this machine's throughput on a large
dense Conv3d (64->64, 3^3, 32^3) giving ``bound`` = step time / (executed FLOPs at that
throughput). Then the time of ``ReconstructionSession.add_view`` for view T = 1..8,
which must stay flat.

    nice -n 10 python benchmarks/step_latency.py [--presets res_gru3,small] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from r2n2_viewer.models.config import PRESETS
from r2n2_viewer.models.layers import Conv3d as UnpoolConv3d
from r2n2_viewer.models.net import R2N2, build
from r2n2_viewer.session import ReconstructionSession
from r2n2_viewer.weights import load_model


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def median_ms(fn: Callable[[], object], dev: torch.device, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    _sync(dev)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(dev)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def count_flops(net: R2N2, step: Callable[[], object]) -> tuple[float, float]:
    """(executed, naive) FLOPs (2 per multiply-add) of one call of ``step``."""
    totals = [0.0, 0.0]

    def hook(m: nn.Module, inputs: tuple, out: torch.Tensor) -> None:
        if isinstance(m, nn.Linear):
            f = 2.0 * m.in_features * m.out_features * out.shape[0]
            totals[0] += f
            totals[1] += f
            return
        kernel = float(np.prod(m.kernel_size))
        naive = 2.0 * out.numel() * (m.in_channels // m.groups) * kernel
        executed = naive / 8 if isinstance(m, UnpoolConv3d) and m.unpooled else naive
        totals[0] += executed
        totals[1] += naive

    handles = [
        m.register_forward_hook(hook)
        for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.Linear))
    ]
    try:
        step()
    finally:
        for h in handles:
            h.remove()
    return totals[0], totals[1]


def conv3d_peak(dev: torch.device, repeats: int) -> float:
    """GFLOP/s of a dense Conv3d 64->64, 3^3, on a 32^3 grid (batch 1)."""
    conv = nn.Conv3d(64, 64, 3, padding=1).to(dev).eval()
    x = torch.randn(1, 64, 32, 32, 32, device=dev)
    flops = 2.0 * 64 * 32**3 * 64 * 27
    with torch.inference_mode():
        ms = median_ms(lambda: conv(x), dev, repeats)
    return flops / (ms * 1e-3) / 1e9


def bench_preset(name: str, dev: torch.device, repeats: int, peak: float, views: int) -> dict:
    torch.manual_seed(0)
    # "default": the bundled trained model (loaded as the viewer loads it); else a preset
    # with random weights
    net = load_model("default", dev)[0] if name == "default" else build(name).to(dev).eval()
    x = torch.rand(1, 3, 127, 127, device=dev)
    state = net.initial_state(1, dev)

    def step() -> np.ndarray:
        f = net.encode(x)
        s, _ = net.step(f, state)
        return net.probabilities(net.decode(s)).cpu().numpy()  # synchronises

    with torch.inference_mode():
        executed, naive = count_flops(net, step)
        ms = median_ms(step, dev, repeats)
    session = ReconstructionSession(net=net, device=str(dev))
    rng = np.random.default_rng(0)
    imgs = [rng.random((3, 127, 127), dtype=np.float32) for _ in range(views)]
    session.add_view(imgs[0])  # warm-up
    per_t: list[list[float]] = [[] for _ in range(views)]
    for _ in range(max(3, repeats // 4)):
        session.reset()
        for t, img in enumerate(imgs):
            per_t[t].append(session.add_view(img).ms)
    return {
        "preset": name,
        "device": dev.type,
        "params": net.num_parameters(),
        "ms": ms,
        "gflop": executed / 1e9,
        "naive_gflop": naive / 1e9,
        "gflops": executed / 1e9 / (ms * 1e-3),
        "bound": ms / (executed / 1e9 / peak * 1e3),
        "add_view_ms": [statistics.median(v) for v in per_t],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default=",".join([*PRESETS, "default"]),
                    help="comma-separated presets; 'default' is the bundled trained model")
    ap.add_argument("--repeats", type=int, default=10, help="timed runs per figure")
    ap.add_argument("--device", default="all",
                    help="cpu, cuda, or all (cpu, plus cuda when available)")
    ap.add_argument("--views", type=int, default=8, help="views T for the add_view timings")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    presets = [p for p in args.presets.split(",") if p]
    if args.device == "all":
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    else:
        devices = [args.device]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for d in devices:
        dev = torch.device(d)
        peak = conv3d_peak(dev, args.repeats)
        name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"
        print(f"\n{d} ({name}): dense Conv3d 64->64 3^3 @32^3 runs at {peak:.0f} GFLOP/s")
        print(f"{'preset':9} {'params':>7} {'step ms':>8} {'GFLOP':>7} {'naive':>7} "
              f"{'GFLOP/s':>8} {'bound':>6}   add_view ms for T=1..{args.views}")
        for p in presets:
            r = bench_preset(p, dev, args.repeats, peak, args.views)
            ts = " ".join(f"{v:.1f}" for v in r["add_view_ms"])
            print(f"{p:9} {r['params'] / 1e6:6.1f}M {r['ms']:8.2f} {r['gflop']:7.2f} "
                  f"{r['naive_gflop']:7.2f} {r['gflops']:8.0f} {r['bound']:5.1f}x   {ts}",
                  flush=True)
    print("\nbound = step time / time the executed FLOPs take at the dense Conv3d rate; "
          "naive = FLOPs if unpooled convs ran on the zero-inserted grid.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
