"""Regenerate inside_next_view.png (the later views ranked by the entropy drop of a trial
step from step 2), inside_view_order.png (8 random orders of the demo's views as a band on
the IoU plot), inside_compare.png (a second model side by side, one camera) and
inside_compare_seen.png (both models' seen and inferred voxels, with the counts), run
under X:

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_next_view_shots.py \\
        --compare OTHER.safetensors [--size 1280x720] [--only inside_compare.png,...]

All on the demo opened at start with the bundled model. For the ranking, step 2 is shown:
the demo's views 3-5 and its three spare renderings are then the candidates for view 3,
and are ranked.
``--compare`` names the second weights (the README's shot: the previous default model,
stages 1-4, ``git show 14b17e9:assets/default/model.safetensors``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHOTS = ("inside_next_view.png", "inside_view_order.png", "inside_compare.png",
         "inside_compare_seen.png")


def _save(app, widget, path: Path, top=None) -> None:
    """Save the window with the side panel scrolled to ``top`` (a widget in it: its top
    edge at the top of the panel) or, without it, to the end."""
    from PyQt6.QtCore import QPoint
    from window_shot import save_window

    panel = widget.panel
    bar = panel.verticalScrollBar()
    if top is None:
        bar.setValue(bar.maximum())  # the "Next view and order" section
    else:
        bar.setValue(top.mapTo(panel.widget(), QPoint(0, 0)).y() - 2)
    app.processEvents()
    save_window(app, widget, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--size", default="1280x720", help="window size, e.g. 1280x720")
    ap.add_argument("--compare", help="second weights for inside_compare.png")
    ap.add_argument("--only", help="comma-separated file names")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    wanted = [s for s in SHOTS if not args.only or s in args.only.split(",")]
    if {"inside_compare.png", "inside_compare_seen.png"} & set(wanted) and not args.compare:
        raise SystemExit("inside_compare.png and inside_compare_seen.png need --compare "
                         "WEIGHTS")

    from PyQt6.QtCore import QSettings, QTimer
    from PyQt6.QtWidgets import QApplication

    from r2n2_viewer.demo import featured_demo, list_demos
    from r2n2_viewer.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = tempfile.TemporaryDirectory()
    settings = QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat)
    demo = featured_demo(list_demos())
    w = MainWindow(weights="default", device="cpu", settings=settings, demo=demo.name,
                   autoload_demo=False)
    w.resize(width, height)
    w.show()
    out = Path(args.out)
    plan: list = []

    def ready() -> bool:
        return not w.busy_now and w.viewport.started and w.snapshot is not None \
            and not w.state.playing and (not w.comparison.active or w.comparison.linked)

    def run() -> None:
        if not ready():
            QTimer.singleShot(300, run)
            return
        if not plan:
            app.quit()
            return
        plan.pop(0)()
        QTimer.singleShot(1200, run)

    def stop_playing() -> None:
        w.state.update(playing=False)

    if "inside_view_order.png" in wanted:
        plan += [stop_playing,
                 lambda: (w.state.update(step=5), w.next_view.try_orders(8)),
                 lambda: _save(app, w, out / "inside_view_order.png",
                               top=w.panel.iou_plot.parentWidget())]  # the band in view
    if "inside_compare.png" in wanted:
        plan += [stop_playing,
                 lambda: (w.worker.order_spread(0), w.comparison.open(args.compare)),
                 lambda: w.state.update(step=2),
                 lambda: _save(app, w, out / "inside_compare.png",
                               top=w.panel.iou_plot.parentWidget())]  # both IoU curves
    if "inside_compare_seen.png" in wanted:
        plan += [stop_playing,
                 lambda: (w.worker.order_spread(0), w.comparison.open(args.compare)),
                 lambda: w.state.update(step=2, mode="seen"),
                 lambda: _save(app, w, out / "inside_compare_seen.png",
                               top=w.panel.info_label.parentWidget()),
                 lambda: w.state.update(mode="cubes")]
    if {"inside_compare.png", "inside_compare_seen.png"} & set(wanted):
        plan.append(lambda: w.comparison.close())
    if "inside_next_view.png" in wanted:
        plan += [stop_playing,
                 lambda: w.state.update(step=2),
                 lambda: w.next_view.rank(),
                 lambda: _save(app, w, out / "inside_next_view.png")]

    QTimer.singleShot(1500, run)
    app.exec()
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
