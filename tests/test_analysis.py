"""Uncertainty and errors against the truth (r2n2_viewer.analysis), and their meshes."""

from __future__ import annotations

import numpy as np
import pytest

from r2n2_viewer import analysis as an
from r2n2_viewer import scene as sc
from r2n2_viewer.layers import ERROR_RGB, colour_scales, layers_for


def test_entropy_is_bernoulli_in_bits():
    p = np.array([0.0, 1.0, 0.5, 0.25, 0.9]).reshape(1, 1, 5)
    h = an.entropy(p)
    expected = [0.0, 0.0, 1.0, 0.8112781, -(0.9 * np.log2(0.9) + 0.1 * np.log2(0.1))]
    assert h.dtype == np.float32 and h.shape == p.shape
    np.testing.assert_allclose(h.ravel(), expected, atol=1e-6)
    assert an.entropy(np.full((2, 2, 2), 0.3))[0, 0, 0] == pytest.approx(an.entropy(
        np.full((1, 1, 1), 0.7))[0, 0, 0])  # symmetric around 0.5
    assert an.mean_entropy(np.full((4, 4, 4), 0.5)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="3-D"):
        an.entropy(np.zeros((4, 4)))


def test_uncertain_band_is_open_interval_and_checked():
    p = np.array([0.1, 0.2, 0.3, 0.59, 0.6, 0.9]).reshape(1, 2, 3)
    assert an.uncertain_band(p, (0.2, 0.6)).ravel().tolist() == [False, False, True, True,
                                                                 False, False]
    for bad in ((0.6, 0.2), (-0.1, 0.5), (0.2, float("nan")), "x", (0.1,)):
        with pytest.raises(ValueError, match="band"):
            an.uncertain_band(p, bad)


def test_truth_errors_counts_and_iou():
    p = np.zeros((4, 4, 4), np.float32)
    truth = np.zeros((4, 4, 4), bool)
    p[0, 0, :3] = 0.9  # three predicted
    truth[0, 0, 1:] = True  # three true, two shared
    err = an.truth_errors(p, truth, 0.4)
    assert err.counts == {"true_positive": 2, "false_positive": 1, "false_negative": 1}
    assert err.false_positive[0, 0, 0] and err.false_negative[0, 0, 3]
    assert err.iou == pytest.approx(2 / 4)
    assert an.truth_errors(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), 0.5).iou == 1.0
    with pytest.raises(ValueError, match="truth"):
        an.truth_errors(p, np.zeros((2, 2, 2)), 0.4)


def _grid_with_truth():
    p = np.zeros((32, 32, 32), np.float32)
    p[4:10, 4:10, 4:10] = 0.9
    p[20:22, 20:22, 20:22] = 0.45  # predicted (>= 0.4), wrong, unsure
    truth = np.zeros((32, 32, 32), bool)
    truth[4:10, 4:10, 4:12] = True  # two slabs the network missed
    return p, truth


def test_errors_mesh_colours_each_class():
    p, truth = _grid_with_truth()
    mesh = sc.errors_mesh(an.truth_errors(p, truth, 0.4))
    cat = mesh.cell_data["category"]
    voxels = mesh.cell_data["voxel"]
    assert set(np.unique(cat)) == {0, 1, 2}
    fp = np.unravel_index(voxels[cat == 1], p.shape)
    assert (np.asarray(fp) >= 20).all()  # false positives are the unsure blob only
    fn = np.unravel_index(voxels[cat == 2], p.shape)
    assert (fn[2] >= 10).all()
    # the shading darkens but keeps each class's hue: orange for false positives
    rgb = mesh.cell_data["rgb"].astype(int)
    assert (rgb[cat == 1, 0] > rgb[cat == 1, 2] + 60).all()
    assert (rgb[cat == 2, 2] > rgb[cat == 2, 0] + 60).all()
    assert ERROR_RGB[1][0] > ERROR_RGB[1][2]


def test_uncertainty_meshes_and_scene_figures():
    p, truth = _grid_with_truth()
    occ_mesh = sc.uncertainty_mesh(p, 0.4)
    band_mesh = sc.uncertainty_mesh(p, 0.4, (0.2, 0.6))
    assert occ_mesh.n_cells == sc.cubes_mesh(p, 0.4).n_cells
    assert set(np.unique(band_mesh.cell_data["voxel"] // (32 * 32))) == {20, 21}
    assert band_mesh.cell_data["entropy"].min() > 0.99  # P = 0.45: almost a coin flip
    gate = np.full((4, 4, 4), 0.5, np.float32)
    scene = sc.build_step_scene(p, None, gate, 0.4, 1, ground_truth=truth, band=(0.3, 0.5))
    assert (scene.n_false_positive, scene.n_false_negative) == (8, 72)
    assert scene.n_band == 8 and scene.band_range == (0.3, 0.5)
    assert scene.mean_entropy == pytest.approx(float(an.entropy(p).mean()))
    assert scene.errors.n_cells > 0 and scene.band.n_cells == band_mesh.n_cells
    bare = sc.build_step_scene(p, None, gate, 0.4, 1)
    assert bare.n_false_positive is None and bare.errors.n_cells == 0


def test_layers_and_colour_scales_of_new_modes():
    assert layers_for("uncertainty", False, False, True) == ["uncertainty", "truth"]
    assert layers_for("uncertainty", False, True, False, band_only=True) == ["band", "gates"]
    assert layers_for("errors", False, False, True) == ["errors"]  # truth is drawn already
    assert layers_for("errors", False, False, False) == ["cubes"]  # no truth: plain cubes
    titles = [s.title for s in colour_scales(["uncertainty", "gates"])]
    assert titles == ["entropy (bits)", "update gate"]
    assert [c[0] for c in colour_scales(["errors"])[0].categories] == [
        "correct", "false positive", "false negative"]
    assert colour_scales(["smooth", "truth"]) == []
