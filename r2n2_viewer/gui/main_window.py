"""The viewer's main window: image strip, 3D viewport, step slider and controls.

All inference and mesh building happens in an :class:`InferenceWorker` on its own
QThread; the window only sends requests and shows the snapshots that come back.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QSettings, Qt, QThread, QTimer, QUrl
from PyQt6.QtGui import QAction, QDragEnterEvent, QDropEvent, QImage, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .. import export
from .. import render as rd
from ..scene import StepScene
from .plot import IoUPlot
from .strip import ImageStrip
from .viewport import Viewport
from .worker import ImageSource, InferenceWorker, Snapshot

MODES = ("cubes", "smooth", "points")
EXPORT_KINDS = {  # kind -> (file dialog filter, suffix): one file per step
    name: (f.file_filter, f.suffix) for name, f in export.FORMATS.items() if not f.whole_sequence
}
DATASET_VIEWS = 5  # views taken from a dataset model's renderings
PLAY_MS = 700
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff *.gif);;All files (*)"


class MainWindow(QMainWindow):
    """See 3D-R2N2 refine its reconstruction view by view."""

    def __init__(
        self,
        weights: str | os.PathLike | Any | None = "default",  # or an R2N2 object
        device: str = "auto",
        settings: QSettings | None = None,
        images: list[str] | None = None,
        demo: str | None = None,
        autoload_demo: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings("r2n2-viewer", "r2n2-viewer")
        self.setWindowTitle("r2n2-viewer \u2014 3D-R2N2 view by view")
        self.setAcceptDrops(True)
        self.errors: list[tuple[str, str]] = []  # every (title, message) shown
        self.snapshot: Snapshot | None = None
        self.model_name = ""
        self.device_name = ""
        self._pending = 0
        self._follow = True  # jump to each new step as it arrives
        self._play_when_idle = False
        self._error_box: QMessageBox | None = None
        self._progress_dialog: QProgressDialog | None = None
        self._paste_count = 0

        self._build_ui()
        self._build_actions()
        self._start_worker(float(self.settings.value("threshold", 0.4, float)))
        self._restore_settings()

        self.submit("load_model", weights if weights is not None else "default", device)
        if images:
            self.add_paths(images)
        elif demo:
            self.open_demo(demo)
        elif autoload_demo:
            from ..demo import featured_demo, list_demos

            demo_ = featured_demo(list_demos())
            if demo_ is not None:
                self.open_demo(demo_.name)
        self._refresh()

    # --- construction -------------------------------------------------------------------------
    def _build_ui(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(4)
        top = QHBoxLayout()
        outer.addLayout(top, 1)

        left = QVBoxLayout()
        top.addLayout(left, 1)
        self.viewport = Viewport(central)
        self.viewport.setMinimumSize(320, 240)
        left.addWidget(self.viewport, 1)

        steps = QHBoxLayout()
        self.play_button = QToolButton(central)
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause the refinement (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.step_slider = QSlider(Qt.Orientation.Horizontal, central)
        self.step_slider.setRange(0, 0)
        self.step_slider.setPageStep(1)
        self.step_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.step_slider.setToolTip("Scrub through the steps (\u2190 / \u2192)")
        self.step_slider.valueChanged.connect(self._on_step_changed)
        self.step_label = QLabel("no steps", central)
        self.step_label.setFixedWidth(90)
        steps.addWidget(self.play_button)
        steps.addWidget(QLabel("Step", central))
        steps.addWidget(self.step_slider, 1)
        steps.addWidget(self.step_label)
        left.addLayout(steps)

        top.addWidget(self._build_panel(central))

        self.strip = ImageStrip(central)
        self.strip.filesDropped.connect(self.add_urls)
        self.strip.moveRequested.connect(lambda i, j: self.submit("move", i, j))
        self.strip.removeRequested.connect(lambda i: self.submit("remove", i))
        self.strip.replaceRequested.connect(self._replace_dialog)
        self.strip.stepClicked.connect(self.set_step)
        outer.addWidget(self.strip)
        self.setCentralWidget(central)

        sb = self.statusBar()
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setVisible(False)
        self.busy_label = QLabel("", self)
        self.model_label = QLabel("no model", self)
        self.ms_label = QLabel("", self)
        self.status_step_label = QLabel("", self)
        # fixed widths: a changing text must not re-layout (and repaint) the window
        for w, width in ((self.busy_label, 200), (self.busy, 120), (self.model_label, 260),
                         (self.ms_label, 110), (self.status_step_label, 110)):
            w.setFixedWidth(width)
            sb.addPermanentWidget(w)

        self.play_timer = QTimer(self)
        self.play_timer.setInterval(PLAY_MS)
        self.play_timer.timeout.connect(self._play_tick)
        self.threshold_timer = QTimer(self)
        self.threshold_timer.setSingleShot(True)
        self.threshold_timer.setInterval(120)
        self.threshold_timer.timeout.connect(
            lambda: self.submit("set_threshold", self.threshold)
        )
        self.resize(1280, 860)

    def _build_panel(self, parent: QWidget) -> QWidget:
        panel = QWidget(parent)
        panel.setFixedWidth(290)
        lay = QVBoxLayout(panel)
        lay.setContentsMargins(0, 0, 0, 0)

        display = QGroupBox("Display", panel)
        d = QVBoxLayout(display)
        row = QHBoxLayout()
        row.addWidget(QLabel("Mode", display))
        self.mode_box = QComboBox(display)
        self.mode_box.addItems(["Cubes", "Smooth surface", "Probability points"])
        self.mode_box.setToolTip("Voxel cubes coloured by P(occupied), a marching-cubes "
                                 "surface, or every voxel as a point (alpha = P)")
        self.mode_box.currentIndexChanged.connect(lambda _: self._update_view())
        row.addWidget(self.mode_box, 1)
        d.addLayout(row)
        self.changes_box = QCheckBox("What changed since the previous step", display)
        self.changes_box.setToolTip("Green: voxels that appeared at this step; "
                                    "faint red: voxels that disappeared")
        self.gates_box = QCheckBox("Update gates (4\u00b3 recurrent cells)", display)
        self.gates_box.setToolTip("How strongly each recurrent cell wrote at this step: "
                                  "darker = stronger update")
        self.truth_box = QCheckBox("Ground truth", display)
        self.truth_box.setToolTip("Translucent blue: the true voxels (demos and dataset models)")
        self.truth_box.setEnabled(False)
        for box in (self.changes_box, self.gates_box, self.truth_box):
            box.toggled.connect(lambda _: self._update_view())
            d.addWidget(box)
        self.legend = QLabel("", display)
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("color: #555; font-size: 11px;")
        self.legend.setFixedHeight(48)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        d.addWidget(self.legend)
        reset = QPushButton("Reset camera", display)
        reset.clicked.connect(lambda: self.viewport.reset_camera())
        d.addWidget(reset)
        lay.addWidget(display)

        thr = QGroupBox("Threshold", panel)
        t = QVBoxLayout(thr)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal, thr)
        self.threshold_slider.setRange(5, 95)
        self.threshold_slider.setValue(40)
        self.threshold_slider.setToolTip("A voxel is occupied when P(occupied) \u2265 threshold")
        self.threshold_slider.valueChanged.connect(self._on_threshold_changed)
        self.threshold_label = QLabel("", thr)
        self.threshold_label.setFixedHeight(20)
        t.addWidget(self.threshold_slider)
        t.addWidget(self.threshold_label)
        lay.addWidget(thr)

        info = QGroupBox("This step", panel)
        i = QVBoxLayout(info)
        self.info_label = QLabel("", info)
        self.info_label.setWordWrap(True)
        self.info_label.setTextFormat(Qt.TextFormat.RichText)
        self.info_label.setFixedHeight(96)
        self.info_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        i.addWidget(self.info_label)
        lay.addWidget(info)

        plot_box = QGroupBox("IoU vs. views", panel)
        p = QVBoxLayout(plot_box)
        p.setContentsMargins(2, 2, 2, 2)
        self.iou_plot = IoUPlot(plot_box)
        p.addWidget(self.iou_plot, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(plot_box)
        lay.addStretch(1)
        return panel

    def _build_actions(self) -> None:
        mb = self.menuBar()
        file = mb.addMenu("&File")

        def action(menu, text: str, slot, shortcut: Any = None) -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        action(file, "&Add images\u2026", self._add_dialog, QKeySequence.StandardKey.Open)
        action(file, "&Paste image", self.paste, QKeySequence.StandardKey.Paste)
        action(file, "Open &dataset model\u2026", self._dataset_dialog)
        self.demo_menu = file.addMenu("Open d&emo")
        self.demo_menu.aboutToShow.connect(self._fill_demo_menu)
        file.addSeparator()
        action(file, "Open &weights\u2026", self._weights_dialog, "Ctrl+Shift+O")
        file.addSeparator()
        action(file, "&Export step\u2026", self._export_step_dialog, "Ctrl+E")
        action(file, "Export &all steps\u2026", self._export_all_dialog, "Ctrl+Shift+E")
        file.addSeparator()
        action(file, "&New (remove all views)", self.clear_views, QKeySequence.StandardKey.New)
        action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        view = mb.addMenu("&View")
        action(view, "&Reset camera", lambda: self.viewport.reset_camera(), "Ctrl+R")
        for k, name in enumerate(("Cubes", "Smooth surface", "Probability points")):
            action(view, name, lambda _=False, k=k: self.mode_box.setCurrentIndex(k),
                   f"Ctrl+{k + 1}")
        view.addSeparator()
        action(view, "Play / pause\tSpace", self.toggle_play)
        action(view, "Next step\t\u2192", lambda: self.set_step(self.current_step + 1))
        action(view, "Previous step\t\u2190", lambda: self.set_step(self.current_step - 1))
        for key, slot in (
            (Qt.Key.Key_Space, self.toggle_play),
            (Qt.Key.Key_Right, lambda: self.set_step(self.current_step + 1)),
            (Qt.Key.Key_Left, lambda: self.set_step(self.current_step - 1)),
        ):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(slot)

    def _start_worker(self, threshold: float) -> None:
        self.thread_ = QThread(self)
        self.thread_.setObjectName("r2n2-inference")
        self.worker = InferenceWorker(threshold)
        self.worker.moveToThread(self.thread_)
        self.worker.snapshot.connect(self._on_snapshot)
        self.worker.failed.connect(self._on_failed)
        self.worker.progress.connect(self._on_progress)
        self.worker.modelLoaded.connect(self._on_model_loaded)
        self.worker.jobDone.connect(self._on_job_done)
        self.thread_.start()

    def _restore_settings(self) -> None:
        geom = self.settings.value("geometry")
        if geom is not None:
            self.restoreGeometry(geom)
        t = float(self.settings.value("threshold", 0.4, float))
        self.threshold_slider.blockSignals(True)
        self.threshold_slider.setValue(round(min(0.95, max(0.05, t)) * 100))
        self.threshold_slider.blockSignals(False)
        mode = str(self.settings.value("mode", "cubes"))
        self.mode_box.setCurrentIndex(MODES.index(mode) if mode in MODES else 0)

    # --- state --------------------------------------------------------------------------------
    @property
    def busy_now(self) -> bool:
        """True while the worker has jobs queued or running."""
        return self._pending > 0

    @property
    def threshold(self) -> float:
        return self.threshold_slider.value() / 100.0

    @property
    def mode(self) -> str:
        return MODES[self.mode_box.currentIndex()]

    @property
    def scenes(self) -> list[StepScene]:
        return self.snapshot.scenes if self.snapshot else []

    @property
    def current_step(self) -> int:
        """1-based step shown (0: none)."""
        return self.step_slider.value()

    def layers(self) -> list[str]:
        truth = self.truth_box.isChecked() and self._truth() is not None
        return rd.layers_for(self.mode, self.changes_box.isChecked(),
                             self.gates_box.isChecked(), truth)

    def _truth(self) -> np.ndarray | None:
        return self.snapshot.ground_truth if self.snapshot else None

    def _scene(self, step: int | None = None) -> StepScene | None:
        k = self.current_step if step is None else step
        return self.scenes[k - 1] if 1 <= k <= len(self.scenes) else None

    # --- worker traffic -----------------------------------------------------------------------
    def submit(self, job: str, *args: Any) -> None:
        """Queue a job for the worker (see InferenceWorker._do_*)."""
        self._pending += 1
        self.busy.setVisible(True)
        self.worker.request.emit(job, args)

    def _on_job_done(self, job: str) -> None:
        self._pending = max(0, self._pending - 1)
        if self._pending == 0:
            self.busy.setVisible(False)
            self.busy_label.setText("")
            if self._progress_dialog is not None:
                self._progress_dialog.close()
                self._progress_dialog = None
            if self._play_when_idle and len(self.scenes) > 1:
                self._play_when_idle = False
                self.set_step(1)
                self.toggle_play(True)
        if job == "load_model" and not self.model_name:
            self.viewport.set_message("No model loaded: File > Open weights... (Ctrl+Shift+O)")

    def _on_model_loaded(self, name: str, device: str) -> None:
        self.model_name, self.device_name = name, device
        self.model_label.setText(f"model: {name} \u00b7 {device}")
        self._refresh()

    def _on_progress(self, what: str, fraction: float) -> None:
        self.busy_label.setText(f"{what}\u2026")
        if fraction < 0:
            return
        if self._progress_dialog is None:
            dlg = QProgressDialog(what, None, 0, 100, self)  # type: ignore[arg-type]
            dlg.setWindowModality(Qt.WindowModality.NonModal)
            dlg.setMinimumDuration(0)
            dlg.setAutoClose(False)
            self._progress_dialog = dlg
            dlg.show()
        self._progress_dialog.setLabelText(what)
        self._progress_dialog.setValue(round(100 * fraction))

    def _on_failed(self, title: str, message: str) -> None:
        if title.startswith("Load model") and not self.model_name:
            title = "No model loaded"
            message += ". Open a weights file with File \u2192 Open weights\u2026"
        self.show_error(title, message)

    def show_error(self, title: str, message: str) -> None:
        """Status bar + a non-modal message box (one box collects errors while open)."""
        self.errors.append((title, message))
        self.statusBar().showMessage(f"{title}: {message}", 15000)
        box = self._error_box
        if box is not None and box.isVisible():
            box.setText(box.text() + "\n\n" + message)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, message,
                          QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        if title == "No model loaded":
            open_btn = box.addButton("Open weights\u2026", QMessageBox.ButtonRole.ActionRole)
            open_btn.clicked.connect(self._weights_dialog)
        # without an escape button a QMessageBox ignores close events (and blocks quit)
        box.setEscapeButton(QMessageBox.StandardButton.Ok)
        self._error_box = box
        box.show()

    def _on_snapshot(self, snap: Snapshot) -> None:
        old = self.snapshot
        n_old = len(old.scenes) if old else 0
        follow = self._follow or self.current_step >= n_old
        self.snapshot = snap
        if old is None or [id(v) for v in old.views] != [id(v) for v in snap.views] \
                or old.labels != snap.labels:
            self.strip.set_views(snap.views, snap.labels)
        if old is None or old.ground_truth is not snap.ground_truth:
            self.viewport.set_truth(snap.ground_truth)
            self.truth_box.setEnabled(snap.ground_truth is not None)
            if snap.ground_truth is not None and not self.truth_box.isChecked():
                self.truth_box.setChecked(True)
        self.viewport.set_scenes(snap.scenes)
        old_ids = {id(sc) for sc in old.scenes} if old else set()
        layers = self.layers()
        for scene in snap.scenes:  # actors of new steps now, so scrubbing only flips them
            if id(scene) not in old_ids:
                self.viewport.prepare(scene, layers)
        n = len(snap.scenes)
        self.step_slider.blockSignals(True)
        self.step_slider.setRange(1 if n else 0, n)
        if follow and n > n_old:
            self.step_slider.setValue(n)
        self.step_slider.blockSignals(False)
        if old is None or old.iou_plot is not snap.iou_plot:
            self.iou_plot.set_plot(snap.ious, snap.iou_plot)
        if n == 0:
            self.viewport.set_message("Drop photos of one object here" if self.model_name
                                      else "")
        elif self.viewport._message is not None:
            self.viewport.set_message("")
        self._refresh()

    # --- showing ------------------------------------------------------------------------------
    def set_step(self, k: int) -> None:
        """Show step ``k`` (1-based; clamped)."""
        n = len(self.scenes)
        if n:
            self.step_slider.setValue(max(1, min(n, k)))

    def _on_step_changed(self, k: int) -> None:
        self._follow = k >= len(self.scenes)
        self._refresh()

    def _update_view(self) -> None:
        self.settings.setValue("mode", self.mode)
        self._refresh()

    def _refresh(self) -> None:
        """Show the current step with the current layers; update the labels."""
        scene = self._scene()
        layers = self.layers()
        self.viewport.show(scene, layers)
        n = len(self.scenes)
        k = self.current_step if scene else 0
        self.step_label.setText(f"{k} / {n}" if n else "no steps")
        self.status_step_label.setText(f"step {k} of {n}" if n else "")
        self.strip.set_current_step(k)
        self.ms_label.setText(f"{scene.ms:.0f} ms/step" if scene else "")
        self._update_threshold_label()
        self._update_info(scene)
        self._update_legend(layers)

    def _update_threshold_label(self) -> None:
        t = self.threshold
        text = f"P \u2265 {t:.2f}"
        snap = self.snapshot
        if snap and snap.steps and 1 <= self.current_step <= len(snap.steps):
            count = int((snap.steps[self.current_step - 1].probabilities >= t).sum())
            text += f" \u00b7 {count} voxels"
        self.threshold_label.setText(text)

    def _update_info(self, scene: StepScene | None) -> None:
        if scene is None:
            self.info_label.setText("Drop photos of one object (one per step), "
                                    "or use File \u2192 Add images\u2026")
            return
        label = self.snapshot.labels[scene.index - 1] if self.snapshot else ""
        lines = [
            f"<b>Step {scene.index}</b> of {len(self.scenes)}: {label}",
            f"{scene.n_voxels} voxels \u2265 {scene.threshold:.2f}",
            f"<span style='color:#1f8f4e'>+{scene.n_appeared}</span> appeared, "
            f"<span style='color:#c83c3c'>\u2212{scene.n_disappeared}</span> disappeared",
            f"{scene.ms:.0f} ms on {self.device_name or '?'}",
        ]
        if scene.iou is not None:
            lines.append(f"IoU with ground truth: <b>{scene.iou:.3f}</b>")
        self.info_label.setText("<br>".join(lines))

    def _update_legend(self, layers: list[str]) -> None:
        parts = []
        if "changed" in layers:
            parts.append("<span style='color:#28aa5a'>\u25a0</span> appeared, "
                         "<span style='color:#dc3c3c'>\u25a0</span> disappeared (ghost), "
                         "<span style='color:#999'>\u25a0</span> kept")
        elif "cubes" in layers or "points" in layers:
            parts.append("colour = P(occupied): <span style='color:#440154'>low</span> "
                         "\u2192 <span style='color:#21918c'>mid</span> \u2192 "
                         "<span style='color:#c9a500'>high</span>")
        if "gates" in layers:
            parts.append("gates: darker = stronger write")
        if "truth" in layers:
            parts.append("<span style='color:#2a7fff'>\u25a0</span> ground truth")
        self.legend.setText("<br>".join(parts))

    def _on_threshold_changed(self, _: int) -> None:
        self.settings.setValue("threshold", self.threshold)
        self._update_threshold_label()
        self.threshold_timer.start()

    def toggle_play(self, play: bool | None = None) -> None:
        play = not self.play_timer.isActive() if play is None else bool(play)
        if play and len(self.scenes) > 1:
            if self.current_step >= len(self.scenes):
                self.set_step(1)
            self.play_timer.start()
            icon = QStyle.StandardPixmap.SP_MediaPause
        else:
            self.play_timer.stop()
            icon = QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def _play_tick(self) -> None:
        if self.current_step >= len(self.scenes):
            self.toggle_play(False)
        else:
            self.set_step(self.current_step + 1)

    # --- adding views -------------------------------------------------------------------------
    def add_urls(self, urls: list[QUrl]) -> None:
        """Add dropped/pasted URLs, one step each; refuse non-local ones and folders."""
        paths = []
        for url in urls:
            if not url.isLocalFile():
                self.show_error("Cannot add image",
                                f"{url.toDisplayString()}: only local files can be added")
                continue
            paths.append(url.toLocalFile())
        if paths:
            self.add_paths(paths)

    def add_paths(self, paths: list[str | os.PathLike]) -> None:
        """Add image files in order (bad ones are reported and skipped)."""
        sources = []
        for p in paths:
            path = Path(p)
            if path.is_dir():
                self.show_error("Cannot add image",
                                f"{path.name}: is a folder \u2014 drop image files instead")
            elif not path.exists():
                self.show_error("Cannot add image", f"{path}: no such file")
            else:
                sources.append(ImageSource(str(path), path.name))
        if sources:
            self.settings.setValue("last_image_dir", str(Path(sources[-1].source).parent))
            self._follow = True
            self.submit("add", sources)

    def paste(self) -> None:
        """Add the clipboard's image (or the image files it names)."""
        from PyQt6.QtWidgets import QApplication

        mime = QApplication.clipboard().mimeData()
        if mime is not None and mime.hasUrls():
            self.add_urls(list(mime.urls()))
        elif mime is not None and mime.hasImage():
            image = QImage(mime.imageData())
            self._paste_count += 1
            self._follow = True
            self.submit("add", [ImageSource(qimage_to_pil(image),
                                            f"pasted {self._paste_count}")])
        elif mime is not None and mime.hasText() and mime.text().strip():
            self.add_urls([QUrl.fromUserInput(mime.text().strip().splitlines()[0])])
        else:
            self.show_error("Cannot paste", "the clipboard holds no image")

    def clear_views(self) -> None:
        self.toggle_play(False)
        self.submit("reset")

    def open_demo(self, name: str) -> None:
        """Replace the views with a bundled demo sequence (with its ground truth)."""
        from ..demo import list_demos

        demo = next((d for d in list_demos() if d.name == name), None)
        if demo is None:
            self.show_error("No such demo", f"{name}: not among the bundled demos")
            return
        self.load_sequence([str(p) for p in demo.images], demo.ground_truth())

    def load_sequence(self, paths: list[str], truth: np.ndarray | None) -> None:
        """Start over with ``paths`` as the views and ``truth`` as the ground truth."""
        self.toggle_play(False)
        self.submit("reset")
        self.submit("set_ground_truth", truth)
        self._play_when_idle = True
        self.add_paths(paths)

    def open_dataset_model(self, folder: str | os.PathLike) -> None:
        """Views and ground truth of a ShapeNet-format model folder
        ``<root>/ShapeNetRendering/<synset>/<model>``."""
        from ..models.voxels import read_binvox

        folder = Path(folder)
        if folder.name == "rendering":
            folder = folder.parent
        render_dir = folder / "rendering"
        if not render_dir.is_dir():
            self.show_error("Not a dataset model", f"{folder}: has no rendering/ folder "
                            "(pick <root>/ShapeNetRendering/<synset>/<model>)")
            return
        listing = render_dir / "renderings.txt"
        names = listing.read_text().split() if listing.is_file() else []
        images = [render_dir / n for n in names if (render_dir / n).is_file()]
        images = images or sorted(render_dir.glob("*.png"))
        if not images:
            self.show_error("Not a dataset model", f"{render_dir}: no PNG renderings")
            return
        model, synset, root = folder.name, folder.parent.name, folder.parent.parent.parent
        vox = root / "ShapeNetVox32" / synset / model / "model.binvox"
        truth = None
        if vox.is_file():
            try:
                truth = read_binvox(vox)
            except (OSError, ValueError) as exc:
                self.show_error("Cannot read ground truth", f"{vox.name}: {exc}")
        else:
            self.statusBar().showMessage(f"no ground truth found at {vox}", 10000)
        self.settings.setValue("last_dataset_dir", str(folder.parent))
        self.load_sequence([str(p) for p in images[:DATASET_VIEWS]], truth)

    def load_weights(self, path: str | os.PathLike) -> None:
        self.settings.setValue("last_weights_dir", str(Path(path).parent))
        self.submit("load_model", str(path), self.device_name.split(":")[0] or "auto")

    # --- export -------------------------------------------------------------------------------
    def export_step(self, path: str | os.PathLike, kind: str | None = None,
                    step: int | None = None) -> bool:
        """Write step ``step`` (default: the shown one) as ``kind`` (binvox, obj,
        smooth-obj, png; default from the suffix). Errors are shown; returns success."""
        path = Path(path)
        kind = kind or {".binvox": "binvox", ".png": "png"}.get(path.suffix.lower(), "obj")
        snap = self.snapshot
        k = self.current_step if step is None else step
        if snap is None or not 1 <= k <= len(snap.steps):
            self.show_error("Nothing to export", "add at least one image first")
            return False
        prob, t = snap.steps[k - 1].probabilities, self.threshold
        fmt = export.FORMATS.get(kind)
        try:
            if fmt is not None and fmt.write_step is not None:
                fmt.write_step(path, prob, t)
            elif kind == "png":
                shown = self.current_step
                self.set_step(k)
                image = self.viewport.screenshot()
                self.set_step(shown)
                export.export_png(path, image)
            else:
                raise ValueError(f"unknown export format {kind!r}")
        except OSError as exc:
            self.show_error("Export failed", _os_message(path, exc))
            return False
        except ValueError as exc:
            self.show_error("Export failed", str(exc))
            return False
        self.settings.setValue("last_export_dir", str(path.parent))
        self.statusBar().showMessage(f"saved {path}", 8000)
        return True

    def export_all(self, folder: str | os.PathLike, kind: str = "binvox") -> list[Path]:
        """One ``step_NN`` file per step plus ``refinement.gif`` into ``folder``."""
        from PIL import Image

        from ..models.atomic import atomic_write_bytes

        folder = Path(folder)
        n = len(self.scenes)
        if n == 0:
            self.show_error("Nothing to export", "add at least one image first")
            return []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".r2n2-probe-", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            self.show_error("Export failed", _os_message(folder, exc))
            return []
        suffix = EXPORT_KINDS[kind][1]
        written: list[Path] = []
        for k in range(1, n + 1):
            target = folder / f"step_{k:02d}{suffix}"
            if not self.export_step(target, kind, k):
                return written
            written.append(target)
        shown, frames = self.current_step, []
        for k in range(1, n + 1):
            self.set_step(k)
            frames.append(Image.fromarray(self.viewport.screenshot()))
        self.set_step(shown)
        gif = folder / "refinement.gif"
        try:
            atomic_write_bytes(gif, rd.gif_bytes(frames, PLAY_MS))
        except OSError as exc:
            self.show_error("Export failed", _os_message(gif, exc))
            return written
        written.append(gif)
        self.settings.setValue("last_export_dir", str(folder))
        self.statusBar().showMessage(f"saved {len(written)} files to {folder}", 8000)
        return written

    # --- dialogs ------------------------------------------------------------------------------
    def _dir(self, key: str) -> str:
        return str(self.settings.value(key, str(Path.home())))

    def _add_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add images (one step each, in order)", self._dir("last_image_dir"),
            IMAGE_FILTER)
        if files:
            self.add_paths(files)

    def _replace_dialog(self, i: int) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, f"Replace view {i + 1}", self._dir("last_image_dir"),
            IMAGE_FILTER)
        if path:
            self.submit("replace", i, ImageSource(path, Path(path).name))

    def _weights_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open weights", self._dir("last_weights_dir"),
            "3D-R2N2 weights (*.safetensors *.npy);;All files (*)")
        if path:
            self.load_weights(path)

    def _dataset_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Open dataset model (<root>/ShapeNetRendering/<synset>/<model>)",
            self._dir("last_dataset_dir"))
        if folder:
            self.open_dataset_model(folder)

    def _fill_demo_menu(self) -> None:
        from ..demo import list_demos

        self.demo_menu.clear()
        demos = list_demos()
        if not demos:
            act = self.demo_menu.addAction("(no demos installed)")
            act.setEnabled(False)
        for d in demos:
            act = self.demo_menu.addAction(f"{d.name} ({d.category})" if d.category else d.name)
            act.triggered.connect(lambda _=False, n=d.name: self.open_demo(n))

    def _export_step_dialog(self) -> None:
        if not self.scenes:
            self.show_error("Nothing to export", "add at least one image first")
            return
        filters = [v[0] for v in EXPORT_KINDS.values()]
        default = str(Path(self._dir("last_export_dir")) / f"step_{self.current_step:02d}")
        path, chosen = QFileDialog.getSaveFileName(self, "Export step", default,
                                                   ";;".join(filters))
        if not path:
            return
        kind = next(k for k, v in EXPORT_KINDS.items() if v[0] == chosen)
        if Path(path).suffix.lower() != Path(EXPORT_KINDS[kind][1]).suffix:
            path += EXPORT_KINDS[kind][1]
        self.export_step(path, kind)

    def _export_all_dialog(self) -> None:
        if not self.scenes:
            self.show_error("Nothing to export", "add at least one image first")
            return
        from PyQt6.QtWidgets import QInputDialog

        labels = {v[0]: k for k, v in EXPORT_KINDS.items()}
        choice, ok = QInputDialog.getItem(self, "Export all steps", "One file per step as:",
                                          list(labels), 0, False)
        if not ok:
            return
        folder = QFileDialog.getExistingDirectory(self, "Export all steps to folder",
                                                  self._dir("last_export_dir"))
        if folder:
            self.export_all(folder, labels[choice])

    # --- Qt events ----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasUrls():
            event.acceptProposedAction()
            self.add_urls(list(mime.urls()))
        elif mime.hasImage():
            event.acceptProposedAction()
            self._paste_count += 1
            self.submit("add", [ImageSource(qimage_to_pil(QImage(mime.imageData())),
                                            f"dropped {self._paste_count}")])

    def closeEvent(self, event) -> None:  # noqa: N802
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the worker thread and release the render window (idempotent)."""
        self.play_timer.stop()
        self.threshold_timer.stop()
        if self.thread_.isRunning():
            self.thread_.quit()
            self.thread_.wait(30000)
        with contextlib.suppress(Exception):
            self.viewport.close_plotter()


def qimage_to_pil(image: QImage) -> Any:
    """A QImage -> PIL image (RGBA if it has an alpha channel, else RGB)."""
    from PIL import Image

    has_alpha = image.hasAlphaChannel()
    fmt = QImage.Format.Format_RGBA8888 if has_alpha else QImage.Format.Format_RGB888
    img = image.convertToFormat(fmt)
    w, h, ch = img.width(), img.height(), 4 if has_alpha else 3
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    arr = np.frombuffer(ptr, np.uint8).reshape(h, img.bytesPerLine())[:, : w * ch]
    arr = arr.reshape(h, w, ch).copy()
    return Image.fromarray(arr, "RGBA" if has_alpha else "RGB")


def _os_message(path: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError) or exc.errno in (13, 30):
        return f"cannot write to {path.parent if path.suffix else path}: {reason} " \
               "(read-only folder?); nothing was written"
    return f"cannot write {path}: {reason}; nothing was written"
