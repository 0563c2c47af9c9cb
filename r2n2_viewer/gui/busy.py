"""The status bar's busy area: what the worker is doing, its progress, a Cancel button."""

from __future__ import annotations

from PyQt6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class BusyArea(QWidget):
    """Hidden while idle; shows the job's text, a bar (determinate when the fraction is
    known) and Cancel, which calls ``on_cancel``."""

    def __init__(self, on_cancel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("", self)
        self.label.setFixedWidth(220)  # a changing text must not re-layout the window
        self.bar = QProgressBar(self)
        self.bar.setFixedWidth(120)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the running job after its current step (Esc)")
        self.cancel_button.clicked.connect(on_cancel)
        for w in (self.label, self.bar, self.cancel_button):
            lay.addWidget(w)
        self.fraction: float | None = None
        self.set_idle()

    def set_busy(self, what: str = "Working", fraction: float = -1.0) -> None:
        self.label.setText(f"{what}\u2026")
        if fraction < 0:
            self.fraction = None
            self.bar.setRange(0, 0)  # an animated bar: length unknown
        else:
            self.fraction = min(1.0, float(fraction))
            self.bar.setRange(0, 100)
            self.bar.setValue(round(100 * self.fraction))
        self.setVisible(True)

    def set_idle(self) -> None:
        self.label.setText("")
        self.fraction = None
        self.setVisible(False)

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
