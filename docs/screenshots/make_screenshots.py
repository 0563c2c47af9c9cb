"""Regenerate the viewer screenshots in this folder (run under X, e.g.
``xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_screenshots.py``).

Views come from a demo (default: the one the viewer opens at start) or ``--dataset-model``
(``<root>/ShapeNetRendering/<synset>/<model>``, ground truth from ShapeNetVox32). The
model is ``--weights`` (default: the bundled one); ``--stand-in`` instead runs a random
network whose output is replaced by a procedural chair (see
benchmarks/viewer_latency.py), for when no trained model exists yet.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (file name, display mode, overlays besides the ground truth, step (-1 = the last),
#  further view-state fields)
SHOTS = [
    ("viewer_step1.png", "cubes", (), 1, {}),
    ("viewer_cubes.png", "cubes", (), -1, {}),
    ("viewer_changes.png", "cubes", ("changes",), 3, {}),
    ("viewer_gates_smooth.png", "smooth", ("gates",), 3, {}),
    ("viewer_points.png", "points", (), -1, {}),
    ("inside_errors.png", "errors", (), 2, {}),
    # the translucent blue truth would read as "sure" on the entropy colour map: off
    ("inside_uncertainty.png", "uncertainty", (), 2, {"band_only": False, "overlays": ()}),
    ("inside_band.png", "uncertainty", (), 1, {"band_only": True, "overlays": ()}),
    # "_panel": the side-panel box scrolled into view; probe_voxel "auto": probe_target()
    ("inside_probe.png", "cubes", (), 3, {"probing": True, "probe_voxel": "auto",
                                          "_panel": "probe_box"}),
    ("inside_slice.png", "cubes", (), 2, {"slice_on": True, "slice_axis": "y",
                                          "slice_index": 12, "_panel": "slice_box"}),
    # the camera of view 2 (View > Look from view): the reconstruction over that picture
    ("inside_camera.png", "cubes", (), 2, {"camera": "view:2"}),
    ("inside_seen.png", "seen", (), 2, {"overlays": ()}),
]
INSIDE_OFF = {"probing": False, "probe_voxel": None, "slice_on": False}


def probe_target(w, step: int) -> tuple[int, int, int]:
    """A voxel worth probing: drawn and seen from the camera at ``step``, with the largest
    rise of P since the first step."""
    import numpy as np

    from r2n2_viewer.probe import ray_voxel

    steps = w.snapshot.steps
    last, first = steps[step - 1].probabilities, steps[0].probabilities
    shown = last >= w.state.threshold
    eye = np.asarray(w.viewport.plotter.camera.position)
    drawn = np.argwhere(shown)
    rise = (last - first)[tuple(drawn.T)]
    for v in drawn[np.argsort(-rise, kind="stable")]:
        v = tuple(int(c) for c in v)
        if ray_voxel(shown, eye, np.asarray(v) - eye) == v:
            return v
    raise SystemExit("no drawn voxel to probe")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="default")
    ap.add_argument("--stand-in", action="store_true")
    ap.add_argument("--dataset-model", help="ShapeNet-format model folder")
    ap.add_argument("--demo", help="demo name (default: the one opened at start)")
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--size", default="1280x860", help="window size (default 1280x860)")
    ap.add_argument("--only", help="comma-separated file names of SHOTS to take")
    args = ap.parse_args(argv)

    from PyQt6.QtCore import QSettings, QTimer
    from PyQt6.QtWidgets import QApplication
    from window_shot import save_window

    from r2n2_viewer.demo import featured_demo, list_demos
    from r2n2_viewer.gui.main_window import MainWindow

    weights, net = args.weights, None
    if args.stand_in:
        sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))
        from viewer_latency import _stand_in_net

        net = _stand_in_net()
    shots = [s for s in SHOTS if not args.only or s[0] in args.only.split(",")]
    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = tempfile.TemporaryDirectory()
    settings = QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(weights=weights, net=net, device="cpu", settings=settings,
                   autoload_demo=False)
    w.resize(*(int(v) for v in args.size.split("x")))
    w.show()
    if args.dataset_model:
        w.open_dataset_model(args.dataset_model)
    else:
        demos = list_demos()
        if not demos:
            sys.exit("no demos installed: pass --dataset-model")
        w.open_demo(args.demo or featured_demo(demos).name)
    out = Path(args.out)

    def save(name: str) -> None:
        # from the screen: the 3D view is a native window that QWidget.grab cannot read
        save_window(app, w, out / name)

    state = w.state

    def step(i: int = 0) -> None:
        if w.busy_now or w.play_when_idle or state.playing:
            QTimer.singleShot(200, lambda: step(i))
            return
        if i == len(shots):
            app.quit()
            return
        name, mode, overlays, k, extra = shots[i]
        extra = dict(extra)
        panel_box = extra.pop("_panel", None)
        if extra.get("probe_voxel") == "auto":
            extra["probe_voxel"] = probe_target(w, state.n_steps if k < 0 else k)
        camera = extra.pop("camera", "default")
        truth = {"truth"} if state.truth_available else set()
        state.update(**{"mode": mode, "overlays": truth | set(overlays), **INSIDE_OFF,
                        **extra})
        state.set_step(state.n_steps if k < 0 else k)
        if panel_box:
            QTimer.singleShot(300, lambda: w.panel.ensureWidgetVisible(
                getattr(w.panel, panel_box), 0, 0))
        state.reset_camera(camera)
        QTimer.singleShot(300, lambda: shoot(name, i))

    def shoot(name: str, i: int) -> None:
        if w.busy_now:  # e.g. the seen mode's ray casting
            QTimer.singleShot(200, lambda: shoot(name, i))
            return
        QTimer.singleShot(800, lambda: save(name))
        QTimer.singleShot(1200, lambda: step(i + 1))

    QTimer.singleShot(300, step)
    app.exec()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
