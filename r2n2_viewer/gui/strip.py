"""The image strip: one numbered thumbnail per view, in step order.

Shows the exact 127x127 network input (tooltip at full size). Files dropped on it are
added; dragging a thumbnail within the strip reorders the views; right-click offers
edit input / remove / replace; double-click edits the input. The strip never edits
itself: it emits requests and is refreshed from the worker's snapshot.
"""

from __future__ import annotations

import base64

import numpy as np
from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent, QIcon, QImage, QPixmap
from PyQt6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QMenu

THUMB = 96


def view_to_qimage(view: np.ndarray) -> QImage:
    """A (3, H, W) float view in [0, 1] -> an RGB QImage (owning its data)."""
    u8 = np.ascontiguousarray((np.clip(view, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0))
    h, w = u8.shape[:2]
    return QImage(u8.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def _png_base64(image: QImage) -> str:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return base64.b64encode(bytes(data.data())).decode("ascii")


class ImageStrip(QListWidget):
    """Horizontal strip of numbered thumbnails."""

    filesDropped = pyqtSignal(list)  # list[QUrl]
    moveRequested = pyqtSignal(int, int)  # from, to (0-based)
    removeRequested = pyqtSignal(int)
    replaceRequested = pyqtSignal(int)
    editRequested = pyqtSignal(int)  # open the input editor of a view (0-based)
    stepClicked = pyqtSignal(int)  # 1-based step

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Snap)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 18, THUMB + 26))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(THUMB + 48)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setAcceptDrops(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemClicked.connect(lambda it: self.stepClicked.emit(self.row(it) + 1))
        self.itemDoubleClicked.connect(lambda it: self.editRequested.emit(self.row(it)))
        self._empty_text = "Drop photos of one object here (or File \u2192 Add images\u2026)"
        self._cache: dict[int, tuple[np.ndarray, QIcon, str]] = {}  # id(view) -> icon, <img>

    # --- content ------------------------------------------------------------------
    def set_views(self, views: list[np.ndarray], labels: list[str]) -> None:
        """Show ``views`` (network inputs) numbered from 1."""
        self.blockSignals(True)
        self.clear()
        cache: dict[int, tuple[np.ndarray, QIcon, str]] = {}
        for i, (view, label) in enumerate(zip(views, labels, strict=True), 1):
            hit = self._cache.get(id(view))
            if hit is None or hit[0] is not view:
                image = view_to_qimage(view)
                size = f"{image.width()}\u00d7{image.height()}"
                img = (f"network input ({size}):<br>"
                       f'<img src="data:image/png;base64,{_png_base64(image)}" '
                       f'width="{image.width()}" height="{image.height()}">')
                hit = (view, QIcon(QPixmap.fromImage(image)), img)
            cache[id(view)] = hit
            item = QListWidgetItem(hit[1], f"{i} \u00b7 {label}")
            item.setToolTip(f"<b>Step {i}</b>: {label}<br>" + hit[2])
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            item.setSizeHint(QSize(THUMB + 14, THUMB + 22))
            self.addItem(item)
        self._cache = cache
        self.blockSignals(False)
        self.viewport().update()

    def set_current_step(self, step: int) -> None:
        """Highlight thumbnail ``step`` (1-based)."""
        if 1 <= step <= self.count():
            self.blockSignals(True)
            self.setCurrentRow(step - 1)
            self.blockSignals(False)
            self.scrollToItem(self.item(step - 1))

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.count() == 0:
            from PyQt6.QtGui import QPainter

            p = QPainter(self.viewport())
            p.setPen(self.palette().placeholderText().color())
            p.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self._empty_text)
            p.end()

    # --- context menu ---------------------------------------------------------------
    def _menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        row = self.row(item)
        menu = QMenu(self)
        edit = QAction(f"Edit input of view {row + 1}\u2026", menu)
        edit.triggered.connect(lambda: self.editRequested.emit(row))
        menu.addAction(edit)
        remove = QAction(f"Remove view {row + 1}", menu)
        replace = QAction(f"Replace view {row + 1}\u2026", menu)
        remove.triggered.connect(lambda: self.removeRequested.emit(row))
        replace.triggered.connect(lambda: self.replaceRequested.emit(row))
        menu.addAction(remove)
        menu.addAction(replace)
        menu.popup(self.viewport().mapToGlobal(pos))

    # --- drag and drop --------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and event.source() is not self:
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and event.source() is not self:
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        if event.source() is self:
            src = self.currentRow()
            dst = self._drop_row(event.position().toPoint())
            event.setDropAction(Qt.DropAction.IgnoreAction)  # the worker reorders, not Qt
            event.accept()
            if src >= 0 and dst != src:
                self.moveRequested.emit(src, dst)
            return
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            self.filesDropped.emit(list(event.mimeData().urls()))
            return
        event.ignore()

    def _drop_row(self, pos: QPoint) -> int:
        """Target index of a thumbnail dropped at ``pos`` (after the item's centre:
        behind it)."""
        item = self.itemAt(pos)
        if item is None:
            return self.count() - 1
        rect = self.visualItemRect(item)
        row = self.row(item)
        src = self.currentRow()
        if pos.x() > rect.center().x() and row < src:
            row += 1
        elif pos.x() < rect.center().x() and row > src:
            row -= 1
        return max(0, min(self.count() - 1, row))
