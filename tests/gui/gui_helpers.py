"""Helpers of the GUI tests: real drag-and-drop events and waiting for the worker."""

from __future__ import annotations

from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
from PyQt6.QtGui import QDragEnterEvent, QDropEvent
from PyQt6.QtWidgets import QApplication

WAIT_MS = 60_000


def wait_idle(qtbot, w) -> None:
    """Until the window's worker has done every job (and sent its first snapshot)."""
    qtbot.waitUntil(lambda: not w.busy_now and w.snapshot is not None, timeout=WAIT_MS)


def drop(widget, urls: list[QUrl]) -> None:
    """A real drag-enter + drop of ``urls`` on ``widget`` (as a file manager sends)."""
    mime = QMimeData()
    mime.setUrls(urls)
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    assert event.isAccepted()


def files(*paths) -> list[QUrl]:
    return [QUrl.fromLocalFile(str(p)) for p in paths]
