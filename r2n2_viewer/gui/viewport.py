"""The 3D viewport: a pyvistaqt QtInteractor showing one step's prepared meshes.

Actors are created once per (scene, layer) and cached; showing another step only flips
actor visibility and renders one frame. The camera is kept across step changes.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from .. import render as rd
from .. import scene as sc


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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PyQt6.QtCore import Qt
        from pyvistaqt import QtInteractor

        # a native child window: the rest of the UI then repaints without being composited
        # through OpenGL with the QOpenGLWidget (~12 ms per repaint under software GL)
        self.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
        self.plotter = QtInteractor(self, multi_samples=1 if software_gl() else 4,
                                    auto_update=False)
        self.plotter.setAcceptDrops(False)  # drops go to the window, not pyvistaqt's loader
        if self.plotter.iren is not None:
            self.plotter.iren.clear_key_event_callbacks()  # no 'q' = close etc.
            self.plotter.add_key_event("r", self.reset_camera)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plotter)
        self.plotter.set_background(rd.BACKGROUND)
        self.plotter.add_axes(interactive=False, line_width=2, labels_off=False)
        rd.add_layer(self.plotter, sc.grid_outline(), "outline")
        self._actors: dict[tuple[int, str], Any] = {}  # (id(scene), layer) -> actor
        self._scenes: dict[int, sc.StepScene] = {}
        self._truth_actor: Any = None
        self._shown: list[Any] = []
        self._message: Any = None
        self.reset_camera(render=False)

    # --- content ------------------------------------------------------------------
    def set_scenes(self, scenes: list[sc.StepScene]) -> None:
        """Forget actors of scenes no longer in use."""
        keep = {id(s) for s in scenes}
        for key in [k for k in self._actors if k[0] not in keep]:
            actor = self._actors.pop(key)
            if actor is not None:
                self.plotter.remove_actor(actor, render=False)
        self._scenes = {id(s): s for s in scenes}
        self._shown = [a for a in self._shown if any(a is b for b in self._actors.values())]

    def prepare(self, scene: sc.StepScene, layers: list[str]) -> None:
        """Create (hidden) the actors ``layers`` of ``scene`` so showing it is cheap."""
        for layer in layers:
            if layer != "truth":
                self._actor(scene, layer)

    def set_truth(self, occupancy: np.ndarray | None) -> None:
        if self._truth_actor is not None:
            self.plotter.remove_actor(self._truth_actor, render=False)
            self._truth_actor = None
        if occupancy is not None:
            self._truth_actor = rd.add_layer(self.plotter, sc.ground_truth_mesh(occupancy),
                                             "truth")
            if self._truth_actor is not None:
                self._truth_actor.SetVisibility(False)

    def show(self, scene: sc.StepScene | None, layers: list[str], render: bool = True) -> None:  # type: ignore[override]
        """Show ``layers`` of ``scene`` (None: nothing); ``render`` schedules one frame
        (a paint event, merged with any repaint Qt makes anyway)."""
        wanted = []
        if scene is not None:
            for layer in layers:
                actor = self._truth_actor if layer == "truth" else self._actor(scene, layer)
                if actor is not None:
                    wanted.append(actor)
        for actor in self._shown:
            if not any(actor is w for w in wanted):
                actor.SetVisibility(False)
        for actor in wanted:
            actor.SetVisibility(True)
        self._shown = wanted
        if render:
            self.plotter.update()

    def set_message(self, text: str) -> None:
        """A centred note in the view (empty: none)."""
        if self._message is not None:
            self.plotter.remove_actor(self._message, render=False)
            self._message = None
        if text:
            self._message = self.plotter.add_text(text, position="upper_edge", font_size=10,
                                                  color="#444444", name="message")
        self.plotter.render()

    def reset_camera(self, render: bool = True) -> None:
        rd.set_default_camera(self.plotter)
        if render:
            self.plotter.render()

    def screenshot(self) -> np.ndarray:
        """The current frame as an (H, W, 3) uint8 array."""
        self.plotter.render()
        return np.asarray(self.plotter.screenshot(None, return_img=True))

    def close_plotter(self) -> None:
        self.plotter.close()

    # --- internals -------------------------------------------------------------------
    def _actor(self, scene: sc.StepScene, layer: str) -> Any:
        key = (id(scene), layer)
        if key not in self._actors:
            actor = rd.add_layer(self.plotter, scene.layer(layer), layer)
            if actor is not None:
                actor.SetVisibility(False)
            self._actors[key] = actor
        return self._actors[key]
