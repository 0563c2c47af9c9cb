"""Sequences in the viewer: File > Save sequence / Open sequence, the probabilities of
every step as ``.npz``, and the question asked before own photos join a demo.

The files are :mod:`r2n2_viewer.sequence` archives (pictures, per-view preparation
settings, weights, threshold); the ``.npz`` is written by ``export.export_npz``, the
writer of the ``npz`` entry of ``export.FORMATS`` (as ``r2n2 reconstruct --format npz``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PyQt6.QtWidgets import QMessageBox, QWidget

from .. import export
from ..sequence import SUFFIX, Sequence, SequenceError, read_sequence, save_sequence
from .exporting import os_message
from .state import THRESHOLD_MAX, THRESHOLD_MIN
from .worker import ImageSource

NEW, ADD, CANCEL = "new", "add", "cancel"
SEQUENCE_FILTER = f"r2n2 sequence (*{SUFFIX});;All files (*)"
NPZ = export.FORMATS["npz"]


def new_sequence_box(parent: QWidget | None, origin: str) -> QMessageBox:
    """The question asked before a photo joins ``origin`` (a demo or dataset model)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Start a new sequence?")
    box.setText("Start a new sequence with this photo?")
    box.setInformativeText(
        f"The views shown are {origin}. A new sequence holds only your photos (its ground "
        "truth and IoU are dropped); adding to this sequence scores your photo against "
        f"{origin}'s ground truth.")
    box.addButton("Start a new sequence", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Add to this sequence", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(box.buttons()[0])
    return box


def ask_new_sequence(parent: QWidget | None, origin: str) -> str:
    """Ask (modal); returns NEW, ADD or CANCEL."""
    box = new_sequence_box(parent, origin)
    box.exec()
    clicked = box.clickedButton()
    role = box.buttonRole(clicked) if clicked is not None else None
    if role == QMessageBox.ButtonRole.AcceptRole:
        return NEW
    if role == QMessageBox.ButtonRole.ActionRole:
        return ADD
    return CANCEL


class SequenceFiles:
    """Save / open sequence files and export every step's probabilities for ``window``."""

    def __init__(self, window: Any) -> None:
        self.window = window

    def current(self) -> Sequence | None:
        """The shown sequence (None: no views)."""
        w = self.window
        snap = w.snapshot
        if snap is None or not snap.records:
            return None
        return Sequence(list(snap.records), w.weights_spec, w.state.threshold)

    def save(self, path: str | os.PathLike) -> Path | None:
        """Write the shown sequence to ``path`` (``.r2n2seq`` added); errors are shown."""
        w = self.window
        seq = self.current()
        if seq is None:
            w.errors.show("Nothing to save", "add at least one image first")
            return None
        try:
            written = save_sequence(path, seq)
        except OSError as exc:
            w.errors.show("Cannot save the sequence", os_message(Path(path), exc))
            return None
        w.settings.setValue("last_sequence_dir", str(written.parent))
        w.statusBar().showMessage(f"saved {written}", 8000)
        return written

    def open(self, path: str | os.PathLike) -> bool:
        """Replace the views with the sequence in ``path`` (its weights, threshold and the
        views' cameras where known)."""
        w = self.window
        try:
            seq = read_sequence(path)
        except SequenceError as exc:
            w.errors.show("Cannot open the sequence", str(exc))
            return False
        w.settings.setValue("last_sequence_dir", str(Path(path).parent))
        w.inputs.start_new_sequence()
        if seq.weights_missing():
            w.errors.show("Weights not found",
                          f"{seq.weights}: not found; the steps use the current model "
                          f"({w.model_name or 'none loaded'}) instead")
        elif seq.weights != w.weights_spec:
            w.load_weights(seq.weights)
        t = min(THRESHOLD_MAX, max(THRESHOLD_MIN, seq.threshold))  # the slider's range
        w.state.update(threshold=t, playing=False)
        w.worker.set_threshold(w.state.threshold)
        w.worker.add_images([ImageSource(v.image, v.label, v.settings, v.camera)
                             for v in seq.views])
        return True

    def export_npz(self, path: str | os.PathLike) -> bool:
        """Every step's probabilities (``step1``..``stepK``) to ``path``, as the CLI's
        ``--format npz``."""
        w = self.window
        snap = w.snapshot
        if snap is None or not snap.steps:
            w.errors.show("Nothing to export", "add at least one image first")
            return False
        path = Path(path)
        if path.suffix.lower() != NPZ.extension:
            path = path.with_name(path.name + NPZ.extension)
        try:
            export.export_npz(path, snap.steps)
        except OSError as exc:
            w.errors.show("Export failed", os_message(path, exc))
            return False
        w.settings.setValue("last_export_dir", str(path.parent))
        w.statusBar().showMessage(f"saved {path}", 8000)
        return True

    # --- dialogs ----------------------------------------------------------------------
    def save_dialog(self) -> None:
        from PyQt6.QtWidgets import QFileDialog

        w = self.window
        if self.current() is None:
            w.errors.show("Nothing to save", "add at least one image first")
            return
        default = str(Path(w.last_dir("last_sequence_dir")) / f"sequence{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(w, "Save sequence", default, SEQUENCE_FILTER)
        if path:
            self.save(path)

    def open_dialog(self) -> None:
        from PyQt6.QtWidgets import QFileDialog

        w = self.window
        path, _ = QFileDialog.getOpenFileName(w, "Open sequence",
                                              w.last_dir("last_sequence_dir"), SEQUENCE_FILTER)
        if path:
            self.open(path)

    def npz_dialog(self) -> None:
        from PyQt6.QtWidgets import QFileDialog

        w = self.window
        if not w.snapshot or not w.snapshot.steps:
            w.errors.show("Nothing to export", "add at least one image first")
            return
        default = str(Path(w.last_dir("last_export_dir")) / f"reconstruction{NPZ.suffix}")
        path, _ = QFileDialog.getSaveFileName(w, "Export probabilities of every step",
                                              default, NPZ.file_filter)
        if path:
            self.export_npz(path)
