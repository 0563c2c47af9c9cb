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
    box.rank()  # nothing to rank: the box's own advice for what is shown, in one dialog
    assert w.errors.history[-1] == ("No candidate views", box.hint())
    assert box.hint().startswith("Add views first")
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
    w.state.update(mode="points")  # translucent points: sorted from the shared camera
    shared = w.viewport.plotter.renderer.GetActiveCamera()
    assert w.comparison.view.sorting_cameras
    assert all(c is shared for c in w.comparison.view.sorting_cameras)
    w.state.update(mode="cubes")
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


def test_compare_view_shows_its_own_seen_and_inferred_split(qtbot, make_window, ckpt,
                                                            other_ckpt):
    from test_gui_cameras import _open_demo

    from r2n2_viewer.cameras import view_cameras
    from r2n2_viewer.demo import list_demos
    from r2n2_viewer.visibility import seen_and_inferred

    demo = list_demos()[0]
    w = make_window(ckpt)
    _open_demo(qtbot, w, demo.name)
    w.comparison.open(other_ckpt)
    wait_idle(qtbot, w)
    assert len(w.snapshot.compare_scenes) == 5
    assert not any(sc.seen_known for sc in w.snapshot.compare_scenes)  # cast when shown
    figures = w.comparison.figures
    assert "seen" not in figures.text() and "step 5:" in figures.text()
    w.state.update(mode="seen")
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: all(sc.seen_known for sc in w.snapshot.compare_scenes),
                    timeout=120_000)
    w.state.set_step(2)
    cams = view_cameras(demo.images)
    second = w.worker.jobs.compare
    scene = w.snapshot.compare_scenes[1]
    split = seen_and_inferred(second.steps[1].probabilities, cams[:2], w.state.threshold)
    assert (scene.n_seen, scene.n_inferred) == (split.counts["seen"], split.counts["inferred"])
    assert scene.seen_views == 2 and scene.n_seen > 0
    ours = w.snapshot.scenes[1]
    assert (ours.n_seen, ours.n_inferred) != (scene.n_seen, scene.n_inferred)
    assert (2, "seen") in w.comparison.view.shown
    text = figures.text()
    assert f"{scene.n_seen} seen" in text and f"{scene.n_inferred} inferred" in text
    assert "2 of 2 views" in text and f"IoU <b>{scene.iou:.3f}</b>" in text
    w.state.update(mode="cubes")
    assert "seen" not in figures.text() and (2, "cubes") in w.comparison.view.shown


def test_candidates_listed_at_once_later_views_from_an_earlier_step(qtbot, make_window, ckpt,
                                                                     images, tmp_path):
    w = make_window(ckpt)
    box = w.next_view
    assert box.list.count() == 1 and "Add views first" in box.list.item(0).text()
    assert box.list.item(0).flags() == Qt.ItemFlag.NoItemFlags  # a note, not a candidate
    pictures = [*images, images[4], images[0], images[2]]  # 8 renderings: 3 unused
    w.open_dataset_model(dataset_model(tmp_path / "data", pictures, _truth()))
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: not w.state.playing and w.state.step == 5, timeout=20_000)
    # listed before any ranking
    assert [box.list.item(k).text() for k in range(box.list.count())] == [
        f"\u00b7 {s.label}  (not ranked yet)" for s in box.candidates]
    assert box.from_step() is None and box.pool_label.text() == "3 unused views"

    w.state.set_step(2)  # an earlier step: the later views are candidates for view 3
    assert box.from_step() == 2 and box.list.count() == 6
    assert box.pool_label.text() == ("Candidates for view 3 (after step 2): 3 later views "
                                     "of the sequence and 3 unused views")
    assert box.list.item(0).text() == f"\u00b7 view 3: {w.snapshot.labels[2]}  (not ranked yet)"
    box.rank()
    wait_idle(qtbot, w)
    session = w.worker.jobs.session
    pool = box.pool()
    inputs = [*session.views[2:5], *[s.source for s in box.candidates]]
    expect = rank_next_views(session, inputs, [s.label for s in pool], after=2)
    assert [box.list.item(k).text() for k in range(6)] == [
        f"{k + 1}. {g.gain:+.4f} bits  {g.label}" for k, g in enumerate(expect)]
    w.state.set_step(3)  # another step: that ranking is not this step's
    assert "not ranked yet" in box.list.item(0).text()
    w.state.set_step(2)

    labels = list(w.snapshot.labels)
    best = pool[expect[0].index]
    box.rank(add_best=True)
    wait_idle(qtbot, w)
    assert w.state.step == 3
    if best.position is not None:  # a later view: moved to be view 3
        assert len(w.snapshot.scenes) == 5
        assert w.snapshot.labels[2] == labels[best.position]
        assert sorted(w.snapshot.labels) == sorted(labels)
    else:  # an unused view: put in as view 3
        assert len(w.snapshot.scenes) == 6 and w.snapshot.labels[2] == best.label
        assert best not in box.candidates
    assert "as view 3" in w.statusBar().currentMessage()


def test_no_candidates_the_list_says_how_to_get_some(qtbot, make_window, ckpt, images):
    w = make_window(ckpt)
    box = w.next_view
    w.inputs.load_sequence(images[:3], _truth(), "the demo \u201ctest\u201d")
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: not w.state.playing and w.state.step == 3, timeout=20_000)
    assert box.list.count() == 1 and not box.add_button.isEnabled()
    hint = box.list.item(0).text()
    assert "Every view of the demo \u201ctest\u201d is in use" in hint
    assert "Step back" in hint and "From folder" in hint
    w.state.set_step(1)
    assert box.list.count() == 2 and box.add_button.isEnabled()
    w.clear_views()
    wait_idle(qtbot, w)
    w.add_paths(images[:2])  # own photos
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: w.state.step == 2, timeout=20_000)
    hint = box.list.item(0).text()
    assert box.list.count() == 1 and hint.startswith("No unused views. From folder")


def test_a_bundled_demo_offers_its_spare_renderings_as_next_views(qtbot, make_window, ckpt):
    """Opening a demo lists its candidate renderings (with their cameras) at once; the best
    one added becomes view 6, and its camera comes with it."""
    from r2n2_viewer.demo import find_demo

    demo = find_demo("sofa")
    w = make_window(ckpt)
    w.open_demo(demo.name)
    wait_idle(qtbot, w)
    box = w.next_view
    assert [s.label for s in box.candidates] == [p.name for p in demo.candidates]
    assert all(s.camera is not None for s in box.candidates)
    assert box.pool_label.text() == "3 unused views" and box.add_button.isEnabled()
    assert box.list.count() == 3 and "not ranked yet" in box.list.item(0).text()
    box.rank(add_best=True)
    qtbot.waitUntil(lambda: len(w.snapshot.scenes) == 6, timeout=60_000)
    wait_idle(qtbot, w)
    assert w.snapshot.labels[5] in {p.name for p in demo.candidates}
    assert len(box.candidates) == 2 and w.snapshot.records[5].camera is not None


def test_a_shared_camera_also_orders_the_points_built_before(qtbot, make_window, ckpt,
                                                            images):
    """Points already built are re-sorted from the camera a view starts to share."""
    import pyvista as pv

    w = make_window(ckpt)
    w.add_paths(images[:3])
    wait_idle(qtbot, w)
    w.state.update(mode="points")
    for k in (1, 2, 3):
        w.state.set_step(k)
    vp = w.viewport
    own = vp.plotter.renderer.GetActiveCamera()
    assert len(vp.sorting_cameras) == 3 and all(c is own for c in vp.sorting_cameras)
    other = pv.Camera()
    vp.share_camera(other)
    assert vp.plotter.renderer.GetActiveCamera() is other
    assert all(c is other for c in vp.sorting_cameras)
