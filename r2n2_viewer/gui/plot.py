"""A small matplotlib plot of IoU against the number of views seen so far."""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure


class IoUPlot(FigureCanvasQTAgg):
    """IoU of each step with the ground truth (a note when there is none)."""

    def __init__(self, parent=None) -> None:
        fig = Figure(figsize=(2.8, 1.9), dpi=90, layout="constrained")
        fig.patch.set_facecolor("#f4f5f7")
        super().__init__(fig)
        self.setParent(parent)
        self.ax = fig.add_subplot(111)
        self.values: list[float] = []
        self.set_values([])

    def set_values(self, ious: list[float | None], current: int | None = None) -> None:
        """Plot ``ious`` (one per step; None when a step has no ground truth)."""
        vals = [v for v in ious if v is not None]
        self.values = vals
        ax = self.ax
        ax.clear()
        ax.set_facecolor("white")
        ax.set_xlabel("views", fontsize=8)
        ax.set_ylabel("IoU", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_ylim(0, 1)
        if not vals or len(vals) != len(ious):
            ax.set_xlim(0.5, 5.5)
            ax.text(3, 0.5, "no ground truth\n(open a demo or a\ndataset model)", ha="center",
                    va="center", fontsize=8, color="#777777")
        else:
            xs = list(range(1, len(vals) + 1))
            ax.plot(xs, vals, "-o", color="#2a7fff", markersize=4, linewidth=1.5)
            ax.set_xlim(0.5, max(5, len(vals)) + 0.5)
            ax.set_xticks(xs if len(xs) <= 10 else xs[:: max(1, len(xs) // 10)])
            if current is not None and 1 <= current <= len(vals):
                ax.plot([current], [vals[current - 1]], "o", color="#e0602a", markersize=7)
            ax.grid(alpha=0.3)
        self.draw_idle()
