"""The voxel probe (a click in the 3D view) and the slice plane of P, from the window
(real Qt + VTK under Xvfb)."""

from __future__ import annotations

import numpy as np
from gui_helpers import drop, files, wait_idle
from PyQt6.QtCore import QPoint, Qt

from r2n2_viewer.probe import gate_cell
from r2n2_viewer.scene import probability_rgb
from r2n2_viewer.slices import grid_slice, slice_image


def _qt_point(w, display: tuple[float, float]) -> QPoint:
    """A VTK display point (origin bottom left) as a position on the plotter widget."""
    x, y = display
    return QPoint(round(x), round(w.viewport.plotter.height() - 1 - y))


def _nearest_shown_voxel(w) -> tuple[int, int, int]:
    """The drawn voxel whose centre is nearest the camera (nothing hides its centre)."""
    scene = w.snapshot.scenes[w.state.step - 1]
    p = w.snapshot.steps[w.state.step - 1].probabilities
    idx = np.argwhere(p >= scene.threshold)
    assert len(idx) > 0
    eye = np.asarray(w.viewport.plotter.camera.position)
    return tuple(int(c) for c in idx[np.argmin(((idx - eye) ** 2).sum(axis=1))])


def test_probe_click_shows_the_voxels_history(qtbot, make_window, ckpt, images):
    w = make_window(ckpt)
    drop(w, files(*images[:3]))
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: not w.state.playing, timeout=10_000)
    s, box, plotter = w.state, w.panel.probe_box, w.viewport.plotter
    w.viewport.screenshot()  # rendered at its size: display <-> world is exact
    target = _nearest_shown_voxel(w)
    at = _qt_point(w, w.viewport.display_point(target))

    qtbot.mouseClick(plotter, Qt.MouseButton.LeftButton, pos=at)
    assert s.probe_voxel is None  # not probing: a click only turns the camera
    assert not box.plot.isVisible()

    box.check.setChecked(True)
    assert s.probing and w.viewport.probing and box.plot.isVisible()
    qtbot.mouseClick(plotter, Qt.MouseButton.LeftButton, pos=at)
    assert s.probe_voxel == target and w.viewport.probe_marker == target
    steps = w.snapshot.steps
    cell = gate_cell(target)
    np.testing.assert_array_equal(box.history.probability,
                                  [st.probabilities[target] for st in steps])
    np.testing.assert_array_equal(box.history.gate, [st.update_gate[cell] for st in steps])
    assert f"({target[0]}, {target[1]}, {target[2]})" in box.label.text()
    assert f"P = {steps[s.step - 1].probabilities[target]:.3f}" in box.label.text()
    assert not box.plot.pixmap().isNull() and box.plot.step == s.step == 3
    s.set_step(1)  # the marker and the label follow the step slider
    assert box.plot.step == 1 and box.plot.marker_column == box.plot._columns[0]
    assert f"P = {steps[0].probabilities[target]:.3f}" in box.label.text()

    camera = plotter.camera_position
    plotter_pos = _qt_point(w, (20, 20))  # a corner: no voxel there
    qtbot.mouseClick(plotter, Qt.MouseButton.LeftButton, pos=plotter_pos)
    assert s.probe_voxel == target and "No voxel" in w.statusBar().currentMessage()

    # a drag turns the camera and probes nothing
    qtbot.mousePress(plotter, Qt.MouseButton.LeftButton, pos=at)
    for dx in (10, 20, 40):
        qtbot.mouseMove(plotter, at + QPoint(dx, 0))
    qtbot.mouseRelease(plotter, Qt.MouseButton.LeftButton, pos=at + QPoint(40, 0))
    assert plotter.camera_position != camera
    assert s.probe_voxel == target

    box.check.setChecked(False)  # probing off forgets the voxel
    assert s.probe_voxel is None and w.viewport.probe_marker is None


def test_slice_plane_in_the_view_and_the_panel(qtbot, make_window, ckpt, images):
    w = make_window(ckpt)
    drop(w, files(*images[:3]))
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: not w.state.playing, timeout=10_000)
    s, box, vp = w.state, w.panel.slice_box, w.viewport
    assert not s.slice_on and vp.slice_values is None  # off by default
    assert not box.controls.isVisible()
    s.update(mode="uncertainty")
    assert vp.colour_bars == ["entropy (bits)"]

    box.check.setChecked(True)
    assert s.slice_on and box.controls.isVisible()
    assert (s.slice_axis, s.slice_index) == ("z", 16)
    steps = w.snapshot.steps

    def expect(step: int, axis: str, index: int) -> None:
        p = steps[step - 1].probabilities
        np.testing.assert_array_equal(vp.slice_values,
                                      grid_slice(p, axis, index).ravel(order="F"))
        image = box.image.pixmap().toImage()
        shown = np.array([[image.pixelColor(c * 5 + 2, r * 5 + 2).getRgb()[:3]
                           for c in range(32)] for r in range(32)])
        want = probability_rgb(slice_image(p, axis, index)).astype(int)
        # pytest-xvfb's screen has 16-bit colour: up to 8 levels lost per channel
        assert np.abs(shown - want).max() <= 8

    expect(3, "z", 16)
    assert vp.colour_bars == ["entropy (bits)", "P(occupied)"]  # the plane's numbers
    box.axis_box.setCurrentIndex(0)
    box.slider.setValue(5)
    assert (s.slice_axis, s.slice_index) == ("x", 5)
    assert box.position_label.text() == "x = 5" and "z \u2192" in box.caption.text()
    expect(3, "x", 5)
    s.set_step(1)  # moves with the step slider
    expect(1, "x", 5)
    s.update(slice_axis="y", slice_index=31)  # the state drives the controls
    assert box.axis_box.currentText() == "y" and box.slider.value() == 31
    expect(1, "y", 31)

    shot_on = vp.screenshot()
    box.check.setChecked(False)
    assert vp.slice_values is None and vp.colour_bars == ["entropy (bits)"]
    assert not box.controls.isVisible()
    assert (vp.screenshot() != shot_on).any()


def test_state_checks_the_probe_and_slice_fields(qapp):
    import pytest

    from r2n2_viewer.gui.state import ViewState

    s = ViewState()
    assert (s.probing, s.probe_voxel, s.slice_on) == (False, None, False)
    assert s.update(probe_voxel=np.array([1, 2, 3])) == {"probe_voxel"}
    assert s.probe_voxel == (1, 2, 3)
    s.update(slice_axis="x", slice_index=0)
    for bad in ({"probe_voxel": (0, 0, 32)}, {"slice_axis": "w"}, {"slice_index": 32},
                {"slice_index": -1}):
        with pytest.raises(ValueError):
            s.update(**bad)
    assert (s.probe_voxel, s.slice_axis, s.slice_index) == ((1, 2, 3), "x", 0)


def test_probe_and_slice_from_the_menu_bar_and_keys(qtbot, make_window, ckpt, images):
    w = make_window(ckpt)
    drop(w, files(*images[:2]))
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: not w.state.playing, timeout=10_000)
    s, acts = w.state, w.actions
    titles = [m.title() for m in w.menuBar().findChildren(type(acts["demos"]))
              if m.parent() is w.menuBar()]
    assert "&Tools" in titles
    tools = next(m for m in w.menuBar().findChildren(type(acts["demos"]))
                 if m.title() == "&Tools")
    assert [a.text() for a in tools.actions()] == [
        acts[n].text() for n in ("probing", "probe_dialog", "clear_probe")]
    assert acts["slice_on"].isCheckable() and not acts["slice_on"].isChecked()

    qtbot.keyClick(w, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # Ctrl+L
    assert s.slice_on and acts["slice_on"].isChecked() and acts["slice_axis:z"].isChecked()
    assert w.panel.slice_box.check.isChecked() and w.viewport.slice_values is not None
    qtbot.keyClick(w, Qt.Key.Key_X, Qt.KeyboardModifier.AltModifier)  # Alt+X
    assert s.slice_axis == "x" and acts["slice_axis:x"].isChecked()
    assert not acts["slice_axis:z"].isChecked()
    qtbot.keyClick(w, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert s.slice_index == 17 and w.panel.slice_box.slider.value() == 17
    acts["slice_down"].trigger()
    acts["slice_down"].trigger()
    assert s.slice_index == 15
    w.panel.slice_box.check.setChecked(False)  # the panel and the menu agree
    assert not acts["slice_on"].isChecked() and not acts["slice_axis:x"].isChecked()

    assert not acts["clear_probe"].isEnabled()
    assert not w.probe_text("3, 4")  # a bad entry: one line, nothing probed
    assert w.errors.history[-1][0] == "Cannot probe this voxel"
    assert "three integers" in w.errors.history[-1][1] and s.probe_voxel is None
    w.errors.close()
    assert w.probe_text("16, 12, 20")
    assert s.probing and s.probe_voxel == (16, 12, 20) and acts["probing"].isChecked()
    box = w.panel.probe_box
    assert box.check.isChecked() and "(16, 12, 20)" in box.label.text()
    assert w.viewport.probe_marker == (16, 12, 20) and acts["clear_probe"].isEnabled()
    acts["clear_probe"].trigger()
    assert s.probe_voxel is None and s.probing and "No voxel probed" in box.label.text()
    qtbot.keyClick(w, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)  # Ctrl+P: off
    assert not s.probing and not acts["probing"].isChecked() and not box.check.isChecked()
    qtbot.keyClick(w, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert s.probing and w.viewport.probing


def test_probe_plot_of_a_new_step_is_drawn_off_the_ui_thread(qtbot, make_window, ckpt,
                                                              images):
    """A step that arrives while a voxel is probed redraws the probe's plot in a pool
    thread; the plot then shows every step (the UI thread does not draw it)."""
    import threading

    from r2n2_viewer.gui import inside

    w = make_window(ckpt)
    drop(w, files(*images[:2]))
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: not w.state.playing, timeout=10_000)
    w.state.update(probing=True, probe_voxel=(16, 16, 16))
    box = w.panel.probe_box
    assert len(box.plot.values) == 2  # probing draws at once
    threads = []
    draw = inside.render_probe_plot

    def spy(*args):
        threads.append(threading.current_thread())
        return draw(*args)

    inside.render_probe_plot = spy
    try:
        drop(w, files(images[2]))
        wait_idle(qtbot, w)
        qtbot.waitUntil(lambda: len(box.plot.values) == 3, timeout=20_000)
    finally:
        inside.render_probe_plot = draw
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert len(box.plot._columns) == 3 and not box.plot.pixmap().isNull()
