"""Start the viewer: ``r2n2 view [IMG...] [--weights W] [--device D] [--demo NAME]``."""

from __future__ import annotations

import os
import sys


def run(
    images: list[str] | None = None,
    weights: str | None = "default",
    device: str = "auto",
    demo: str | None = None,
) -> int:
    """Open the main window and run the Qt event loop until it closes."""
    from PyQt6.QtWidgets import QApplication

    from .main_window import MainWindow

    os.environ.setdefault("QT_ENABLE_HIGHDPI_SCALING", "1")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("r2n2-viewer")
    app.setOrganizationName("r2n2-viewer")
    window = MainWindow(weights=weights, device=device, images=images, demo=demo)
    window.show()
    return int(app.exec())
