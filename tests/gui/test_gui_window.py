"""The viewer window end to end (real Qt + VTK under Xvfb): drops, scrubbing, modes,
keys, threshold, reordering, bad input, demos, dataset models, no model, closing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import WAIT_MS, drop, files, wait_idle
from PyQt6.QtCore import QSettings, Qt, QUrl
from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import QApplication

from r2n2_viewer.models.voxels import iou, write_binvox


def test_drop_scrub_modes_and_keys(qtbot, make_window, ckpt, images, settings_file):
    w = make_window(ckpt)
    s = w.state
    assert w.model_name == "shifted-tiny" and w.device_name == "cpu"
    assert "shifted-tiny" in w.model_label.text()

    drop(w, files(*images[:2]))  # on the window: two files, two steps, in drop order
    wait_idle(qtbot, w)
    drop(w.strip.viewport(), files(images[2]))  # on the strip
    wait_idle(qtbot, w)
    assert len(w.snapshot.scenes) == 3 and w.strip.count() == 3
    assert w.snapshot.labels == ["view_1.png", "view_2.png", "view_3.png"]
    assert s.step == 3 and s.n_steps == 3  # follows the newest step
    assert "step 3 of 3" in w.step_label.text() and "ms/step" in w.ms_label.text()
    tip = w.strip.item(0).toolTip()
    assert "data:image/png;base64," in tip and "127" in tip

    shots = {}
    for k in (1, 3):
        s.set_step(k)
        assert w.viewport.shown == [(k, "cubes")]
        assert w.stepbar.slider.value() == k  # the slider follows the state
        shots[k] = w.viewport.screenshot()
    for img in shots.values():
        assert img.ndim == 3 and img.std() > 5  # not blank
    assert np.abs(shots[1].astype(int) - shots[3].astype(int)).sum() > 0
    w.stepbar.slider.setValue(2)  # and the state follows the slider
    assert s.step == 2

    s.set_step(3)
    qtbot.keyClick(w, Qt.Key.Key_Left)
    assert s.step == 2
    qtbot.keyClick(w, Qt.Key.Key_Right)
    assert s.step == 3
    qtbot.keyClick(w, Qt.Key.Key_Space)  # play from the start
    assert s.playing and s.step == 1
    qtbot.waitUntil(lambda: s.step == 3 and not s.playing, timeout=5000)

    for mode in ("cubes", "smooth", "points"):
        s.update(mode=mode)
        assert w.viewport.shown == [(3, mode)]
        assert w.panel.mode_box.currentText() == w.panel.mode_box.itemText(
            ("cubes", "smooth", "points").index(mode))
        assert w.viewport.screenshot().std() > 5
    assert QSettings(str(settings_file), QSettings.Format.IniFormat).value("mode") == "points"
    w.actions["mode:cubes"].trigger()  # the menu entry (Ctrl+1)
    assert s.mode == "cubes"
    w.panel.overlay_boxes["changes"].setChecked(True)  # a click on the panel
    assert s.overlays == {"changes"} and s.layers() == ["changed", "ghosts"]
    assert (3, "changed") in w.viewport.shown and "appeared" in w.panel.legend.text()
    s.set_overlay("gates", True)
    assert w.panel.overlay_boxes["gates"].isChecked() and (3, "gates") in w.viewport.shown
    s.update(overlays=())
    assert not w.panel.overlay_boxes["truth"].isEnabled()  # no ground truth for photos

    # threshold: the worker rebuilds the meshes; the label counts voxels at once
    before = w.snapshot.scenes[2].n_voxels
    w.panel.threshold_slider.setValue(70)
    assert s.threshold == 0.7
    count = int((w.snapshot.steps[2].probabilities >= 0.7).sum())
    assert f"{count} voxels" in w.panel.threshold_label.text()
    qtbot.waitUntil(lambda: w.snapshot.threshold == pytest.approx(0.7), timeout=WAIT_MS)
    wait_idle(qtbot, w)
    assert w.snapshot.scenes[2].n_voxels < before

    # reorder (the strip's internal move), remove: recomputed from the changed position
    first = w.snapshot.scenes[0]
    w.strip.moveRequested.emit(2, 1)
    wait_idle(qtbot, w)
    assert w.snapshot.labels == ["view_1.png", "view_3.png", "view_2.png"]
    assert w.snapshot.scenes[0] is first
    w.strip.removeRequested.emit(0)
    wait_idle(qtbot, w)
    assert w.snapshot.labels == ["view_3.png", "view_2.png"]
    assert [sc.index for sc in w.snapshot.scenes] == [1, 2] and s.n_steps == 2
    assert not w.errors.history


def test_every_menu_row_has_its_handler_and_keys(qtbot, make_window, ckpt):
    from r2n2_viewer.gui.actions import ACTIONS, SEPARATOR

    w = make_window(ckpt)
    names = [a.name for a in ACTIONS if a.name != SEPARATOR]
    assert sorted(w.actions) == sorted(names)
    shortcuts = {n: w.actions[n].shortcut().toString() for n in ("play", "next_step",
                                                                  "previous_step")}
    assert shortcuts == {"play": "Space", "next_step": "Right", "previous_step": "Left"}


def test_bad_input_keeps_earlier_steps(qtbot, make_window, ckpt, images, tmp_path):
    w = make_window(ckpt)
    drop(w, files(images[0]))
    wait_idle(qtbot, w)
    first = w.snapshot.scenes[0]

    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(Path(images[1]).read_bytes()[:60])
    folder = tmp_path / "a_folder"
    folder.mkdir()
    urls = [*files(text, empty, corrupt, folder), QUrl("https://example.com/chair.png"),
            *files(images[1])]
    drop(w, urls)
    wait_idle(qtbot, w)
    assert len(w.snapshot.scenes) == 2 and w.snapshot.scenes[0] is first
    assert w.snapshot.labels == ["view_1.png", "view_2.png"]  # the good file: step 2
    messages = " | ".join(m for _, m in w.errors.history)
    for name in ("notes.txt", "empty.png", "corrupt.png", "a_folder", "example.com"):
        assert name in messages and name in w.errors.text  # one box collects them
    assert "only local files" in messages and "folder" in messages
    assert w.errors.showing and w.errors.modal
    assert w.statusBar().currentMessage()
    w.errors.close()
    assert not w.errors.showing
    drop(w, files(images[2]))
    wait_idle(qtbot, w)
    assert len(w.snapshot.scenes) == 3


def test_paste_image_from_clipboard(qtbot, make_window, ckpt, images):
    w = make_window(ckpt)
    QApplication.clipboard().setImage(QImage(images[0]))
    w.actions["paste"].trigger()
    wait_idle(qtbot, w)
    assert w.snapshot.labels == ["pasted 1"] and w.state.n_steps == 1
    assert not w.errors.history


def dataset_model(root: Path, images: list[str], truth: np.ndarray) -> Path:
    model = root / "ShapeNetRendering" / "03001627" / "abc123"
    (model / "rendering").mkdir(parents=True)
    names = []
    for i, p in enumerate(images):
        names.append(f"{i:02d}.png")
        (model / "rendering" / names[-1]).write_bytes(Path(p).read_bytes())
    (model / "rendering" / "renderings.txt").write_text("\n".join(names) + "\n")
    vox = root / "ShapeNetVox32" / "03001627" / "abc123" / "model.binvox"
    vox.parent.mkdir(parents=True)
    write_binvox(vox, truth)
    return model


def test_dataset_model_ground_truth_and_iou(qtbot, make_window, ckpt, images, tmp_path):
    truth = np.zeros((32, 32, 32), bool)
    truth[8:24, 4:28, 8:24] = True
    model = dataset_model(tmp_path / "data", images, truth)
    w = make_window(ckpt)
    w.open_dataset_model(model)
    wait_idle(qtbot, w)
    s = w.state
    assert len(w.snapshot.scenes) == 5 and not w.errors.history
    assert s.truth_available and "truth" in s.overlays
    assert w.panel.overlay_boxes["truth"].isEnabled()
    qtbot.waitUntil(lambda: not s.playing, timeout=10_000)  # a new sequence plays once
    assert (s.step, "truth") in w.viewport.shown
    for scene, step in zip(w.snapshot.scenes, w.snapshot.steps, strict=True):
        assert scene.iou == pytest.approx(iou(step.probabilities >= s.threshold, truth))
    assert len(w.panel.iou_plot.values) == 5
    assert "IoU with ground truth" in w.panel.info_label.text()
    s.set_overlay("truth", False)
    assert (s.step, "truth") not in w.viewport.shown


def test_a_16_cubed_ground_truth_is_explained_and_does_not_wedge(qtbot, make_window, ckpt,
                                                                 images, tmp_path):
    model = dataset_model(tmp_path / "data", images, np.ones((16, 16, 16), bool))
    w = make_window(ckpt)
    w.open_dataset_model(model)
    wait_idle(qtbot, w)
    assert w.errors.showing and "16\u00d716\u00d716" in w.errors.text
    assert w.errors.title == "Cannot use the ground truth"
    assert len(w.snapshot.scenes) == 5 and not w.state.truth_available
    w.errors.close()
    w.inputs.ask = lambda origin: "add"  # own views after a dataset model: join it
    drop(w, files(images[0]))  # later adds still work
    wait_idle(qtbot, w)
    assert len(w.snapshot.scenes) == 6


def test_missing_weights_offer_the_bundled_model_and_keep_the_images(
        qtbot, make_window, ckpt, images, tmp_path, monkeypatch):
    import r2n2_viewer.weights as weights_mod

    monkeypatch.setattr(weights_mod, "default_weights_path", lambda: Path(ckpt))
    w = make_window(str(tmp_path / "missing.safetensors"), images=images[:2])
    assert not w.model_name
    assert w.errors.showing and w.errors.title == "No model loaded"
    assert w.errors.problem == "model"
    assert w.errors.text.count("Use the bundled model") + w.errors.text.count(
        "Open weights") <= 1  # the advice is given once (the buttons), not repeated
    assert w.errors.action_labels()[:2] == ["Use the bundled model", "Open weights\u2026"]
    assert "No model loaded" in w.viewport.message
    assert w.snapshot.labels == ["view_1.png", "view_2.png"] and not w.snapshot.scenes
    assert w.strip.count() == 2  # the images wait, shown

    w.errors.trigger("Use the bundled model")
    wait_idle(qtbot, w)
    assert w.model_name == "shifted-tiny" and not w.errors.showing  # gone with the problem
    assert [sc.index for sc in w.snapshot.scenes] == [1, 2]
    assert w.viewport.message == ""
    w.actions["use_bundled_model"].trigger()  # the menu item
    wait_idle(qtbot, w)
    assert w.model_name == "shifted-tiny" and len(w.snapshot.scenes) == 2


def test_first_start_plays_the_featured_demo(qtbot, make_window, ckpt, images, tmp_path,
                                             monkeypatch):
    import r2n2_viewer.demo as demo_mod

    root = tmp_path / "demos"
    for name, n, curve in (("a_chair", 2, [0.5, 0.6]), ("b_table", 3, [0.2, 0.4, 0.7])):
        (root / name).mkdir(parents=True)
        for i, p in enumerate(images[:n]):
            (root / name / f"view_{i + 1:02d}.png").write_bytes(Path(p).read_bytes())
        (root / name / "info.json").write_text(json.dumps({"iou_by_views_at_selection": curve}))
    truth = np.zeros((32, 32, 32), bool)
    truth[10:20, 0:25, 10:20] = True
    write_binvox(root / "b_table" / "model.binvox", truth)  # the larger gain opens first
    monkeypatch.setattr(demo_mod, "demo_root", lambda: root)

    w = make_window(ckpt, wait=False, autoload_demo=True)
    qtbot.waitUntil(lambda: w.state.playing, timeout=WAIT_MS)  # plays once loaded
    assert w.snapshot.labels == ["view_01.png", "view_02.png", "view_03.png"]
    assert w.snapshot.ground_truth is not None and len(w.snapshot.ious) == 3
    qtbot.waitUntil(lambda: not w.state.playing, timeout=10_000)
    assert w.state.step == 3 and not w.errors.history


def test_window_appears_before_the_model_loads(qtbot, make_window, ckpt, monkeypatch):
    import r2n2_viewer.session as session_mod

    real = session_mod.load_model

    def slow_load(*args, **kw):
        time.sleep(2.0)
        return real(*args, **kw)

    monkeypatch.setattr(session_mod, "load_model", slow_load)
    t0 = time.perf_counter()
    w = make_window(ckpt, wait=False)
    assert time.perf_counter() - t0 < 2.0 and w.isVisible()  # shown while it loads
    assert "Loading" in w.viewport.message and "Loading model" in w.busy.text
    wait_idle(qtbot, w)
    assert w.model_name == "shifted-tiny" and not w.busy.isVisible()


def test_remembered_threshold_is_shown_and_can_be_reset(qtbot, make_window, ckpt,
                                                        settings_file):
    ini = QSettings(str(settings_file), QSettings.Format.IniFormat)
    ini.setValue("threshold", 0.79)
    ini.sync()
    w = make_window(ckpt)
    assert w.state.threshold == 0.79 and w.worker.jobs.threshold == 0.79
    assert "0.79" in w.statusBar().currentMessage()
    assert "default 0.40" in w.panel.threshold_label.text()
    assert w.panel.reset_button.isVisibleTo(w.panel)
    w.actions["reset_view_settings"].trigger()
    assert w.state.threshold == 0.4 and "default" not in w.panel.threshold_label.text()
    assert not w.panel.reset_button.isVisibleTo(w.panel)


def test_closing_while_a_job_is_stuck_neither_freezes_nor_crashes(qtbot, make_window, ckpt,
                                                                 images, monkeypatch):
    import r2n2_viewer.images as images_mod
    from r2n2_viewer.gui.worker import ORPHANS

    w = make_window(ckpt)
    real = images_mod.prepare_photo
    monkeypatch.setattr(images_mod, "prepare_photo",  # a 48-MP photo, say
                        lambda src, settings=None, cancel_check=None:
                        (time.sleep(5.0), real(src, settings, cancel_check))[1])
    w.add_paths(images[:1])
    qtbot.waitUntil(lambda: "Reading" in w.busy.text, timeout=WAIT_MS)
    t0 = time.perf_counter()
    w.close()
    assert time.perf_counter() - t0 < 3.0 and not w.isVisible()
    qtbot.waitUntil(lambda: not ORPHANS, timeout=WAIT_MS)  # the thread ends on its own


def test_ctrl_c_in_the_terminal_closes_the_viewer(qtbot, make_window, ckpt, qapp):
    import os
    import signal

    from r2n2_viewer.gui.app import install_sigint_handler

    w = make_window(ckpt)
    previous = signal.getsignal(signal.SIGINT)
    try:
        timer = install_sigint_handler(qapp, w)
        assert timer.isActive()
        os.kill(os.getpid(), signal.SIGINT)
        qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)
    finally:
        signal.signal(signal.SIGINT, previous)
        timer.stop()


def test_a_long_model_name_is_shortened_in_the_middle(qtbot, make_window, tiny_net, tmp_path):
    from gui_helpers import shifted_checkpoint

    name = "default (small, synth-13 + furniture, six training stages)"
    w = make_window(shifted_checkpoint(tmp_path, tiny_net, 1.3, name))
    label = w.model_label
    assert w.model_name == name
    assert label.text().endswith("\u00b7 cpu") and "\u2026" in label.text()  # device shown
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    assert label.toolTip() == f"model: {name} \u00b7 cpu"
