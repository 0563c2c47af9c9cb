"""Saving a window as the screenshots in this folder are saved: grabbed from the screen
(so dialogs over it are in the picture), quantised to 256 colours, size printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def save_window(app: Any, widget: Any, path: str | Path) -> None:
    """Grab ``widget``'s frame from the screen into the PNG ``path``."""
    from PIL import Image

    screen = app.primaryScreen().grabWindow(0)
    screen.copy(widget.frameGeometry()).save(str(path))
    with Image.open(path) as im:
        im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path} ({Path(path).stat().st_size // 1024} KB)")
