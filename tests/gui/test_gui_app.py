"""Starting the viewer: no display gives one line and exit 2, never Qt's abort."""

from __future__ import annotations

import subprocess
import sys

from r2n2_viewer.gui.app import display_problem, x11_platform


def test_display_problem():
    assert display_problem({}, "linux")
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "linux") is None
    # the 3D view is a native X11 window: Wayland without XWayland cannot show it
    assert "XWayland" in display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "darwin") is None and display_problem({}, "win32") is None


def test_wayland_sessions_run_qt_through_xwayland():
    wayland = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert x11_platform(wayland, "linux") == "xcb"
    assert x11_platform({**wayland, "QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert x11_platform({"DISPLAY": ":0"}, "linux") is None  # X11 already
    assert x11_platform(wayland, "darwin") is None and x11_platform(wayland, "win32") is None


def test_view_without_a_display_is_one_line_and_exit_2(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c",
                           "import sys; from r2n2_viewer.cli import main; "
                           "sys.exit(main(['view']))"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("r2n2 view: error: no display")
    assert "xvfb-run" in lines[0] and "reinstall" not in proc.stderr
