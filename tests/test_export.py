"""Exports: binvox / OBJ / NPZ / PNG contents, axis convention, atomicity."""

from __future__ import annotations

import os

import numpy as np
import pytest
import trimesh
from PIL import Image

from r2n2_viewer import export, geometry
from r2n2_viewer.models.voxels import read_binvox

N = 32


def _ball(cx=12, cy=16, cz=16, r=8) -> np.ndarray:
    x, y, z = np.mgrid[:N, :N, :N]
    return (((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2) < r * r).astype(np.float32) * 0.9


def _column() -> np.ndarray:
    """A tall thin column: x 10..14, y 2..30 (up), z 20..23 -- asymmetric on purpose."""
    g = np.full((N, N, N), 0.05, np.float32)
    g[10:14, 2:30, 20:23] = 0.8
    return g


def _exposed_faces(occ: np.ndarray) -> int:
    pad = np.pad(occ, 1).astype(np.int8)
    return int(sum(np.abs(np.diff(pad, axis=a)).sum() for a in range(3)))


def _load(path) -> trimesh.Trimesh:
    return trimesh.load(path, force="mesh", process=False)


def test_binvox_round_trip_and_trimesh_axes(tmp_path):
    g = _column()
    path = tmp_path / "c.binvox"
    assert export.export_binvox(path, g, threshold=0.4) == (g >= 0.4).sum()
    np.testing.assert_array_equal(read_binvox(path), g >= 0.4)
    # trimesh's binvox reader gives the same [x, y, z] matrix: no transpose needed
    vg = trimesh.load(path)
    np.testing.assert_array_equal(np.asarray(vg.matrix), g >= 0.4)
    # ... and its transform places the grid in our centred unit cube, y up
    lo, hi = vg.as_boxes().bounds
    assert hi[1] - lo[1] > 3 * (hi[0] - lo[0])  # the column stands along +y
    assert np.all(lo > -0.55) and np.all(hi < 0.55)


def test_obj_cubes_faces_vertices_and_watertight(tmp_path):
    g = _ball()
    occ = g >= 0.4
    path = tmp_path / "b.obj"
    n_faces = export.export_obj_cubes(path, g, 0.4)
    assert n_faces == _exposed_faces(occ)
    text = path.read_text()
    verts = np.array([list(map(float, ln.split()[1:])) for ln in text.splitlines()
                      if ln.startswith("v ")])
    assert len(np.unique(verts, axis=0)) == len(verts)  # corners are shared
    mesh = _load(path)
    assert len(mesh.faces) == 2 * n_faces  # quads -> 2 triangles each
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert mesh.volume == pytest.approx(occ.sum() / N**3)  # positive: normals point out


def test_obj_cubes_upright_and_in_frame(tmp_path):
    g = _column()
    export.export_obj_cubes(tmp_path / "c.obj", g, 0.4)
    lo, hi = _load(tmp_path / "c.obj").bounds
    np.testing.assert_allclose(lo, np.array([10, 2, 20]) / N - 0.5)
    np.testing.assert_allclose(hi, np.array([14, 30, 23]) / N - 0.5)


def test_obj_smooth_closed_and_volume(tmp_path):
    g = _ball(r=9)
    path = tmp_path / "s.obj"
    assert export.export_obj_smooth(path, g, 0.4) > 0
    mesh = _load(path)
    mesh.merge_vertices()
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert mesh.volume == pytest.approx((g >= 0.4).sum() / N**3, rel=0.1)
    cubes_path = tmp_path / "c.obj"
    export.export_obj_cubes(cubes_path, g, 0.4)
    np.testing.assert_allclose(mesh.centroid, _load(cubes_path).centroid, atol=0.01)


def test_empty_reconstruction_gives_valid_files(tmp_path):
    g = np.full((N, N, N), 0.1, np.float32)
    assert export.export_binvox(tmp_path / "e.binvox", g) == 0
    assert not read_binvox(tmp_path / "e.binvox").any()
    for fn, name in ((export.export_obj_cubes, "e.obj"), (export.export_obj_smooth, "s.obj")):
        assert fn(tmp_path / name, g, 0.4) == 0
        text = (tmp_path / name).read_text()
        assert "empty reconstruction" in text and "\nf " not in text


def test_bad_threshold_and_shape():
    with pytest.raises(ValueError, match="threshold"):
        geometry.occupancy(np.zeros((N, N, N)), 1.5)
    with pytest.raises(ValueError, match="3-D"):
        geometry.occupancy(np.zeros((N, N)), 0.4)


def test_npz_and_png(tmp_path):
    steps = [np.random.default_rng(i).random((N, N, N), dtype=np.float32) for i in range(3)]
    export.export_npz(tmp_path / "s.npz", steps)
    with np.load(tmp_path / "s.npz") as z:
        assert sorted(z.files) == ["step1", "step2", "step3"]
        assert z["step2"].dtype == np.float32
        np.testing.assert_array_equal(z["step3"], steps[2])
    view = np.full((3, 127, 127), 0.5, np.float32)
    export.export_png(tmp_path / "v.png", view)
    with Image.open(tmp_path / "v.png") as im:
        assert im.size == (127, 127)


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "keep.obj"
    path.write_text("old")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export.np, "savetxt", boom)
    with pytest.raises(RuntimeError):
        export.export_obj_cubes(path, _ball(), 0.4)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["keep.obj"]


def test_unwritable_target(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        export.export_binvox(blocker / "out.binvox", _ball())
    assert sorted(os.listdir(tmp_path)) == ["file"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        for fn, name in ((export.export_binvox, "a.binvox"), (export.export_obj_cubes, "a.obj")):
            with pytest.raises(PermissionError):
                fn(ro / name, _ball(), 0.4)
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o700)


def test_format_registry_names_suffixes_and_filters():
    assert list(export.FORMATS) == ["binvox", "obj", "smooth-obj", "npz", "png"]
    smooth = export.FORMATS["smooth-obj"]
    assert smooth.extension == ".obj" and smooth.file_filter == "OBJ smooth surface (*.obj)"
    assert [f.name for f in export.FORMATS.values() if f.cli] == ["binvox", "obj",
                                                                  "smooth-obj", "npz"]


def test_write_reconstruction_every_step_and_last(tmp_path):
    steps = [_column(), _ball()]
    written = export.write_reconstruction(tmp_path, steps, ["binvox", "npz", "png"], 0.4,
                                          every_step=True,
                                          picture=lambda k: np.full((8, 8, 3), k, np.uint8))
    assert [p.name for p in written] == ["step_01.binvox", "step_01.png", "step_02.binvox",
                                         "step_02.png", "reconstruction.npz"]
    np.testing.assert_array_equal(read_binvox(tmp_path / "step_01.binvox"), steps[0] >= 0.4)
    assert np.asarray(Image.open(tmp_path / "step_02.png")).max() == 2
    (tmp_path / "last").mkdir()
    last = export.write_reconstruction(tmp_path / "last", steps, ["obj"])
    assert last == [tmp_path / "last" / "reconstruction.obj"]
    export.export_obj_cubes(tmp_path / "ref.obj", steps[-1], 0.4)
    assert last[0].read_text() == (tmp_path / "ref.obj").read_text()  # the last step


def test_write_reconstruction_removes_only_its_own_stale_files(tmp_path):
    steps = [_column(), _ball(), _ball(r=5)]
    export.write_reconstruction(tmp_path, steps, ["binvox", "smooth-obj"], every_step=True)
    for name in ("notes.txt", "step_01.stl", "reconstruction_old.obj"):
        (tmp_path / name).write_text("the user's")
    written = export.write_reconstruction(tmp_path, steps[:1], ["obj"], remove_stale=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt", "reconstruction.obj", "reconstruction_old.obj", "step_01.stl"]
    assert written == [tmp_path / "reconstruction.obj"]


@pytest.mark.parametrize("formats, kw, match", [(["stl"], {}, "unknown export format"),
                                                (["png"], {}, "needs a picture"),
                                                (["obj"], {"threshold": 1.0}, "threshold")])
def test_write_reconstruction_refuses_before_writing(tmp_path, formats, kw, match):
    with pytest.raises(ValueError, match=match):
        export.write_reconstruction(tmp_path, [_ball()], formats, **kw)
    assert list(tmp_path.iterdir()) == []
