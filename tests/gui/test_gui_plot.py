"""The IoU plot's current-step marker and its value label."""

from __future__ import annotations

import numpy as np
from PyQt6.QtGui import QImage

from r2n2_viewer.gui.plot import MARK_RGB, IoUPlot, iou_plot_frame


def _label_columns(plot: IoUPlot, top: float) -> np.ndarray:
    """Pixel columns of marker-coloured pixels in the label's rows (the line excluded)."""
    img = plot.pixmap().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    a = np.frombuffer(bytes(ptr), np.uint8).reshape(h, img.bytesPerLine())[:, : 4 * w]
    rows = a.reshape(h, w, 4)[round(top) : round(top) + 12, :, :3].astype(int)
    near = (np.abs(rows - np.array(MARK_RGB)).sum(-1) < 60).any(0)
    line = round(plot.marker_column)
    near[max(0, line - 2) : line + 3] = False
    return np.flatnonzero(near)


def test_step_label_stays_inside_the_plot_at_the_last_step(qtbot):
    ious = [0.3, 0.5, 0.6, 0.65, 0.68]
    image, columns, rows = iou_plot_frame(ious)
    plot = IoUPlot()
    qtbot.addWidget(plot)
    plot.set_plot(ious, image, columns, rows)
    plot.set_step(2)
    cols = _label_columns(plot, rows[0])
    assert cols.size and cols.min() > plot.marker_column  # right of the line
    plot.set_step(5)
    cols = _label_columns(plot, rows[0])
    assert cols.size and cols.max() < plot.marker_column  # left of it: no room on the right
