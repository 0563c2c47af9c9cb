"""Regenerate inside_next_view.png (the unused views ranked by the entropy drop of a trial
step), inside_view_order.png (8 random orders of the demo's views as a band on the IoU
plot) and inside_compare.png (a second model side by side, one camera), run under X:

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_next_view_shots.py \\
        --compare OTHER.safetensors [--size 1280x720] [--only inside_compare.png,...]

All on the demo opened at start with the bundled model. For the ranking, views 3-5 of
the demo are removed from the strip (removed views stay candidates) and ranked.
``--compare`` names the second weights (the README's shot: the previous default model,
stages 1-4, ``git show 14b17e9:assets/default/model.safetensors``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHOTS = ("inside_next_view.png", "inside_view_order.png", "inside_compare.png")


def _save(app, widget, path: Path) -> None:
    from window_shot import save_window

    bar = widget.panel.verticalScrollBar()
    bar.setValue(bar.maximum())  # the plot and the "Next view and order" section
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
    if "inside_compare.png" in wanted and not args.compare:
        raise SystemExit("inside_compare.png needs --compare WEIGHTS")

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
                 lambda: _save(app, w, out / "inside_view_order.png")]
    if "inside_compare.png" in wanted:
        plan += [stop_playing,
                 lambda: (w.worker.order_spread(0), w.comparison.open(args.compare)),
                 lambda: w.state.update(step=2),
                 lambda: _save(app, w, out / "inside_compare.png"),
                 lambda: w.comparison.close()]
    if "inside_next_view.png" in wanted:
        plan += [stop_playing,
                 *[lambda: w.strip.removeRequested.emit(2)] * 3,
                 lambda: w.next_view.rank(),
                 lambda: w.state.update(step=2),
                 lambda: _save(app, w, out / "inside_next_view.png")]

    QTimer.singleShot(1500, run)
    app.exec()
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
