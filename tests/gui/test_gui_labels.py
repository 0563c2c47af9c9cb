"""SteadyLabel: a new text repaints the label; the panel around it is laid out again only
when the text needs a different height."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject
from PyQt6.QtWidgets import (
    QApplication,
    QGroupBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from r2n2_viewer.gui.labels import SteadyLabel


class _LayoutRequests(QObject):
    """Counts the layout passes asked for anywhere in ``area`` (an application-wide
    filter: a layout request goes to the top widget of the layout that was touched)."""

    def __init__(self, area: QWidget) -> None:
        super().__init__(area)  # goes (and stops filtering) with the area
        self.area = area
        self.count = 0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        # a request to a widget without a layout (the label's own holder) lays out nothing
        if event.type() == QEvent.Type.LayoutRequest and isinstance(obj, QWidget) and (
                obj is self.area or self.area.isAncestorOf(obj)) and obj.layout() is not None:
            self.count += 1
        return False


def _panel(qtbot, label_type):
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFixedWidth(260)
    body = QWidget()
    lay = QVBoxLayout(body)
    box = QGroupBox("This step", body)
    label = label_type(box) if label_type is QLabel else label_type(box, rich=True)
    if label_type is QLabel:
        label.setWordWrap(True)
    QVBoxLayout(box).addWidget(label)
    lay.addWidget(box)
    lay.addWidget(QLabel("below", body))
    lay.addStretch(1)
    area.setWidget(body)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    requests = _LayoutRequests(area)
    QApplication.instance().installEventFilter(requests)
    return area, body, box, label, requests


def _settle(qtbot, requests: _LayoutRequests) -> None:
    """Let Qt finish what is pending: until no layout pass is asked for 100 ms (a loaded
    machine may deliver the events of a change late)."""
    for _ in range(50):
        seen = requests.count
        qtbot.wait(100)
        if requests.count == seen:
            return


def test_steady_label_relays_out_only_when_its_height_changes(qtbot):
    area, body, box, label, requests = _panel(qtbot, SteadyLabel)
    label.setText("<b>Step 1</b> of 5<br>3910 voxels")
    _settle(qtbot, requests)
    two_lines = label.height()
    assert label.text() == "<b>Step 1</b> of 5<br>3910 voxels" and two_lines > 0
    requests.count = 0
    for k in range(2, 6):  # same number of lines: no layout pass of the panel
        label.setText(f"<b>Step {k}</b> of 5<br>{3900 + k} voxels")
        qtbot.wait(100)
    assert requests.count == 0 and label.height() == two_lines
    assert label.label.text().startswith("<b>Step 5</b>")
    # a longer text needs more lines: the panel makes room, the group box grows
    before = box.height()
    label.setText("<br>".join(f"line {i}" for i in range(6)))
    qtbot.waitUntil(lambda: label.height() > two_lines and box.height() > before,
                    timeout=10_000)
    assert requests.count > 0
    assert label.label.geometry() == label.rect()


def test_plain_label_relays_out_the_panel_at_every_change(qtbot):
    """The cost SteadyLabel avoids: a QLabel's new text lays the whole panel out again."""
    area, body, box, label, requests = _panel(qtbot, QLabel)
    label.setText("Step 1 of 5")
    _settle(qtbot, requests)
    requests.count = 0
    label.setText("Step 2 of 5")
    qtbot.waitUntil(lambda: requests.count > 0, timeout=10_000)
