"""Side-panel boxes that look inside one reconstruction: the voxel probe (a clicked
voxel's P and its recurrent cell's update gate at every step) and the slice of P.

Both are bound to the :class:`~.state.ViewState` (``probing``, ``probe_voxel``,
``slice_on``, ``slice_axis``, ``slice_index``) and read the steps of the latest
snapshot; the 3D view draws the same voxel and plane (:mod:`.viewport`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QImage, QPixmap
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..probe import VoxelHistory, voxel_history
from ..slices import AXES, SLICE_AXES, slice_image
from .labels import SteadyLabel
from .plot import PLOT_SIZE, IoUPlot, one_at_a_time
from .state import ViewState

P_RGB = "#2a7fff"  # P(occupied) on the probe plot
GATE_RGB = "#8c2981"  # the update gate (the gates' colour map, magma)
SLICE_PIXELS = 5  # screen pixels per voxel of the slice image (32 -> 160)
NO_PROBE = "Tick \u2018Probe\u2019, then click a voxel\nin the 3D view (dragging still\nturns it)."
TOOLTIPS = {
    "probing": "A click (without dragging) on a voxel in the 3D view shows its P(occupied) "
               "and the update gate of its recurrent cell at every step",
    "slice": "One plane of P(occupied) across the grid, drawn in the 3D view and here, "
             "coloured like the cubes; it follows the step slider",
}


@one_at_a_time
def render_probe_plot(
    history: VoxelHistory, threshold: float, size: tuple[int, int] = PLOT_SIZE
) -> tuple[np.ndarray, list[float], tuple[float, float]]:
    """An (H, W, 4) uint8 RGBA picture of ``history``'s P(occupied) and update gate
    (y, 0..1) against the step (x, 1..n), the threshold dotted; the pixel column of each
    step and the (top, bottom) pixel rows of the axes (for the current-step marker)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 90
    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, layout="constrained")
    fig.patch.set_facecolor("#f4f5f7")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    xs = np.arange(1, len(history.probability) + 1)
    ax.axhline(threshold, color="#888888", linestyle=":", linewidth=1)
    ax.plot(xs, history.gate, "--s", color=GATE_RGB, markersize=3, linewidth=1.2,
            label="update gate of its cell")
    ax.plot(xs, history.probability, "-o", color=P_RGB, markersize=4, linewidth=1.5,
            label="P(occupied)")
    ax.set_xlim(0.5, max(5, len(xs)) + 0.5)
    ax.set_ylim(0, 1.05)
    ax.set_xticks(xs if len(xs) <= 10 else xs[:: max(1, len(xs) // 10)])
    ax.set_xlabel("step", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
              frameon=False, borderaxespad=0.1, handlelength=1.5)
    canvas.draw()
    height = canvas.get_width_height()[1]
    px = ax.transData.transform(np.c_[xs, np.zeros(len(xs))])[:, 0] if len(xs) else []
    y0, y1 = ax.transData.transform([(1, 0.0), (1, 1.05)])[:, 1]
    return (np.asarray(canvas.buffer_rgba()).copy(), [float(x) for x in px],
            (float(height - y1), float(height - y0)))


def slice_pixmap(probabilities: np.ndarray, axis: str, index: int,
                 scale: int = SLICE_PIXELS) -> QPixmap:
    """The slice of P as a picture (``scale`` pixels per voxel, the cubes' colours)."""
    from ..scene import probability_rgb

    rgb = np.ascontiguousarray(probability_rgb(slice_image(probabilities, axis, index)))
    h, w = rgb.shape[:2]
    image = QImage(rgb.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.scaled(w * scale, h * scale,
                                          transformMode=Qt.TransformationMode.FastTransformation))


class ProbePlot(IoUPlot):
    """The probe's plot, with the current-step marker of the IoU plot (value = P)."""

    def set_plot(self, values, image, columns=None, rows=(0.0, 0.0)) -> None:  # type: ignore[override]
        super().set_plot(values, image, columns, rows)
        if image is None:
            self.setText(NO_PROBE)


_drawer: Any = None  # one pool thread for the probe's plot (made on first use)


def _draw_later(fn: Any, *args: Any) -> Any:
    global _drawer
    if _drawer is None:
        from concurrent.futures import ThreadPoolExecutor

        _drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe-plot")
    return _drawer.submit(fn, *args)


class ProbeBox(QGroupBox):
    """The voxel probe: a toggle, the voxel's indices and its plot. A new step redraws the
    plot in a pool thread (matplotlib takes ~0.1-0.2 s, which would stall the window);
    probing a voxel draws it at once."""

    plotReady = pyqtSignal(object, object)  # noqa: N815  (key, (image, columns, rows))

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__("Voxel probe", parent)
        self.plotReady.connect(self._on_plot)
        self.state = state
        self.steps: list[Any] = []
        self.history: VoxelHistory | None = None
        self._drawn: tuple[Any, ...] | None = None  # what the plot shows
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.check = QCheckBox("Probe: click a voxel in the 3D view", self)
        self.check.setToolTip(TOOLTIPS["probing"])
        self.check.toggled.connect(self._toggled)
        lay.addWidget(self.check)
        self.label = SteadyLabel(self, rich=True)
        lay.addWidget(self.label)
        self.plot = ProbePlot(self)
        lay.addWidget(self.plot, 0, Qt.AlignmentFlag.AlignHCenter)
        state.changed.connect(self._on_state)
        self._on_state(frozenset(ViewState.FIELDS))

    def _toggled(self, on: bool) -> None:
        self.state.update(probing=on, **({} if on else {"probe_voxel": None}))

    def set_steps(self, steps: list[Any]) -> None:
        """The session's steps (``probabilities`` and ``update_gate`` of each)."""
        self.steps = list(steps)
        self._redraw(later=True)

    def _on_state(self, changed: frozenset[str]) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(self.state.probing)
        self.check.blockSignals(False)
        self.plot.setVisible(self.state.probing)
        if changed & {"probe_voxel", "threshold", "probing"}:
            self._redraw()
        elif changed & {"step", "n_steps"}:
            self.plot.set_step(self.state.step)
            self.label.setText(self._label_html())

    def _redraw(self, later: bool = False) -> None:
        s = self.state
        v = s.probe_voxel
        self.history = None
        if v is not None and self.steps:
            self.history = voxel_history([st.probabilities for st in self.steps],
                                         [st.update_gate for st in self.steps], v)
        key = (v, s.threshold, tuple(id(st) for st in self.steps))
        if key != self._drawn:
            self._drawn = key
            if self.history is None:
                self.plot.set_plot([], None)
            elif later:
                history = self.history
                future = _draw_later(render_probe_plot, history, s.threshold)
                future.add_done_callback(lambda f, key=key, h=history: self._ready(key, h, f))
            else:
                image, columns, rows = render_probe_plot(self.history, s.threshold)
                self.plot.set_plot([float(p) for p in self.history.probability], image,
                                   columns, rows)
        self.plot.set_step(s.step)
        self.label.setText(self._label_html())

    def _ready(self, key: Any, history: Any, future: Any) -> None:
        try:  # in the pool thread: hand the picture to the UI thread
            self.plotReady.emit((key, history), future)
        except RuntimeError:  # the window has gone meanwhile
            pass

    def _on_plot(self, what: tuple[Any, Any], future: Any) -> None:
        """A plot drawn in the pool thread: shown unless something newer was asked."""
        key, history = what
        if key != self._drawn or future.exception() is not None:
            return
        image, columns, rows = future.result()
        self.plot.set_plot([float(p) for p in history.probability], image, columns, rows)
        self.plot.set_step(self.state.step)

    def _label_html(self) -> str:
        s, h = self.state, self.history
        if not s.probing:
            return ""
        if h is None:
            return "No voxel probed yet." if s.probe_voxel is None else "No steps yet."
        text = (f"voxel <b>({h.voxel[0]}, {h.voxel[1]}, {h.voxel[2]})</b> \u00b7 recurrent "
                f"cell ({h.cell[0]}, {h.cell[1]}, {h.cell[2]})")
        if 1 <= s.step <= len(h.probability):
            k = s.step - 1
            text += (f"<br>step {s.step}: <span style='color:{P_RGB}'>P = "
                     f"{h.probability[k]:.3f}</span>, <span style='color:{GATE_RGB}'>gate "
                     f"{h.gate[k]:.3f}</span>")
        first = h.first_step_at(s.threshold)
        text += (f"<br>occupied (P \u2265 {s.threshold:.2f}) from step {first} on"
                 if first is not None else "<br>not occupied at the last step")
        return text


class SliceBox(QGroupBox):
    """The slice of P: a toggle, the axis, the position and the slice as a picture."""

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__("Slice of P", parent)
        self.state = state
        self.steps: list[Any] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.check = QCheckBox("Show a slice plane", self)
        self.check.setToolTip(TOOLTIPS["slice"])
        self.check.toggled.connect(lambda on: self.state.update(slice_on=on))
        lay.addWidget(self.check)
        self.controls = QWidget(self)
        c = QVBoxLayout(self.controls)
        c.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.axis_box = QComboBox(self.controls)
        self.axis_box.addItems(list(AXES))
        self.axis_box.setToolTip("The axis across which the grid is cut")
        self.axis_box.currentIndexChanged.connect(
            lambda i: self.state.update(slice_axis=AXES[i]) if i >= 0 else None)
        row.addWidget(self.axis_box)
        self.slider = QSlider(Qt.Orientation.Horizontal, self.controls)
        self.slider.setRange(0, 31)
        self.slider.setToolTip("Position of the plane (voxel index 0..31)")
        self.slider.valueChanged.connect(lambda v: self.state.update(slice_index=v))
        row.addWidget(self.slider, 1)
        self.position_label = QLabel("", self.controls)
        self.position_label.setFixedWidth(44)
        row.addWidget(self.position_label)
        c.addLayout(row)
        self.image = QLabel(self.controls)
        self.image.setFixedSize(32 * SLICE_PIXELS, 32 * SLICE_PIXELS)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setStyleSheet("color: #777; font-size: 11px;")
        c.addWidget(self.image, 0, Qt.AlignmentFlag.AlignHCenter)
        self.caption = QLabel("", self.controls)
        self.caption.setStyleSheet("color: #555; font-size: 11px;")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        c.addWidget(self.caption)
        lay.addWidget(self.controls)
        self.shown: tuple[str, int, int] | None = None  # (axis, index, step) in the picture
        state.changed.connect(self._on_state)
        self._on_state(frozenset(ViewState.FIELDS))

    def set_steps(self, steps: list[Any]) -> None:
        self.steps = list(steps)
        self.shown = None
        self._redraw()

    def _on_state(self, changed: frozenset[str]) -> None:
        s = self.state
        for w in (self.check, self.axis_box, self.slider):
            w.blockSignals(True)
        self.check.setChecked(s.slice_on)
        self.axis_box.setCurrentIndex(AXES.index(s.slice_axis))
        self.slider.setValue(s.slice_index)
        for w in (self.check, self.axis_box, self.slider):
            w.blockSignals(False)
        self.controls.setVisible(s.slice_on)
        self.position_label.setText(f"{s.slice_axis} = {s.slice_index}")
        rows, cols = SLICE_AXES[s.slice_axis]
        arrow = "\u2193" if s.slice_axis == "y" else "\u2191"  # +y up; +z down from above
        self.caption.setText(f"{rows} {arrow}  {cols} \u2192")
        if changed & {"slice_on", "slice_axis", "slice_index", "step", "n_steps"}:
            self._redraw()

    def _redraw(self) -> None:
        s = self.state
        if not s.slice_on:
            return
        if not 1 <= s.step <= len(self.steps):
            self.shown = None
            self.image.setPixmap(QPixmap())
            self.image.setText("No steps yet")
            return
        key = (s.slice_axis, s.slice_index, s.step)
        if key != self.shown:
            self.shown = key
            p = self.steps[s.step - 1].probabilities
            self.image.setPixmap(slice_pixmap(p, s.slice_axis, s.slice_index))
