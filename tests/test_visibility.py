"""Seen vs inferred: first hits of pixel rays on hand-made grids whose seen set is known."""

from __future__ import annotations

import numpy as np
import pytest

from r2n2_viewer.cameras import ViewCamera
from r2n2_viewer.models.camera import GridBox
from r2n2_viewer.visibility import first_hits, seen_and_inferred, seen_voxels, visible_from

BOX = GridBox.centred(1.0)  # voxel (i, j, k) spans -0.5 + [i, i + 1] / 32
# far cameras with a narrow field of view on the grid's axes (elevation 0)
FRONT = ViewCamera("270 0 0 20 2.2", BOX)  # from +z
BACK = ViewCamera("90 0 0 20 2.2", BOX)  # from -z
RIGHT = ViewCamera("0 0 0 20 2.2", BOX)  # from +x
LEFT = ViewCamera("180 0 0 20 2.2", BOX)  # from -x
TOP = ViewCamera("0 89.999 0 20 2.2", BOX)  # from +y (up is undefined straight above)
BOTTOM = ViewCamera("0 -89.999 0 20 2.2", BOX)


def grid_with(*boxes: tuple[slice, slice, slice]) -> np.ndarray:
    occ = np.zeros((32, 32, 32), bool)
    for b in boxes:
        occ[b] = True
    return occ


FRONT_BOX = (slice(8, 24), slice(8, 24), slice(20, 22))


def test_a_box_hidden_behind_a_box_is_never_seen():
    occ = grid_with(FRONT_BOX, (slice(12, 20), slice(12, 20), slice(4, 6)))
    seen = visible_from(occ, FRONT.line, BOX)
    expected = np.zeros_like(occ)
    expected[8:24, 8:24, 21] = True  # only the front face of the front box
    np.testing.assert_array_equal(seen, expected)


def test_the_part_sticking_out_behind_is_seen():
    occ = grid_with(FRONT_BOX, (slice(4, 12), slice(12, 20), slice(4, 6)))
    seen = visible_from(occ, FRONT.line, BOX)
    expected = np.zeros_like(occ)
    expected[8:24, 8:24, 21] = True
    expected[4:8, 12:20, 5] = True  # the front face of the back box left of the shadow
    np.testing.assert_array_equal(seen, expected)


def test_six_views_see_the_shell_of_a_solid_cube_and_never_its_inside():
    occ = grid_with((slice(11, 21),) * 3)
    split = seen_and_inferred(occ.astype(np.float32), [FRONT, BACK, LEFT, RIGHT, TOP, BOTTOM],
                              threshold=0.5)
    inside = np.zeros_like(occ)
    inside[12:20, 12:20, 12:20] = True
    np.testing.assert_array_equal(split.inferred, inside)
    np.testing.assert_array_equal(split.seen, occ & ~inside)
    assert split.counts == {"seen": 1000 - 512, "inferred": 512}
    assert split.views_used == 6


def test_views_without_a_camera_are_skipped():
    occ = grid_with(FRONT_BOX)
    split = seen_and_inferred(occ * 0.9, [None, FRONT, None], threshold=0.5)
    assert split.views_used == 1
    assert split.counts == {"seen": 256, "inferred": 256}
    assert seen_voxels(occ, [None]).sum() == 0


def test_rays_stop_at_the_truth_when_given():
    """Against the truth, a predicted voxel in front of the true surface is not seen and a
    predicted voxel on it is."""
    truth = grid_with(FRONT_BOX)
    pred = grid_with(FRONT_BOX, (slice(8, 24), slice(8, 24), slice(26, 27)))  # a slab in front
    own = seen_and_inferred(pred.astype(float), [FRONT], 0.5)
    assert own.seen[:, :, 26].sum() == 256 and own.seen[:, :, 21].sum() == 0
    vs_truth = seen_and_inferred(pred.astype(float), [FRONT], 0.5, truth=truth)
    assert vs_truth.seen[:, :, 21].sum() == 256 and vs_truth.seen[:, :, 26].sum() == 0


def test_first_hits_agree_with_dense_marching():
    rng = np.random.default_rng(0)
    occ = rng.random((32, 32, 32)) < 0.03
    origin = np.array([-20.0, 40.0, 50.0])
    dirs = rng.normal(size=(200, 3))
    dirs[:, 0] = np.abs(dirs[:, 0]) + 0.3
    dirs[:, 1] -= 0.5
    dirs[:, 2] -= 1
    hits = first_hits(occ, origin, dirs)
    ts = np.arange(0, 160, 0.002)
    for r in range(len(dirs)):
        cells = np.floor(origin + ts[:, None] * dirs[r] / np.linalg.norm(dirs[r]) + 0.5)
        cells = cells[((cells >= 0) & (cells < 32)).all(1)].astype(int)
        filled = occ[tuple(cells.T)]
        expected = np.ravel_multi_index(cells[filled.argmax()], occ.shape) if filled.any() \
            else -1
        assert hits[r] == expected, r
    assert (hits >= 0).sum() > 20  # the check covers real hits, not only misses


def test_axis_parallel_rays_and_empty_grids():
    occ = grid_with((slice(3, 4), slice(5, 6), slice(7, 8)))
    dirs = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, -1.0], [1.0, 0, 0]])
    origins = np.array([[-5.0, 5, 7], [3, -5, 7], [3, 5, 40], [-5, 6, 7]])
    hits = [first_hits(occ, o, d[None])[0] for o, d in zip(origins, dirs, strict=True)]
    target = np.ravel_multi_index((3, 5, 7), occ.shape)
    assert hits == [target, target, target, -1]
    assert (first_hits(np.zeros((4, 4, 4), bool), np.zeros(3), np.ones((3, 3))) == -1).all()
    with pytest.raises(ValueError):
        first_hits(np.zeros((4, 4)), np.zeros(3), np.ones((1, 3)))
