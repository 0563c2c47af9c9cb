"""scene: voxel grids -> meshes, checked by counting cells and reading scalars back."""

from __future__ import annotations

import numpy as np
import pytest

from r2n2_viewer import scene as sc
from r2n2_viewer.geometry import voxel_faces


def _grid(*voxels: tuple[int, int, int]) -> np.ndarray:
    occ = np.zeros((32, 32, 32), bool)
    for v in voxels:
        occ[v] = True
    return occ


def _exposed_faces(occ: np.ndarray) -> int:
    """Reference count: every voxel face whose neighbour (or the border) is empty."""
    n = 0
    for x, y, z in np.argwhere(occ):
        for d in ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)):
            q = (x + d[0], y + d[1], z + d[2])
            inside = all(0 <= c < 32 for c in q)
            n += not (inside and occ[q])
    return n


def test_single_voxel_is_a_unit_cube_centred_on_its_index():
    mesh = sc.voxel_surface(_grid((3, 5, 7)))
    assert mesh.n_cells == 6
    assert mesh.bounds == pytest.approx((2.5, 3.5, 4.5, 5.5, 6.5, 7.5))
    normals = mesh.compute_normals(cell_normals=True, point_normals=False,
                                   auto_orient_normals=False)["Normals"]
    centres = mesh.cell_centers().points - np.array([3, 5, 7])
    assert np.all(np.sum(normals * centres, axis=1) > 0)  # outward winding


@pytest.mark.parametrize("seed", [0, 1])
def test_cube_faces_equal_exposed_faces(seed):
    rng = np.random.default_rng(seed)
    prob = rng.random((32, 32, 32)).astype(np.float32) ** 3
    occ = prob >= 0.4
    mesh = sc.cubes_mesh(prob, 0.4)
    assert mesh.n_cells == _exposed_faces(occ) == len(voxel_faces(occ))
    drawn = set(np.unique(mesh.cell_data["voxel"]).tolist())
    hidden = set(np.flatnonzero(occ.ravel()).tolist()) - drawn
    assert drawn <= set(np.flatnonzero(occ.ravel()).tolist())
    for v in hidden:  # voxels without a face are enclosed on all six sides
        x, y, z = np.unravel_index(v, occ.shape)
        assert occ[x - 1 : x + 2, y, z].all() and occ[x, y - 1 : y + 2, z].all()
        assert occ[x, y, z - 1 : z + 2].all()
    # every face carries its voxel's probability
    np.testing.assert_array_equal(mesh.cell_data["probability"],
                                  prob.ravel()[mesh.cell_data["voxel"]])
    assert mesh.cell_data["rgb"].shape == (mesh.n_cells, 3)


def test_solid_block_hides_inner_faces():
    occ = np.zeros((32, 32, 32), bool)
    occ[2:5, 2:6, 2:4] = True  # 3 x 4 x 2 block
    mesh = sc.voxel_surface(occ)
    assert mesh.n_cells == 2 * (3 * 4 + 4 * 2 + 3 * 2)
    assert len(np.unique(mesh.cell_data["voxel"])) == 24  # all voxels on the surface


def test_voxel_touching_the_border_keeps_its_outer_face():
    assert sc.voxel_surface(_grid((0, 0, 0), (31, 31, 31))).n_cells == 12


def test_empty_grid_gives_empty_meshes():
    prob = np.zeros((32, 32, 32), np.float32)
    s = sc.build_step_scene(prob, None, np.zeros((4, 4, 4), np.float32), 0.4, 1)
    assert s.n_voxels == 0
    assert s.cubes.n_cells == 0 and s.smooth.n_cells == 0 and s.points.n_points == 0
    assert s.gates.n_cells == 64 * 6  # one glyph (6 faces) per recurrent cell


def test_smooth_surface_encloses_the_voxels_in_the_world_frame():
    occ = np.zeros((32, 32, 32), bool)
    occ[10:20, 4:28, 12:16] = True
    mesh = sc.smooth_mesh(occ.astype(np.float32), 0.5)
    assert mesh.n_cells > 0 and mesh.is_manifold
    b = mesh.bounds
    assert b[0] == pytest.approx(9.5) and b[1] == pytest.approx(19.5)
    assert b[2] == pytest.approx(3.5) and b[3] == pytest.approx(27.5)  # y: tall, upright


def test_point_cloud_alpha_grows_with_probability():
    prob = np.zeros((32, 32, 32), np.float32)
    prob[1, 2, 3], prob[4, 5, 6], prob[7, 7, 7] = 0.2, 0.9, 0.01
    pts = sc.point_cloud(prob, floor=0.05)
    assert pts.n_points == 2
    np.testing.assert_array_equal(pts.points, [[1, 2, 3], [4, 5, 6]])
    alpha = pts.point_data["rgba"][:, 3]
    assert alpha[0] < alpha[1]


def test_changes_sets():
    prev = np.zeros((32, 32, 32), np.float32)
    now = np.zeros((32, 32, 32), np.float32)
    prev[1, 1, 1] = prev[2, 2, 2] = 0.9  # kept, lost
    now[1, 1, 1] = now[3, 3, 3] = 0.8  # kept, new
    now[2, 2, 2] = 0.3  # below threshold now
    ch = sc.changes(now, prev, 0.4)
    assert [tuple(v) for v in np.argwhere(ch.appeared)] == [(3, 3, 3)]
    assert [tuple(v) for v in np.argwhere(ch.disappeared)] == [(2, 2, 2)]
    assert [tuple(v) for v in np.argwhere(ch.kept)] == [(1, 1, 1)]
    first = sc.changes(now, None, 0.4)  # the first step: everything appeared
    assert first.appeared.sum() == 2 and not first.disappeared.any()

    current, ghosts = sc.changes_meshes(ch)
    assert current.n_cells == 12 and ghosts.n_cells == 6
    appeared = current.cell_data["appeared"].astype(bool)
    assert set(current.cell_data["voxel"][appeared]) == {np.ravel_multi_index((3, 3, 3),
                                                                               (32,) * 3)}
    top = current.cell_data["direction"] == 2  # +y faces: full brightness
    assert (current.cell_data["rgb"][appeared & top] == sc.APPEARED_RGB).all()
    assert (current.cell_data["rgb"][~appeared & top] == sc.KEPT_RGB).all()
    expected = sc.shade(current, np.where(appeared[:, None], sc.APPEARED_RGB, sc.KEPT_RGB))
    np.testing.assert_array_equal(current.cell_data["rgb"], expected)

    s = sc.build_step_scene(now, prev, np.zeros((4, 4, 4), np.float32), 0.4, 2)
    assert (s.n_appeared, s.n_disappeared, s.n_voxels) == (1, 1, 2)


def test_gate_grid_has_64_cells_with_the_right_strengths():
    gate = np.arange(64, dtype=np.float32).reshape(4, 4, 4) / 63
    grid = sc.gate_grid(gate)
    assert grid.n_cells == 64
    values = grid.cell_data["write_strength"]
    centres = grid.cell_centers().points
    for (cx, cy, cz), v in zip(centres, values, strict=True):
        i, j, k = (int((c + 0.5) // 8) for c in (cx, cy, cz))
        assert v == pytest.approx(gate[i, j, k])  # cell [i,j,k] covers voxels [8i:8i+8]...
    assert grid.bounds[0] > -0.5 and grid.bounds[1] < 31.5  # shrunk inside the grid


def test_iou_and_ground_truth_mesh():
    prob = np.zeros((32, 32, 32), np.float32)
    prob[0:4, 0:4, 0:4] = 0.9
    gt = np.zeros((32, 32, 32), bool)
    gt[0:4, 0:4, 0:2] = True
    s = sc.build_step_scene(prob, None, np.zeros((4, 4, 4), np.float32), 0.4, 1,
                            ground_truth=gt)
    assert s.iou == pytest.approx(0.5)
    assert sc.ground_truth_mesh(gt).n_cells == 2 * (16 + 8 + 8)


def test_default_camera_looks_down_from_about_25_degrees():
    pos, focal, up = sc.default_camera()
    d = np.subtract(pos, focal)
    elevation = np.degrees(np.arcsin(d[1] / np.linalg.norm(d)))
    assert elevation == pytest.approx(25.0)
    assert up == (0.0, 1.0, 0.0)


def test_gate_glyphs_size_with_strength_and_leave_room():
    gate = np.zeros((4, 4, 4), np.float32)
    gate[1, 2, 3] = 1.0
    gate[0, 0, 0] = 0.5
    mesh = sc.gate_glyphs(gate)
    assert mesh.n_cells == 64 * 6
    cells = mesh.cell_data["cell"]
    strong = mesh.extract_cells(np.flatnonzero(cells == np.ravel_multi_index((1, 2, 3), (4,) * 3)))
    xmin, xmax, ymin, ymax, zmin, zmax = strong.bounds
    assert (xmin + xmax) / 2 == pytest.approx(1 * 8 + 3.5)  # centred in its 8^3 block
    assert (ymin + ymax) / 2 == pytest.approx(2 * 8 + 3.5)
    assert (zmin + zmax) / 2 == pytest.approx(3 * 8 + 3.5)
    assert xmax - xmin == pytest.approx(0.85 * 8)  # the strongest: 85 % of the block
    weak = mesh.extract_cells(np.flatnonzero(cells == 1))
    assert weak.bounds[1] - weak.bounds[0] == pytest.approx(0.15 * 8)  # idle: small
    assert set(np.unique(mesh.cell_data["write_strength"])) == {0.0, 0.5, 1.0}
    above = sc.gate_glyphs(gate, level=0.4)
    assert above.n_cells == 2 * 6
    assert sc.gate_glyphs(gate, level=1.1).n_cells == 0


def test_smooth_surface_is_shaded_like_the_cube_faces():
    axes = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]],
                    np.float32)
    want = np.clip(np.array(sc.SMOOTH_RGB, np.float32) * sc.FACE_SHADE[:, None] + 0.5, 0, 255)
    np.testing.assert_array_equal(sc.smooth_shade(axes), want.astype(np.uint8))
    # between two axes: between their shades (top brighter than a side, a side than below)
    tilted = sc.smooth_shade(np.array([[0.6, 0.8, 0.0], [0.6, -0.8, 0.0]], np.float32))
    assert want[3, 0] < tilted[1, 0] < want[0, 0] < tilted[0, 0] < want[2, 0]
    # the mesh carries them per vertex, from its outward normals
    p = np.zeros((32, 32, 32), np.float32)
    p[10:20, 10:20, 10:20] = 1.0
    mesh = sc.smooth_mesh(p, 0.4)
    rgb = mesh.point_data["rgb"]
    assert rgb.shape == (mesh.n_points, 3) and rgb.dtype == np.uint8
    normals = mesh.point_data["Normals"]
    top, bottom = normals[:, 1] > 0.99, normals[:, 1] < -0.99  # lit like a cube's top
    assert top.any() and bottom.any()  # and bottom face
    assert np.abs(rgb[top].astype(int) - want[2]).max() <= 2
    assert np.abs(rgb[bottom].astype(int) - want[3]).max() <= 2


def test_gate_glyph_faces_carry_the_gate_colour_shaded_like_cubes():
    gate = np.zeros((4, 4, 4), np.float32)
    gate[1, 2, 3] = 0.75
    mesh = sc.gate_glyphs(gate, level=0.5)
    assert mesh.n_cells == 6
    base = sc.probability_rgb(np.float32(0.75), "magma_r").astype(np.float32)
    centre = np.asarray(mesh.cell_centers().points).mean(axis=0)
    for k in range(6):  # each face's shade follows the way it faces
        outward = mesh.cell_centers().points[k] - centre
        axis = int(np.argmax(np.abs(outward)))
        direction = 2 * axis + (outward[axis] < 0)
        assert mesh.cell_data["direction"][k] == direction
        want = np.clip(base * sc.FACE_SHADE[direction] + 0.5, 0, 255).astype(np.uint8)
        np.testing.assert_array_equal(mesh.cell_data["rgb"][k], want)
