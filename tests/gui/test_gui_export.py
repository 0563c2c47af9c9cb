"""Export from the viewer: what the state shows (step, threshold), the name typed in
the save dialog kept as it is, read-only targets refused with nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import wait_idle
from PIL import Image

from r2n2_viewer.gui.exporting import EXPORT_KINDS, resolve_target
from r2n2_viewer.models.voxels import read_binvox


def test_typed_names_keep_their_extension():
    for typed, chosen, want in [
        ("step_04.binvox", "binvox", ("step_04.binvox", "binvox")),
        ("step_04", "binvox", ("step_04.binvox", "binvox")),
        ("cubes.obj", "binvox", ("cubes.obj", "obj")),  # the typed name wins
        ("shot.PNG", "obj", ("shot.PNG", "png")),
        ("shot.png", "png", ("shot.png", "png")),
        ("mesh.obj", "smooth-obj", ("mesh.obj", "smooth-obj")),
        ("mesh", "smooth-obj", ("mesh.obj", "smooth-obj")),
        ("v1.2", "png", ("v1.2.png", "png")),
    ]:
        path, kind = resolve_target(Path("/x") / typed, chosen)
        assert (path.name, kind) == want, typed


@pytest.fixture
def window(qtbot, make_window, ckpt, images):
    w = make_window(ckpt, images=images[:3])
    wait_idle(qtbot, w)
    assert len(w.snapshot.scenes) == 3
    return w


def test_the_export_dialog_writes_exactly_the_typed_name(qtbot, window, tmp_path,
                                                         monkeypatch):
    from PyQt6.QtWidgets import QFileDialog

    for typed, filt in (("step_04.binvox", "binvox"), ("cubes.obj", "binvox"),
                        ("shot.png", "binvox"), ("plain", "obj")):
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
            lambda *a, t=typed, f=filt: (str(tmp_path / t), EXPORT_KINDS[f].file_filter)))
        window.actions["export_step"].trigger()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "cubes.obj", "plain.obj", "shot.png", "step_04.binvox", "viewer.ini"]
    assert (tmp_path / "cubes.obj").read_text().startswith("# r2n2-viewer: voxel cubes")
    with Image.open(tmp_path / "shot.png") as im:
        assert im.format == "PNG"
    assert not window.errors.history


def test_exports_follow_the_state(qtbot, window, tmp_path):
    import trimesh

    w, s = window, window.state
    s.set_step(2)
    s.update(threshold=0.3)  # exported at once, before the worker has rebuilt the meshes
    prob = w.snapshot.steps[1].probabilities
    out = tmp_path / "out"
    out.mkdir()
    assert w.export_step(out / "s.binvox")
    np.testing.assert_array_equal(read_binvox(out / "s.binvox"), prob >= 0.3)
    assert w.export_step(out / "cubes.obj", "obj")
    cubes = trimesh.load(out / "cubes.obj", force="mesh")
    assert len(cubes.faces) > 0
    assert w.export_step(out / "smooth.obj", "smooth-obj")
    smooth = trimesh.load(out / "smooth.obj", force="mesh")
    assert len(smooth.faces) > 0 and len(smooth.faces) != len(cubes.faces)
    shown = list(w.viewport.shown)
    assert w.export_step(out / "shot.png", step=3)
    shot = np.asarray(Image.open(out / "shot.png"))
    assert shot.ndim == 3 and shot.std() > 5
    assert s.step == 2 and w.viewport.shown == shown  # the shown step is untouched

    written = w.export_all(out / "all", "binvox")
    assert sorted(p.name for p in written) == [
        "refinement.gif", "step_01.binvox", "step_02.binvox", "step_03.binvox"]
    for k in (1, 2, 3):
        np.testing.assert_array_equal(read_binvox(out / "all" / f"step_{k:02d}.binvox"),
                                      w.snapshot.steps[k - 1].probabilities >= 0.3)
    with Image.open(out / "all" / "refinement.gif") as gif:
        assert gif.n_frames == 3
    assert not w.errors.history


def test_unwritable_targets_write_nothing(qtbot, window, tmp_path):
    w = window
    blocker = tmp_path / "a_file"  # a path under a file fails for every user, root too
    blocker.write_text("x")
    assert not w.export_step(blocker / "x.binvox")
    assert not w.export_all(blocker / "sub", "obj")
    assert blocker.read_text() == "x"
    assert len(w.errors.history) == 2
    assert all(t == "Export failed" for t, _ in w.errors.history)
    assert all("nothing was written" in m for _, m in w.errors.history)
    assert "Export failed" in w.statusBar().currentMessage()
    if os.geteuid() != 0:  # root writes through a read-only mode
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        assert not w.export_step(ro / "x.binvox")
        assert os.listdir(ro) == []
        assert "read-only" in w.errors.history[-1][1]


def test_nothing_to_export(qtbot, make_window, ckpt, tmp_path):
    w = make_window(ckpt)
    assert not w.export_step(tmp_path / "x.binvox")
    assert w.errors.history == [("Nothing to export", "add at least one image first")]
    assert not list(tmp_path.glob("*.binvox"))
