"""Fixtures of the GUI tests: private settings, a tiny checkpoint whose steps differ,
box renderings, and a window factory (real Qt + VTK under Xvfb, via pytest-xvfb)."""

from __future__ import annotations

import pytest
from factories import box_views
from gui_helpers import shifted_checkpoint, wait_idle
from PyQt6.QtCore import QSettings


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    """Never touch the user's real settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "config"))


@pytest.fixture(scope="session")
def ckpt(tmp_path_factory, tiny_net) -> str:
    """The tiny random network shifted so that a few percent of the voxels are occupied:
    its steps differ from one another (and render fast)."""
    return shifted_checkpoint(tmp_path_factory.mktemp("gui_ckpt"), tiny_net, 1.3,
                              "shifted-tiny")



@pytest.fixture(scope="session")
def images(tmp_path_factory) -> list[str]:
    """Five small RGBA renderings of a box that changes from view to view."""
    return box_views(tmp_path_factory.mktemp("views"), 5)


@pytest.fixture
def settings_file(tmp_path):
    return tmp_path / "viewer.ini"


@pytest.fixture
def make_window(qtbot, settings_file):
    """``make_window(weights, **kw)``: a shown, idle MainWindow (closed after the test)."""
    from r2n2_viewer.gui.main_window import MainWindow

    def make(weights, size=(900, 650), wait=True, **kw):
        settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
        kw.setdefault("autoload_demo", False)
        w = MainWindow(weights=weights, device="cpu", settings=settings, **kw)
        qtbot.addWidget(w, before_close_func=lambda win: win.shutdown())
        w.resize(*size)
        w.show()
        qtbot.waitExposed(w)
        w.activateWindow()
        qtbot.waitActive(w)
        if wait:
            wait_idle(qtbot, w)
        return w

    return make


