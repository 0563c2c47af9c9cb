"""The viewer window, for real: Qt + VTK under Xvfb (pytest-xvfb), a tiny checkpoint,
files dropped through QDropEvents, the worker thread awaited with qtbot.waitUntil."""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PyQt6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PyQt6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PyQt6.QtWidgets import QApplication

from r2n2_viewer.models.checkpoint import save_checkpoint
from r2n2_viewer.models.voxels import read_binvox, write_binvox

WAIT_MS = 60_000


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    """Never touch the user's real settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "config"))


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, tiny_net) -> str:
    """The tiny random network shifted so that a few percent of the voxels are occupied:
    its steps differ from one another (and render fast)."""
    net = copy.deepcopy(tiny_net)
    with torch.no_grad():
        net.decoder.conv11.bias[1] -= 1.3
    path = tmp_path_factory.mktemp("gui_ckpt") / "shifted.safetensors"
    save_checkpoint(path, net, preset=None, source="tests", name="shifted-tiny")
    return str(path)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> list[str]:
    """Five small RGBA renderings of a box that changes from view to view."""
    folder = tmp_path_factory.mktemp("views")
    rng = np.random.default_rng(3)
    paths = []
    for i in range(5):
        a = np.zeros((137, 137, 4), np.uint8)
        a[20 + 6 * i : 110, 30 : 110 - 7 * i, :3] = rng.integers(0, 255, 3)
        a[20 + 6 * i : 110, 30 : 110 - 7 * i, 3] = 255
        p = folder / f"view_{i + 1}.png"
        Image.fromarray(a).save(p)
        paths.append(str(p))
    return paths


def make_window(qtbot, tmp_path, weights: str, **kw):
    from r2n2_viewer.gui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    w = MainWindow(weights=weights, device="cpu", settings=settings, autoload_demo=False, **kw)
    qtbot.addWidget(w, before_close_func=lambda win: win.shutdown())
    w.resize(900, 650)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitActive(w)
    qtbot.waitUntil(lambda: not w.busy_now, timeout=WAIT_MS)
    return w


def wait_idle(qtbot, w) -> None:
    qtbot.waitUntil(lambda: not w.busy_now, timeout=WAIT_MS)


def drop(widget, urls: list[QUrl]) -> None:
    """A real drag-enter + drop of ``urls`` on ``widget`` (as a file manager sends)."""
    mime = QMimeData()
    mime.setUrls(urls)
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    assert event.isAccepted()


def files(*paths) -> list[QUrl]:
    return [QUrl.fromLocalFile(str(p)) for p in paths]


def visible_actors(w) -> set[int]:
    return {id(a) for a in w.viewport._shown if a.GetVisibility()}


def test_drop_scrub_modes_and_screenshots(qtbot, tmp_path, ckpt, images):
    w = make_window(qtbot, tmp_path, ckpt)
    assert w.model_name == "shifted-tiny" and w.device_name == "cpu"
    assert "shifted-tiny" in w.model_label.text()

    drop(w, files(*images[:2]))  # on the window: two files, two steps, in drop order
    wait_idle(qtbot, w)
    drop(w.strip.viewport(), files(images[2]))  # on the strip
    wait_idle(qtbot, w)
    assert len(w.scenes) == 3 and w.strip.count() == 3
    assert w.snapshot.labels == ["view_1.png", "view_2.png", "view_3.png"]
    assert w.current_step == 3  # follows the newest step
    assert "step 3 of 3" in w.status_step_label.text()
    assert "ms/step" in w.ms_label.text()
    tip = w.strip.item(0).toolTip()
    assert "data:image/png;base64," in tip and "127" in tip

    shots = {}
    for k in (1, 3):
        w.step_slider.setValue(k)
        assert w.current_step == k
        scene = w.scenes[k - 1]
        assert visible_actors(w) == {id(w.viewport._actors[(id(scene), "cubes")])}
        shots[k] = w.viewport.screenshot()
    for img in shots.values():
        assert img.ndim == 3 and img.std() > 5  # not blank
    assert np.abs(shots[1].astype(int) - shots[3].astype(int)).sum() > 0

    # keyboard: left arrow, right arrow, space
    w.step_slider.setValue(3)
    qtbot.keyClick(w, Qt.Key.Key_Left)
    assert w.current_step == 2
    qtbot.keyClick(w, Qt.Key.Key_Right)
    assert w.current_step == 3
    qtbot.keyClick(w, Qt.Key.Key_Space)  # play from the start
    assert w.play_timer.isActive() and w.current_step == 1
    qtbot.waitUntil(lambda: w.current_step == 3 and not w.play_timer.isActive(), timeout=5000)

    scene = w.scenes[2]
    for index, layer in enumerate(("cubes", "smooth", "points")):
        w.mode_box.setCurrentIndex(index)
        assert w.mode == layer
        assert id(w.viewport._actors[(id(scene), layer)]) in visible_actors(w)
        assert w.viewport.screenshot().std() > 5
    assert QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat).value(
        "mode") == "points"
    w.mode_box.setCurrentIndex(0)
    w.changes_box.setChecked(True)
    assert w.layers() == ["changed", "ghosts"]
    changed = w.viewport._actors[(id(scene), "changed")]
    assert id(changed) in visible_actors(w)
    assert "appeared" in w.legend.text()
    w.gates_box.setChecked(True)
    assert id(w.viewport._actors[(id(scene), "gates")]) in visible_actors(w)
    w.changes_box.setChecked(False)
    w.gates_box.setChecked(False)
    assert not w.truth_box.isEnabled()  # no ground truth for dropped photos

    # threshold: the worker rebuilds the meshes; the label counts voxels at once
    before = w.scenes[2].n_voxels
    w.threshold_slider.setValue(70)
    assert f"{int((w.snapshot.steps[2].probabilities >= 0.7).sum())} voxels" in \
        w.threshold_label.text()
    qtbot.waitUntil(lambda: w.scenes[2].threshold == pytest.approx(0.7), timeout=WAIT_MS)
    wait_idle(qtbot, w)
    assert w.scenes[2].n_voxels < before

    # reorder (the strip's internal move), remove: recomputed from the changed position
    first = w.scenes[0]
    w.strip.moveRequested.emit(2, 1)
    wait_idle(qtbot, w)
    assert w.snapshot.labels == ["view_1.png", "view_3.png", "view_2.png"]
    assert w.scenes[0] is first
    w.strip.removeRequested.emit(0)
    wait_idle(qtbot, w)
    assert w.snapshot.labels == ["view_3.png", "view_2.png"]
    assert [s.index for s in w.scenes] == [1, 2]
    assert not w.errors


def test_exports(qtbot, tmp_path, ckpt, images):
    import trimesh

    w = make_window(qtbot, tmp_path, ckpt, images=images[:3])
    wait_idle(qtbot, w)
    assert len(w.scenes) == 3
    w.step_slider.setValue(2)
    prob = w.snapshot.steps[1].probabilities
    out = tmp_path / "out"
    out.mkdir()

    assert w.export_step(out / "s.binvox")
    np.testing.assert_array_equal(read_binvox(out / "s.binvox"), prob >= w.threshold)
    assert w.export_step(out / "cubes.obj", "obj")
    cubes = trimesh.load(out / "cubes.obj", force="mesh")
    assert len(cubes.faces) > 0
    assert w.export_step(out / "smooth.obj", "smooth-obj")
    smooth = trimesh.load(out / "smooth.obj", force="mesh")
    assert len(smooth.faces) > 0 and len(smooth.faces) != len(cubes.faces)
    assert w.export_step(out / "shot.png")
    shot = np.asarray(Image.open(out / "shot.png"))
    assert shot.ndim == 3 and shot.std() > 5
    assert w.current_step == 2

    written = w.export_all(out / "all", "binvox")
    names = sorted(p.name for p in written)
    assert names == ["refinement.gif", "step_01.binvox", "step_02.binvox", "step_03.binvox"]
    for k in (1, 2, 3):
        np.testing.assert_array_equal(read_binvox(out / "all" / f"step_{k:02d}.binvox"),
                                      w.snapshot.steps[k - 1].probabilities >= w.threshold)
    with Image.open(out / "all" / "refinement.gif") as gif:
        assert gif.n_frames == 3
    assert not w.errors

    # a read-only folder: a clear message, no file (not even a partial one)
    if os.geteuid() == 0:  # root writes through chmod; sysfs refuses even root
        assert sys.platform.startswith("linux")
        ro = Path("/sys")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
    before = set(os.listdir(ro))
    assert not w.export_step(ro / "x.binvox")
    assert not w.export_all(ro / "sub" if ro != Path("/sys") else ro, "obj")
    assert set(os.listdir(ro)) == before
    assert w.errors and all(t == "Export failed" for t, _ in w.errors)
    assert "read-only" in w.errors[0][1] or "Permission denied" in w.errors[0][1]
    assert "Export failed" in w.statusBar().currentMessage()


def test_bad_input_keeps_earlier_steps(qtbot, tmp_path, ckpt, images):
    w = make_window(qtbot, tmp_path, ckpt)
    drop(w, files(images[0]))
    wait_idle(qtbot, w)
    assert len(w.scenes) == 1
    first = w.scenes[0]

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
    assert len(w.scenes) == 2 and w.scenes[0] is first  # the good file still became step 2
    assert w.snapshot.labels == ["view_1.png", "view_2.png"]
    messages = " | ".join(m for _, m in w.errors)
    for name in ("notes.txt", "empty.png", "corrupt.png", "a_folder", "example.com"):
        assert name in messages
    assert "only local files" in messages and "folder" in messages
    assert w._error_box is not None and w._error_box.isVisible()  # one non-modal box
    assert not w._error_box.isModal()
    assert w.statusBar().currentMessage()

    # an exception inside the worker is shown; the app keeps working
    w.errors.clear()
    w.submit("move", 7, 0)
    wait_idle(qtbot, w)
    assert w.errors and "view 7 does not exist" in w.errors[0][1]
    w._error_box.close()
    drop(w, files(images[2]))
    wait_idle(qtbot, w)
    assert len(w.scenes) == 3


def test_paste_image_from_clipboard(qtbot, tmp_path, ckpt, images):
    w = make_window(qtbot, tmp_path, ckpt)
    QApplication.clipboard().setImage(QImage(images[0]))
    w.paste()
    wait_idle(qtbot, w)
    assert len(w.scenes) == 1 and w.snapshot.labels == ["pasted 1"]
    assert not w.errors


def test_dataset_model_ground_truth_and_iou(qtbot, tmp_path, ckpt, images):
    root = tmp_path / "data"
    model = root / "ShapeNetRendering" / "03001627" / "abc123"
    (model / "rendering").mkdir(parents=True)
    names = []
    for i, p in enumerate(images):
        names.append(f"{i:02d}.png")
        (model / "rendering" / names[-1]).write_bytes(Path(p).read_bytes())
    (model / "rendering" / "renderings.txt").write_text("\n".join(names) + "\n")
    truth = np.zeros((32, 32, 32), bool)
    truth[8:24, 4:28, 8:24] = True
    vox = root / "ShapeNetVox32" / "03001627" / "abc123" / "model.binvox"
    vox.parent.mkdir(parents=True)
    write_binvox(vox, truth)

    w = make_window(qtbot, tmp_path, ckpt)
    w.open_dataset_model(model)
    wait_idle(qtbot, w)
    assert len(w.scenes) == 5 and not w.errors
    assert w.truth_box.isEnabled() and w.truth_box.isChecked()
    assert "truth" in w.layers()
    assert w.viewport._truth_actor is not None and w.viewport._truth_actor.GetVisibility()
    from r2n2_viewer.models.voxels import iou

    for scene, step in zip(w.scenes, w.snapshot.steps, strict=True):
        assert scene.iou == pytest.approx(iou(step.probabilities >= w.threshold, truth))
    assert len(w.iou_plot.values) == 5
    assert "IoU with ground truth" in w.info_label.text()
    w.truth_box.setChecked(False)
    assert not w.viewport._truth_actor.GetVisibility()


def test_no_model_is_explained_and_weights_can_be_opened(qtbot, tmp_path, ckpt, images):
    w = make_window(qtbot, tmp_path, str(tmp_path / "missing.safetensors"))
    assert not w.model_name
    assert w.errors and w.errors[0][0] == "No model loaded"
    assert "Open weights" in w.errors[0][1]
    assert w.viewport._message is not None
    drop(w, files(images[0]))
    wait_idle(qtbot, w)
    assert not w.scenes and "no model is loaded" in w.errors[-1][1]
    w.load_weights(ckpt)
    wait_idle(qtbot, w)
    assert w.model_name == "shifted-tiny"
    drop(w, files(images[0]))
    wait_idle(qtbot, w)
    assert len(w.scenes) == 1


def _huge_png(path: Path) -> None:
    """A PNG whose header claims 20000x20000 pixels (no pixel data needed to refuse it)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


def test_huge_image_and_replace(qtbot, tmp_path, ckpt, images):
    from r2n2_viewer.gui.worker import ImageSource

    w = make_window(qtbot, tmp_path, ckpt, images=images[:2])
    wait_idle(qtbot, w)
    huge = tmp_path / "huge.png"
    _huge_png(huge)
    drop(w.strip.viewport(), files(huge))
    wait_idle(qtbot, w)
    assert len(w.scenes) == 2
    assert "huge.png" in w.errors[-1][1] and "pixels" in w.errors[-1][1]

    first = w.scenes[0]
    w.submit("replace", 1, ImageSource(images[4], "view_5.png"))  # the context menu's job
    wait_idle(qtbot, w)
    assert w.snapshot.labels == ["view_1.png", "view_5.png"] and w.scenes[0] is first


def test_first_start_plays_the_featured_demo(qtbot, tmp_path, ckpt, images, monkeypatch):
    import r2n2_viewer.demo as demo_mod
    from r2n2_viewer.gui.main_window import MainWindow

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

    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    w = MainWindow(weights=ckpt, device="cpu", settings=settings)  # no images: demo
    qtbot.addWidget(w, before_close_func=lambda win: win.shutdown())
    w.show()
    qtbot.waitUntil(lambda: w.play_timer.isActive(), timeout=WAIT_MS)  # plays once loaded
    assert w.snapshot.labels == ["view_01.png", "view_02.png", "view_03.png"]
    assert w.snapshot.ground_truth is not None and len(w.snapshot.ious) == 3
    qtbot.waitUntil(lambda: not w.play_timer.isActive(), timeout=10_000)
    assert w.current_step == 3 and not w.errors


def test_official_weights_conversion_shows_progress(qtbot, tmp_path, ckpt, monkeypatch):
    import r2n2_viewer.weights as weights_mod

    real = weights_mod.load_model
    seen = []

    def fake_load(spec, device="cpu", progress=None):  # stands in for convert_official
        if not str(spec).endswith(".npy"):
            return real(spec, device)
        for f in (0.25, 0.5, 0.75):
            progress(f)
            seen.append(f)
        return real(ckpt, device)

    monkeypatch.setattr(weights_mod, "load_model", fake_load)
    w = make_window(qtbot, tmp_path, ckpt)
    dialogs = []
    w.worker.progress.connect(lambda *_: dialogs.append(w._progress_dialog))
    npy = tmp_path / "ResidualGRUNet.npy"
    npy.write_bytes(b"stand-in")
    w.load_weights(npy)
    wait_idle(qtbot, w)
    assert seen == [0.25, 0.5, 0.75]
    assert any(d is not None for d in dialogs)
    assert w._progress_dialog is None  # closed when the job ends
    assert not w.errors
