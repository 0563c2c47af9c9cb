"""Start the viewer: ``r2n2 view [IMG...] [--weights W] [--device D] [--demo NAME]``."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


class NoDisplayError(OSError):
    """No display to open a window on (printed as one line by the CLI, exit 2)."""


def display_problem(environ: dict[str, str] | None = None,
                    platform: str = sys.platform) -> str | None:
    """Why no window can open here (None when one can): on Linux and the BSDs Qt needs
    ``DISPLAY`` (X11) or ``WAYLAND_DISPLAY``, unless ``QT_QPA_PLATFORM`` picks another
    platform (``offscreen``, ``vnc``...). Under Wayland the 3D view runs through XWayland,
    so ``DISPLAY`` must be set there too."""
    env = os.environ if environ is None else environ
    if platform.startswith(("darwin", "win", "cygwin")):
        return None
    if env.get("DISPLAY") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("WAYLAND_DISPLAY"):
        return ("the 3D view needs X11, and this Wayland session has no XWayland (DISPLAY "
                "is unset); turn XWayland on, or run under xvfb-run \u2014 or use "
                "'r2n2 render' / 'r2n2 reconstruct', which need no window")
    return ("no display to open the viewer on (DISPLAY and WAYLAND_DISPLAY are unset); "
            "run it in a desktop session, over ssh -X, or under xvfb-run \u2014 "
            "or use 'r2n2 render' / 'r2n2 reconstruct', which need no window")


def x11_platform(environ: dict[str, str] | None = None,
                 platform: str = sys.platform) -> str | None:
    """The ``QT_QPA_PLATFORM`` to set before Qt starts, or None to leave Qt's choice.

    The 3D view renders into a native X11 window of VTK's own (``gui.native_view``), so
    in a Wayland session on Linux Qt must run through XWayland (``xcb``); a platform the
    user picked is kept."""
    env = os.environ if environ is None else environ
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    if env.get("QT_QPA_PLATFORM") or not env.get("WAYLAND_DISPLAY"):
        return None
    return "xcb" if env.get("DISPLAY") else None


def install_sigint_handler(app: Any, window: Any) -> Any:
    """Ctrl+C in the terminal closes ``window`` (as File > Quit). Qt's event loop runs
    in C++, so a timer hands control to Python every 200 ms to let the handler run.
    Returns the timer (keep a reference)."""
    from PyQt6.QtCore import QTimer

    signal.signal(signal.SIGINT, lambda *_: window.close())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)
    return timer


def run(
    images: list[str] | None = None,
    weights: str | None = "default",
    device: str = "auto",
    demo: str | None = None,
) -> int:
    """Open the main window and run the Qt event loop until it closes."""
    problem = display_problem()
    if problem:
        raise NoDisplayError(problem)
    qpa = x11_platform()
    if qpa:
        os.environ["QT_QPA_PLATFORM"] = qpa
    from PyQt6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .worker import ORPHANS

    os.environ.setdefault("QT_ENABLE_HIGHDPI_SCALING", "1")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("r2n2-viewer")
    app.setOrganizationName("r2n2-viewer")
    window = MainWindow(weights=weights, device=device, images=images, demo=demo)
    window.show()
    _timer = install_sigint_handler(app, window)
    code = int(app.exec())
    if ORPHANS:  # a job still stuck in a system call: do not wait for it, do not abort
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
