"""Side-panel section "Next view and order": rank the unused pictures by what one more
step with each would settle, add the best, and try the views in other orders.

Candidates are listed as soon as there are any (unranked until *Rank*): the unused
views ``window.inputs.unused`` (a dataset model's renderings not shown, views removed
from the strip, the pictures of a folder picked here) and, while an earlier step than
the last is shown, the sequence's own later views, tried as the view after that step
(the best is then moved there). With none, the list says how to get some. Ranking and
the orders run as worker jobs (progress in the status bar, Esc cancels); the spread of
the orders is drawn as a band on the IoU plot.
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
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .labels import SteadyLabel
from .worker import ImageSource

DEFAULT_ORDERS = 8
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
        self._ranked_key: tuple[Any, ...] | None = None  # what the gains were ranked for
        self._ranked_after: int | None = None
        self._job = 0
        lay = QVBoxLayout(self)
        self.pool_label = SteadyLabel(self, style="color: #555; font-size: 11px;")
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
        self.list.setWordWrap(True)  # the hint shown when there is no candidate
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
        window.state.changed.connect(
            lambda changed: self.refresh() if changed & {"step", "n_steps", "playing"}
            else None)
        self.refresh()

    # --- commands -------------------------------------------------------------------
    @property
    def candidates(self) -> list[ImageSource]:
        """The unused views (not in the sequence)."""
        return self.window.inputs.unused

    def from_step(self) -> int | None:
        """The step the candidates would follow: the shown one when it is before the last
        (and not playing), else None (after every view)."""
        snap, s = self.window.snapshot, self.window.state
        n = len(snap.scenes) if snap is not None else 0
        return s.step if 1 <= s.step < n and not s.playing else None

    def later_views(self) -> list[ImageSource]:
        """The sequence's views after the shown step, as candidates for the next one."""
        t, snap = self.from_step(), self.window.snapshot
        if t is None or snap is None:
            return []
        return [ImageSource(snap.views[j], f"view {j + 1}: {snap.labels[j]}", position=j)
                for j in range(t, len(snap.scenes))]

    def pool(self) -> list[ImageSource]:
        """Every candidate for the view after :meth:`from_step`."""
        return self.later_views() + list(self.candidates)

    def _key(self, pool: list[ImageSource]) -> tuple[Any, ...]:
        snap = self.window.snapshot
        steps = tuple(id(st) for st in snap.steps) if snap is not None else ()
        return (self.from_step(), steps, tuple(id(src.source) for src in pool))

    def hint(self) -> str:
        """What to do when there is no candidate (depends on what is shown)."""
        w = self.window
        snap, origin = w.snapshot, w.inputs.origin
        if snap is None or not snap.scenes:
            return "Add views first; then the unused ones are the candidates here."
        if origin is not None:
            return (f"Every view of {origin} is in use. Step back (\u2190) to rank its "
                    "later views as the next one from there; a view removed from the strip "
                    "becomes a candidate; From folder\u2026 adds the pictures of a folder.")
        return ("No unused views. From folder\u2026 adds the pictures of a folder (the "
                "same object from other angles) as candidates; a view removed from the "
                "strip becomes one too; step back (\u2190) to rank the later views.")

    def rank(self, add_best: bool = False) -> int:
        """Queue a ranking of the candidates as the view after :meth:`from_step` (with
        ``add_best``: then put the best in there); returns the job id (0: nothing to
        rank: :meth:`hint`'s advice in a message box)."""
        pool = self.pool()
        if not pool:
            self.window.errors.show("No candidate views", self.hint())
            return 0
        self._ranked_sources = pool
        self._ranked_after = self.from_step()
        self._ranked_key = self._key(pool)
        self._job = self.window.worker.rank_views(pool, add_best, self._ranked_after)
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
            self._ranked_key = None  # the views change: the gains are stale
            after = self._ranked_after
            done = f"Added {source.label}" if after is None else \
                f"Put {source.label} in as view {after + 1}"
            self.window.statusBar().showMessage(
                f"{done}: the best of {len(self._ranked_sources)} candidates", 10000)
            if after is not None:
                self.window.state.set_step(after + 1)
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
        """The candidates (ranked when the last ranking is still theirs) or the hint."""
        pool = self.pool()  # the later views, then the unused ones
        n, t = len(self.candidates), self.from_step()
        later = len(pool) - n
        unused = f"{n} unused view{'s' if n != 1 else ''}"
        if t is not None:
            text = (f"Candidates for view {t + 1} (after step {t}): {later} later "
                    f"view{'s' if later != 1 else ''} of the sequence"
                    + (f" and {unused}" if n else ""))
        else:
            text = unused if n else "No unused views"
        self.pool_label.setText(text)
        if pool and self.gains and self._ranked_key == self._key(pool):
            items = [f"{k + 1}. {g.gain:+.4f} bits  {g.label}" for k, g in enumerate(self.gains)]
        elif pool:
            items = [f"\u00b7 {src.label}  (not ranked yet)" for src in pool]
        else:
            items = [self.hint()]
        shown = [self.list.item(i).text() for i in range(self.list.count())]
        if items != shown:  # (a rebuilt list is laid out again: only when it changed)
            self.list.clear()
            for text in items:
                item = QListWidgetItem(text)
                if not pool:
                    item.setFlags(Qt.ItemFlag.NoItemFlags)  # a note, not a candidate
                self.list.addItem(item)
        self.add_button.setEnabled(bool(pool))
        self.rank_button.setEnabled(bool(pool))
