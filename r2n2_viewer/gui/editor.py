"""The input editor: one view's photo beside the exact 127x127 network input.

Opened from the image strip (double-click, or right-click > Edit input...). On the photo:
drag the crop box (the region that becomes the input; drag outside it to draw a new
one), or paint object / background strokes (GrabCut seeds, starting from the learned
segmenter's probabilities with the hybrid and learned methods; with the plain method they
override the mask). The segmentation method is a choice, ``none`` switching it off.
Every change is sent to the worker as one job (:meth:`Worker.prepare_view` with
``apply``): the picture is prepared again with the new :class:`PrepSettings` and the
view replaced, which recomputes the steps from that view on only. A long preparation
can be cancelled (the view is then left as it was).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..images import PreparedView, PrepSettings
from .strip import view_to_qimage

SEGMENT_LABELS = {
    "auto": "Automatic (plain background, else hybrid)",
    "plain": "Plain background colour",
    "hybrid": "Hybrid: learned segmenter + GrabCut (cluttered background)",
    "learned": "Learned segmenter (small network)",
    "grabcut": "GrabCut alone (colour edges)",
    "none": "Off: the whole crop is the object",
}
TOOLS = ("crop", "object", "background")
TOOL_LABELS = {"crop": "Move / draw crop box", "object": "Mark object",
               "background": "Mark background"}
INPUT_ZOOM = 2  # the 127x127 input shown at 254x254, pixels kept sharp
BRUSH = 0.02  # stroke radius as a share of the picture's longer side


def _rgb_qimage(arr: np.ndarray) -> QImage:
    arr = np.ascontiguousarray(arr, np.uint8)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PhotoCanvas(QWidget):
    """The photo (at the working resolution) with the mask tinted, strokes and the crop
    box; mouse edits emit ``edited`` once the button is released."""

    edited = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.tool = "crop"
        self.prepared: PreparedView | None = None
        self.picture: QPixmap | None = None
        self.crop: tuple[float, float, float, float] | None = None  # full-picture pixels
        self.strokes: dict[str, np.ndarray] = {}  # tool -> bool mask (working resolution)
        self._drag: tuple[str, QPointF, tuple[float, float, float, float]] | None = None

    # --- content ------------------------------------------------------------------
    def set_prepared(self, p: PreparedView) -> None:
        self.prepared = p
        rgb = np.asarray(p.preview.convert("RGB"), np.float32)
        on = p.mask > 0.5
        tinted = rgb.copy()
        tinted[~on] = tinted[~on] * 0.45 + np.array([20, 20, 60], np.float32) * 0.55
        self.picture = QPixmap.fromImage(_rgb_qimage(tinted))
        shape = on.shape
        for kind in ("object", "background"):
            m = self.strokes.get(kind)
            if m is None or m.shape != shape:
                self.strokes[kind] = np.zeros(shape, bool)
        if self.crop is None:
            self.crop = p.crop_box
        self.update()

    def clear_strokes(self) -> None:
        for m in self.strokes.values():
            m[:] = False
        self.update()

    # --- geometry: widget <-> working pixels <-> full pixels --------------------------
    def _fit(self) -> tuple[float, float, float]:
        """(display px per working px, x offset, y offset)."""
        if self.picture is None:
            return 1.0, 0.0, 0.0
        pw, ph = self.picture.width(), self.picture.height()
        d = min(self.width() / pw, self.height() / ph)
        return d, (self.width() - pw * d) / 2, (self.height() - ph * d) / 2

    def _work_per_full(self) -> float:
        p = self.prepared
        return p.mask.shape[1] / p.image_size[0] if p is not None else 1.0

    def to_full(self, pos: QPointF) -> tuple[float, float]:
        d, ox, oy = self._fit()
        k = self._work_per_full()
        return (pos.x() - ox) / d / k, (pos.y() - oy) / d / k

    def from_full(self, x: float, y: float) -> QPointF:
        d, ox, oy = self._fit()
        k = self._work_per_full()
        return QPointF(x * k * d + ox, y * k * d + oy)

    # --- edits (public: the mouse and the tests use them) -----------------------------
    def paint_stroke(self, kind: str, points: list[tuple[float, float]]) -> None:
        """Mark discs around ``points`` (full-picture pixels) as ``kind``; the other kind
        is unmarked there."""
        p = self.prepared
        if p is None:
            return
        h, w = p.mask.shape
        k = self._work_per_full()
        r = max(2.0, BRUSH * max(h, w))
        yy, xx = np.ogrid[:h, :w]
        disc = np.zeros((h, w), bool)
        for x, y in points:
            disc |= (xx - x * k) ** 2 + (yy - y * k) ** 2 <= r * r
        other = "background" if kind == "object" else "object"
        self.strokes[kind] |= disc
        self.strokes[other] &= ~disc
        self.update()

    def move_crop(self, dx: float, dy: float) -> None:
        x0, y0, x1, y1 = self.crop
        self.crop = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
        self.update()

    # --- mouse ------------------------------------------------------------------------
    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self.prepared is None or e.button() != Qt.MouseButton.LeftButton:
            return
        x, y = self.to_full(e.position())
        if self.tool == "crop":
            x0, y0, x1, y1 = self.crop
            inside = x0 <= x <= x1 and y0 <= y <= y1
            self._drag = ("move" if inside else "draw", e.position(), self.crop)
        else:
            self._drag = ("paint", e.position(), self.crop)
            self.paint_stroke(self.tool, [(x, y)])

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._drag is None:
            return
        what, start, box = self._drag
        x, y = self.to_full(e.position())
        sx, sy = self.to_full(start)
        if what == "move":
            self.crop = (box[0] + x - sx, box[1] + y - sy, box[2] + x - sx, box[3] + y - sy)
        elif what == "draw":
            side = max(abs(x - sx), abs(y - sy), 4.0)
            self.crop = (min(sx, sx + np.sign(x - sx) * side), min(sy, sy + np.sign(y - sy) * side),
                         max(sx, sx + np.sign(x - sx) * side), max(sy, sy + np.sign(y - sy) * side))
        else:
            self.paint_stroke(self.tool, [(x, y)])
        self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._drag is not None:
            self._drag = None
            self.edited.emit()

    # --- drawing ------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(40, 40, 40))
        if self.picture is None:
            p.setPen(QColor(220, 220, 220))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Preparing\u2026")
            p.end()
            return
        d, ox, oy = self._fit()
        pw, ph = self.picture.width(), self.picture.height()
        p.drawPixmap(QRectF(ox, oy, pw * d, ph * d), self.picture,
                     QRectF(0, 0, pw, ph))
        for kind, colour in (("object", QColor(40, 220, 60, 150)),
                             ("background", QColor(230, 40, 40, 150))):
            m = self.strokes.get(kind)
            if m is not None and m.any():
                rgba = np.zeros(m.shape + (4,), np.uint8)
                rgba[m] = (colour.red(), colour.green(), colour.blue(), colour.alpha())
                img = QImage(rgba.data, m.shape[1], m.shape[0], 4 * m.shape[1],
                             QImage.Format.Format_RGBA8888).copy()
                p.drawImage(QRectF(ox, oy, pw * d, ph * d), img)
        if self.crop is not None:
            a, b = self.from_full(*self.crop[:2]), self.from_full(*self.crop[2:])
            p.setPen(QPen(QColor(255, 210, 0), 2))
            p.drawRect(QRectF(a, b))
        p.end()


class InputEditor(QDialog):
    """Edit how view ``index`` becomes the network input (non-modal)."""

    def __init__(self, window: Any, index: int) -> None:
        super().__init__(window)
        self.window_ = window
        self.index = index
        record = window.snapshot.records[index]
        self.label = record.label
        self.image = record.image  # the picture's bytes: which view this editor edits
        self.settings: PrepSettings = record.settings
        self.prepared: PreparedView | None = None
        self._job = self._answered = 0
        self.setWindowTitle(f"Edit input \u2014 view {index + 1}: {record.label}")
        self._build()
        window.worker.jobs.prepared.connect(self._on_prepared)
        window.worker.idle.connect(self._on_idle)
        window.worker.jobs.snapshot.connect(self._on_snapshot)
        self._send(apply=False)

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        lay.addLayout(top, 1)
        self.canvas = PhotoCanvas(self)
        self.canvas.edited.connect(self._canvas_edited)
        top.addWidget(self.canvas, 1)
        right = QVBoxLayout()
        top.addLayout(right)
        right.addWidget(QLabel("Network input (exact 127\u00d7127 pixels, shown \u00d72):"))
        self.input_label = QLabel(self)
        self.input_label.setFixedSize(127 * INPUT_ZOOM, 127 * INPUT_ZOOM)
        self.input_label.setStyleSheet("background: #333")
        right.addWidget(self.input_label)
        right.addWidget(QLabel("Segmentation:"))
        self.segment = QComboBox(self)
        for key, text in SEGMENT_LABELS.items():
            self.segment.addItem(text, key)
        self.segment.setCurrentIndex(list(SEGMENT_LABELS).index(self.settings.segment))
        self.segment.currentIndexChanged.connect(
            lambda _: self.set_segment(self.segment.currentData()))
        right.addWidget(self.segment)
        self.tools = QButtonGroup(self)
        for k, tool in enumerate(TOOLS):
            b = QRadioButton(TOOL_LABELS[tool], self)
            b.setChecked(tool == "crop")
            self.tools.addButton(b, k)
            right.addWidget(b)
        self.tools.idClicked.connect(lambda k: setattr(self.canvas, "tool", TOOLS[k]))
        auto = QPushButton("Automatic crop", self)
        auto.clicked.connect(self.auto_crop)
        clear = QPushButton("Clear strokes", self)
        clear.clicked.connect(self.clear_strokes)
        right.addWidget(auto)
        right.addWidget(clear)
        self.info = QLabel("", self)
        self.info.setWordWrap(True)
        self.info.setMinimumWidth(127 * INPUT_ZOOM)
        right.addWidget(self.info)
        right.addStretch(1)
        bottom = QHBoxLayout()
        self.busy_label = QLabel("", self)
        self.cancel_button = QPushButton("Cancel preparation", self)
        self.cancel_button.setToolTip("Stop preparing; the view stays as it was")
        self.cancel_button.clicked.connect(self.window_.worker.cancel)
        self.cancel_button.setEnabled(False)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        bottom.addWidget(self.busy_label, 1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(close)
        lay.addLayout(bottom)
        self.resize(900, 560)

    # --- edits ------------------------------------------------------------------------
    def set_segment(self, mode: str) -> None:
        if mode != self.settings.segment:
            self.settings = replace(self.settings, segment=mode)
            if self.segment.currentData() != mode:
                self.segment.setCurrentIndex(list(SEGMENT_LABELS).index(mode))
            self._send(apply=True)

    def set_crop(self, box: tuple[float, float, float, float] | None) -> None:
        """Crop to ``box`` (full-picture pixels); None: framed automatically."""
        self.canvas.crop = box
        self.settings = replace(self.settings, crop_box=box)
        self._send(apply=True)

    def auto_crop(self) -> None:
        self.set_crop(None)

    def add_stroke(self, kind: str, points: list[tuple[float, float]]) -> None:
        """Mark ``points`` (full-picture pixels) as object or background and apply."""
        self.canvas.paint_stroke(kind, points)
        self._strokes_changed()

    def clear_strokes(self) -> None:
        self.canvas.clear_strokes()
        self._strokes_changed()

    def _strokes_changed(self) -> None:
        fg, bg = self.canvas.strokes.get("object"), self.canvas.strokes.get("background")
        self.settings = replace(
            self.settings,
            foreground=fg.copy() if fg is not None and fg.any() else None,
            background_strokes=bg.copy() if bg is not None and bg.any() else None)
        self._send(apply=True)

    def _canvas_edited(self) -> None:
        if self.canvas.tool == "crop":
            self.set_crop(self.canvas.crop)
        else:
            self._strokes_changed()

    # --- the worker -------------------------------------------------------------------
    def _send(self, apply: bool) -> None:
        self._job = self.window_.worker.prepare_view(self.index, self.settings, apply)
        self.busy_label.setText("Preparing\u2026" + (" then recomputing from this view"
                                                     if apply else ""))
        self.cancel_button.setEnabled(True)

    def _on_idle(self) -> None:
        self.busy_label.setText("")
        self.cancel_button.setEnabled(False)
        if self._answered != self._job:  # cancelled or failed: back to the view's settings
            self._revert()

    def _revert(self) -> None:
        snap = self.window_.snapshot
        if snap is None or not 0 <= self.index < len(snap.records):
            return
        self.settings = snap.records[self.index].settings
        self.segment.blockSignals(True)
        self.segment.setCurrentIndex(list(SEGMENT_LABELS).index(self.settings.segment))
        self.segment.blockSignals(False)
        crop = self.settings.crop_box
        self.canvas.crop = crop if crop is not None else (
            self.prepared.crop_box if self.prepared is not None else None)
        for kind, mask in (("object", self.settings.foreground),
                           ("background", self.settings.background_strokes)):
            old = self.canvas.strokes.get(kind)
            if old is not None:
                old[:] = False
                if mask is not None and mask.shape == old.shape:
                    old |= mask
        self.canvas.update()
        self.busy_label.setText("Stopped: the view is as it was")

    def _on_snapshot(self, snap: Any) -> None:
        """Close when the edited view is gone (removed, or another picture now there)."""
        recs = snap.records
        if not (0 <= self.index < len(recs) and recs[self.index].image is self.image):
            found = [k for k, r in enumerate(recs) if r.image is self.image]
            if found:  # moved: follow it
                self.index = found[0]
                self.setWindowTitle(f"Edit input \u2014 view {self.index + 1}: {self.label}")
            else:
                self.close()

    def _on_prepared(self, job: int, index: int, p: PreparedView) -> None:
        if index != self.index or job != self._job:
            return
        self._answered = job
        self.prepared = p
        if self.settings.crop_box is None:
            self.canvas.crop = None
        self.canvas.set_prepared(p)
        img = view_to_qimage(p.view)
        self.input_label.setPixmap(QPixmap.fromImage(img).scaled(
            127 * INPUT_ZOOM, 127 * INPUT_ZOOM, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation))
        w, h = p.image_size
        ms = p.timings.get("total", 0.0)
        self.info.setText(f"Picture {w}\u00d7{h}; object found by: {p.method}; "
                          f"prepared in {ms:.0f} ms.<br>Dimmed: background; yellow: the crop "
                          "box; green / red: object / background strokes.")

    def closeEvent(self, event) -> None:  # noqa: N802
        try:
            self.window_.worker.jobs.prepared.disconnect(self._on_prepared)
            self.window_.worker.idle.disconnect(self._on_idle)
            self.window_.worker.jobs.snapshot.disconnect(self._on_snapshot)
        except TypeError:
            pass
        super().closeEvent(event)
