"""A PyVista plotter drawn straight into a native window of its own.

pyvistaqt's ``QtInteractor`` renders into a ``QOpenGLWidget``: VTK draws into its own
framebuffer, which is copied into the widget's, which Qt then composites into the
window with OpenGL. Under software OpenGL (Mesa's llvmpipe) those full-window copies
and the compositing cost more than drawing the voxels. :class:`NativeInteractor` is
VTK's own Qt widget (``QVTKRenderWindowInteractor``, a plain ``QWidget`` with a native
window that VTK renders into and swaps) carrying PyVista's plotting API, as pyvistaqt
did before it moved to ``QOpenGLWidget``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from pyvista.plotting.plotter import BasePlotter
from pyvista.plotting.render_window_interactor import RenderWindowInteractor
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor


@contextlib.contextmanager
def _no_plotter_init() -> Iterator[None]:
    """Qt's cooperative ``__init__`` would run ``BasePlotter.__init__`` a second time,
    without arguments; it runs once, explicitly, after the widget exists."""
    init = BasePlotter.__init__
    BasePlotter.__init__ = lambda *args, **kwargs: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        BasePlotter.__init__ = init  # type: ignore[method-assign]


class NativeInteractor(QVTKRenderWindowInteractor, BasePlotter):
    """The subset of ``pyvistaqt.QtInteractor`` the viewer uses: PyVista's plotter API,
    ``update()`` schedules a frame (a paint event), ``render()`` draws one now, mouse
    and keys drive VTK's interactor (trackball camera)."""

    def __init__(self, parent: Any = None, multi_samples: int = 0) -> None:
        with _no_plotter_init():
            QVTKRenderWindowInteractor.__init__(self, parent)
        BasePlotter.__init__(self)
        self.ren_win = self.GetRenderWindow()
        self.ren_win.SetMultiSamples(multi_samples)
        for renderer in self.renderers:
            renderer.view_isometric()
            self.ren_win.AddRenderer(renderer)
        self._off_screen = False
        self.iren = RenderWindowInteractor(self, interactor=self.ren_win.GetInteractor())
        self.iren.interactor.RemoveObservers("MouseMoveEvent")
        self.iren.initialize()
        self.enable_trackball_style()
        self._observers: dict[Any, Any] = {}
        self.iren.add_observer("KeyPressEvent", self.key_press_event)
        self.reset_key_events()
        self._first_time = False  # BasePlotter: the window exists, render() may draw

    def render(self) -> None:
        """Draw a frame now (nothing once closed)."""
        if getattr(self, "_closed", False):
            return
        self._rendered = True
        BasePlotter.render(self)

    def paintEvent(self, event: Any) -> None:  # noqa: N802
        if not getattr(self, "_closed", False):
            super().paintEvent(event)

    def close(self) -> None:  # type: ignore[override]
        """Release the render window and the plotter (idempotent)."""
        if getattr(self, "_closed", True):
            return
        BasePlotter.close(self)
        QVTKRenderWindowInteractor.close(self)
