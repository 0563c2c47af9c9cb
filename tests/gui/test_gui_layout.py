"""The window at small sizes: nothing overlaps or is clipped; the side panel scrolls."""

from __future__ import annotations

import pytest
from PyQt6.QtWidgets import QGroupBox


@pytest.mark.parametrize("size", [(1280, 720), (1024, 640)])
def test_side_panel_fits_small_windows(qtbot, make_window, ckpt, size):
    w = make_window(ckpt, size=size)
    qtbot.waitUntil(lambda: (w.width(), w.height()) == size, timeout=5000)
    central = w.centralWidget()
    panel, viewport = w.panel, w.viewport
    assert panel.geometry().right() < central.width()  # the whole panel is on screen
    assert viewport.geometry().right() < panel.geometry().left()  # side by side
    assert viewport.width() >= 320 and viewport.height() >= 240
    boxes = [b for b in panel.widget().findChildren(QGroupBox) if b.parent() is panel.widget()]
    assert len(boxes) >= 7 and w.next_view in boxes  # display ... next view and order
    assert {panel.probe_box, panel.slice_box} <= set(boxes)
    for box in boxes:  # every group gets the height it asks for: nothing clipped
        assert box.height() >= box.minimumSizeHint().height()
    for upper, lower in zip(boxes, boxes[1:], strict=False):
        assert upper.geometry().bottom() < lower.geometry().top()  # no overlap
    body = panel.widget()
    if body.minimumSizeHint().height() > panel.viewport().height():
        assert panel.verticalScrollBar().isVisible()  # the rest is a scroll away
    for check in w.panel.overlay_boxes.values():  # labels are not cut off
        assert check.width() >= check.sizeHint().width()
    assert w.strip.geometry().top() > viewport.geometry().bottom()


def test_the_window_cannot_shrink_below_its_minimum(qtbot, make_window, ckpt):
    from r2n2_viewer.gui.main_window import MIN_SIZE

    w = make_window(ckpt, size=(600, 400))
    assert w.width() >= MIN_SIZE[0] and w.height() >= MIN_SIZE[1]
