"""Side-panel section "Next view and order": rank the unused pictures by what one more
step with each would settle, add the best, and try the views in other orders.

Candidates are ``window.inputs.unused``: the renderings of a dataset model not shown,
views removed from the strip, and the pictures of a folder picked here. Ranking and the
orders run as worker jobs (progress in the status bar, Esc cancels); the spread of the
orders is drawn as a band on the IoU plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .worker import ImageSource

DEFAULT_ORDERS = 8
NO_CANDIDATES = ("no unused views: open a dataset model (its other renderings), remove a "
                 "view from the strip, or pick a folder of pictures")
TOOLTIPS = {
    "rank": "Try each unused picture as one more step on a copy of the network's memory "
            "and rank them by how much surer the reconstruction gets (drop of the mean "
            "entropy, bits per voxel)",
    "add": "Add the picture ranked first as the next view (ranks them first)",
    "folder": "Take the candidates from the pictures of a folder",
    "orders": "Run the same views in this many random orders: the IoU (or the voxel count, "
              "without ground truth) of each step over all orders is drawn as a band",
}


class NextViewBox(QGroupBox):
    """Ranked candidates with their gains, "Add the best next view", view orders."""

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__("Next view and order", parent)
        self.window = window
        self.gains: list[Any] = []  # next_view.ViewGain of the last ranking
        self._ranked_sources: list[ImageSource] = []
        self._job = 0
        lay = QVBoxLayout(self)
        self.pool_label = QLabel("", self)
        self.pool_label.setWordWrap(True)
        self.pool_label.setStyleSheet("color: #555; font-size: 11px;")
        lay.addWidget(self.pool_label)
        row = QHBoxLayout()
        self.rank_button = QPushButton("Rank", self)
        self.rank_button.setToolTip(TOOLTIPS["rank"])
        self.rank_button.clicked.connect(lambda: self.rank())
        self.folder_button = QPushButton("From folder\u2026", self)
        self.folder_button.setToolTip(TOOLTIPS["folder"])
        self.folder_button.clicked.connect(self.folder_dialog)
        row.addWidget(self.rank_button)
        row.addWidget(self.folder_button)
        lay.addLayout(row)
        self.list = QListWidget(self)
        self.list.setMaximumHeight(110)
        self.list.setStyleSheet("font-size: 11px;")
        lay.addWidget(self.list)
        self.add_button = QPushButton("Add the best next view", self)
        self.add_button.setToolTip(TOOLTIPS["add"])
        self.add_button.clicked.connect(lambda: self.rank(add_best=True))
        lay.addWidget(self.add_button)
        orders = QHBoxLayout()
        self.orders_spin = QSpinBox(self)
        self.orders_spin.setRange(2, 64)
        self.orders_spin.setValue(DEFAULT_ORDERS)
        self.orders_spin.setToolTip(TOOLTIPS["orders"])
        self.orders_button = QPushButton("Try orders", self)
        self.orders_button.setToolTip(TOOLTIPS["orders"])
        self.orders_button.clicked.connect(lambda: self.try_orders())
        orders.addWidget(self.orders_spin)
        orders.addWidget(self.orders_button, 1)
        lay.addLayout(orders)
        self.orders_label = QLabel("", self)
        self.orders_label.setWordWrap(True)
        self.orders_label.setTextFormat(Qt.TextFormat.RichText)
        self.orders_label.setStyleSheet("color: #555; font-size: 11px;")
        lay.addWidget(self.orders_label)
        window.worker.jobs.ranked.connect(self._on_ranked)
        window.strip.removeRequested.connect(self._keep_removed)
        self.refresh()

    # --- commands -------------------------------------------------------------------
    @property
    def candidates(self) -> list[ImageSource]:
        return self.window.inputs.unused

    def rank(self, add_best: bool = False) -> int:
        """Queue a ranking of the candidates (with ``add_best``: then add the best);
        returns the job id (0: nothing to rank, said in a message box)."""
        if not self.candidates:
            self.window.errors.show("No candidate views", NO_CANDIDATES)
            return 0
        self._ranked_sources = list(self.candidates)
        self._job = self.window.worker.rank_views(self._ranked_sources, add_best)
        return self._job

    def add_folder(self, folder: str | Path) -> None:
        """Make the pictures of ``folder`` candidates (those not already candidates)."""
        from ..next_view import images_in_folder

        try:
            found = images_in_folder(folder)
        except (OSError, ValueError) as exc:
            self.window.errors.show("No candidate views", str(exc))
            return
        have = {str(s.source) for s in self.candidates if isinstance(s.source, str)}
        self.candidates.extend(ImageSource(str(p), p.name) for p in found
                               if str(p) not in have)
        self.refresh()

    def folder_dialog(self) -> None:
        from PyQt6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(
            self.window, "Candidate views: a folder of pictures",
            self.window.last_dir("last_image_dir"))
        if folder:
            self.add_folder(folder)

    def try_orders(self, k: int | None = None) -> int:
        """Queue ``k`` (default: the spin box) random orders of the current views."""
        snap = self.window.snapshot
        if snap is None or len(snap.scenes) < 2:
            self.window.errors.show("Cannot try other view orders",
                                    "other orders need at least two views")
            return 0
        return self.window.worker.order_spread(k or self.orders_spin.value())

    # --- results ----------------------------------------------------------------------
    def _on_ranked(self, job: int, gains: list, added: int) -> None:
        if job != self._job:
            return
        self.gains = list(gains)
        if added >= 0:
            source = self._ranked_sources[added]
            self.window.inputs.unused = [s for s in self.candidates if s is not source]
            self.gains = [g for g in self.gains if g.index != added]
        self.list.clear()
        for k, g in enumerate(self.gains):
            self.list.addItem(f"{k + 1}. {g.gain:+.4f} bits  {g.label}")
        if added >= 0:
            self.window.statusBar().showMessage(
                f"Added {self._ranked_sources[added].label}: the best of "
                f"{len(self._ranked_sources)} candidates", 10000)
        self.refresh()

    def _keep_removed(self, i: int) -> None:
        """A view removed from the strip stays a candidate for the next view."""
        snap = self.window.snapshot
        if snap is None or not 0 <= i < len(snap.records):
            return
        record = snap.records[i]
        self.candidates.append(ImageSource(record.image, record.label, record.settings))
        self.refresh()

    def set_snapshot(self, snap: Any) -> None:
        """Show what the spread of the orders says (and the candidates' count)."""
        spread = getattr(snap, "spread", None)
        if spread is None:
            self.orders_label.setText("")
        else:
            unit = "IoU" if spread.metric == "iou" else "voxels"
            fmt = "{:.3f}" if spread.metric == "iou" else "{:.0f}"
            last = spread.values[:, -1]
            self.orders_label.setText(
                f"{spread.values.shape[0]} orders, last step {unit}: "
                f"{fmt.format(last.min())} \u2013 {fmt.format(last.max())} "
                f"(median {fmt.format(float(np.median(last)))})")
        self.refresh()

    def refresh(self) -> None:
        n = len(self.candidates)
        self.pool_label.setText(f"{n} unused view{'s' if n != 1 else ''}" if n else
                                "No unused views (a dataset model's other renderings, "
                                "removed views or a folder)")
        self.add_button.setEnabled(n > 0)
        self.rank_button.setEnabled(n > 0)
