"""Viewer latency: slider change -> rendered frame, and UI event-loop lateness while the
worker runs a step. Run under X (``xvfb-run -a python benchmarks/viewer_latency.py``).

Targets under software GL on a 2-core CPU: median slider-to-frame <= 30 ms at a
moderate viewport (800x600) with any display mode and overlay on; event-loop lateness
while inferring <= 50 ms. ``--all-modes`` times every mode in one run.

What is drawn decides the frame time, so the network matters: ``--weights`` uses a real
model; without it (and without the bundled model) a randomly initialised ``small``
network runs at full cost but its output is replaced by a stand-in object (a procedural
chair, blurred less at every step), because a random network's output is scattered
noise with several times the faces of any real reconstruction; ``--noise`` keeps that
noise (shifted to ~6 % occupancy) as a worst case.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from r2n2_viewer.layers import MODES


def _views(folder: Path, n: int) -> list[str]:
    """``n`` 137x137 RGBA renderings of a box that changes from view to view."""
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        a = np.zeros((137, 137, 4), np.uint8)
        a[20 + 5 * i : 112, 28 : 110 - 6 * i, :3] = rng.integers(0, 255, 3)
        a[20 + 5 * i : 112, 28 : 110 - 6 * i, 3] = 255
        paths.append(str(folder / f"view_{i + 1}.png"))
        Image.fromarray(a).save(paths[-1])
    return paths


def _stand_in_net(preset: str = "small"):
    """A random ``preset`` network (full compute) whose decoded output is replaced by a
    procedural chair that sharpens step by step."""
    import torch
    from scipy.ndimage import gaussian_filter

    from r2n2_viewer.models.config import preset as get_preset
    from r2n2_viewer.models.net import R2N2
    from r2n2_viewer.models.synth.generate import make_object, object_voxels

    truth = object_voxels(make_object("03001627", np.random.default_rng(5))).astype(np.float32)

    class StandIn(R2N2):
        steps = 0

        def step(self, feature, state):
            self.steps += 1
            return super().step(feature, state)

        def decode(self, state):
            logits = super().decode(state)  # the real cost
            sigma = 2.2 / self.steps
            p = np.clip(gaussian_filter(truth, sigma) * (1.1 + 0.1 * self.steps), 1e-4, 1 - 1e-4)
            margin = torch.from_numpy(np.log(p / (1 - p)).astype(np.float32))
            out = torch.zeros_like(logits)
            out[:, 1] = margin
            return out

    torch.manual_seed(0)
    return StandIn(get_preset(preset)).eval()


def _random_checkpoint(folder: Path, preset: str, occupancy: float) -> str:
    """A randomly initialised ``preset`` whose output bias is shifted so that about
    ``occupancy`` of the voxels pass 0.4 (a random net otherwise fills half the grid)."""
    import torch

    from r2n2_viewer.models.checkpoint import save_checkpoint
    from r2n2_viewer.models.net import build

    torch.manual_seed(0)
    net = build(preset).eval()
    with torch.no_grad():
        x = torch.rand(1, 3, 127, 127)
        state, _ = net.step(net.encode(x), net.initial_state(1))
        logits = net.decode(state)[0]
        margin = (logits[1] - logits[0]).flatten()
        shift = torch.quantile(margin, 1.0 - occupancy) - float(np.log(0.4 / 0.6))
        net.decoder.conv11.bias[1] -= shift
    path = folder / f"{preset}.safetensors"
    save_checkpoint(path, net, preset=preset, source="benchmark: random init", name=preset)
    return str(path)


def time_slider(app, w, n: int, repeats: int, label: str, phases: bool = False) -> list[float]:
    """Step changes (as the slider makes them) -> rendered frame, in ms. The state's
    listeners run synchronously; then Qt paints (the 3D view renders) and flushes.

    Also prints the process CPU time per frame (all threads, the software rasteriser's
    included): on a loaded machine it moves far less than the wall time. ``phases``:
    the median of each part of a frame: the state's listeners, the VTK render (inside
    the paint) and the rest of Qt's event processing (the paint's compositing, the
    side widgets)."""
    state = w.state
    scenes = w.snapshot.scenes
    layer = state.layers()[0]
    faces = [scenes[k].layer(layer).n_cells for k in range(n)]
    for k in range(1, n + 1):  # warm-up: first show of each step builds its actors
        state.set_step(k)
        app.processEvents()
    # work a setting change starts in the background (the probe's plot, drawn in a pool
    # thread in 0.1-0.2 s) finishes before the timing: it is not part of a slider change
    settle = time.perf_counter() + 0.6
    while time.perf_counter() < settle:
        app.processEvents()
        time.sleep(0.01)
    ren_win = w.viewport.plotter.ren_win
    render_ms: list[float] = []
    started = [0.0]

    def render_start(*_: object) -> None:
        started[0] = time.perf_counter()

    def render_end(*_: object) -> None:
        render_ms.append((time.perf_counter() - started[0]) * 1000)

    tags = [ren_win.AddObserver("StartEvent", render_start),
            ren_win.AddObserver("EndEvent", render_end)]
    times, cpu, listeners, render, rest, renders = [], [], [], [], [], []
    for i in range(repeats):
        k = 1 + (i % n)
        if k == state.step:
            k = 1 + (k % n)
        render_ms.clear()
        c0 = time.process_time()
        t0 = time.perf_counter()
        state.set_step(k)
        t1 = time.perf_counter()
        ren_win.WaitForCompletion()
        app.processEvents()
        t2 = time.perf_counter()
        cpu.append((time.process_time() - c0) * 1000)
        times.append((t2 - t0) * 1000)
        listeners.append((t1 - t0) * 1000)
        render.append(sum(render_ms))
        rest.append((t2 - t1) * 1000 - sum(render_ms))
        renders.append(len(render_ms))
    for tag in tags:
        ren_win.RemoveObserver(tag)
    med = statistics.median
    print(f"slider -> frame [{label}; {min(faces)}..{max(faces)} cells/step]: median "
          f"{med(times):.1f} ms, p90 {np.percentile(times, 90):.1f} ms, "
          f"max {max(times):.1f} ms ({len(times)} changes; target <= 30 ms median); "
          f"CPU {med(cpu):.1f} ms/frame")
    if phases:
        print(f"    phases (median ms): state listeners {med(listeners):.1f}, VTK render "
              f"{med(render):.1f} ({max(renders)} render(s)/change at most), rest of Qt's "
              f"paint and events {med(rest):.1f}")
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", help="checkpoint (default: the bundled model if present, "
                    "else a random 'small' network)")
    ap.add_argument("--size", default="800x600", help="viewport size (default 800x600)")
    ap.add_argument("--steps", type=int, default=5, help="views / steps (default 5)")
    ap.add_argument("--repeats", type=int, default=60, help="slider changes timed")
    ap.add_argument("--mode", default="cubes", choices=list(MODES))
    ap.add_argument("--overlays", default="", help="comma-separated: changes,gates,truth")
    ap.add_argument("--band-only", action="store_true",
                    help="uncertainty mode: only the uncertain band")
    ap.add_argument("--slice", action="store_true",
                    help="with the slice plane of P on (z = 16) and a probed voxel")
    ap.add_argument("--all-modes", action="store_true",
                    help="time the slider in every display mode (and gates, band, the "
                    "slice plane with a probed voxel) in turn")
    ap.add_argument("--phases", action="store_true",
                    help="print each slider change's breakdown: listeners, VTK render, Qt")
    ap.add_argument("--noise", action="store_true",
                    help="draw a random network's raw (noisy) output: the worst case")
    args = ap.parse_args(argv)

    from PyQt6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer
    from PyQt6.QtWidgets import QApplication

    from r2n2_viewer.gui.main_window import MainWindow
    from r2n2_viewer.gui.viewport import software_gl
    from r2n2_viewer.weights import default_weights_path

    tmpdir = tempfile.TemporaryDirectory(prefix="r2n2-bench-")
    tmp = Path(tmpdir.name)
    weights, net = args.weights, None
    if weights is None and default_weights_path().is_file() and not args.noise:
        weights = str(default_weights_path())
    elif weights is None and args.noise:
        weights = _random_checkpoint(tmp, "small", occupancy=0.06)
    elif weights is None:
        net = _stand_in_net()
    paths = _views(tmp, args.steps + 1)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(str(tmp / "bench.ini"), QSettings.Format.IniFormat)
    w = MainWindow(weights=weights, net=net, device="cpu", settings=settings,
                   autoload_demo=False)
    state = w.state
    w.show()
    vw, vh = (int(v) for v in args.size.split("x"))
    # grow the window until the viewport has the requested size
    for _ in range(3):
        app.processEvents()
        dw, dh = vw - w.viewport.width(), vh - w.viewport.height()
        w.resize(w.width() + dw, w.height() + dh)

    def wait_idle() -> None:
        while w.busy_now or w.snapshot is None:
            app.processEvents()
            time.sleep(0.002)

    wait_idle()
    w.add_paths(paths[: args.steps])
    wait_idle()
    app.processEvents()
    n = len(w.snapshot.scenes)
    what = "stand-in chair output" if net is not None else w.model_name
    print(f"model {what} on {w.device_name}; software GL: {software_gl()}; "
          f"viewport {w.viewport.width()}x{w.viewport.height()}; {n} steps; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    overlays = {o for o in args.overlays.split(",") if o}
    inside = {"slice_on": True, "slice_axis": "z", "slice_index": 16, "probing": True,
              "probe_voxel": (16, 16, 16)}  # the plane, its picture, the probe's plot
    if args.all_modes:
        settings_list = [(m, set(), False, {}) for m in MODES] + [
            ("uncertainty", set(), True, {}), ("cubes", {"gates"}, False, {}),
            ("errors", {"gates"}, False, {}), ("cubes", set(), False, inside),
            ("smooth", set(), False, inside)]
    else:
        settings_list = [(args.mode, overlays, args.band_only, inside if args.slice else {})]
    off = {"slice_on": False, "probing": False, "probe_voxel": None}
    for mode, ov, band_only, extra in settings_list:
        state.update(mode=mode, overlays=ov | ({"truth"} & state.overlays), band_only=band_only,
                     **{**off, **extra})
        label = "+".join(state.layers() + (["slice+probe"] if extra else []))
        time_slider(app, w, n, args.repeats, label=label, phases=args.phases)

    # 2. event-loop lateness while the worker runs one step (a QTimer pinging every 10 ms)
    # also the UI thread's own CPU time between two pings: the longest stretch of work
    # that blocks the loop, which (unlike the lateness) a loaded machine barely moves
    late: list[float] = []
    busy: list[float] = []
    clock = QElapsedTimer()
    last = [0, time.thread_time()]

    def ping() -> None:
        now, cpu_now = clock.elapsed(), time.thread_time()
        late.append(max(0.0, now - last[0] - 10.0))
        busy.append((cpu_now - last[1]) * 1000)
        last[:] = [now, cpu_now]

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(ping)
    clock.start()
    timer.start()
    loop = QEventLoop()
    w.worker.idle.connect(loop.quit)
    t0 = time.perf_counter()
    w.add_paths([paths[args.steps]])
    loop.exec()  # the real Qt event loop, as in the app
    step_ms = (time.perf_counter() - t0) * 1000
    timer.stop()
    print(f"event loop while a step runs ({step_ms:.0f} ms incl. meshes, "
          f"{w.snapshot.scenes[-1].ms:.0f} ms network): lateness median "
          f"{statistics.median(late):.1f} ms, max {max(late):.1f} ms over {len(late)} pings "
          f"(target <= 50 ms); UI-thread CPU between two pings: max {max(busy):.1f} ms")
    w.close()
    tmpdir.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
