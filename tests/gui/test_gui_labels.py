"""SteadyLabel: a new text repaints the label; the panel around it is laid out again only
when the text needs a different height."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject
from PyQt6.QtWidgets import QGroupBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from r2n2_viewer.gui.labels import SteadyLabel


class _LayoutRequests(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest:
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
    requests = _LayoutRequests()
    area.viewport().installEventFilter(requests)
    return area, body, box, label, requests


def _settle(qtbot) -> None:
    qtbot.wait(30)


def test_steady_label_relays_out_only_when_its_height_changes(qtbot):
    area, body, box, label, requests = _panel(qtbot, SteadyLabel)
    label.setText("<b>Step 1</b> of 5<br>3910 voxels")
    _settle(qtbot)
    two_lines = label.height()
    assert label.text() == "<b>Step 1</b> of 5<br>3910 voxels" and two_lines > 0
    requests.count = 0
    for k in range(2, 6):  # same number of lines: no layout pass of the panel
        label.setText(f"<b>Step {k}</b> of 5<br>{3900 + k} voxels")
        _settle(qtbot)
    assert requests.count == 0 and label.height() == two_lines
    assert label.label.text().startswith("<b>Step 5</b>")
    # a longer text needs more lines: the panel makes room, the group box grows
    before = box.height()
    label.setText("<br>".join(f"line {i}" for i in range(6)))
    _settle(qtbot)
    assert requests.count > 0 and label.height() > two_lines and box.height() > before
    assert label.label.geometry() == label.rect()


def test_plain_label_relays_out_the_panel_at_every_change(qtbot):
    """The cost SteadyLabel avoids: a QLabel's new text lays the whole panel out again."""
    area, body, box, label, requests = _panel(qtbot, QLabel)
    label.setText("Step 1 of 5")
    _settle(qtbot)
    requests.count = 0
    label.setText("Step 2 of 5")
    _settle(qtbot)
    assert requests.count > 0
