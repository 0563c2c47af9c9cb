"""The viewer's main window: wires the view state, the worker and the widgets.

What is shown lives in :class:`~.state.ViewState`; inference and mesh building run in
the worker's thread (:mod:`.worker`); the side panel, the step bar, menus and
shortcuts (:mod:`.actions`), export (:mod:`.exporting`) and the sources of views
(:mod:`.inputs`) are their own modules. The window shows at once; the model and the
first views load in the worker while it is up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QSettings, Qt, QTimer
from PyQt6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from ..cameras import PRESETS
from ..slices import AXES
from . import settings as view_settings
from .actions import build_actions
from .busy import BusyArea
from .comparison import Comparison
from .errors import ErrorReporter
from .exporting import Exporter
from .inputs import Inputs
from .next_view_box import NextViewBox
from .panel import SidePanel
from .sequences import SequenceFiles
from .state import MODES, ViewState
from .stepbar import StepBar
from .strip import ImageStrip
from .viewport import Viewport
from .worker import Snapshot, Worker

MIN_SIZE = (960, 600)  # every control stays usable down to this (the panel scrolls)
THRESHOLD_DEBOUNCE_MS = 120
NO_MODEL = "No model loaded: File > Use the bundled model, or Open weights..."


class MainWindow(QMainWindow):
    """See 3D-R2N2 refine its reconstruction view by view."""

    def __init__(self, weights: str | os.PathLike | None = "default", device: str = "auto",
                 settings: QSettings | None = None, images: list[str] | None = None,
                 demo: str | None = None, autoload_demo: bool = True, net: Any = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("r2n2-viewer", "r2n2-viewer")
        self.setWindowTitle("r2n2-viewer \u2014 3D-R2N2 view by view")
        self.setAcceptDrops(True)
        self.setMinimumSize(*MIN_SIZE)
        self.snapshot: Snapshot | None = None
        self.model_name = self.device_name = ""
        self.play_when_idle = False
        self.device = device
        self.state = ViewState(self)
        self.errors = ErrorReporter(self)
        self.worker = Worker(self.state.threshold, self)
        self.inputs, self.exporter = Inputs(self), Exporter(self)
        self.sequences = SequenceFiles(self)
        self.editor: Any = None  # the open input editor
        self.weights_spec = str(weights) if weights is not None else "default"
        self._build_ui()
        self.actions = build_actions(self, self._handlers())
        self.sync_checks()
        notice = view_settings.restore(self.state, self.settings)
        self.worker.jobs.threshold = self.state.threshold
        self.worker.jobs.seen = self.state.mode == "seen"
        if notice:
            self.statusBar().showMessage(notice, 30000)
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._connect()
        self.viewport.set_message("Loading the model\u2026")
        self._busy("Loading model")
        # the model loads in the worker while the window appears; the first views follow
        self.worker.load_model(weights if weights is not None else "default", device, net)
        QTimer.singleShot(0, lambda: self._start(images, demo, autoload_demo))

    # --- construction -------------------------------------------------------------------
    def _build_ui(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(4)
        top = QHBoxLayout()
        outer.addLayout(top, 1)
        left = QVBoxLayout()
        top.addLayout(left, 1)
        self.views_row = QHBoxLayout()  # the 3D view, and a second model's beside it
        self.views_row.setSpacing(4)
        left.addLayout(self.views_row, 1)
        self.viewport = Viewport(central)
        self.viewport.setMinimumSize(320, 240)
        self.views_row.addWidget(self.viewport, 1)
        self.stepbar = StepBar(self.state, central)
        left.addWidget(self.stepbar)
        self.panel = SidePanel(self.state, central)
        top.addWidget(self.panel)
        self.strip = ImageStrip(central)
        outer.addWidget(self.strip)
        self.setCentralWidget(central)
        sb = self.statusBar()
        self.busy = BusyArea(self.worker.cancel, self)
        self.model_label, self.ms_label, self.step_label = QLabel(self), QLabel(self), \
            QLabel(self)
        sb.addPermanentWidget(self.busy)
        for w, width in ((self.model_label, 240), (self.ms_label, 100), (self.step_label, 100)):
            w.setFixedWidth(width)  # a changing text must not re-layout the window
            sb.addPermanentWidget(w)
        self.threshold_timer = QTimer(self)
        self.threshold_timer.setSingleShot(True)
        self.threshold_timer.setInterval(THRESHOLD_DEBOUNCE_MS)
        self.threshold_timer.timeout.connect(
            lambda: self.worker.set_threshold(self.state.threshold))
        self.band_timer = QTimer(self)
        self.band_timer.setSingleShot(True)
        self.band_timer.setInterval(THRESHOLD_DEBOUNCE_MS)
        self.band_timer.timeout.connect(lambda: self.worker.set_band(self.state.band))
        self.next_view = NextViewBox(self)
        self.panel.add_section(self.next_view)
        self.comparison = Comparison(self)
        self.resize(1280, 860)

    def _handlers(self) -> dict[str, Any]:
        s = self.state
        return {
            "add_images": self.inputs.add_dialog, "paste": self.inputs.paste,
            "open_dataset_model": self.inputs.dataset_dialog,
            "demos": self.inputs.fill_demo_menu, "open_weights": self.inputs.weights_dialog,
            "use_bundled_model": self.use_bundled_model,
            "compare_weights": self.comparison.dialog,
            "close_comparison": self.comparison.close,
            "export_step": self.exporter.step_dialog, "export_all": self.exporter.all_dialog,
            "export_npz": self.sequences.npz_dialog, "save_sequence": self.sequences.save_dialog,
            "open_sequence": self.sequences.open_dialog,
            "new": self.clear_views, "quit": self.close,
            "reset_camera": s.reset_camera, "reset_view_settings": s.reset_view_settings,
            **{f"camera:{c}": lambda c=c: s.reset_camera(c) for c in PRESETS},
            "look_from_step_view": lambda: self.look_from_view(s.step),
            "look_from_view": self.fill_look_menu,
            **{f"mode:{m}": lambda m=m: s.update(mode=m) for m in MODES},
            "play": self.stepbar.toggle_play, "next_step": lambda: s.set_step(s.step + 1),
            "previous_step": lambda: s.set_step(s.step - 1), "cancel": self.worker.cancel,
            "slice_on": lambda: s.update(slice_on=not s.slice_on),
            **{f"slice_axis:{a}": lambda a=a: s.update(slice_on=True, slice_axis=a)
               for a in AXES},
            "slice_up": lambda: self.move_slice(1), "slice_down": lambda: self.move_slice(-1),
            "probing": lambda: s.update(probing=not s.probing,
                                        **({"probe_voxel": None} if s.probing else {})),
            "probe_dialog": self.probe_dialog, "clear_probe": lambda: s.update(probe_voxel=None),
        }

    def sync_checks(self) -> None:
        """Tick the menu's on/off entries as the state says."""
        s = self.state
        ticks = {"slice_on": s.slice_on, "probing": s.probing,
                 **{f"slice_axis:{a}": s.slice_on and s.slice_axis == a for a in AXES}}
        for name, on in ticks.items():
            act = self.actions[name]
            act.blockSignals(True)
            act.setChecked(on)
            act.blockSignals(False)
        self.actions["clear_probe"].setEnabled(s.probe_voxel is not None)

    def _connect(self) -> None:
        jobs = self.worker.jobs
        jobs.snapshot.connect(self._on_snapshot)
        jobs.failed.connect(self._on_failed)
        jobs.progress.connect(self._busy)
        jobs.modelLoaded.connect(self._on_model_loaded)
        self.worker.idle.connect(self._on_idle)
        self.state.changed.connect(self._on_state)
        self.state.cameraRequested.connect(self._apply_camera)
        self.strip.filesDropped.connect(self.inputs.add_urls)
        self.strip.moveRequested.connect(self.worker.move_view)
        self.strip.removeRequested.connect(self.worker.remove_view)
        self.strip.replaceRequested.connect(self.inputs.replace_dialog)
        self.strip.stepClicked.connect(self.state.set_step)
        self.strip.editRequested.connect(self.edit_input)
        self.viewport.voxelRay.connect(self.probe_ray)

    def _start(self, images: list[str] | None, demo: str | None, autoload_demo: bool) -> None:
        if images:
            self.inputs.add_paths(images)
        elif demo:
            self.inputs.open_demo(demo)
        elif autoload_demo:
            from ..demo import featured_demo, list_demos

            featured = featured_demo(list_demos())
            if featured is not None:
                self.inputs.open_demo(featured.name)

    # --- public commands ------------------------------------------------------------------
    def add_paths(self, paths: list[str | os.PathLike]) -> None:
        self.inputs.add_paths(paths)

    def open_demo(self, name: str) -> None:
        self.inputs.open_demo(name)

    def open_dataset_model(self, folder: str | os.PathLike) -> None:
        self.inputs.open_dataset_model(folder)

    def export_step(self, path: str | os.PathLike, kind: str | None = None,
                    step: int | None = None) -> bool:
        return self.exporter.export_step(path, kind, step)

    def export_all(self, folder: str | os.PathLike, kind: str = "binvox") -> list[Path]:
        return self.exporter.export_all(folder, kind)

    def load_weights(self, path: str | os.PathLike) -> None:
        if str(path) != "default":
            self.settings.setValue("last_weights_dir", str(Path(path).parent))
        self._busy("Loading model")
        self.weights_spec = str(path)
        self.worker.load_model(str(path), self.device_name.split(":")[0] or self.device)

    def use_bundled_model(self) -> None:
        self.load_weights("default")

    def edit_input(self, i: int) -> Any:
        """Open the input editor of view ``i`` (0-based); returns it (None: no such view)."""
        from .editor import InputEditor

        snap = self.snapshot
        if snap is None or not 0 <= i < len(snap.records):
            return None
        if self.editor is not None:  # one editor at a time
            self.editor.close()
            self.editor.deleteLater()
        self.editor = InputEditor(self, i)
        self.editor.show()
        return self.editor

    def probe_ray(self, origin: Any, direction: Any) -> None:
        """Probe the first voxel drawn along the ray (a click in the view)."""
        from ..probe import ray_voxel, shown_voxels

        s, snap = self.state, self.snapshot
        if snap is None or not 1 <= s.step <= min(len(snap.steps), len(snap.scenes)):
            return
        scene = snap.scenes[s.step - 1]
        shown = shown_voxels(snap.steps[s.step - 1].probabilities, s.layers(),
                             scene.threshold, scene.band_range, snap.ground_truth)
        voxel = ray_voxel(shown, origin, direction)
        if voxel is None:
            self.statusBar().showMessage("No voxel under the cursor: click on a drawn one", 5000)
        else:
            s.update(probe_voxel=voxel)

    def probe_text(self, text: str) -> bool:
        """Probe the voxel typed as "i, j, k"; a bad entry is said in one line (False)."""
        from ..probe import parse_voxel

        try:
            voxel = parse_voxel(text)
        except ValueError as exc:
            self.errors.show("Cannot probe this voxel", str(exc))
            return False
        self.state.update(probing=True, probe_voxel=voxel)
        return True

    def probe_dialog(self) -> None:
        """Tools > Probe voxel...: type a voxel's indices (reaches voxels hidden inside)."""
        from PyQt6.QtWidgets import QInputDialog

        v = self.state.probe_voxel
        text, ok = QInputDialog.getText(
            self, "Probe voxel", "Voxel indices i, j, k (x, y, z; each 0..31):",
            text="16, 16, 16" if v is None else f"{v[0]}, {v[1]}, {v[2]}")
        if ok:
            self.probe_text(text)

    def move_slice(self, delta: int) -> None:
        """Move the slice plane by ``delta`` voxels (it shows the plane if hidden)."""
        s = self.state
        s.update(slice_on=True, slice_index=max(0, min(31, s.slice_index + delta)))

    def view_cameras(self) -> list[Any]:
        """The known camera of each view (None where unknown)."""
        snap = self.snapshot
        return [getattr(r, "camera", None) for r in snap.records] if snap else []

    def look_from_view(self, k: int) -> bool:
        """Move the 3D view's camera to view ``k``'s (1-based) when it is known; False
        (with a note in the status bar) when it is not."""
        cams = self.view_cameras()
        if not 1 <= k <= len(cams) or cams[k - 1] is None:
            self.statusBar().showMessage(
                f"View {k} has no known camera: only a demo's views and a dataset model's "
                "renderings have one", 10000)
            return False
        self.state.reset_camera(f"view:{k}")
        return True

    def fill_look_menu(self, menu: Any) -> None:
        menu.clear()
        cams = self.view_cameras()
        labels = self.snapshot.labels if self.snapshot else []
        if not any(cams):
            menu.addAction("(no view with a known camera)").setEnabled(False)
        for k, cam in enumerate(cams, 1):
            if cam is not None:
                label = labels[k - 1] if k <= len(labels) else ""
                act = menu.addAction(f"View {k}  {label}".rstrip())
                act.triggered.connect(lambda _=False, k=k: self.look_from_view(k))

    def _apply_camera(self, name: str) -> None:
        from .. import render as rd

        try:
            chosen = rd.camera_for(name, self.view_cameras())
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 10000)
            return
        if chosen is None:
            self.viewport.reset_camera()
        else:
            self.viewport.set_camera(*chosen)

    def clear_views(self) -> None:
        self.inputs.start_new_sequence()

    @property
    def busy_now(self) -> bool:
        """True while the worker has jobs queued or running."""
        return self.worker.busy

    def last_dir(self, key: str) -> str:
        return str(self.settings.value(key, str(Path.home())))

    # --- worker results -------------------------------------------------------------------
    def _busy(self, what: str, fraction: float = -1.0) -> None:
        self.busy.set_busy(what, fraction)

    def _on_idle(self) -> None:
        self.busy.set_idle()
        if self.play_when_idle and self.snapshot and len(self.snapshot.scenes) > 1:
            self.play_when_idle = False
            self.state.update(step=1, playing=True)

    def _on_model_loaded(self, name: str, device: str) -> None:
        self.model_name, self.device_name = name, device
        text = f"model: {name} \u00b7 {device}"
        room = self.model_label.width() - 2 * self.model_label.margin() - 4
        self.model_label.setText(self.model_label.fontMetrics().elidedText(
            text, Qt.TextElideMode.ElideMiddle, room))  # the device stays in view
        self.model_label.setToolTip(text)
        self.panel.set_device(device)
        self.errors.resolve("model")

    def _on_failed(self, title: str, message: str) -> None:
        if title == "Cannot load weights" and not self.model_name:
            from ..weights import default_weights_path

            actions = [("Open weights\u2026", self.inputs.weights_dialog)]
            if default_weights_path().is_file():
                actions.insert(0, ("Use the bundled model", self.use_bundled_model))
            self.viewport.set_message(NO_MODEL)
            self.errors.show("No model loaded", f"{message}. Views you add wait for a model.",
                             problem="model", actions=actions)
        elif message.startswith("no model is loaded") and self.errors.problem == "model":
            self.statusBar().showMessage(message, 15000)  # the open box already says so
        else:
            self.errors.show(title, message)

    def _on_snapshot(self, snap: Snapshot) -> None:
        old, self.snapshot = self.snapshot, snap
        if old is None or [id(v) for v in old.views] != [id(v) for v in snap.views] \
                or old.labels != snap.labels:
            self.strip.set_views(snap.views, snap.labels)
        if old is None or old.ground_truth is not snap.ground_truth:
            self.viewport.set_truth(snap.ground_truth)
            has = snap.ground_truth is not None
            self.state.update(truth_available=has, **(
                {"overlays": self.state.overlays | {"truth"}} if has else {}))
        self.viewport.set_scenes(snap.scenes)
        old_ids = {id(sc) for sc in old.scenes} if old else set()
        for scene in snap.scenes:  # actors of new steps now, so scrubbing only flips them
            if id(scene) not in old_ids:
                self.viewport.prepare(scene, self.state.layers())
        self.panel.set_snapshot(snap)
        self.next_view.set_snapshot(snap)
        self.comparison.on_snapshot(snap)
        if self.model_name:
            self.viewport.set_message("" if snap.scenes else "Drop photos of one object here")
        self.state.steps_arrived(len(snap.scenes))
        self._show()

    # --- showing ------------------------------------------------------------------------
    def _on_state(self, changed: frozenset[str]) -> None:
        view_settings.save(self.state, self.settings, changed)
        if changed & {"slice_on", "slice_axis", "probing", "probe_voxel"}:
            self.sync_checks()
        if "threshold" in changed:
            self.threshold_timer.start()
        if "band" in changed:
            self.band_timer.start()
        if "probing" in changed:
            self.viewport.probing = self.state.probing
        if "mode" in changed:  # the seen split is made only while it is shown
            self.worker.set_seen(self.state.mode == "seen")
        if changed & {"step", "n_steps", "mode", "overlays", "truth_available", "band_only",
                      "probe_voxel", "slice_on", "slice_axis", "slice_index"}:
            self._show()

    def _show(self) -> None:
        """Show the state's step with the state's layers; update the step labels."""
        s, snap = self.state, self.snapshot
        scene = snap.scenes[s.step - 1] if snap and 1 <= s.step <= len(snap.scenes) else None
        step = snap.steps[s.step - 1] if scene and s.step <= len(snap.steps) else None
        self.viewport.set_slice(step.probabilities if step and s.slice_on else None,
                                s.slice_axis, s.slice_index)
        self.viewport.set_probe_marker(s.probe_voxel)
        self.viewport.show(scene, s.layers())
        self.comparison.show(s.step if scene else 0, s.layers())
        self.panel.iou_plot.set_step(s.step if scene else 0)
        self.strip.set_current_step(s.step if scene else 0)
        self.step_label.setText(f"step {s.step} of {s.n_steps}" if scene else "")
        self.ms_label.setText(f"{scene.ms:.0f} ms/step" if scene else "")

    # --- Qt events ----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    dragMoveEvent = dragEnterEvent  # noqa: N815

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasUrls():
            event.acceptProposedAction()
            self.inputs.add_urls(list(mime.urls()))
        elif mime.hasImage():
            event.acceptProposedAction()
            self.inputs.add_image(QImage(mime.imageData()), "dropped")

    def closeEvent(self, event) -> None:  # noqa: N802
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self, wait_ms: int = 1500) -> None:
        """Stop the worker (a stuck job is left to finish on its own thread, never
        waited for) and release the render window; idempotent."""
        self.hide()  # gone at once, even if the worker takes a moment to stop
        self.state.update(playing=False)
        self.threshold_timer.stop()
        self.band_timer.stop()
        self.errors.close()
        self.worker.shutdown(wait_ms)
        try:
            self.comparison.shutdown()
            self.viewport.close_plotter()
        except Exception:  # noqa: BLE001 - already closed
            pass
