"""The 3D viewport: a PyVista plotter in a native window (:mod:`.native_view`) showing
one step's prepared meshes.

Actors are created once per (scene, layer) and cached; showing another step only flips
actor visibility and renders one frame. The camera is kept across step changes.

The render window starts only after the viewport has first been painted (a note stands
in until then): importing VTK and starting OpenGL take seconds on a slow machine, and
the rest of the window should not wait for them. Everything asked of the viewport
before that is remembered and applied when it starts.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from . import imports

STARTING = "Starting the 3D view\u2026"
CLICK_SLOP = 3  # pixels a press may move and still be a click (not a drag)


@functools.cache
def software_gl() -> bool:
    """True when OpenGL is Mesa's software rasteriser (multi-sampling is then ~4x slower).
    ``R2N2_SOFTWARE_GL=0/1`` overrides the probe."""
    env = os.environ.get("R2N2_SOFTWARE_GL")
    if env in ("0", "1"):
        return env == "1"
    try:
        import pyvista as pv

        renderer = pv.GPUInfo().renderer.lower()
    except Exception:
        return True
    return any(k in renderer for k in ("llvmpipe", "softpipe", "swrast", "software"))


class Viewport(QWidget):
    """QtInteractor with an axes widget, the grid outline and cached step actors."""

    # a click (no drag) while ``probing``: the ray under the cursor (origin, direction),
    # index frame
    voxelRay = pyqtSignal(object, object)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # a native child window: the rest of the UI then repaints without being composited
        # through OpenGL with the QOpenGLWidget (~12 ms per repaint under software GL)
        self.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
        self.plotter: Any = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = QLabel(STARTING, self)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setStyleSheet("background: #f4f5f7; color: #444;")
        self._layout.addWidget(self._placeholder)
        self._actors: dict[tuple[int, str], Any] = {}  # (id(scene), layer) -> actor
        self._scenes: dict[int, Any] = {}
        self._truth: np.ndarray | None = None
        self._truth_actor: Any = None
        self._shown: list[tuple[tuple[int, str], Any]] = []  # ((step, layer), actor)
        self._wanted: tuple[Any, list[str]] = (None, [])  # last show() request
        self._message: Any = None
        self._message_text = ""
        self._bars: list[Any] = []  # colour-bar actors of the shown layers
        self._bar_layers: list[str] | None = None
        self._closed = False
        self.probing = False  # clicks emit voxelRay
        self._press: tuple[int, int] | None = None
        self._slice: tuple[Any, Any, Any] = (None, None, None)  # actor, mesh, (axis, index)
        self._slice_wanted: tuple[Any, str, int] = (None, "z", 0)
        self._probe_actor: Any = None
        self._probe_drawn: tuple[int, int, int] | None = None
        self._probe_wanted: tuple[int, int, int] | None = None
        self._camera: tuple[Any, bool] | None = None  # set_camera() before the start

    # --- start-up -------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self.plotter is not None

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if not self.started and not self._closed:
            QTimer.singleShot(0, self.start)  # after this frame has reached the screen

    def start(self, wait: bool = False) -> None:
        """Create the render window and apply what was asked before (idempotent). Until
        the worker's thread has imported VTK, try again in 100 ms (``wait``: block)."""
        if self.started or self._closed:
            return
        if wait:
            imports.import_heavy()
        elif not imports.try_import_heavy():
            QTimer.singleShot(100, self.start)
            return
        from .. import render as rd
        from .. import scene as sc
        from .native_view import NativeInteractor

        self.plotter = NativeInteractor(self, multi_samples=0 if software_gl() else 4)
        self.plotter.setAcceptDrops(False)  # drops go to the window
        if self.plotter.iren is not None:
            self.plotter.iren.clear_key_event_callbacks()  # no 'q' = close etc.
            self.plotter.add_key_event("r", self.reset_camera)
            self.plotter.iren.add_observer("LeftButtonPressEvent", self._on_press)
            self.plotter.iren.add_observer("LeftButtonReleaseEvent", self._on_release)
        self._layout.removeWidget(self._placeholder)
        self._placeholder.deleteLater()
        self._layout.addWidget(self.plotter)
        self.plotter.set_background(rd.BACKGROUND)
        rd.configure_renderer(self.plotter)
        self.plotter.add_axes(interactive=False, line_width=2, labels_off=False)
        rd.add_layer(self.plotter, sc.grid_outline(), "outline")
        self.reset_camera(render=False)
        if self._camera is not None:
            self.set_camera(*self._camera, render=False)
        self.set_truth(self._truth)
        self.set_message(self._message_text)
        self.set_slice(*self._slice_wanted)
        self.set_probe_marker(self._probe_wanted)
        self.show(*self._wanted)

    # --- content ------------------------------------------------------------------
    def set_scenes(self, scenes: list[Any]) -> None:
        """Forget actors of scenes no longer in use."""
        keep = {id(s) for s in scenes}
        for key in [k for k in self._actors if k[0] not in keep]:
            actor = self._actors.pop(key)
            if actor is not None:
                self.plotter.remove_actor(actor, render=False)
        self._scenes = {id(s): s for s in scenes}
        live = {id(a) for a in self._actors.values() if a is not None}
        self._shown = [(key, a) for key, a in self._shown
                       if id(a) in live or a is self._truth_actor]

    def prepare(self, scene: Any, layers: list[str]) -> None:
        """Create (hidden) the actors ``layers`` of ``scene`` so showing it is cheap."""
        if self.started:
            for layer in layers:
                if layer != "truth":
                    self._actor(scene, layer)

    def set_truth(self, occupancy: np.ndarray | None) -> None:
        self._truth = occupancy
        if not self.started:
            return
        from .. import render as rd
        from .. import scene as sc

        self._shown = [(key, a) for key, a in self._shown if key[1] != "truth"]
        if self._truth_actor is not None:
            self.plotter.remove_actor(self._truth_actor, render=False)
            self._truth_actor = None
        if occupancy is not None:
            self._truth_actor = rd.add_layer(self.plotter, sc.ground_truth_mesh(occupancy),
                                             "truth")
            if self._truth_actor is not None:
                self._truth_actor.SetVisibility(False)

    def show(self, scene: Any, layers: list[str], render: bool = True) -> None:  # type: ignore[override]
        """Show ``layers`` of ``scene`` (None: nothing); ``render`` schedules one frame
        (a paint event, merged with any repaint Qt makes anyway)."""
        self._wanted = (scene, list(layers))
        if not self.started:
            return
        wanted = []
        if scene is not None:
            for layer in layers:
                actor = self._truth_actor if layer == "truth" else self._actor(scene, layer)
                if actor is not None:
                    wanted.append(((scene.index, layer), actor))
        keep = {id(a) for _, a in wanted}
        for _, actor in self._shown:
            if id(actor) not in keep:
                actor.SetVisibility(False)
        for _, actor in wanted:
            actor.SetVisibility(True)
        self._shown = wanted
        slice_shown = self._slice[0] is not None and self._slice[0].GetVisibility()
        self._set_colour_bars([layer for (_, layer), _ in wanted]
                              + (["slice"] if slice_shown else []))
        if render:
            self.plotter.update()

    # --- looking inside: the slice plane and the probed voxel -------------------------
    def set_slice(self, probabilities: np.ndarray | None, axis: str = "z",
                  index: int = 0) -> None:
        """Draw the plane ``axis == index`` of ``probabilities`` (None: no plane); one
        actor, whose colours are replaced when only the step changes. Drawn at the next
        :meth:`show`."""
        self._slice_wanted = (probabilities, axis, index)
        if not self.started:
            return
        from .. import render as rd
        from .. import scene as sc

        actor, mesh, key = self._slice
        if probabilities is None:
            if actor is not None:
                actor.SetVisibility(False)
            return
        shape = np.shape(probabilities)
        if actor is not None and key == (axis, index, shape):
            # only the step changed: new colours on the same sheet
            values, rgba = sc.slice_colours(probabilities, axis, index)
            for name, new in (("probability", values), ("rgba", rgba)):
                array = mesh.cell_data[name]  # VTK's own buffer: written in place
                array[:] = new
                mesh.GetCellData().GetArray(name).Modified()
            mesh.Modified()
        else:
            if actor is not None:
                self.plotter.remove_actor(actor, render=False)
            mesh = sc.slice_plane(probabilities, axis, index)
            actor = rd.add_layer(self.plotter, mesh, "slice")
            self._slice = (actor, mesh, (axis, index, shape))
        actor.SetVisibility(True)

    @property
    def slice_values(self) -> np.ndarray | None:
        """P on the shown slice plane, one value per voxel in VTK order (None: no plane)."""
        actor, mesh, _ = self._slice
        if actor is None or not actor.GetVisibility():
            return None
        return np.asarray(mesh.cell_data["probability"])

    def set_probe_marker(self, voxel: tuple[int, int, int] | None) -> None:
        """Outline the probed voxel (None: no outline); drawn at the next :meth:`show`."""
        self._probe_wanted = voxel
        if not self.started:
            return
        from .. import render as rd
        from .. import scene as sc

        if self._probe_actor is not None:
            if self._probe_drawn == voxel:
                return
            self.plotter.remove_actor(self._probe_actor, render=False)
            self._probe_actor = self._probe_drawn = None
        if voxel is not None:
            self._probe_actor = rd.add_layer(self.plotter, sc.voxel_marker(voxel), "probe")
            self._probe_drawn = voxel

    @property
    def probe_marker(self) -> tuple[int, int, int] | None:
        """The voxel outlined in the view (None: none)."""
        return self._probe_drawn

    def ray_at(self, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
        """The ray (origin on the near plane, direction) through display point ``(x,
        y)`` (VTK pixels: origin bottom left), in the index frame."""
        ren = self.plotter.renderer
        ends = []
        for depth in (0.0, 1.0):
            ren.SetDisplayPoint(float(x), float(y), depth)
            ren.DisplayToWorld()
            wx, wy, wz, ww = ren.GetWorldPoint()
            ends.append(np.array([wx, wy, wz]) / (ww or 1.0))
        return ends[0], ends[1] - ends[0]

    def display_point(self, world: tuple[float, float, float]) -> tuple[float, float]:
        """Where index-frame point ``world`` lands on the display (VTK pixels)."""
        ren = self.plotter.renderer
        ren.SetWorldPoint(*(float(c) for c in world), 1.0)
        ren.WorldToDisplay()
        x, y, _ = ren.GetDisplayPoint()
        return x, y

    def _on_press(self, *_: Any) -> None:
        self._press = tuple(self.plotter.iren.get_event_position())  # type: ignore[assignment]

    def _on_release(self, *_: Any) -> None:
        press, self._press = self._press, None
        if not self.probing or press is None:
            return
        x, y = self.plotter.iren.get_event_position()
        if max(abs(x - press[0]), abs(y - press[1])) <= CLICK_SLOP:
            self.voxelRay.emit(*self.ray_at(x, y))

    @property
    def colour_bars(self) -> list[str]:
        """Titles of the colour bars in the view (one per coloured layer shown)."""
        from ..layers import colour_scales

        return [s.title for s in colour_scales(self._bar_layers or [])][:2]

    def _set_colour_bars(self, layers: list[str]) -> None:
        from ..layers import colour_scales

        if self._bar_layers is not None and \
                colour_scales(layers) == colour_scales(self._bar_layers):
            self._bar_layers = layers
            return
        from .. import render as rd

        for actor in self._bars:
            self.plotter.renderer.RemoveViewProp(actor)
        self._bars = rd.add_colour_bars(self.plotter, layers)
        self._bar_layers = layers

    @property
    def shown(self) -> list[tuple[int, str]]:
        """(step, layer) of every visible layer, ``truth`` included."""
        return [key for key, actor in self._shown if actor.GetVisibility()]

    @property
    def message(self) -> str:
        """The note shown in the view ("" when none)."""
        return self._message_text

    def set_message(self, text: str) -> None:
        """A centred note in the view (empty: none); drawn with the next frame."""
        if text == self._message_text and (self._message is not None) == bool(text):
            return  # unchanged (a fresh snapshot repeats it): no work, no frame
        self._message_text = text
        if not self.started:
            return
        if self._message is not None:
            self.plotter.remove_actor(self._message, render=False)
            self._message = None
        if text:
            self._message = self.plotter.add_text(text, position="upper_edge", font_size=10,
                                                  color="#444444", name="message")
        self.plotter.update()

    def reset_camera(self, render: bool = True) -> None:
        self._camera = None
        if not self.started:
            return
        from .. import render as rd

        rd.set_default_camera(self.plotter)
        if render:
            self.plotter.render()

    def set_camera(self, camera: Any, fit: bool = False, render: bool = True) -> None:
        """Put the camera at ``camera`` (an index-frame
        :class:`~r2n2_viewer.models.camera.IndexCamera`; ``fit``: back off along its line
        of sight to show the whole grid). It stays there while steps change."""
        self._camera = (camera, fit)
        if not self.started:
            return
        from .. import render as rd

        rd.set_camera(self.plotter, camera, fit)
        if render:
            self.plotter.render()

    def share_camera(self, camera: Any) -> None:
        """Draw through ``camera`` (another view's: turning either turns both). The
        translucent points already built are then sorted back to front from it too."""
        self.plotter.renderer.camera = camera
        for actor in self._actors.values():
            for sort in _depth_sorts(actor):
                sort.SetCamera(camera)

    @property
    def sorting_cameras(self) -> list[Any]:
        """The cameras the built layers' back-to-front sorts look from."""
        return [sort.GetCamera() for actor in self._actors.values()
                for sort in _depth_sorts(actor)]

    @property
    def camera_pose(self) -> tuple[tuple[float, ...], ...] | None:
        """(position, focal point, view up, view angle) of the 3D view's camera."""
        if not self.started:
            return None
        c = self.plotter.camera
        return (tuple(c.position), tuple(c.focal_point), tuple(c.up), (c.view_angle,))

    def screenshot(self) -> np.ndarray:
        """The current frame as an (H, W, 3) uint8 array."""
        self.start(wait=True)
        self.plotter.render()
        return np.asarray(self.plotter.screenshot(None, return_img=True))

    def screenshot_of(self, scene: Any, layers: list[str]) -> np.ndarray:
        """A frame of ``scene`` with ``layers`` (the shown step is restored after)."""
        self.start(wait=True)
        shown, wanted = list(self._shown), self._wanted
        self.show(scene, layers, render=False)
        try:
            return self.screenshot()
        finally:
            keep = {id(a) for _, a in shown}
            for _, actor in self._shown:
                if id(actor) not in keep:
                    actor.SetVisibility(False)
            for _, actor in shown:
                actor.SetVisibility(True)
            self._shown, self._wanted = shown, wanted
            self.plotter.update()

    def close_plotter(self) -> None:
        self._closed = True
        if self.started:
            self.plotter.close()

    # --- internals -------------------------------------------------------------------
    def _actor(self, scene: Any, layer: str) -> Any:
        key = (id(scene), layer)
        if key not in self._actors:
            from .. import render as rd

            actor = rd.add_layer(self.plotter, scene.layer(layer), layer)
            if actor is not None:
                actor.SetVisibility(False)
            self._actors[key] = actor
        return self._actors[key]


def _depth_sorts(actor: Any) -> list[Any]:
    """The back-to-front sort feeding ``actor``'s mapper (translucent points), if any."""
    from vtkmodules.vtkFiltersHybrid import vtkDepthSortPolyData

    mapper = actor.GetMapper() if actor is not None else None
    source = mapper.GetInputAlgorithm() if mapper is not None else None
    return [source] if isinstance(source, vtkDepthSortPolyData) else []
