"""Regenerate viewer_new_sequence.png (the question asked when a photo is added while the
demo is shown) and viewer_input_editor.png (the input editor of a photo), run under X:
``xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_sequence_shots.py``.
The photo is made here: the demo's first rendering enlarged onto a shaded background."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make_photo(rendering: Path, out: Path) -> str:
    """A 900x640 'photo': the rendering (alpha-composited, x4) on a shaded wall."""
    from PIL import Image

    with Image.open(rendering) as im:
        obj = im.convert("RGBA").resize((im.width * 4, im.height * 4), Image.Resampling.LANCZOS)
    h, w = 640, 900
    yy, xx = np.mgrid[:h, :w]
    wall = np.stack([200 - 40 * yy / h + 10 * np.sin(xx / 40), 190 - 30 * yy / h,
                     170 - 20 * xx / w], -1).clip(0, 255).astype(np.uint8)
    photo = Image.fromarray(wall, "RGB")
    photo.paste(obj, ((w - obj.width) // 2 + 60, (h - obj.height) // 2), obj)
    photo.save(out, quality=92)
    return str(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--size", default="1280x860", help="window size, e.g. 1280x720")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))

    from PyQt6.QtCore import QSettings, QTimer
    from PyQt6.QtWidgets import QApplication
    from window_shot import save_window

    from r2n2_viewer.demo import featured_demo, list_demos
    from r2n2_viewer.gui.main_window import MainWindow
    from r2n2_viewer.gui.sequences import new_sequence_box

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = tempfile.TemporaryDirectory()
    settings = QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat)
    demo = featured_demo(list_demos())
    photo = make_photo(demo.images[0], Path(tmp.name) / "my_photo.jpg")
    w = MainWindow(weights="default", device="cpu", settings=settings, demo=demo.name,
                   autoload_demo=False)
    w.resize(width, height)
    w.show()
    out = Path(args.out)
    suffix = "" if args.size == "1280x860" else f"_{args.size}"
    stage = {"n": 0}

    def shoot() -> None:
        if w.busy_now or not w.viewport.started or w.snapshot is None:
            QTimer.singleShot(300, shoot)
            return
        stage["n"] += 1
        if stage["n"] == 1:  # the demo is shown: the question a photo asks
            w.state.update(playing=False)
            box = new_sequence_box(w, w.inputs.origin or "the demo")
            box.show()
            shoot.box = box
            QTimer.singleShot(900, shoot)
        elif stage["n"] == 2:
            save_window(app, w, str(out / f"viewer_new_sequence{suffix}.png"))
            shoot.box.close()
            w.inputs.start_new_sequence()
            w.inputs.add_paths([photo])
            QTimer.singleShot(500, shoot)
        elif stage["n"] == 3:
            shoot.editor = w.edit_input(0)
            shoot.editor.resize(min(width - 80, 1000), min(height - 80, 600))
            QTimer.singleShot(300, shoot)
        elif stage["n"] == 4:
            if shoot.editor.prepared is None:
                stage["n"] -= 1
                QTimer.singleShot(300, shoot)
                return
            shoot.editor.add_stroke("background", [(450, 120), (470, 130)])
            QTimer.singleShot(300, shoot)
        else:
            QTimer.singleShot(800, lambda: (save_window(app, shoot.editor,
                                                  str(out / f"viewer_input_editor{suffix}.png")),
                                            app.quit()))

    QTimer.singleShot(1500, shoot)
    app.exec()
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
