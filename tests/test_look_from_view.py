"""Cameras of the 3D view: looking from a demo view puts the truth over that view's
alpha mask; the seen mode and --camera of ``r2n2 render``."""

from __future__ import annotations

import numpy as np
import pytest
from factories import box_views
from PIL import Image

from r2n2_viewer import render as rd
from r2n2_viewer import scene as sc
from r2n2_viewer.cameras import PRESETS, ViewCamera, check_camera, preset_camera, view_cameras
from r2n2_viewer.cli import main
from r2n2_viewer.demo import list_demos
from r2n2_viewer.models.sh3d.check import tolerant_iou
from r2n2_viewer.models.voxels import read_binvox


def silhouette_in_view(occupancy: np.ndarray, name: str, cameras: list, size: int = 137
                       ) -> np.ndarray:
    """Pixels the voxel cubes cover in the 3D view with camera ``name``."""
    return rd.silhouette_from_camera(occupancy, name, cameras, size)


def test_looking_from_view_k_the_truth_covers_the_views_alpha_mask():
    for demo in list_demos():
        cams = view_cameras(demo.images)
        assert all(cams), demo.name
        truth = read_binvox(demo.voxels_path)
        for k, image in enumerate(demo.images, 1):
            alpha = np.asarray(Image.open(image))[..., 3] >= 128
            sil = silhouette_in_view(truth, f"view:{k}", cams)
            raw = (alpha & sil).sum() / (alpha | sil).sum()
            iou = tolerant_iou(alpha, sil, 2)  # voxels quantise thin parts: 2 px leeway
            assert iou > 0.85 and raw > 0.65, (demo.name, k, iou, raw)
            if k == 1:  # another view's camera does not fit this picture
                other = silhouette_in_view(truth, "view:2", cams)
                assert tolerant_iou(alpha, other, 2) < iou - 0.1


def test_presets_and_camera_names():
    assert [check_camera(n) for n in ("Front", "iso", "view:03", "default")] == \
        ["front", "iso", "view:3", "default"]
    for bad in ("view:0", "view:x", "back", ""):
        with pytest.raises(ValueError, match="unknown camera"):
            check_camera(bad)
    centre = np.full(3, 15.5)
    front = np.array(preset_camera("front").position) - centre
    assert front[2] > 0 and abs(front[0]) < 1e-9  # objects face +z
    top = preset_camera("top")
    assert np.array(top.position)[1] > 15.5 and top.up == (0.0, 0.0, -1.0)
    assert {p for p in PRESETS} == {"front", "side", "top", "iso"}
    with pytest.raises(ValueError, match="no known camera"):
        rd.camera_for("view:2", [None, None])
    assert rd.camera_for("default") is None


def test_front_preset_shows_the_front_face(tmp_path):
    """From the front a box deep in z shows its small x-y face; from the side its long
    z-y face."""
    occ = np.zeros((32, 32, 32), bool)
    occ[12:20, 12:20, 2:30] = True  # 8 wide, 28 deep
    front = silhouette_in_view(occ, "front", [], 200)
    side = silhouette_in_view(occ, "side", [], 200)
    cols = lambda m: np.flatnonzero(m.any(axis=0))  # noqa: E731
    assert len(cols(side)) > 2.5 * len(cols(front))


def test_view_cameras_of_dataset_renderings(tmp_path):
    from factories import shapenet_tree

    root = shapenet_tree(tmp_path, {"03001627": "chair"}, 1, 3)
    pngs = sorted(root.rglob("rendering/*.png"))
    assert pngs
    cams = view_cameras(pngs[:2])
    demo = list_demos()[0]
    assert view_cameras([demo.images[1], tmp_path / "elsewhere.png"]) == \
        [ViewCamera(demo.cameras[1], demo.grid), None]
    # the factory's tree has metadata lines and voxels: every rendering has a camera
    assert all(isinstance(c, ViewCamera) for c in cams)


def test_seen_mode_in_scenes_and_render(tmp_path):
    demo = list_demos()[0]
    cams = view_cameras(demo.images)
    truth = read_binvox(demo.voxels_path).astype(np.float32) * 0.9
    gate = np.full((4, 4, 4), 0.5, np.float32)
    one = sc.build_step_scene(truth, None, gate, 0.4, 1, cameras=cams[:1])
    three = sc.build_step_scene(truth, truth, gate, 0.4, 3, cameras=cams[:3])
    none = sc.build_step_scene(truth, None, gate, 0.4, 1)
    for s in (one, three, none):
        assert s.n_seen + s.n_inferred == s.n_voxels
    assert 0 < one.n_seen < three.n_seen and none.n_seen == 0 and none.seen_views == 0
    assert three.seen_views == 3
    rd.render_scenes([three], tmp_path, mode="seen", size=(240, 180))
    img = np.asarray(Image.open(tmp_path / "step_03.png").convert("RGB")).astype(int)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    assert ((r > 180) & (g > 120) & (b < 90)).sum() > 100  # the seen colour


def test_cli_render_seen_and_camera(tmp_path, tiny_checkpoint):
    demo = list_demos()[0]
    paths = [str(p) for p in demo.images[:2]]
    out = tmp_path / "seen"
    rc = main(["render", *paths, "--weights", tiny_checkpoint, "--out", str(out),
               "--size", "160x120", "--device", "cpu", "--mode", "seen", "--threshold",
               "0.05", "--camera", "view:2"])
    assert rc == 0 and (out / "step_02.png").is_file()
    own = box_views(tmp_path, 2)
    for extra in (["--mode", "seen"], ["--camera", "view:1"], ["--camera", "back"]):
        assert main(["render", *own, "--weights", tiny_checkpoint, "--out",
                     str(tmp_path / "no"), *extra]) == 2
    assert not (tmp_path / "no").exists()
