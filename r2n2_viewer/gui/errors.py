"""Errors in the viewer: the status bar and one window-modal message box.

Every problem is written to the status bar and kept in ``history``. One box is open at
a time; further messages while it is open are appended to it. A box may name the
problem it reports (``"model"``, ``"ground-truth"``...): :meth:`ErrorReporter.resolve`
closes it once that problem is gone, so no box outlives its cause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PyQt6.QtCore import QObject, Qt
from PyQt6.QtWidgets import QMainWindow, QMessageBox, QPushButton

STATUS_MS = 15000


class ErrorReporter(QObject):
    """Show errors over ``window``; each box is window-modal and never blocks the loop."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.history: list[tuple[str, str]] = []  # every (title, message) shown
        self._box: QMessageBox | None = None
        self._problem: str | None = None

    def show(self, title: str, message: str, problem: str | None = None,
             actions: Sequence[tuple[str, Callable[[], None]]] = ()) -> None:
        """Report ``message``; ``actions`` are extra (button label, callback) pairs."""
        self.history.append((title, message))
        self.window.statusBar().showMessage(f"{title}: {message}", STATUS_MS)
        box = self._box
        if box is not None and box.isVisible():
            if message not in box.text():
                box.setText(box.text() + "\n\n" + message)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, message,
                          QMessageBox.StandardButton.Close, self.window)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        for label, callback in actions:
            button: QPushButton = box.addButton(label, QMessageBox.ButtonRole.AcceptRole)
            button.clicked.connect(callback)
        # without an escape button a QMessageBox ignores close events (and blocks quit)
        box.setEscapeButton(QMessageBox.StandardButton.Close)
        self._box, self._problem = box, problem
        box.open()  # modal to the window, asynchronous: the event loop keeps running

    def resolve(self, problem: str) -> None:
        """Close the box if it reports ``problem`` (the problem is gone)."""
        if self._problem == problem:
            self.close()

    def close(self) -> None:
        if self._box is not None:
            self._box.done(0)
            self._box.deleteLater()
        self._box, self._problem = None, None

    # --- what is shown (for tests and the window) ------------------------------------
    @property
    def showing(self) -> bool:
        return self._box is not None and self._box.isVisible()

    @property
    def text(self) -> str:
        return self._box.text() if self.showing and self._box is not None else ""

    @property
    def title(self) -> str:
        return self._box.windowTitle() if self.showing and self._box is not None else ""

    @property
    def problem(self) -> str | None:
        return self._problem if self.showing else None

    @property
    def modal(self) -> bool:
        return self._box is not None and self._box.isModal() or (
            self._box is not None
            and self._box.windowModality() != Qt.WindowModality.NonModal)

    def action_labels(self) -> list[str]:
        if not self.showing or self._box is None:
            return []
        return [b.text() for b in self._box.buttons()]

    def trigger(self, label: str) -> None:
        """Press the box's button ``label`` (as a user would)."""
        for button in self._box.buttons() if self._box is not None else []:
            if button.text() == label:
                button.click()
                return
        raise LookupError(f"no button {label!r} in the message box")
