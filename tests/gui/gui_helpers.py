"""Helpers of the GUI tests: real drag-and-drop events and waiting for the worker."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
from PyQt6.QtGui import QDragEnterEvent, QDropEvent
from PyQt6.QtWidgets import QApplication

from r2n2_viewer.models.checkpoint import save_checkpoint

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


def shifted_checkpoint(folder: Path, tiny_net, shift: float, name: str) -> str:
    """A checkpoint of ``tiny_net`` with its occupied-class bias lowered by ``shift``."""
    net = copy.deepcopy(tiny_net)
    with torch.no_grad():
        net.decoder.conv11.bias[1] -= shift
    path = folder / f"{name}.safetensors"
    save_checkpoint(path, net, preset=None, source="tests", name=name)
    return str(path)
