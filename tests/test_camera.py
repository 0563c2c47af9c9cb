"""The one camera model (models.camera): rays, projection, the grid box, the index-frame
camera, and the cameras recorded for the bundled demos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from r2n2_viewer.demo import list_demos
from r2n2_viewer.models.camera import (
    GridBox,
    camera_basis,
    index_camera,
    parse_metadata_line,
    pixel_rays,
    project_points,
)
from r2n2_viewer.models.sh3d.check import tolerant_iou, voxel_silhouette
from r2n2_viewer.models.voxels import read_binvox

LINE = "30 27 0 0.8 49.1343"


def test_pixel_rays_pass_through_their_pixel_centres():
    size = 9
    origin, dirs = pixel_rays(LINE, size)
    pts = origin + 0.7 * dirs  # a point along each ray
    uv = project_points(pts, LINE, size)
    rows, cols = np.divmod(np.arange(size * size), size)
    np.testing.assert_allclose(uv, np.stack([cols + 0.5, rows + 0.5], 1), atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(dirs, axis=1), 1.0)


def test_camera_basis_is_orthonormal_and_looks_at_the_origin():
    cam = camera_basis("270 0 0 1 40")
    np.testing.assert_allclose(cam.position, [0, 0, 1.75], atol=1e-12)  # front: from +z
    np.testing.assert_allclose(cam.forward, [0, 0, -1], atol=1e-12)
    np.testing.assert_allclose(cam.up, [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(cam.right, [1, 0, 0], atol=1e-12)


@pytest.mark.parametrize("bad", ["1 2 3 4", "a b c d e", "0 0 0 -1 40", "0 0 0 1 0",
                                 "0 0 0 1 nan"])
def test_bad_metadata_lines_are_refused(bad):
    with pytest.raises(ValueError, match="metadata line"):
        parse_metadata_line(bad)


def test_grid_box_maps_voxel_centres_both_ways():
    box = GridBox((-0.4, -0.3, -0.2), 0.8, 32)
    idx = np.array([[0, 0, 0], [31, 15, 2]], float)
    world = box.index_to_world(idx)
    np.testing.assert_allclose(world[0], [-0.4 + 0.0125, -0.3 + 0.0125, -0.2 + 0.0125])
    np.testing.assert_allclose(box.world_to_index(world), idx, atol=1e-9)
    with pytest.raises(ValueError):
        GridBox((0, 0, 0), 0.0)


def test_index_camera_sees_the_same_picture():
    """Projecting index-frame points through the index camera gives the pixels the
    metadata camera gives for the same world points."""
    box = GridBox((-0.37, -0.35, -0.33), 0.74)
    cam = index_camera(LINE, box)
    rng = np.random.default_rng(1)
    idx = rng.uniform(0, 31, (50, 3))
    expected = project_points(box.index_to_world(idx), LINE, 137)
    pos, focal, up = (np.array(v) for v in (cam.position, cam.focal_point, cam.up))
    f = (focal - pos) / np.linalg.norm(focal - pos)
    r = np.cross(f, up)
    r /= np.linalg.norm(r)
    u = np.cross(r, f)
    d = idx - pos
    s = 1 / np.tan(np.radians(cam.view_angle) / 2)
    col = ((d @ r) * s / (d @ f) + 1) / 2 * 137
    row = (1 - (d @ u) * s / (d @ f)) / 2 * 137
    np.testing.assert_allclose(np.stack([col, row], 1), expected, atol=1e-6)


def test_every_demo_records_the_cameras_of_its_views():
    """Each demo view's alpha mask matches its truth projected with the recorded camera
    (a camera turned by 60 degrees and 25 % farther away does not)."""
    demos = list_demos()
    assert demos
    for demo in demos:
        assert demo.cameras is not None and len(demo.cameras) == len(demo.images), demo.name
        # the spare renderings offered as next-view candidates carry their cameras too
        assert len(demo.candidates) == 3 and demo.candidate_cameras is not None, demo.name
        assert not {p.name for p in demo.candidates} & {p.name for p in demo.images}
        truth = read_binvox(demo.voxels_path)
        for image, line in zip(demo.images + demo.candidates,
                               demo.cameras + demo.candidate_cameras, strict=True):
            alpha = np.asarray(Image.open(image))[..., 3] >= 128
            values = line.split()
            values[0] = str(float(values[0]) + 60)
            values[3] = str(float(values[3]) * 1.25)
            turned = " ".join(values)
            good = tolerant_iou(alpha, voxel_silhouette(truth, demo.grid.scale, line), 2)
            bad = tolerant_iou(alpha, voxel_silhouette(truth, demo.grid.scale, turned), 2)
            assert good > 0.85 and good > bad + 0.1, (demo.name, image.name, good, bad)


def test_unsound_demo_cameras_are_ignored_with_a_warning(tmp_path):
    import json
    import shutil

    src = list_demos()[0]
    folder = tmp_path / "demo_a"
    shutil.copytree(src.folder, folder)
    info = json.loads((folder / "info.json").read_text())
    info["cameras"] = info["cameras"][:2]  # fewer cameras than views
    (folder / "info.json").write_text(json.dumps(info))
    with pytest.warns(UserWarning, match="cameras ignored"):
        (demo,) = list_demos(tmp_path)
    assert demo.cameras is None and demo.grid is None and len(demo.images) == 5
    del info["cameras"], info["grid"]
    (folder / "info.json").write_text(json.dumps(info))
    (demo,) = list_demos(tmp_path)
    assert demo.cameras is None


def test_unsound_candidate_cameras_are_ignored_but_the_candidates_stay(tmp_path):
    import json
    import shutil

    from r2n2_viewer.cameras import view_cameras

    src = next(d for d in list_demos() if d.candidates)
    folder = tmp_path / "demo_b"
    shutil.copytree(src.folder, folder)
    info = json.loads((folder / "info.json").read_text())
    info["candidate_cameras"] = info["candidate_cameras"][:1]  # one line for 3 pictures
    (folder / "info.json").write_text(json.dumps(info))
    with pytest.warns(UserWarning, match="candidate_cameras ignored"):
        (demo,) = list_demos(tmp_path)
    assert len(demo.candidates) == 3 and demo.candidate_cameras is None
    assert demo.cameras == src.cameras  # the sequence's own cameras are unaffected
    with pytest.warns(UserWarning):
        cams = view_cameras([str(p) for p in demo.images + demo.candidates])
    assert all(c is not None for c in cams[:5]) and cams[5:] == [None] * 3
