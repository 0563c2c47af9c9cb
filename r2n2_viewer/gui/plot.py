"""IoU against the number of views seen so far: drawn with matplotlib's Agg backend in
the worker thread (never on the UI thread), shown as an image."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage, QPixmap
from PyQt6.QtWidgets import QLabel

PLOT_SIZE = (270, 170)  # pixels
NO_TRUTH = "No ground truth.\nOpen a demo or a dataset model\n(File menu) to see IoU per view."


def render_iou_plot(ious: list[float], size: tuple[int, int] = PLOT_SIZE) -> np.ndarray:
    """An (H, W, 4) uint8 RGBA picture of IoU (y, 0..1) against views (x, 1..n)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 90
    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, layout="constrained")
    fig.patch.set_facecolor("#f4f5f7")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    xs = np.arange(1, len(ious) + 1)
    ax.plot(xs, ious, "-o", color="#2a7fff", markersize=4, linewidth=1.5)
    for x, y in zip(xs[-1:], ious[-1:], strict=True):
        ax.annotate(f"{y:.2f}", (x, y), textcoords="offset points", xytext=(0, 6),
                    ha="center", fontsize=7, color="#2a7fff")
    ax.set_xlim(0.5, max(5, len(ious)) + 0.5)
    ax.set_ylim(0, 1.05)
    ax.set_xticks(xs if len(xs) <= 10 else xs[:: max(1, len(xs) // 10)])
    ax.set_xlabel("views", fontsize=8)
    ax.set_ylabel("IoU", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


class IoUPlot(QLabel):
    """Shows a plot image from the worker, or a note when there is no ground truth."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFixedSize(*PLOT_SIZE)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("color: #777; font-size: 11px;")
        self.values: list[float] = []
        self.set_plot([], None)

    def set_plot(self, ious: list[float], image: np.ndarray | None) -> None:
        self.values = list(ious)
        if image is None:
            self.setPixmap(QPixmap())
            self.setText(NO_TRUTH)
            return
        h, w = image.shape[:2]
        qimg = QImage(image.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self.setPixmap(QPixmap.fromImage(qimg))
