"""The side panel: display mode, overlays, threshold, this step's figures, IoU plot.

Bound to a :class:`~r2n2_viewer.gui.state.ViewState`: a control writes to the state,
and every label and control is redrawn from the state and the latest snapshot. The
panel scrolls, so it works in small windows (down to 1024x640).
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..cameras import PRESET_LABELS, PRESETS
from .inside import ProbeBox, SliceBox
from .labels import SteadyLabel
from .plot import PLOT_SIZE, IoUPlot
from .state import (
    DEFAULTS,
    MODE_LABELS,
    MODES,
    OVERLAY_LABELS,
    OVERLAYS,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    ViewState,
)
from .worker import Snapshot

PANEL_WIDTH = PLOT_SIZE[0] + 36
TOOLTIPS = {
    "mode": "Voxel cubes coloured by P(occupied), a marching-cubes surface, or every voxel "
            "as a point (alpha = P)",
    "changes": "Green: voxels that appeared at this step; faint red: voxels that disappeared",
    "gates": "How strongly each recurrent cell wrote at this step: one cube per cell of the "
             "4\u00b3 grid, bigger and darker = stronger update",
    "truth": "Translucent blue: the true voxels (demos and dataset models)",
    "threshold": "A voxel is occupied when P(occupied) \u2265 threshold",
    "look": "Put the camera where the camera of a view was (known for a demo's views and a "
            "dataset model's renderings): the reconstruction then covers that picture",
    "band_only": "Uncertainty mode: show only the voxels whose P lies inside the band "
                 "(the network is unsure whether they are filled)",
}


def legend_html(layers: list[str]) -> str:
    """What the colours of ``layers`` mean."""
    parts = []
    if "changed" in layers:
        parts.append("<span style='color:#28aa5a'>\u25a0</span> appeared, "
                     "<span style='color:#dc3c3c'>\u25a0</span> disappeared (ghost), "
                     "<span style='color:#999'>\u25a0</span> kept")
    elif "errors" in layers:
        parts.append("vs. ground truth: <span style='color:#aaa'>\u25a0</span> correct, "
                     "<span style='color:#f07814'>\u25a0</span> false positive, "
                     "<span style='color:#286ee6'>\u25a0</span> false negative")
    elif "seen" in layers:
        parts.append("by the views so far: <span style='color:#d29b00'>\u25a0</span> seen "
                     "(first hit of a pixel ray), <span style='color:#7d5fcd'>\u25a0</span> "
                     "inferred (never seen)")
    elif "uncertainty" in layers or "band" in layers:
        parts.append("colour = entropy of P: <span style='color:#3b4cc0'>sure</span> "
                     "\u2192 <span style='color:#b40426'>coin flip (1 bit)</span>")
    elif "cubes" in layers or "points" in layers:
        parts.append("colour = P(occupied): <span style='color:#440154'>low</span> "
                     "\u2192 <span style='color:#21918c'>mid</span> \u2192 "
                     "<span style='color:#c9a500'>high</span>")
    if "gates" in layers:
        parts.append("gates: one cube per recurrent cell, bigger and darker = stronger write")
    if "truth" in layers:
        parts.append("<span style='color:#2a7fff'>\u25a0</span> ground truth")
    return "<br>".join(parts)


class SidePanel(QScrollArea):
    """Controls and figures of the shown step, bound to ``state``."""

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.snapshot: Snapshot | None = None
        self._look_items: list[int] | None = None
        self.device_name = ""
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedWidth(PANEL_WIDTH + 14)  # room for a vertical scroll bar
        body = QWidget(self)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 4, 0)
        lay.setSpacing(4)
        lay.addWidget(self._display_box(body))
        lay.addWidget(self._threshold_box(body))
        info = QGroupBox("This step", body)
        self.info_label = SteadyLabel(info, rich=True)
        QVBoxLayout(info).addWidget(self.info_label)
        lay.addWidget(info)
        plot_box = QGroupBox("IoU vs. views", body)
        p = QVBoxLayout(plot_box)
        p.setContentsMargins(2, 2, 2, 2)
        self.iou_plot = IoUPlot(plot_box)
        p.addWidget(self.iou_plot, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(plot_box)
        self.sections = lay  # more sections go before the stretch (add_section)
        self.probe_box = ProbeBox(state, body)
        lay.addWidget(self.probe_box)
        self.slice_box = SliceBox(state, body)
        lay.addWidget(self.slice_box)
        lay.addStretch(1)
        self.setWidget(body)
        state.changed.connect(self._on_state)
        self._on_state(frozenset(ViewState.FIELDS))

    # --- construction -------------------------------------------------------------
    def _display_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox("Display", parent)
        d = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Mode", box))
        self.mode_box = QComboBox(box)
        self.mode_box.addItems([MODE_LABELS[m] for m in MODES])
        self.mode_box.setToolTip(TOOLTIPS["mode"])
        self.mode_box.currentIndexChanged.connect(
            lambda i: self.state.update(mode=MODES[i]) if i >= 0 else None)
        row.addWidget(self.mode_box, 1)
        d.addLayout(row)
        self.overlay_boxes: dict[str, QCheckBox] = {}
        for name in OVERLAYS:
            check = QCheckBox(OVERLAY_LABELS[name], box)
            check.setToolTip(TOOLTIPS[name])
            check.toggled.connect(lambda on, n=name: self.state.set_overlay(n, on))
            self.overlay_boxes[name] = check
            d.addWidget(check)
        self.band_row = QWidget(box)  # shown in the uncertainty mode only
        band_row = QHBoxLayout(self.band_row)
        band_row.setContentsMargins(0, 0, 0, 0)
        self.band_check = QCheckBox("Only P in", box)
        self.band_check.setToolTip(TOOLTIPS["band_only"])
        self.band_check.toggled.connect(lambda on: self.state.update(band_only=on))
        band_row.addWidget(self.band_check)
        self.band_spins: list[QDoubleSpinBox] = []
        for k in range(2):
            spin = QDoubleSpinBox(box)
            spin.setRange(0.0, 1.0)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
            spin.setToolTip(TOOLTIPS["band_only"])
            spin.valueChanged.connect(lambda v, k=k: self._set_band(k, v))
            self.band_spins.append(spin)
            band_row.addWidget(spin)
            if k == 0:
                band_row.addWidget(QLabel("\u2013", box))
        d.addWidget(self.band_row)
        self.legend = QLabel("", box)
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("color: #555; font-size: 11px;")
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        d.addWidget(self.legend)
        d.addWidget(self._camera_row(box))
        return box

    def _camera_row(self, box: QWidget) -> QWidget:
        """Reset, the presets, and "look from view k" (views with a known camera)."""
        row_widget = QWidget(box)
        rows = QVBoxLayout(row_widget)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        top = QHBoxLayout()
        reset = QPushButton("Reset camera", box)
        reset.clicked.connect(lambda: self.state.reset_camera())
        top.addWidget(reset)
        self.look_box = QComboBox(box)
        self.look_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.look_box.setMinimumContentsLength(8)  # the panel's width, not the longest item
        self.look_box.setToolTip(TOOLTIPS["look"])
        self.look_box.activated.connect(self._look)
        top.addWidget(self.look_box, 1)
        rows.addLayout(top)
        presets = QHBoxLayout()
        self.camera_buttons: dict[str, QPushButton] = {}
        for name in PRESETS:
            button = QPushButton(PRESET_LABELS[name], box)
            button.setToolTip(f"Camera: {PRESET_LABELS[name].lower()} view of the grid")
            button.setMinimumWidth(36)
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _=False, n=name: self.state.reset_camera(n))
            self.camera_buttons[name] = button
            presets.addWidget(button)
        rows.addLayout(presets)
        self._fill_look_box()
        return row_widget

    def _fill_look_box(self) -> None:
        """The views whose camera is known, to look from."""
        snap = self.snapshot
        cams = [getattr(r, "camera", None) for r in snap.records] if snap else []
        items = [k for k, cam in enumerate(cams, 1) if cam is not None]
        if items == self._look_items:
            return
        self._look_items = items
        self.look_box.blockSignals(True)
        self.look_box.clear()
        self.look_box.addItem("Look from view…" if items else "No view camera known")
        for k in items:
            self.look_box.addItem(f"View {k}", k)
        self.look_box.setEnabled(bool(items))
        self.look_box.blockSignals(False)

    def _look(self, index: int) -> None:
        k = self.look_box.itemData(index)
        self.look_box.setCurrentIndex(0)
        if k is not None:
            self.state.reset_camera(f"view:{k}")

    def _threshold_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox("Threshold", parent)
        t = QVBoxLayout(box)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal, box)
        self.threshold_slider.setRange(round(THRESHOLD_MIN * 100), round(THRESHOLD_MAX * 100))
        self.threshold_slider.setToolTip(TOOLTIPS["threshold"])
        self.threshold_slider.valueChanged.connect(
            lambda v: self.state.update(threshold=v / 100.0))
        self.threshold_label = SteadyLabel(box, rich=True)
        self.reset_button = QPushButton("Reset view settings", box)
        self.reset_button.setToolTip("Mode, threshold and overlays as at a fresh start "
                                     f"(threshold {DEFAULTS.threshold:.2f})")
        self.reset_button.clicked.connect(self.state.reset_view_settings)
        t.addWidget(self.threshold_slider)
        t.addWidget(self.threshold_label)
        t.addWidget(self.reset_button)
        return box

    def _set_band(self, k: int, value: float) -> None:
        band = list(self.state.band)
        band[k] = value
        try:
            self.state.update(band=tuple(band))
        except ValueError:  # low >= high: the spin box snaps back to the state's band
            self._on_state(frozenset({"band"}))

    def add_section(self, widget: QWidget) -> None:
        """Add a section (a group box) under the IoU plot."""
        self.sections.insertWidget(self.sections.count() - 1, widget)

    # --- data ----------------------------------------------------------------------
    def set_snapshot(self, snapshot: Snapshot | None) -> None:
        old = self.snapshot
        self.snapshot = snapshot
        if snapshot is not None and (old is None or old.iou_plot is not snapshot.iou_plot):
            self.iou_plot.set_plot(snapshot.plot_values or snapshot.ious, snapshot.iou_plot,
                                   snapshot.iou_columns, snapshot.iou_rows)
        if snapshot is not None and (old is None or list(map(id, old.steps))
                                     != list(map(id, snapshot.steps))):
            self.probe_box.set_steps(snapshot.steps)
            self.slice_box.set_steps(snapshot.steps)
        self._fill_look_box()
        self._refresh()

    def set_device(self, name: str) -> None:
        self.device_name = name
        self._refresh()

    # --- redraw from the state ------------------------------------------------------
    def _on_state(self, changed: frozenset[str]) -> None:
        s = self.state
        widgets = (self.mode_box, self.threshold_slider, *self.overlay_boxes.values(),
                   self.band_check, *self.band_spins)
        for widget in widgets:
            widget.blockSignals(True)
        self.mode_box.setCurrentIndex(MODES.index(s.mode))
        self.band_check.setChecked(s.band_only)
        for spin, value in zip(self.band_spins, s.band, strict=True):
            spin.setValue(value)
            spin.setEnabled(s.mode == "uncertainty")
        self.band_check.setEnabled(s.mode == "uncertainty")
        self.band_row.setVisible(s.mode == "uncertainty")
        self.threshold_slider.setValue(round(s.threshold * 100))
        for name, check in self.overlay_boxes.items():
            check.setChecked(name in s.overlays)
        self.overlay_boxes["truth"].setEnabled(s.truth_available)
        for widget in widgets:
            widget.blockSignals(False)
        # offered only while something differs from a fresh start (also in the View menu)
        self.reset_button.setVisible(not s.at_defaults())
        self._refresh()

    def _refresh(self) -> None:
        s, snap = self.state, self.snapshot
        self.legend.setText(legend_html(s.layers()))
        text = f"P \u2265 {s.threshold:.2f}"
        if snap and snap.steps and 1 <= s.step <= len(snap.steps):
            count = int((snap.steps[s.step - 1].probabilities >= s.threshold).sum())
            text += f" \u00b7 {count} voxels"
        if s.threshold != DEFAULTS.threshold:
            text += f" <span style='color:#a05a00'>(default {DEFAULTS.threshold:.2f})</span>"
        self.threshold_label.setText(text)
        self.info_label.setText(self._info_html())

    def _info_html(self) -> str:
        s, snap = self.state, self.snapshot
        if snap is None or not 1 <= s.step <= len(snap.scenes):
            if snap is not None and len(snap.views) > len(snap.scenes):
                return f"{len(snap.views) - len(snap.scenes)} view(s) wait for a model"
            return "Drop photos of one object (one per step), or use File \u2192 Add images\u2026"
        scene = snap.scenes[s.step - 1]
        lines = [
            f"<b>Step {scene.index}</b> of {len(snap.scenes)}: {snap.labels[scene.index - 1]}",
            f"{scene.n_voxels} voxels \u2265 {scene.threshold:.2f}",
            f"<span style='color:#1f8f4e'>+{scene.n_appeared}</span> appeared, "
            f"<span style='color:#c83c3c'>\u2212{scene.n_disappeared}</span> disappeared",
            f"{scene.ms:.0f} ms on {self.device_name or '?'}",
        ]
        if scene.iou is not None:
            lines.append(f"IoU with ground truth: <b>{scene.iou:.3f}</b>")
        if scene.n_false_positive is not None:
            lines.append(f"<span style='color:#d06010'>{scene.n_false_positive} false "
                         f"positive</span>, <span style='color:#286ee6'>"
                         f"{scene.n_false_negative} false negative</span>")
        if s.mode == "seen" and not scene.seen_known:
            lines.append("seen vs. inferred: casting the views' rays\u2026")
        elif scene.seen_known:
            lines.append(f"<span style='color:#b08000'>{scene.n_seen} seen</span>, "
                         f"<span style='color:#7d5fcd'>{scene.n_inferred} inferred</span> "
                         f"({scene.seen_views} of {scene.index} views with a known camera)")
        lines.append(f"mean entropy {scene.mean_entropy:.3f} bits; {scene.n_band} voxels "
                     f"with {scene.band_range[0]:.2f} &lt; P &lt; {scene.band_range[1]:.2f}")
        return "<br>".join(lines)
