"""Procedural dataset generator: layout, formats, determinism, camera/voxel agreement."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from r2n2_viewer.models.data.categories import CATEGORIES
from r2n2_viewer.models.data.shapenet import build_index
from r2n2_viewer.models.sh3d.check import tolerant_iou, voxel_silhouette
from r2n2_viewer.models.synth.categories import GENERATORS
from r2n2_viewer.models.synth.generate import (
    GENERATOR_VERSION,
    RENDER_DIR,
    VOXEL_DIR,
    build_object,
    generate,
    make_object,
    model_id,
    object_look,
    object_voxels,
    sample_views,
)
from r2n2_viewer.models.synth.materials import Light, material
from r2n2_viewer.models.synth.render import (
    FOV_DEG,
    MAX_DISTANCE,
    Renderer,
    camera_pose,
    project_points,
)
from r2n2_viewer.models.synth.shapes import box, build_meshes
from r2n2_viewer.models.voxels import decode_binvox, read_binvox

VIEWS = 6
PER_CAT = 2


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    s = generate(root, PER_CAT, views=VIEWS, seed=3, workers=1, progress=False)
    assert s["generated"] == 13 * PER_CAT
    return root


def _models(root: Path):
    for syn in sorted(CATEGORIES):
        for i in range(PER_CAT):
            mid = model_id(3, syn, i)
            yield syn, mid, root / RENDER_DIR / syn / mid / "rendering", \
                root / VOXEL_DIR / syn / mid / "model.binvox"


def test_layout_and_formats(synth):
    cats = json.loads((synth / "categories.json").read_text())
    assert cats == {s: {"id": s, "name": n} for s, n in CATEGORIES.items()}
    info = json.loads((synth / "synth.json").read_text())
    assert len(info["objects"]) == 13 * PER_CAT and info["views"] == VIEWS
    for _syn, mid, rdir, vox in _models(synth):
        assert len(mid) == 32 and int(mid, 16) >= 0
        names = (rdir / "renderings.txt").read_text().split()
        assert names == [f"{i:02d}.png" for i in range(VIEWS)]
        lines = (rdir / "rendering_metadata.txt").read_text().splitlines()
        assert len(lines) == VIEWS
        for line in lines:
            az, el, rot, ratio, fov = (float(v) for v in line.split())
            assert 0 <= az < 360 and 25 <= el <= 30 and rot == 0 and 0.65 <= ratio <= 0.95
            assert fov == pytest.approx(FOV_DEG, abs=1e-3)
        img = Image.open(rdir / names[0])
        assert img.size == (137, 137) and img.mode == "RGBA"
        a = np.asarray(img)[..., 3]
        assert a[0, 0] == 0 and (a == 255).sum() > 100  # transparent background, opaque object
        b = decode_binvox(vox.read_bytes())
        assert b.occupancy.shape == (32, 32, 32) and b.occupancy.any()
        # bounding cube: the largest extent spans the grid; translate = -scale / 2
        assert b.translate == pytest.approx((-b.scale / 2,) * 3, abs=1e-4) and b.scale <= 1
        spans = [np.flatnonzero(b.occupancy.any(axis=tuple(k for k in range(3) if k != ax)))
                 for ax in range(3)]
        assert max(s[-1] - s[0] + 1 for s in spans) == 32
        for s in spans:  # centred in every axis (within a voxel)
            assert abs(s[0] - (31 - s[-1])) <= 1
    assert len(build_index(synth, "train")) + len(build_index(synth, "test")) == 13 * PER_CAT


def test_binvox_readable_by_trimesh(synth):
    trimesh = pytest.importorskip("trimesh")
    from trimesh.exchange.binvox import load_binvox

    _syn, _mid, _rdir, vox = next(_models(synth))
    with open(vox, "rb") as f:
        grid = load_binvox(f)
    np.testing.assert_array_equal(np.asarray(grid.matrix, bool), read_binvox(vox))
    assert isinstance(grid, trimesh.voxel.VoxelGrid)


def test_camera_convention():
    pos, focal, up = camera_pose(0, 0, 1)
    np.testing.assert_allclose(pos, (MAX_DISTANCE, 0, 0), atol=1e-12)
    np.testing.assert_allclose(camera_pose(90, 0, 1)[0], (0, 0, -MAX_DISTANCE), atol=1e-12)
    np.testing.assert_allclose(camera_pose(0, 90, 0.5)[0], (0, 0.875, 0), atol=1e-12)
    assert tuple(focal) == (0, 0, 0) and tuple(up) == (0, 1, 0)
    line = f"0 0 0 1 {FOV_DEG}"
    uv = project_points(np.array([[0, 0, 0], [0, 0.1, 0], [0, 0, 0.1]]), line)
    np.testing.assert_allclose(uv[0], (68.5, 68.5))
    assert uv[1, 1] < 68.5 and uv[1, 0] == pytest.approx(68.5)  # +y is up in the image
    assert uv[2, 0] < 68.5  # seen from +x, +z lies to the left


def test_silhouettes_match_voxels_every_category(synth):
    """Project occupied voxels with each view's recorded camera onto its alpha mask.

    Voxels quantise thin parts (a lamp pole is one voxel thick), so the comparison allows
    one projected voxel edge of boundary tolerance; blocky categories must also agree
    pixel for pixel. A camera 90 degrees off in azimuth must fail the same measure.
    """
    per_cat: dict[str, list[float]] = {}
    wrong: list[float] = []
    for syn, _mid, rdir, vox in _models(synth):
        b = decode_binvox(vox.read_bytes())
        lines = (rdir / "rendering_metadata.txt").read_text().splitlines()
        for i, line in enumerate(lines):
            alpha = np.asarray(Image.open(rdir / f"{i:02d}.png"))[..., 3] > 0
            ratio = float(line.split()[3])
            vpx = b.scale / 32 * 68.5 / np.tan(np.radians(FOV_DEG / 2)) / (ratio * MAX_DISTANCE)
            tol = int(np.ceil(vpx))
            sil = voxel_silhouette(b.occupancy, b.scale, line)
            score = tolerant_iou(alpha, sil, tol)
            assert score > 0.85, f"{CATEGORIES[syn]} view {i}: {score:.3f}"
            raw = (alpha & sil).sum() / (alpha | sil).sum()
            per_cat.setdefault(syn, []).append(raw)
            az, *rest = line.split()
            turned = " ".join([str(float(az) + 90), *rest])
            wrong.append(tolerant_iou(alpha, voxel_silhouette(b.occupancy, b.scale, turned),
                                       tol))
    for name in ("cabinet", "sofa"):
        syn = next(s for s, n in CATEGORIES.items() if n == name)
        assert np.mean(per_cat[syn]) > 0.85, name
    assert np.mean(wrong) < 0.8


@pytest.mark.slow
def test_deterministic_and_worker_independent(tmp_path):
    cats = ["chair", "lamp", "watercraft"]
    a = generate(tmp_path / "a", 2, views=3, seed=5, categories=cats, workers=1, progress=False)
    b = generate(tmp_path / "b", 2, views=3, seed=5, categories=cats, workers=2, progress=False)
    assert a["generated"] == b["generated"] == 6
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                     if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*")
                     if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        da, db = (tmp_path / "a" / rel), (tmp_path / "b" / rel)
        if rel.suffix == ".png":
            np.testing.assert_array_equal(np.asarray(Image.open(da)), np.asarray(Image.open(db)))
        else:
            assert da.read_bytes() == db.read_bytes(), rel
    # a rerun skips finished objects; another seed gives other objects
    assert generate(tmp_path / "a", 2, views=3, seed=5, categories=cats, workers=1,
                    progress=False)["skipped"] == 6
    assert model_id(5, "03001627", 0) != model_id(6, "03001627", 0)


def test_asymmetric_options_every_category():
    """About 45% of objects carry a one-sided part, visible in the voxels' x mirror."""
    total = asym = 0
    for syn, gen in GENERATORS.items():
        found = 0.0
        for k in range(24):
            rng = np.random.default_rng([11, k])
            tags = gen(np.random.default_rng([11, k]))[1]
            total += 1
            if not tags["asymmetric"]:
                continue
            asym += 1
            if found < 0.02:
                occ = object_voxels(make_object(syn, rng))
                found = max(found, (occ ^ occ[::-1]).sum() / (2 * occ.sum()))
        assert found >= 0.02, f"{CATEGORIES[syn]}: no clearly one-sided object"
    assert 0.3 < asym / total < 0.6


# Objects (seed 0, index 0..23) of each category as GENERATOR_VERSION 3 draws them. A dataset
# and every model trained on it are tied to one generator: if this fails because objects
# were changed on purpose, bump GENERATOR_VERSION and record the new fingerprints.
FINGERPRINTS_V3 = {
    "airplane": "fc83db09a67981ee", "bench": "558bb7910aadacb0", "cabinet": "87a4d3f9b1ca8131",
    "car": "22e5b9d89e2fec8a", "chair": "a9bdbb245044bceb", "display": "4e797a3628758237",
    "lamp": "7f8cd04ac9ea2d33", "loudspeaker": "d2f947b8d975dc35", "rifle": "54d5de7c982f26ac",
    "sofa": "d5ef4a5d57bb024c", "table": "ba2c9d7c09090671", "telephone": "39544e21d35f71bf",
    "watercraft": "41d370517726771f",
}


def _fingerprint(synset: str, objects: int = 24) -> str:
    """Shape parts, tags, cameras, materials and lights of objects 0..objects-1; voxels and
    the main texture of object 0."""
    h = hashlib.sha256()
    for i in range(objects):
        obj, rng = build_object(0, synset, i)
        h.update(json.dumps(obj.tags, sort_keys=True).encode())
        for part in obj.parts:
            h.update(part.kind.encode() + bytes([part.tone]))
            for a in (part.center, part.rot, part.size, part.points, part.radius):
                if a is not None:
                    h.update(np.round(np.asarray(a, float), 5).tobytes())
        h.update("\n".join(sample_views(rng, 2)).encode())
        look = object_look(synset, rng)
        for m in look.materials:
            h.update(m.kind.encode() + str(m.texture_seed).encode())
            h.update(np.round([*m.rgb, m.ambient, m.diffuse, m.specular, m.specular_power,
                               m.opacity], 4).tobytes())
        for li in look.lights:
            h.update(np.round([*li.direction, *li.rgb, li.intensity, li.camera], 4).tobytes())
        h.update(np.round(look.uv_scale, 4).tobytes())
        if i == 0:
            h.update(np.packbits(object_voxels(obj)).tobytes())
            h.update(look.materials[0].texture().tobytes())
    return h.hexdigest()[:16]


def test_generator_version_fingerprint():
    assert GENERATOR_VERSION == 3
    found = {CATEGORIES[s]: _fingerprint(s) for s in sorted(CATEGORIES)}
    changed = sorted(k for k, v in FINGERPRINTS_V3.items() if found[k] != v)
    assert not changed, f"objects of {changed} changed: bump GENERATOR_VERSION"
    assert sorted(FINGERPRINTS_V3) == sorted(found)


def test_fingerprint_sees_a_change_of_material(monkeypatch):
    """The fingerprint covers appearance, not only shape: a different texture pattern or
    finish must change it."""
    import r2n2_viewer.models.synth.materials as mat

    before = _fingerprint("03001627", objects=2)
    monkeypatch.setitem(mat._FINISH, "wood", (0.25, 0.8, (0.05, 0.31), (8, 30)))
    monkeypatch.setitem(mat._FINISH, "fabric", (0.3, 0.85, (0.0, 0.06), (4, 8)))
    monkeypatch.setitem(mat._FINISH, "leather", (0.25, 0.8, (0.15, 0.41), (10, 25)))
    monkeypatch.setitem(mat._FINISH, "plastic", (0.25, 0.75, (0.2, 0.51), (15, 40)))
    monkeypatch.setitem(mat._FINISH, "metal", (0.2, 0.6, (0.5, 0.91), (30, 90)))
    assert _fingerprint("03001627", objects=2) != before


def _top_view(kind: str, seed: int = 1) -> np.ndarray:
    """A 1 x 0.05 x 1 slab of one material seen from above, lit evenly, no specular."""
    rng = np.random.default_rng(seed)
    mat = material(kind, rng, rgb=np.array([0.7, 0.5, 0.3]))
    mat.specular = 0.0
    meshes = build_meshes([box((0, 0, 0), (1, 0.05, 1))], rng, np.zeros(3), 0.9, 3.0)
    r = Renderer()
    try:
        light = Light(np.array([0.0, -1.0, 0.0]), np.ones(3), 1.0)
        img = r.render_scene([(meshes[0], mat)], [light], [f"30 80 0 0.8 {FOV_DEG}"])[0]
    finally:
        r.close()
    return img


def test_textures_vary_inside_a_flat_face():
    """Version 3 textures: on one flat, evenly lit face, wood and fabric pixels vary and
    plastic (near-uniform) hardly does; the colour follows the material's base colour."""
    stds = {}
    for kind in ("wood", "fabric", "plastic"):
        img = _top_view(kind)
        inner = ndimage.binary_erosion(img[..., 3] == 255, iterations=6)
        assert inner.sum() > 2000
        rgb = img[..., :3][inner].astype(float)
        stds[kind] = float(rgb.std(axis=0).mean())
        assert rgb.mean(0)[0] > rgb.mean(0)[2]  # reddish base colour, not grey
    assert stds["wood"] > 6 and stds["fabric"] > 6, stds
    assert stds["plastic"] < 0.5 * min(stds["wood"], stds["fabric"]), stds


def test_glass_table_top_translucent_in_images_solid_in_voxels():
    table = next(s for s, n in CATEGORIES.items() if n == "table")
    for i in range(60):
        obj, rng = build_object(0, table, i)
        if obj.tags["variant"].endswith("glass") and obj.tags["variant"].startswith("rect"):
            break
    else:
        pytest.fail("no glass table among 60")
    look = object_look(table, rng)
    assert look.materials[4].opacity < 0.5
    meshes = build_meshes(obj.parts, rng, obj.offset, obj.scale, look.uv_scale)
    r = Renderer()
    try:
        img = r.render_scene([(m, look.materials[k]) for k, m in meshes.items()],
                             look.lights, [f"300 60 0 0.9 {FOV_DEG}"])[0]
    finally:
        r.close()
    a = img[..., 3].astype(int)
    assert ((a > 20) & (a < 160)).sum() > 1000  # the top: see-through, not background
    occ = object_voxels(obj)
    top = occ[:, np.flatnonzero(occ.any((0, 2)))[-1], :]
    assert top.mean() > 0.3  # the glass slab fills the grid's top layer in the voxels


def test_refuses_to_extend_a_dataset_of_another_version(tmp_path, synth):
    assert json.loads((synth / "synth.json").read_text())["generator_version"] == GENERATOR_VERSION
    (tmp_path / "synth.json").write_text(json.dumps({"seed": 0, "objects": []}))  # version 1
    with pytest.raises(ValueError, match="generator version 1, this is version 3"):
        generate(tmp_path, 1, views=2, categories=["chair"], workers=1, progress=False)
    assert not (tmp_path / RENDER_DIR).exists()  # nothing written
