"""Off-screen rendering of steps (``r2n2 render``): PNG per step + refinement GIF."""

from __future__ import annotations

import numpy as np
import pytest
from factories import box_views
from PIL import Image

from r2n2_viewer import render as rd
from r2n2_viewer import scene as sc
from r2n2_viewer.cli import main


def _scenes() -> list[sc.StepScene]:
    gate = np.full((4, 4, 4), 0.5, np.float32)
    out, prev = [], None
    for k in range(3):
        prob = np.zeros((32, 32, 32), np.float32)
        prob[8:24, 2 : 12 + 8 * k, 10:20] = 0.9  # grows upward step by step
        out.append(sc.build_step_scene(prob, prev, gate, 0.4, k + 1))
        prev = prob
    return out


def test_render_scenes_writes_pngs_and_gif(tmp_path):
    written = rd.render_scenes(_scenes(), tmp_path, size=(240, 180), gates=True)
    assert [p.name for p in written] == ["step_01.png", "step_02.png", "step_03.png",
                                         "refinement.gif"]
    images = [np.asarray(Image.open(p).convert("RGB")) for p in written[:3]]
    for img in images:
        assert img.shape == (180, 240, 3) and img.std() > 5
    assert np.abs(images[0].astype(int) - images[2].astype(int)).sum() > 0
    with Image.open(written[-1]) as gif:
        assert gif.n_frames == 3 and gif.size == (240, 180)


def test_changes_mode_shows_appeared_colour(tmp_path):
    rd.render_scenes(_scenes()[:2], tmp_path, changes=True, size=(240, 180))
    img = np.asarray(Image.open(tmp_path / "step_02.png").convert("RGB")).astype(int)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    assert ((g > r + 40) & (g > b + 20)).sum() > 50  # the green of newly appeared voxels


def test_layers_and_size_validation():
    assert rd.layers_for("smooth", False, True, True) == ["smooth", "gates", "truth"]
    assert rd.layers_for("cubes", True, False, False) == ["changed", "ghosts"]
    with pytest.raises(ValueError, match="display mode"):
        rd.layers_for("voxels", False, False, False)
    assert rd.parse_size("800x600") == (800, 600)
    with pytest.raises(ValueError):
        rd.parse_size("big")


def test_cli_render(tmp_path, tiny_checkpoint):
    paths = box_views(tmp_path, 2)
    out = tmp_path / "out"
    rc = main(["render", *paths, "--weights", tiny_checkpoint, "--out", str(out),
               "--size", "160x120", "--mode", "smooth", "--device", "cpu"])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["refinement.gif", "step_01.png",
                                                     "step_02.png"]
    with Image.open(out / "step_01.png") as im:
        assert im.size == (160, 120)
    bad = main(["render", str(tmp_path / "nope.png"), "--weights", tiny_checkpoint,
                "--out", str(out / "x")])
    assert bad == 2 and not (out / "x").exists()


def _truth() -> np.ndarray:
    truth = np.zeros((32, 32, 32), bool)
    truth[8:24, 2:20, 10:24] = True
    return truth


def test_errors_mode_draws_false_negatives_and_needs_truth(tmp_path):
    scenes = []
    gate = np.full((4, 4, 4), 0.5, np.float32)
    prob = np.zeros((32, 32, 32), np.float32)
    prob[8:24, 2:12, 10:20] = 0.9
    scenes.append(sc.build_step_scene(prob, None, gate, 0.4, 1, ground_truth=_truth()))
    rd.render_scenes(scenes, tmp_path, mode="errors", size=(240, 180))
    img = np.asarray(Image.open(tmp_path / "step_01.png").convert("RGB")).astype(int)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    assert ((b > r + 80) & (b > g + 40)).sum() > 200  # the blue of the missed voxels
    with pytest.raises(ValueError, match="ground truth"):
        rd.render_scenes(_scenes(), tmp_path / "x", mode="errors")
    assert not (tmp_path / "x").exists()  # refused before anything is written


def test_uncertainty_mode_has_colour_bar(tmp_path):
    scenes = _scenes()[:1]
    rd.render_scenes(scenes, tmp_path / "bar", mode="uncertainty", size=(320, 240))
    rd.render_scenes(scenes, tmp_path / "plain", mode="uncertainty", size=(320, 240),
                     colour_bar=False)
    bar = np.asarray(Image.open(tmp_path / "bar" / "step_01.png").convert("RGB")).astype(int)
    plain = np.asarray(Image.open(tmp_path / "plain" / "step_01.png").convert("RGB"))
    right = np.abs(bar - plain.astype(int))[:, int(0.85 * 320):].sum(axis=2)
    assert (right > 60).sum() > 300  # the bar (and its numbers) at the right edge
    r, b = bar[..., 0], bar[..., 2]
    assert ((b > r + 60)[:, int(0.85 * 320):]).sum() > 20  # coolwarm's blue end: 0 bits


def test_cli_render_new_modes(tmp_path, tiny_checkpoint):
    from r2n2_viewer.models.voxels import write_binvox

    paths = box_views(tmp_path, 2)
    truth = tmp_path / "truth.binvox"
    write_binvox(truth, _truth())
    for extra in (["--mode", "errors", "--truth", str(truth)],
                  ["--mode", "uncertainty", "--band", "0.2,0.6"]):
        out = tmp_path / extra[1]
        rc = main(["render", *paths, "--weights", tiny_checkpoint, "--out", str(out),
                   "--size", "160x120", "--device", "cpu", *extra])
        assert rc == 0 and (out / "step_02.png").is_file()
    assert main(["render", *paths, "--weights", tiny_checkpoint, "--out",
                 str(tmp_path / "y"), "--mode", "errors"]) == 2
    assert main(["render", *paths, "--out", str(tmp_path / "z"), "--band", "0.6,0.2"]) == 2
    assert not (tmp_path / "y").exists() and not (tmp_path / "z").exists()


def _frame(meshes: list[tuple[object, str]], camera: tuple) -> np.ndarray:
    import pyvista as pv

    plotter = pv.Plotter(off_screen=True, window_size=(120, 120))
    try:
        plotter.set_background("white")
        rd.configure_renderer(plotter)
        for mesh, layer in meshes:
            rd.add_layer(plotter, mesh, layer)
        plotter.camera_position = camera
        plotter.reset_camera()
        plotter.render()
        return np.asarray(plotter.screenshot(None, return_img=True)).astype(int)
    finally:
        plotter.close()


def test_direct_colour_layer_draws_its_rgb_array():
    occ = np.zeros((32, 32, 32), bool)
    occ[14:18, 14:18, 14:18] = True
    mesh = sc.voxel_surface(occ)
    mesh.cell_data["rgb"] = np.tile(np.array([[200, 40, 30]], np.uint8), (mesh.n_cells, 1))
    img = _frame([(mesh, "cubes")], [(16, 16, 80), (16, 16, 16), (0, 1, 0)])
    assert np.abs(img[60, 60] - [200, 40, 30]).max() <= 3  # unlit: exactly its colour


@pytest.mark.parametrize("near_first", [True, False])
def test_translucent_points_blend_back_to_front(near_first):
    """Two half-transparent points on the line of sight: the near one's colour wins
    whatever their order in the data (they are sorted from the camera)."""
    import pyvista as pv

    pts = np.array([[16, 16, 20], [16, 16, 10]], np.float32)  # near (z = 20), far
    rgba = np.array([[255, 0, 0, 150], [0, 0, 255, 150]], np.uint8)
    order = [0, 1] if near_first else [1, 0]
    mesh = pv.PolyData(pts[order])
    mesh.point_data["rgba"] = rgba[order]
    img = _frame([(mesh, "points")], [(16, 16, 80), (16, 16, 16), (0, 1, 0)])
    centre = img[55:66, 55:66].reshape(-1, 3)
    pixel = centre[np.argmin(centre.sum(axis=1))]  # the most covered pixel
    assert pixel[0] > pixel[2] + 40  # red (near) over blue (far)
