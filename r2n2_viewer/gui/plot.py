"""IoU against the number of views seen so far: drawn with matplotlib's Agg backend in
the worker thread (never on the UI thread), shown as an image."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage, QPixmap
from PyQt6.QtWidgets import QLabel

PLOT_SIZE = (270, 170)  # pixels
NO_TRUTH = "No ground truth.\nOpen a demo or a dataset model\n(File menu) to see IoU per view."


MARK_RGB = (230, 90, 20)  # the current-step marker
_MATPLOTLIB = threading.Lock()  # plots are drawn off the UI thread, by one thread at a time


def one_at_a_time(draw: Callable[..., Any]) -> Callable[..., Any]:
    """Let ``draw`` (a matplotlib drawing) run in one thread at a time: the worker draws
    the IoU plot while a pool thread draws the probe's."""

    @functools.wraps(draw)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _MATPLOTLIB:
            return draw(*args, **kwargs)

    return locked


def render_iou_plot(ious: list[float], size: tuple[int, int] = PLOT_SIZE) -> np.ndarray:
    """An (H, W, 4) uint8 RGBA picture of IoU (y, 0..1) against views (x, 1..n)."""
    return iou_plot_frame(ious, size)[0]


COMPARE_RGB = "#e0662a"  # the second model's curve
SPREAD_RGB = "#2a7fff"


@one_at_a_time
def iou_plot_frame(
    ious: list[float], size: tuple[int, int] = PLOT_SIZE, *,
    compare: list[float] | None = None, compare_label: str = "",
    spread: object | None = None, ylabel: str = "IoU",
) -> tuple[np.ndarray, list[float], tuple[float, float]]:
    """:func:`render_iou_plot`'s picture, the pixel column of each step (1..n) and the
    (top, bottom) pixel rows of the axes: where a current-step marker goes.

    ``compare``: a second model's curve; ``spread`` (a view_order.OrderSpread): its
    min-max and quartile band per step behind the curve; ``ylabel`` other than "IoU":
    the values are counts (the axis then follows them)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 90
    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, layout="constrained")
    fig.patch.set_facecolor("#f4f5f7")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    xs = np.arange(1, len(ious) + 1)
    counts = ylabel != "IoU"
    if spread is not None:
        sx = np.arange(1, spread.values.shape[1] + 1)
        ax.fill_between(sx, spread.low, spread.high, color=SPREAD_RGB, alpha=0.12,
                        linewidth=0, label=f"{spread.values.shape[0]} orders: range")
        ax.fill_between(sx, spread.quantile(0.25), spread.quantile(0.75), color=SPREAD_RGB,
                        alpha=0.25, linewidth=0, label="middle half")
    ax.plot(xs, ious, "-o", color="#2a7fff", markersize=4, linewidth=1.5,
            label="this order" if spread is not None else None)
    if compare:
        cx = np.arange(1, len(compare) + 1)
        ax.plot(cx, compare, "-s", color=COMPARE_RGB, markersize=3, linewidth=1.2,
                label=compare_label or "second model")
    if compare or spread is not None:
        ax.legend(fontsize=6, loc="lower right", frameon=False, handlelength=1.2)
    for x, y in zip(xs[-1:], ious[-1:], strict=True):
        ax.annotate(f"{y:.0f}" if counts else f"{y:.2f}", (x, y),
                    textcoords="offset points", xytext=(0, 6),
                    ha="center", fontsize=7, color="#2a7fff")
    ax.set_xlim(0.5, max(5, len(ious)) + 0.5)
    top = 1.05
    if counts:
        top = max([1.0, *ious, *(spread.high if spread is not None else [])]) * 1.15
    ax.set_ylim(0, top)
    ax.set_xticks(xs if len(xs) <= 10 else xs[:: max(1, len(xs) // 10)])
    ax.set_xlabel("views", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    canvas.draw()
    height = canvas.get_width_height()[1]
    px = ax.transData.transform(np.c_[xs, np.zeros(len(xs))])[:, 0] if len(xs) else []
    y0, y1 = ax.transData.transform([(1, 0.0), (1, top)])[:, 1]
    return (np.asarray(canvas.buffer_rgba()).copy(), [float(x) for x in px],
            (float(height - y1), float(height - y0)))


class IoUPlot(QLabel):
    """Shows a plot image from the worker, or a note when there is no ground truth."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFixedSize(*PLOT_SIZE)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("color: #777; font-size: 11px;")
        self.values: list[float] = []
        self.step = 0  # the step marked on the plot (0: none)
        self._base = QPixmap()
        self._columns: list[float] = []
        self._rows = (0.0, 0.0)
        self.set_plot([], None)

    def set_plot(self, ious: list[float], image: np.ndarray | None,
                 columns: list[float] | None = None,
                 rows: tuple[float, float] = (0.0, 0.0)) -> None:
        """Show ``image``; ``columns`` (pixel x of each step) and ``rows`` (the axes' top
        and bottom) place the current-step marker."""
        self.values = list(ious)
        self._columns, self._rows = list(columns or []), rows
        if image is None:
            self._base = QPixmap()
            self.setPixmap(QPixmap())
            self.setText(NO_TRUTH)
            return
        h, w = image.shape[:2]
        qimg = QImage(image.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self._base = QPixmap.fromImage(qimg)
        self._draw()

    def set_step(self, step: int) -> None:
        """Mark ``step`` (1-based; 0: no marker) on the plot."""
        if step != self.step:
            self.step = step
            self._draw()

    @property
    def marker_column(self) -> float | None:
        """Pixel column of the marker (None when no step is marked)."""
        if self._base.isNull() or not 1 <= self.step <= len(self._columns):
            return None
        return self._columns[self.step - 1]

    def _draw(self) -> None:
        if self._base.isNull():
            return
        x = self.marker_column
        if x is None:
            self.setPixmap(self._base)
            return
        from PyQt6.QtGui import QColor, QPainter, QPen

        pix = self._base.copy()
        painter = QPainter(pix)
        painter.setPen(QPen(QColor(*MARK_RGB), 2))
        painter.drawLine(round(x), round(self._rows[0]), round(x), round(self._rows[1]))
        if self.step <= len(self.values):
            value = self.values[self.step - 1]
            text = f"{value:.2f}" if value <= 1.0 else f"{value:.0f}"
            width = painter.fontMetrics().horizontalAdvance(text)
            left = round(x) + 4  # right of the line, or left of it where it would not fit
            if left + width > pix.width():
                left = round(x) - 4 - width
            painter.drawText(left, round(self._rows[0]) + 10, text)
        painter.end()
        self.setPixmap(pix)
