"""Next best view, view orders and a second model from the window (real Qt + VTK)."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import drop, files, shifted_checkpoint, wait_idle
from PyQt6.QtCore import Qt
from test_gui_window import dataset_model

from r2n2_viewer.compare import step_ious
from r2n2_viewer.next_view import rank_next_views
from r2n2_viewer.view_order import order_spread


def _truth() -> np.ndarray:
    truth = np.zeros((32, 32, 32), bool)
    truth[8:24, 4:28, 8:24] = True
    return truth


@pytest.fixture(scope="module")
def other_ckpt(tmp_path_factory, tiny_net) -> str:
    """A second tiny network whose reconstructions differ from the first's."""
    return shifted_checkpoint(tmp_path_factory.mktemp("other"), tiny_net, 0.6, "other-tiny")


def test_rank_and_add_the_best_next_view(qtbot, make_window, ckpt, images, tmp_path):
    w = make_window(ckpt)
    box = w.next_view
    assert not box.add_button.isEnabled()
    box.rank()  # nothing to rank: said in one line
    assert w.errors.history[-1][0] == "No candidate views"
    w.errors.close()
    pictures = [*images, images[4], images[0], images[2]]  # 8 renderings: 3 unused
    w.open_dataset_model(dataset_model(tmp_path / "data", pictures, _truth()))
    wait_idle(qtbot, w)
    assert len(w.snapshot.scenes) == 5 and len(box.candidates) == 3
    assert box.pool_label.text() == "3 unused views" and box.add_button.isEnabled()

    qtbot.mouseClick(box.rank_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, w)
    session = w.worker.jobs.session
    expect = rank_next_views(session, [s.source for s in box.candidates],
                             [s.label for s in box.candidates])
    assert box.list.count() == 3
    for k, g in enumerate(expect):
        assert box.list.item(k).text() == f"{k + 1}. {g.gain:+.4f} bits  {g.label}"
    assert len(w.snapshot.scenes) == 5  # ranking changes nothing

    qtbot.mouseClick(box.add_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, w)
    assert len(w.snapshot.scenes) == 6
    assert w.snapshot.labels[-1] == expect[0].label
    assert len(box.candidates) == 2 and box.list.count() == 2
    assert expect[0].label not in [s.label for s in box.candidates]
    assert box.pool_label.text() == "2 unused views"

    w.strip.removeRequested.emit(0)  # a removed view becomes a candidate
    wait_idle(qtbot, w)
    assert len(w.snapshot.scenes) == 5 and len(box.candidates) == 3
    assert box.candidates[-1].label == "00.png"
    w.clear_views()
    wait_idle(qtbot, w)
    assert box.candidates == []


def test_candidates_from_a_folder(qtbot, make_window, ckpt, images, tmp_path):
    w = make_window(ckpt)
    box = w.next_view
    box.add_folder(tmp_path / "missing")
    assert w.errors.history[-1] == ("No candidate views", f"{tmp_path / 'missing'}: no such "
                                    "folder")
    w.errors.close()
    drop(w, files(images[0]))
    wait_idle(qtbot, w)
    box.add_folder(images[0].rsplit("/", 1)[0])
    box.add_folder(images[0].rsplit("/", 1)[0])  # twice: no duplicates
    assert len(box.candidates) == 5
    job = box.rank(add_best=True)
    assert job > 0
    wait_idle(qtbot, w)
    assert len(w.snapshot.scenes) == 2 and len(box.candidates) == 4


def test_view_orders_drawn_as_a_band(qtbot, make_window, ckpt, images, tmp_path):
    w = make_window(ckpt)
    box = w.next_view
    w.open_dataset_model(dataset_model(tmp_path / "data", images[:3], _truth()))
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: not w.state.playing, timeout=10_000)
    plain = w.snapshot.iou_plot
    box.orders_spin.setValue(4)
    qtbot.mouseClick(box.orders_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, w)
    spread = w.snapshot.spread
    assert spread is not None and spread.metric == "iou" and spread.values.shape == (4, 3)
    session = w.worker.jobs.session
    ref = order_spread(session, orders=spread.orders, truth=_truth(),
                       threshold=w.state.threshold)
    np.testing.assert_allclose(spread.values, ref.values, atol=1e-6)
    assert "4 orders, last step IoU" in box.orders_label.text()
    band = np.abs(w.snapshot.iou_plot.astype(int) - plain.astype(int)).sum(-1)
    assert (band > 30).sum() > 200  # the band is drawn behind the curve
    w.state.update(threshold=0.55)  # another threshold: the spread is stale
    qtbot.wait(300)
    wait_idle(qtbot, w)
    assert w.snapshot.spread is None and box.orders_label.text() == ""


def test_view_orders_without_truth_spread_the_voxel_count(qtbot, make_window, ckpt, images):
    w = make_window(ckpt)
    box = w.next_view
    drop(w, files(images[0]))
    wait_idle(qtbot, w)
    box.try_orders(3)
    assert w.errors.history[-1] == ("Cannot try other view orders",
                                    "other orders need at least two views")
    w.errors.close()
    drop(w, files(*images[1:3]))
    wait_idle(qtbot, w)
    box.try_orders(3)
    wait_idle(qtbot, w)
    snap = w.snapshot
    assert snap.spread.metric == "voxels" and snap.iou_plot is not None
    t = w.state.threshold
    assert snap.plot_values == [float((s.probabilities >= t).sum()) for s in snap.steps]
    assert w.panel.iou_plot.values == snap.plot_values
    drop(w, files(images[3]))  # another view: the spread is stale
    wait_idle(qtbot, w)
    assert w.snapshot.spread is None and w.snapshot.iou_plot is None


def test_compare_two_models_side_by_side(qtbot, make_window, ckpt, other_ckpt, images,
                                         tmp_path):
    w = make_window(ckpt)
    assert {"compare_weights", "close_comparison"} <= set(w.actions)
    w.open_dataset_model(dataset_model(tmp_path / "data", images[:3], _truth()))
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: not w.state.playing, timeout=10_000)
    w.comparison.open(other_ckpt)
    wait_idle(qtbot, w)
    snap = w.snapshot
    assert snap.compare_name.startswith("other-tiny") and len(snap.compare_scenes) == 3
    assert len(snap.compare_ious) == 3 and snap.compare_ious != snap.ious
    qtbot.waitUntil(lambda: w.comparison.camera_shared, timeout=20_000)
    assert "other-tiny" in w.comparison.caption.text()
    s = w.state
    s.set_step(2)
    second = w.comparison.view
    assert second.shown == w.viewport.shown and (2, "cubes") in second.shown
    w.viewport.plotter.camera.azimuth = 40.0  # one camera: turning one turns both
    assert second.plotter.camera.position == w.viewport.plotter.camera.position

    w.worker.remove_view(0)  # the second model follows the views
    wait_idle(qtbot, w)
    assert len(w.snapshot.compare_scenes) == 2
    second_session = w.worker.jobs.compare
    assert [np.array_equal(a, b) for a, b in zip(second_session.views, w.snapshot.views,
                                                   strict=True)] == [True, True]
    assert w.snapshot.compare_ious == step_ious(second_session, _truth(), w.state.threshold)
    w.comparison.close()
    wait_idle(qtbot, w)
    assert w.comparison.view is None and w.snapshot.compare_scenes == []
    assert w.snapshot.compare_ious == []
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not weights")
    w.comparison.open(bad)
    wait_idle(qtbot, w)
    assert w.errors.history[-1][0] == "Cannot compare with these weights"
    assert w.comparison.view is None
