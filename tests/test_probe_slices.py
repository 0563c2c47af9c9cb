"""The voxel probe (r2n2_viewer.probe) and slices of P (r2n2_viewer.slices), with their
meshes, on small hand-made grids."""

from __future__ import annotations

import numpy as np
import pytest

from r2n2_viewer import probe, slices
from r2n2_viewer import scene as sc
from r2n2_viewer.layers import colour_scales


def test_gate_cell_is_the_8_cubed_block():
    assert probe.gate_cell((0, 0, 0)) == (0, 0, 0)
    assert probe.gate_cell((7, 8, 31)) == (0, 1, 3)
    assert probe.gate_cell((15, 16, 24)) == (1, 2, 3)
    assert probe.gate_cell((3, 5, 7), (8, 8, 8), (2, 2, 2)) == (0, 1, 1)
    for bad in ((32, 0, 0), (0, -1, 0), (1, 2), "abc", None):
        with pytest.raises(ValueError, match="voxel"):
            probe.gate_cell(bad)


def test_voxel_history_reads_p_and_its_cells_gate_per_step():
    probs = [np.zeros((32, 32, 32), np.float32) for _ in range(3)]
    gates = [np.zeros((4, 4, 4), np.float32) for _ in range(3)]
    for k, (p, g) in enumerate(zip(probs, gates, strict=True)):
        p[9, 17, 30] = 0.1 + 0.3 * k  # 0.1, 0.4, 0.7
        p[9, 17, 29] = 0.99  # a neighbour: never read
        g[1, 2, 3] = 0.25 * (k + 1)  # the cell of (9, 17, 30)
        g[1, 2, 2] = 0.9
    h = probe.voxel_history(probs, gates, (9, 17, 30))
    assert h.voxel == (9, 17, 30) and h.cell == (1, 2, 3)
    np.testing.assert_allclose(h.probability, [0.1, 0.4, 0.7], atol=1e-6)
    np.testing.assert_allclose(h.gate, [0.25, 0.5, 0.75])
    assert h.probability.dtype == np.float32 and h.gate.dtype == np.float32
    assert h.first_step_at(0.4) == 2 and h.first_step_at(0.5) == 3
    assert h.first_step_at(0.05) == 1 and h.first_step_at(0.8) is None
    dips = probe.voxel_history([np.full((32, 32, 32), v, np.float32) for v in (0.9, 0.1, 0.9)],
                               gates, (0, 0, 0))
    assert dips.first_step_at(0.5) == 3  # stays above only from step 3
    with pytest.raises(ValueError, match="2 probability grids but 3"):
        probe.voxel_history(probs[:2], gates, (0, 0, 0))
    with pytest.raises(ValueError, match="outside"):
        probe.voxel_history(probs, gates, (0, 0, 32))


def test_ray_voxel_hits_the_first_shown_cube():
    shown = np.zeros((8, 8, 8), bool)
    shown[2, 3, 4] = shown[5, 3, 4] = True
    # along +x through the centres: the nearer cube first, from either side
    assert probe.ray_voxel(shown, (-10, 3, 4), (1, 0, 0)) == (2, 3, 4)
    assert probe.ray_voxel(shown, (20, 3, 4), (-2, 0, 0)) == (5, 3, 4)
    # a ray starting between them looks forward only
    assert probe.ray_voxel(shown, (3.5, 3, 4), (1, 0, 0)) == (5, 3, 4)
    assert probe.ray_voxel(shown, (3.5, 3, 4), (-1, 0, 0)) == (2, 3, 4)
    # off-centre but inside the cube's face, and just outside it
    assert probe.ray_voxel(shown, (-10, 3.49, 4.4), (1, 0, 0)) == (2, 3, 4)
    assert probe.ray_voxel(shown, (-10, 3.51, 4), (1, 0, 0)) is None
    # a diagonal ray: enters (2,3,4) at t = 1.5 (x = 1.5, y = 2.5 + ...)
    shown[:] = False
    shown[2, 2, 0] = shown[4, 4, 0] = True
    assert probe.ray_voxel(shown, (0, 0, 0), (1, 1, 0)) == (2, 2, 0)
    shown[2, 2, 0] = False
    assert probe.ray_voxel(shown, (0, 0, 0), (1, 1, 0)) == (4, 4, 0)
    assert probe.ray_voxel(shown, (0, 0, 0), (-1, -1, 0)) is None  # behind the origin
    assert probe.ray_voxel(np.zeros((4, 4, 4), bool), (0, 0, 0), (1, 0, 0)) is None
    with pytest.raises(ValueError, match="direction"):
        probe.ray_voxel(shown, (0, 0, 0), (0, 0, 0))


def test_ray_voxel_agrees_with_marching_along_the_ray():
    rng = np.random.default_rng(3)
    shown = rng.random((12, 12, 12)) < 0.04
    hit = 0
    for _ in range(40):
        o = rng.uniform(-20, 30, 3)
        d = rng.uniform(5.5, 6.5, 3) - o  # towards the middle of the grid
        got = probe.ray_voxel(shown, o, d)
        t = np.linspace(0, 3, 30_001)[:, None]  # a fine march (1e-4 of the ray)
        idx = np.rint(o + t * d).astype(int)
        ok = ((idx >= 0) & (idx < 12)).all(axis=1)
        hits = [tuple(v) for v in idx[ok] if shown[tuple(v)]]
        assert got == (hits[0] if hits else None)
        hit += got is not None
    assert hit >= 10  # most rays hit something


def test_slice_image_orientation():
    p = np.zeros((4, 5, 6), np.float32)  # nx=4, ny=5, nz=6
    p[1, 4, 2] = 1.0  # a voxel at the top (y = 4)
    p[3, 0, 5] = 0.5  # bottom, far corner
    img = slices.slice_image(p, "x", 1)
    assert img.shape == (5, 6) and img[0, 2] == 1.0 and img.sum() == 1.0  # top row
    img = slices.slice_image(p, "z", 2)
    assert img.shape == (5, 4) and img[0, 1] == 1.0 and img.sum() == 1.0
    img = slices.slice_image(p, "z", 5)
    assert img[4, 3] == 0.5  # bottom row, column x = 3
    img = slices.slice_image(p, "y", 0)
    assert img.shape == (6, 4) and img[5, 3] == 0.5 and img.sum() == 0.5  # row z, col x
    assert slices.SLICE_AXES == {"x": ("y", "z"), "y": ("z", "x"), "z": ("y", "x")}
    np.testing.assert_array_equal(slices.grid_slice(p, "y", 4), p[:, 4, :])
    for axis, index in (("w", 0), ("x", 4), ("z", -1), ("y", 1.5), ("x", "a")):
        with pytest.raises(ValueError, match="slice"):
            slices.slice_image(p, axis, index)


def test_slice_plane_mesh_puts_each_voxel_in_its_square():
    p = np.zeros((32, 32, 32), np.float32)
    p[5, 6, 7] = 0.8
    p[5, 31, 0] = 0.3
    sheet = sc.slice_plane(p, "x", 5)
    assert sheet.n_cells == 32 * 32
    assert sheet.bounds[:2] == (5.0, 5.0) and sheet.bounds[2:] == (-0.5, 31.5, -0.5, 31.5)
    probs = sheet.cell_data["probability"]
    centres = sheet.cell_centers().points
    hot = centres[np.flatnonzero(probs == np.float32(0.8))]
    np.testing.assert_allclose(hot, [[5, 6, 7]])
    np.testing.assert_allclose(centres[np.flatnonzero(probs == np.float32(0.3))], [[5, 31, 0]])
    rgba = sheet.cell_data["rgba"]
    assert (rgba[probs == np.float32(0.8), :3] == sc.probability_rgb(np.float32(0.8))).all()
    assert rgba[probs == np.float32(0.8), 3] == 255  # sure: opaque
    assert rgba[probs == np.float32(0.3), 3] == 189 and (rgba[probs == 0, 3] == 90).all()
    for axis in ("y", "z"):
        sheet = sc.slice_plane(p, axis, 6 if axis == "y" else 7)
        c = sheet.cell_centers().points[np.argmax(sheet.cell_data["probability"])]
        np.testing.assert_allclose(c, [5, 6, 7])
    assert [s.title for s in colour_scales(["cubes", "slice"])] == ["P(occupied)"]


def test_voxel_marker_surrounds_its_voxel():
    box = sc.voxel_marker((3, 4, 5))
    np.testing.assert_allclose(box.bounds, (2.3, 3.7, 3.3, 4.7, 4.3, 5.7))


def test_shown_voxels_follow_the_drawn_layers():
    p = np.zeros((4, 4, 4), np.float32)
    p[0, 0, 0], p[1, 0, 0], p[2, 0, 0] = 0.9, 0.3, 0.1
    truth = np.zeros((4, 4, 4), bool)
    truth[3, 3, 3] = True
    band = (0.2, 0.6)
    assert np.argwhere(probe.shown_voxels(p, ["cubes"], 0.4, band)).tolist() == [[0, 0, 0]]
    assert np.argwhere(probe.shown_voxels(p, ["smooth", "truth"], 0.25, band, truth)
                       ).tolist() == [[0, 0, 0], [1, 0, 0]]  # the translucent truth: no
    assert np.argwhere(probe.shown_voxels(p, ["errors"], 0.4, band, truth)).tolist() == [
        [0, 0, 0], [3, 3, 3]]  # false negatives are drawn in the errors mode
    assert np.argwhere(probe.shown_voxels(p, ["band"], 0.4, band)).tolist() == [[1, 0, 0]]


def test_parse_voxel_reads_three_indices_or_says_what_is_wrong():
    assert probe.parse_voxel("12, 5, 30") == (12, 5, 30)
    assert probe.parse_voxel(" (0 31 7) ") == (0, 31, 7)
    assert probe.parse_voxel("[1,2,3]") == (1, 2, 3)
    for bad, words in (("1, 2", "three integers"), ("a, b, c", "three integers"),
                       ("1.5, 2, 3", "three integers"), ("1, 2, 32", "outside the 32x32x32"),
                       ("-1, 2, 3", "outside")):
        with pytest.raises(ValueError, match=words) as err:
            probe.parse_voxel(bad)
        assert "\n" not in str(err.value)
