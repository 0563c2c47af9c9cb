"""Looking inside the network from the window: colour bars, the current-step marker on
the IoU plot, errors against the truth, uncertainty and its band (real Qt + VTK)."""

from __future__ import annotations

import numpy as np
from gui_helpers import drop, files, wait_idle
from test_gui_window import dataset_model

from r2n2_viewer.analysis import entropy, truth_errors
from r2n2_viewer.gui.plot import MARK_RGB


def _truth() -> np.ndarray:
    truth = np.zeros((32, 32, 32), bool)
    truth[8:24, 4:28, 8:24] = True
    return truth


def test_errors_mode_colour_bar_and_iou_marker(qtbot, make_window, ckpt, images, tmp_path):
    w = make_window(ckpt)
    w.open_dataset_model(dataset_model(tmp_path / "data", images[:3], _truth()))
    wait_idle(qtbot, w)
    s = w.state
    qtbot.waitUntil(lambda: not s.playing, timeout=10_000)
    assert w.viewport.colour_bars == ["P(occupied)"]  # cubes: numbers for P

    s.update(mode="errors")
    s.set_step(2)
    assert w.viewport.shown == [(2, "errors")]  # the truth is in the errors already
    assert w.viewport.colour_bars == ["vs. truth"]
    err = truth_errors(w.snapshot.steps[1].probabilities, _truth(), s.threshold)
    scene = w.snapshot.scenes[1]
    assert (scene.n_false_positive, scene.n_false_negative) == (
        err.counts["false_positive"], err.counts["false_negative"])
    assert f"{scene.n_false_negative} false negative" in w.panel.info_label.text()
    assert "false positive" in w.panel.legend.text()

    plot = w.panel.iou_plot
    cols = w.snapshot.iou_columns
    assert len(cols) == 3 and cols[0] < cols[1] < cols[2]
    for k in (1, 3, 2):
        s.set_step(k)
        assert plot.step == k and plot.marker_column == cols[k - 1]
    img = plot.pixmap().toImage()
    mid = round(sum(w.snapshot.iou_rows) / 2)
    colour = img.pixelColor(round(cols[1]), mid)
    got = (colour.red(), colour.green(), colour.blue())
    assert max(abs(a - b) for a, b in zip(got, MARK_RGB, strict=True)) <= 6, got
    colour = img.pixelColor(round(cols[0]), mid)  # no marker on the other steps
    assert abs(colour.red() - MARK_RGB[0]) + abs(colour.green() - MARK_RGB[1]) > 30
    shot = w.viewport.screenshot()
    right = shot[:, int(0.8 * shot.shape[1]):].astype(int)
    r, b = right[..., 0], right[..., 2]
    assert ((r > b + 80) & (r > 150)).sum() > 20  # the orange "false positive" label


def test_errors_mode_without_truth_shows_cubes(qtbot, make_window, ckpt, images):
    w = make_window(ckpt)
    drop(w, files(images[0]))
    wait_idle(qtbot, w)
    w.state.update(mode="errors")
    assert w.viewport.shown == [(1, "cubes")]
    assert w.panel.iou_plot.marker_column is None  # no plot without a truth


def test_uncertainty_mode_and_band_controls(qtbot, make_window, ckpt, images):
    w = make_window(ckpt)
    drop(w, files(*images[:2]))
    wait_idle(qtbot, w)
    s, panel = w.state, w.panel
    assert not panel.band_check.isEnabled()  # only for the uncertainty mode
    assert not panel.band_row.isVisible()
    s.update(mode="uncertainty")
    assert w.viewport.shown == [(2, "uncertainty")]
    assert w.viewport.colour_bars == ["entropy (bits)"]
    assert panel.band_check.isEnabled() and "entropy" in panel.legend.text()
    assert panel.band_row.isVisible()

    panel.band_check.setChecked(True)  # the control writes to the state
    assert s.band_only and w.viewport.shown == [(2, "band")]
    panel.band_spins[1].setValue(0.5)
    assert s.band == (0.2, 0.5)
    panel.band_spins[0].setValue(0.7)  # low above high: refused, the spin snaps back
    assert s.band == (0.2, 0.5) and panel.band_spins[0].value() == 0.2
    qtbot.waitUntil(lambda: w.snapshot.scenes[-1].band_range == (0.2, 0.5), timeout=20_000)
    wait_idle(qtbot, w)
    p = w.snapshot.steps[-1].probabilities
    scene = w.snapshot.scenes[-1]
    assert scene.n_band == int(((p > 0.2) & (p < 0.5)).sum())
    assert abs(scene.mean_entropy - float(entropy(p).mean())) < 1e-6
    assert w.viewport.shown == [(2, "band")]
    s.update(band_only=False)  # the state drives the control back
    assert not panel.band_check.isChecked()
