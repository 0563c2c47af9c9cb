"""A word-wrapped text label for text that changes with every step.

A ``QLabel`` asks its parent layout to lay out again at every ``setText``, and that
request climbs to the whole side panel: every group box and label in it is measured
again (~3 ms per step change on a 2-core CPU, with several such labels). A
:class:`SteadyLabel` keeps its ``QLabel`` inside a widget without a layout, so a new
text only repaints the label; the panel is laid out again only when the text needs a
different height.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QSize, Qt
from PyQt6.QtWidgets import QLabel, QSizePolicy, QWidget

HEIGHTS_KEPT = 64  # measured (text, width) pairs a label remembers


class SteadyLabel(QWidget):
    """A word-wrapped label (``rich``: rich text) whose text changes re-lay out its
    surroundings only when its height for the current width changes."""

    def __init__(self, parent: QWidget | None = None, rich: bool = False,
                 style: str = "") -> None:
        super().__init__(parent)
        self.label = QLabel("", self)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        if rich:
            self.label.setTextFormat(Qt.TextFormat.RichText)
        if style:
            self.label.setStyleSheet(style)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self._height: int | None = None  # the height the layout was last told about
        self._heights: dict[tuple[str, int], int] = {}  # (text, width) -> height

    def text(self) -> str:
        return self.label.text()

    def setText(self, text: str) -> None:  # noqa: N802  (Qt's name)
        if text == self.label.text():
            return
        self.label.setText(text)
        height = self.heightForWidth(self.width())
        if height != self._height:
            self._height = height
            self.updateGeometry()

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        """The label's height at ``width``, remembered for the texts seen lately (moving
        the step slider back and forth shows the same few texts; laying a rich text out
        to measure it costs ~0.4 ms)."""
        text = self.label.text()
        if not text:
            return 0
        key = (text, width)
        if key not in self._heights:
            if len(self._heights) >= HEIGHTS_KEPT:
                self._heights.clear()
            self._heights[key] = self.label.heightForWidth(width)
        return self._heights[key]

    def sizeHint(self) -> QSize:  # noqa: N802
        hint = self.label.sizeHint()
        return QSize(hint.width(), self.heightForWidth(hint.width()))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, 0)

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._heights.clear()  # the texts measure differently now

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.label.setGeometry(self.rect())
        self._height = self.heightForWidth(self.width())
