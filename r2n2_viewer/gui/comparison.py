"""Two models side by side: File > Compare with weights... opens a second 3D view beside
the first, showing the second model's reconstruction of the same views at the same step
and with the same layers. Both views share one camera (turning either turns both); the
IoU plot draws both curves. The second model runs in the worker and follows every edit
of the views (:func:`r2n2_viewer.compare.mirror_views`). A line under the second view
gives its step's figures: voxels, IoU and, in the seen-vs-inferred mode (views with a
known camera), its own seen and inferred counts.
"""

from __future__ import annotations

import os
from typing import Any

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .viewport import Viewport

LINK_RETRY_MS = 100


def step_figures_html(scene: Any, seen_shown: bool) -> str:
    """The second model's figures at ``scene``'s step (one or two short lines)."""
    if scene is None:
        return ""
    text = f"step {scene.index}: {scene.n_voxels} voxels \u2265 {scene.threshold:.2f}"
    if scene.iou is not None:
        text += f", IoU <b>{scene.iou:.3f}</b>"
    if seen_shown and not scene.seen_known:
        text += "<br>seen vs. inferred: casting the views' rays\u2026"
    elif seen_shown:
        text += (f"<br><span style='color:#b08000'>{scene.n_seen} seen</span>, "
                 f"<span style='color:#7d5fcd'>{scene.n_inferred} inferred</span> "
                 f"({scene.seen_views} of {scene.index} views with a known camera)")
    return text


class Comparison:
    """The second model's viewport and its wiring to ``window``."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.view: Viewport | None = None
        self.box: QWidget | None = None
        self.caption: QLabel | None = None
        self.figures: QLabel | None = None  # the second model's figures at the shown step
        self.name = ""
        self.linked = False
        self._truth: Any = None
        self._observers: list[tuple[Any, int]] = []
        window.worker.jobs.compareLoaded.connect(self._on_loaded)

    @property
    def active(self) -> bool:
        return self.view is not None

    # --- commands -------------------------------------------------------------------
    def dialog(self) -> None:
        from .inputs import choose_weights_file

        path = choose_weights_file(self.window, "Compare with weights")
        if path:
            self.open(path)

    def open(self, spec: str | os.PathLike) -> int:
        """Load ``spec`` (a weights file or "default") as the second model."""
        w = self.window
        w.busy.set_busy("Loading the second model", -1.0)
        return w.worker.load_compare(str(spec), w.device_name.split(":")[0] or w.device)

    def close(self) -> int:
        """Stop comparing (the second view goes once the worker has dropped the model)."""
        return self.window.worker.load_compare(None)

    # --- worker results ---------------------------------------------------------------
    def _on_loaded(self, name: str) -> None:
        self.name = name
        if not name:
            self._remove_view()
            return
        if self.view is None:
            self._add_view()
        assert self.caption is not None
        self.caption.setText(f"this view: <b>{name}</b>; left: {self.window.model_name} "
                             "(one camera for both)")

    def on_snapshot(self, snap: Any) -> None:
        if self.view is None:
            return
        if snap.ground_truth is not self._truth:
            self._truth = snap.ground_truth
            self.view.set_truth(snap.ground_truth)
        self.view.set_scenes(snap.compare_scenes)
        for scene in snap.compare_scenes:
            self.view.prepare(scene, self.window.state.layers())
        self.view.set_message("" if snap.compare_scenes else f"{self.name}: no views yet")

    def show(self, step: int, layers: list[str]) -> None:
        """Show ``layers`` of the second model's step ``step`` (1-based)."""
        if self.view is None:
            return
        snap = self.window.snapshot
        scenes = snap.compare_scenes if snap is not None else []
        scene = scenes[step - 1] if 1 <= step <= len(scenes) else None
        self.view.show(scene, layers)
        if self.figures is not None:
            self.figures.setText(step_figures_html(scene, "seen" in layers))

    def shutdown(self) -> None:
        if self.view is not None:
            self.view.close_plotter()

    # --- the second view -------------------------------------------------------------
    def _add_view(self) -> None:
        w = self.window
        self.box = QWidget(w)
        lay = QVBoxLayout(self.box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.caption = QLabel("", self.box)
        self.caption.setStyleSheet("color: #444; font-size: 11px;")
        self.caption.setWordWrap(True)  # a long model name must not widen this half
        lay.addWidget(self.caption)
        self.view = Viewport(self.box)
        self.view.setMinimumSize(240, 200)
        lay.addWidget(self.view, 1)
        self.figures = QLabel("", self.box)
        self.figures.setStyleSheet("color: #444; font-size: 11px;")
        self.figures.setWordWrap(True)
        lay.addWidget(self.figures)
        w.views_row.addWidget(self.box, 1)
        self._truth = None
        self.linked = False
        QTimer.singleShot(0, self._link)
        if w.snapshot is not None:
            self.on_snapshot(w.snapshot)
            self.show(w.state.step, w.state.layers())

    def _link(self) -> None:
        """Share the first view's camera once both render windows have started."""
        first, second = self.window.viewport, self.view
        if second is None or self.linked:
            return
        if not (first.started and second.started):
            QTimer.singleShot(LINK_RETRY_MS, self._link)
            return
        second.share_camera(first.plotter.renderer.camera)
        # the first view's every frame redraws the second; turning the second redraws
        # the first (which then redraws the second: no loop, each hook goes one way)
        ren_win = first.plotter.ren_win
        tag = ren_win.AddObserver("EndEvent", lambda *_: self._update_second())
        self._observers = [(ren_win, tag)]
        iren = second.plotter.iren
        if iren is not None:
            iren.add_observer("InteractionEvent", lambda *_: first.plotter.update())
        self.linked = True
        second.plotter.update()

    def _update_second(self) -> None:
        if self.view is not None and self.view.started:
            self.view.plotter.update()

    def _remove_view(self) -> None:
        for obj, tag in self._observers:
            obj.RemoveObserver(tag)
        self._observers = []
        if self.view is not None:
            self.view.close_plotter()
        if self.box is not None:
            self.window.views_row.removeWidget(self.box)
            self.box.deleteLater()
        self.view = self.box = self.caption = self.figures = None
        self.linked = False
        if self.window.viewport.started:
            self.window.viewport.plotter.update()

    @property
    def camera_shared(self) -> bool:
        """True when both views draw through the same camera object."""
        if not self.linked or self.view is None:
            return False
        return (self.view.plotter.renderer.GetActiveCamera()
                is self.window.viewport.plotter.renderer.GetActiveCamera())
