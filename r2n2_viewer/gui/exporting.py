"""Export from the viewer: the step shown (or every step) as files.

What is written is what the view state shows: its step and its threshold, never a
widget's value. Files are written by :mod:`r2n2_viewer.export` (atomic writes); PNG
frames come from the viewport. Errors go to the window's error reporter.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .. import export
from .stepbar import PLAY_MS

EXPORT_KINDS: dict[str, export.ExportFormat] = {  # one file per step (not npz)
    name: f for name, f in export.FORMATS.items() if not f.whole_sequence}


def kind_for(path: str | os.PathLike) -> str:
    """The export kind a file name asks for (``.binvox``, ``.png``, else OBJ cubes)."""
    name = Path(path).name.lower()
    if name.endswith("_smooth.obj"):
        return "smooth-obj"
    return {".binvox": "binvox", ".png": "png"}.get(Path(name).suffix, "obj")


def resolve_target(path: str | os.PathLike, chosen: str) -> tuple[Path, str]:
    """The file and kind for a name typed in the save dialog with filter ``chosen``:
    a name that already ends in an export extension keeps it and its kind (the name the
    user typed wins over the dialog's filter; ``step_04.binvox`` stays as it is); other
    names get the filter's extension."""
    path = Path(path)
    ext, chosen_ext = path.suffix.lower(), extension(chosen)
    if ext in {extension(k) for k in EXPORT_KINDS}:
        return path, chosen if ext == chosen_ext else kind_for(path)
    return path.with_name(path.name + chosen_ext), chosen


def extension(kind: str) -> str:
    """The file extension of an export kind (``.obj`` for ``smooth-obj``)."""
    return EXPORT_KINDS[kind].extension


def os_message(path: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError) or exc.errno in (13, 30):
        return f"cannot write to {path.parent if path.suffix else path}: {reason} " \
               "(read-only folder?); nothing was written"
    return f"cannot write {path}: {reason}; nothing was written"


class Exporter:
    """Writes steps of the window's current snapshot at the state's threshold.

    ``window`` provides ``snapshot``, ``state``, ``viewport``, ``errors`` and
    ``statusBar()``."""

    def __init__(self, window: Any) -> None:
        self.window = window

    def _frame(self, step: int) -> np.ndarray:
        w = self.window
        scene = w.snapshot.scenes[step - 1] if w.snapshot else None
        return w.viewport.screenshot_of(scene, w.state.layers())

    def export_step(self, path: str | os.PathLike, kind: str | None = None,
                    step: int | None = None) -> bool:
        """Write step ``step`` (default: the shown one) as ``kind`` (binvox, obj,
        smooth-obj, png; default from the suffix) to exactly ``path``. Errors are
        shown; returns success."""
        w = self.window
        path = Path(path)
        kind = kind or kind_for(path)
        snap, k = w.snapshot, w.state.step if step is None else step
        if snap is None or not 1 <= k <= len(snap.steps):
            w.errors.show("Nothing to export", "add at least one image first")
            return False
        try:
            fmt = EXPORT_KINDS.get(kind)
            if fmt is None:
                raise ValueError(f"unknown export format {kind!r}")
            if fmt.write_step is None:
                export.export_png(path, self._frame(k))
            else:
                fmt.write_step(path, snap.steps[k - 1].probabilities, w.state.threshold)
        except OSError as exc:
            w.errors.show("Export failed", os_message(path, exc))
            return False
        except ValueError as exc:
            w.errors.show("Export failed", str(exc))
            return False
        w.settings.setValue("last_export_dir", str(path.parent))
        w.statusBar().showMessage(f"saved {path}", 8000)
        return True

    def export_all(self, folder: str | os.PathLike, kind: str = "binvox") -> list[Path]:
        """One ``step_NN`` file per step plus ``refinement.gif`` into ``folder``."""
        from PIL import Image

        from .. import render as rd
        from ..models.atomic import atomic_write_bytes

        w = self.window
        folder = Path(folder)
        n = len(w.snapshot.steps) if w.snapshot else 0
        if n == 0:
            w.errors.show("Nothing to export", "add at least one image first")
            return []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".r2n2-probe-", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            w.errors.show("Export failed", os_message(folder, exc))
            return []
        try:
            written = export.write_reconstruction(folder, w.snapshot.steps, [kind],
                                                  w.state.threshold, every_step=True,
                                                  picture=self._frame)
        except OSError as exc:
            w.errors.show("Export failed", os_message(folder, exc))
            return []
        except ValueError as exc:
            w.errors.show("Export failed", str(exc))
            return []
        frames = [Image.fromarray(self._frame(k)) for k in range(1, n + 1)]
        gif = folder / "refinement.gif"
        try:
            atomic_write_bytes(gif, rd.gif_bytes(frames, PLAY_MS))
        except OSError as exc:
            w.errors.show("Export failed", os_message(gif, exc))
            return written
        written.append(gif)
        w.settings.setValue("last_export_dir", str(folder))
        w.statusBar().showMessage(f"saved {len(written)} files to {folder}", 8000)
        return written

    # --- dialogs ----------------------------------------------------------------------
    def step_dialog(self) -> None:
        from PyQt6.QtWidgets import QFileDialog

        w = self.window
        if not w.snapshot or not w.snapshot.steps:
            w.errors.show("Nothing to export", "add at least one image first")
            return
        filters = [k.file_filter for k in EXPORT_KINDS.values()]
        default = str(Path(w.last_dir("last_export_dir")) / f"step_{w.state.step:02d}")
        path, chosen = QFileDialog.getSaveFileName(w, "Export step", default,
                                                   ";;".join(filters))
        if not path:
            return
        kind = next((k for k, v in EXPORT_KINDS.items() if v.file_filter == chosen), "binvox")
        self.export_step(*resolve_target(path, kind))

    def all_dialog(self) -> None:
        from PyQt6.QtWidgets import QFileDialog, QInputDialog

        w = self.window
        if not w.snapshot or not w.snapshot.steps:
            w.errors.show("Nothing to export", "add at least one image first")
            return
        labels = {v.file_filter: k for k, v in EXPORT_KINDS.items()}
        choice, ok = QInputDialog.getItem(w, "Export all steps", "One file per step as:",
                                          list(labels), 0, False)
        if not ok:
            return
        folder = QFileDialog.getExistingDirectory(w, "Export all steps to folder",
                                                  w.last_dir("last_export_dir"))
        if folder:
            self.export_all(folder, labels[choice])
