"""Cameras and seen-vs-inferred in the window: presets from the menu and the panel,
looking from a demo view's camera, the camera kept while scrubbing, the seen mode and its
counts (real Qt + VTK)."""

from __future__ import annotations

import numpy as np
from gui_helpers import wait_idle

from r2n2_viewer.cameras import view_cameras
from r2n2_viewer.demo import list_demos
from r2n2_viewer.visibility import seen_and_inferred


def _open_demo(qtbot, w, name: str) -> None:
    """Open a demo and wait until its steps have played (5 steps on a loaded machine)."""
    w.open_demo(name)
    qtbot.waitUntil(lambda: w.snapshot is not None and len(w.snapshot.scenes) == 5
                    and not w.busy_now and not w.play_when_idle and not w.state.playing,
                    timeout=240_000)


def _direction(pose) -> np.ndarray:
    d = np.array(pose[0]) - np.array(pose[1])
    return d / np.linalg.norm(d)


def test_presets_look_from_view_and_kept_while_scrubbing(qtbot, make_window, ckpt):
    demo = list_demos()[0]
    w = make_window(ckpt)
    _open_demo(qtbot, w, demo.name)
    s = w.state
    vp = w.viewport

    w.actions["camera:front"].trigger()
    assert s.camera == "front"
    np.testing.assert_allclose(_direction(vp.camera_pose), [0, 0, 1], atol=1e-6)
    w.panel.camera_buttons["side"].click()
    assert s.camera == "side"
    np.testing.assert_allclose(_direction(vp.camera_pose), [1, 0, 0], atol=1e-6)
    assert w.actions["camera:top"].shortcut().toString() == "Alt+3"

    # look from view 3: exactly its camera, moved into the index frame
    cams = view_cameras(demo.images)
    box = w.panel.look_box
    assert box.count() == 1 + len(demo.images) and box.isEnabled()
    box.activated.emit(3)
    assert s.camera == "view:3"
    want = cams[2].index_camera()
    pose = vp.camera_pose
    np.testing.assert_allclose(pose[0], want.position, atol=1e-6)
    np.testing.assert_allclose(pose[1], want.focal_point, atol=1e-6)
    assert abs(pose[3][0] - want.view_angle) < 1e-6
    s.set_step(1)  # scrubbing keeps the camera
    s.set_step(4)
    np.testing.assert_allclose(vp.camera_pose[0], want.position, atol=1e-6)
    s.update(step=2)
    w.actions["look_from_step_view"].trigger()  # Alt+0: the shown step's view
    assert s.camera == "view:2"
    np.testing.assert_allclose(vp.camera_pose[0], cams[1].index_camera().position, atol=1e-6)
    w.actions["reset_camera"].trigger()
    assert s.camera == "default"


def test_seen_mode_counts_in_the_panel(qtbot, make_window, ckpt):
    demo = list_demos()[0]
    w = make_window(ckpt)
    _open_demo(qtbot, w, demo.name)
    s = w.state
    assert not any(sc.seen_known for sc in w.snapshot.scenes)  # cast only when shown
    s.update(mode="seen")
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: all(sc.seen_known for sc in w.snapshot.scenes), timeout=120_000)
    s.set_step(3)
    assert (3, "seen") in w.viewport.shown
    assert w.viewport.colour_bars[0] == "by views so far"
    cams = view_cameras(demo.images)
    split = seen_and_inferred(w.snapshot.steps[2].probabilities, cams[:3], s.threshold)
    scene = w.snapshot.scenes[2]
    assert (scene.n_seen, scene.n_inferred) == (split.counts["seen"], split.counts["inferred"])
    assert scene.seen_views == 3
    text = w.panel.info_label.text()
    assert f"{scene.n_seen} seen" in text and f"{scene.n_inferred} inferred" in text
    assert "inferred" in w.panel.legend.text()


def test_own_photos_have_no_camera_to_look_from(qtbot, make_window, ckpt, images):
    w = make_window(ckpt)
    w.add_paths(images[:2])
    wait_idle(qtbot, w)
    assert not w.panel.look_box.isEnabled()
    assert w.look_from_view(1) is False
    assert "no known camera" in w.statusBar().currentMessage()
    assert w.state.camera == "default"
    w.state.update(mode="seen")
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: w.snapshot.scenes[-1].seen_known, timeout=60_000)
    scene = w.snapshot.scenes[-1]
    assert scene.seen_views == 0 and scene.n_seen == 0 and scene.n_inferred == scene.n_voxels


def test_sequence_file_keeps_the_views_cameras(qtbot, make_window, ckpt, tmp_path):
    from r2n2_viewer.sequence import SUFFIX

    demo = list_demos()[0]
    w = make_window(ckpt)
    _open_demo(qtbot, w, demo.name)
    cams = view_cameras(demo.images)
    saved = w.sequences.save(tmp_path / "demo")
    assert saved is not None and saved.suffix == SUFFIX
    w.clear_views()
    wait_idle(qtbot, w)
    assert w.view_cameras() == []
    assert w.sequences.open(saved)
    qtbot.waitUntil(lambda: w.snapshot is not None and len(w.snapshot.scenes) == 5
                    and not w.busy_now, timeout=240_000)
    assert w.view_cameras() == cams  # reopened with its cameras
    assert w.look_from_view(4)
    np.testing.assert_allclose(w.viewport.camera_pose[0], cams[3].index_camera().position,
                               atol=1e-6)
    w.state.update(mode="seen")
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: all(sc.seen_known for sc in w.snapshot.scenes), timeout=120_000)
    scene = w.snapshot.scenes[2]
    split = seen_and_inferred(w.snapshot.steps[2].probabilities, cams[:3], w.state.threshold)
    assert scene.seen_views == 3 and scene.n_seen == split.counts["seen"] > 0
