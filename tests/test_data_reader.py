"""ShapeNet-format reader: layout, split, augmentation, batching and broken files."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from factories import shapenet_tree

from r2n2_viewer.models.data import augment
from r2n2_viewer.models.data.categories import (
    CATEGORIES,
    categories_json,
    load_categories,
    synsets_for,
    write_categories,
)
from r2n2_viewer.models.data.shapenet import (
    build_index,
    load_model_views,
    make_loader,
    model_files,
    resolve_roots,
    split_slice,
)

SYNSETS = ["03001627", "04379243"]  # chair, table
PER_CAT = 10
VIEWS = 4


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return shapenet_tree(tmp_path_factory.mktemp("shapenet"),
                         {s: CATEGORIES[s] for s in SYNSETS}, PER_CAT, VIEWS)


def test_categories_json_round_trip(tmp_path):
    assert len(CATEGORIES) == 13 and CATEGORIES["03001627"] == "chair"
    path = tmp_path / "c.json"
    write_categories(path)
    data = json.loads(path.read_text())
    assert data["02691156"] == {"id": "02691156", "name": "airplane"}
    assert load_categories(path) == dict(sorted(CATEGORIES.items()))
    assert list(categories_json(["sofa"])) == ["04256520"]
    assert synsets_for(["chair", "04379243"]) == ["03001627", "04379243"]
    with pytest.raises(ValueError, match="spoon"):
        synsets_for(["spoon"])


def test_split_fractions():
    ids = [f"{i:03d}" for i in range(37)][::-1]
    train, test = split_slice(ids, "train"), split_slice(ids, "test")
    assert len(train) == int(37 * 0.8) and len(test) == 37 - int(37 * 0.8)
    assert train == sorted(ids)[: len(train)] and set(train) | set(test) == set(ids)
    assert not set(train) & set(test)


def test_index_roots_and_split(dataset):
    rr, vr = resolve_roots(dataset)
    assert rr.name == "ShapeNetRendering" and vr.name == "ShapeNetVox32"
    train = build_index(dataset, "train")
    test = build_index(dataset, "test")
    assert len(train) == 16 and len(test) == 4
    # the two roots may also be given separately
    sep = build_index(rr, "test", voxel_root=vr)
    assert [r.model_id for r in sep] == [r.model_id for r in test]
    assert build_index(dataset, "test", categories=["chair"])[0].synset == "03001627"


def test_augmentation_train_and_test():
    rgba = np.zeros((137, 137, 4), np.uint8)
    rgba[..., 0] = np.arange(137, dtype=np.uint8)[None, :]  # red ramp left -> right
    rgba[..., 3] = 255
    rgba[:20, :, 3] = 0  # a transparent band at the top
    out = augment.preprocess(rgba, train=False)
    assert out.shape == (3, 127, 127) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0, :] * 255, 240, atol=1e-3)  # test background: 240
    np.testing.assert_array_equal(out, augment.preprocess(rgba, train=False))
    np.testing.assert_allclose(out[0, 100, [0, 126]] * 255, [5, 131], atol=1e-3)  # centre crop
    flips, offsets = set(), set()
    for s in range(40):
        o = augment.preprocess(rgba, True, np.random.default_rng(s))
        assert o.shape == (3, 127, 127) and o.dtype == np.float32
        assert 0 <= o.min() and o.max() <= 1
        bg = o[:, 0, :] * 255  # transparent row: one random colour, channels in [225, 255]
        assert bg.min() >= 225 - 1e-3 and bg.max() <= 255 + 1e-3 and np.ptp(bg, axis=1).max() < 1e-3
        left, right = o[0, 100, 0] * 255, o[0, 100, -1] * 255
        assert abs(left - right) == pytest.approx(126, abs=1e-3)
        flips.add(bool(left > right))
        offsets.add(round(min(left, right)))
    assert flips == {True, False}  # some crops are flipped left-right
    assert offsets <= set(range(11)) and len(offsets) > 3  # random crop offsets 0..10


def test_augmentation_without_flip_keeps_colour_and_crop_but_never_mirrors():
    rgba = np.zeros((137, 137, 4), np.uint8)
    rgba[..., 0] = np.arange(137, dtype=np.uint8)[None, :]  # red ramp left -> right
    rgba[..., 3] = 255
    rgba[:20, :, 3] = 0
    mirrored = 0
    for s in range(40):
        with_flip = augment.preprocess(rgba, True, np.random.default_rng(s))
        o = augment.preprocess(rgba, True, np.random.default_rng(s), flip=False)
        assert o[0, 100, 0] < o[0, 100, -1]  # the ramp still rises left -> right
        if with_flip[0, 100, 0] > with_flip[0, 100, -1]:
            mirrored += 1
            np.testing.assert_array_equal(o, with_flip[:, :, ::-1])  # same draw, unmirrored
        else:
            np.testing.assert_array_equal(o, with_flip)
    assert mirrored > 5


def test_loader_passes_flip_to_the_dataset(dataset):
    assert make_loader(dataset, "train", workers=0).dataset.flip
    assert not make_loader(dataset, "train", workers=0, flip=False).dataset.flip


def test_augmentation_background_is_uniform_per_channel():
    rgba = np.zeros((137, 137, 4), np.uint8)  # fully transparent
    vals = np.array([augment.preprocess(rgba, True, np.random.default_rng(s))[:, 0, 0]
                     for s in range(200)]) * 255
    assert vals.min() >= 225 - 1e-3 and vals.max() <= 255 + 1e-3
    assert vals.max() - vals.min() > 25  # spans the range
    assert np.ptp(vals[:, 0] - vals[:, 1]) > 0  # channels drawn independently


def test_load_model_views(dataset):
    rec = build_index(dataset, "test")[0]
    imgs, occ = load_model_views(dataset, rec.synset, rec.model_id, [0, 2, 3])
    assert imgs.shape == (3, 3, 127, 127) and imgs.dtype == np.float32
    assert occ.shape == (32, 32, 32) and occ.dtype == bool
    again, _ = load_model_views(dataset, rec.synset, rec.model_id, [0, 2, 3])
    np.testing.assert_array_equal(imgs, again)


def test_variable_length_batches(dataset):
    dl = make_loader(dataset, "train", batch_size=3, max_views=4, workers=0, seed=1)
    lengths, seen = set(), 0
    for _ in range(3):
        for b in dl:
            t, n = b["images"].shape[:2]
            assert b["images"].shape == (t, n, 3, 127, 127) and b["images"].dtype == torch.float32
            assert b["voxels"].shape == (n, 32, 32, 32) and b["voxels"].dtype == torch.uint8
            assert len(b["category"]) == len(b["model_id"]) == n and 1 <= t <= 4
            assert all(len(set(v)) == t for v in b["views"])  # distinct views per model
            lengths.add(t)
            seen += n
    assert seen == 3 * 16 and len(lengths) > 1


def test_loader_with_workers(dataset):
    dl = make_loader(dataset, "test", batch_size=2, max_views=2, min_views=2, workers=2)
    batches = list(dl)
    assert sum(b["images"].shape[1] for b in batches) == 4
    assert all(b["images"].shape[0] == 2 for b in batches)
    # test mode: same views and pixels every pass
    again = list(dl)
    assert [b["views"] for b in batches] == [b["views"] for b in again]


def test_broken_files_are_reported_and_skipped(dataset, tmp_path, caplog):
    root = tmp_path / "broken"
    shutil.copytree(dataset, root)
    recs = build_index(root, "train")
    bad_png, bad_vox, no_dir = recs[0], recs[1], recs[2]
    for name in bad_png.views:
        p = bad_png.rendering_dir / name
        p.write_bytes(p.read_bytes()[:60])  # truncated PNGs
    bad_vox.voxel_path.write_bytes(bad_vox.voxel_path.read_bytes()[:40])
    shutil.rmtree(no_dir.rendering_dir)
    caplog.set_level(logging.WARNING, logger="r2n2_viewer.data")
    recs2 = build_index(root, "train")
    assert len(recs2) == len(recs) - 2
    assert str(bad_vox.voxel_path) in caplog.text and str(no_dir.rendering_dir) in caplog.text
    dl = make_loader(root, "train", batch_size=4, max_views=2, workers=0)
    n = sum(b["images"].shape[1] for b in dl)
    assert n == len(recs2)  # the epoch completes; the broken model is replaced
    assert str(bad_png.rendering_dir) in caplog.text
    assert caplog.text.count(str(bad_vox.voxel_path)) == 1  # reported once


def test_model_files_lists_views_cameras_and_voxels(dataset, tmp_path):
    rec = build_index(dataset, "test")[0]
    files = model_files(rec.rendering_dir.parent)
    assert (files.synset, files.model_id) == (rec.synset, rec.model_id)
    assert [p.name for p in files.views] == list(rec.views)
    index = int(rec.model_id[:2])  # shapenet_tree writes "<10 * view + index> 27 0 0.8 25"
    assert files.cameras == tuple((10.0 * v + index, 27.0, 0.0, 0.8, 25.0)
                                  for v in range(VIEWS))
    assert files.voxel_path == rec.voxel_path
    assert model_files(rec.rendering_dir) == files  # its rendering/ folder works too

    copy = tmp_path / "ShapeNetRendering" / rec.synset / rec.model_id
    shutil.copytree(rec.rendering_dir.parent, copy)
    meta = copy / "rendering" / "rendering_metadata.txt"
    meta.write_text("".join(meta.read_text().splitlines(keepends=True)[:2]) + "oops\n")
    (copy / "rendering" / rec.views[0]).unlink()
    files = model_files(copy)
    assert [p.name for p in files.views] == list(rec.views[1:])
    assert files.cameras[0] == (10.0 + index, 27.0, 0.0, 0.8, 25.0)
    assert files.cameras[1:] == (None,) * (VIEWS - 2)  # "oops", then no lines at all
    assert files.voxel_path is None  # no ShapeNetVox32 beside this copy
    with pytest.raises(FileNotFoundError, match="rendering/"):
        model_files(tmp_path)
