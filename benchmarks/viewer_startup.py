"""Viewer start-up: seconds from process start until the window is up, and until the
first voxels of the opening demo are shown. Run under X
(``xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/viewer_startup.py``).

Each repeat is a fresh process running ``r2n2 view`` (bundled model, featured demo);
the window is up when its event loop first runs (it has been shown), and the first
voxels arrive with the first snapshot holding a step.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import time
t0 = time.perf_counter()
import os, sys
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication
import r2n2_viewer.gui.main_window as mw

init = mw.MainWindow.__init__

def timed_init(self, *args, **kw):
    init(self, *args, **kw)
    QTimer.singleShot(0, lambda: print(f"window {time.perf_counter() - t0:.3f}", flush=True))

    def first(snap):
        if snap.scenes and not getattr(self, "_timed", False):
            self._timed = True
            print(f"voxels {time.perf_counter() - t0:.3f}", flush=True)
            QTimer.singleShot(500, QApplication.instance().quit)

    self.worker.jobs.snapshot.connect(first)

mw.MainWindow.__init__ = timed_init
if os.environ.get("R2N2_BENCH_DIRECT") == "1":
    from r2n2_viewer.gui.app import run
    sys.exit(run(device="cpu"))
from r2n2_viewer.cli import main
sys.exit(main(["view", "--device", "cpu"]))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--direct", action="store_true",
                    help="call gui.app.run() instead of the r2n2 command (no argument parsing)")
    args = ap.parse_args(argv)
    window, voxels = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as home:  # fresh settings each start
            env = {**os.environ, "XDG_CONFIG_HOME": home,
                   "R2N2_BENCH_DIRECT": "1" if args.direct else "0"}
            out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                                 text=True, timeout=300)
        times = dict(line.split() for line in out.stdout.splitlines()
                     if line.startswith(("window", "voxels")))
        if "window" not in times or "voxels" not in times:
            print(out.stdout, out.stderr, file=sys.stderr)
            return 1
        window.append(float(times["window"]))
        voxels.append(float(times["voxels"]))
    print(f"window up: median {statistics.median(window):.2f} s "
          f"(min {min(window):.2f}, max {max(window):.2f}); first voxels: median "
          f"{statistics.median(voxels):.2f} s (min {min(voxels):.2f}, max {max(voxels):.2f}); "
          f"{args.repeats} starts{' (gui.app.run directly)' if args.direct else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
