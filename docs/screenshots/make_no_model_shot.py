"""Regenerate viewer_no_model.png: the viewer started with a weights file that does not
exist and two demo images (run under X, e.g. ``xvfb-run -a -s "-screen 0 1600x1000x24"
python docs/screenshots/make_no_model_shot.py``). The images wait in the strip; the
message box offers the bundled model."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "viewer_no_model.png"))
    args = ap.parse_args(argv)

    from PyQt6.QtCore import QSettings, QTimer
    from PyQt6.QtWidgets import QApplication
    from window_shot import save_window

    from r2n2_viewer.demo import featured_demo, list_demos
    from r2n2_viewer.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = tempfile.TemporaryDirectory()
    settings = QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat)
    demo = featured_demo(list_demos())
    images = [str(p) for p in demo.images[:2]] if demo else []
    w = MainWindow(weights=str(Path(tmp.name) / "missing.safetensors"), device="cpu",
                   settings=settings, images=images, autoload_demo=False)
    w.resize(1280, 860)
    w.show()

    def shoot() -> None:
        if w.busy_now or not w.errors.showing or not w.viewport.started:
            QTimer.singleShot(200, shoot)
            return
        if not getattr(shoot, "settled", False):  # one more moment for the first frame
            shoot.settled = True
            QTimer.singleShot(800, shoot)
            return
        save_window(app, w, args.out)  # from the screen: the window and its message box
        app.quit()

    QTimer.singleShot(1500, shoot)
    app.exec()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
