"""Photo augmentation: backgrounds behind the object, colour jitter, crops, determinism."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from PIL import Image

from r2n2_viewer.models.data import augment
from r2n2_viewer.models.data.augment import Backgrounds, preprocess, procedural_background


def _object(size: int = 137) -> np.ndarray:
    """A grey square object (alpha 255) in the middle, a soft edge, transparent elsewhere."""
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[40:100, 40:100] = (128, 128, 128, 255)
    rgba[39, 40:100, 3] = 100  # partly covered row
    rgba[39, 40:100, :3] = 128
    return rgba


def _crop_offset(out: np.ndarray, background: np.ndarray, where: np.ndarray) -> list:
    """Offsets (y0, x0) whose crop of ``background`` equals ``out`` on the pixels ``where``."""
    hits = []
    for y0 in range(11):
        for x0 in range(11):
            ref = background[y0 : y0 + 127, x0 : x0 + 127].astype(np.float32) / 255
            if np.allclose(out.transpose(1, 2, 0)[where[y0 : y0 + 127, x0 : x0 + 127]],
                           ref[where[y0 : y0 + 127, x0 : x0 + 127]], atol=1e-6):
                hits.append((y0, x0))
    return hits


def test_background_shows_where_alpha_is_zero_and_crops_with_the_object():
    rgba = _object()
    bg = np.random.default_rng(1).integers(0, 256, (137, 137, 3), dtype=np.uint8)
    empty = rgba[..., 3] == 0
    for seed in range(6):
        out = preprocess(rgba, True, np.random.default_rng(seed), flip=False, background=bg)
        assert out.shape == (3, 127, 127) and out.dtype == np.float32
        hits = _crop_offset(out, bg, empty)
        assert len(hits) == 1  # exactly one crop of the background, the object's crop
        y0, x0 = hits[0]
        obj = out[:, 45 - y0 : 95 - y0, 45 - x0 : 95 - x0] * 255  # inside the square
        np.testing.assert_allclose(obj, 128, atol=1e-3)  # opaque object untouched
        edge = out[:, 39 - y0, 50 - x0] * 255  # alpha 100: object over background
        a = 100 / 255
        np.testing.assert_allclose(edge, 128 * a + bg[39, 50] * (1 - a), atol=1e-2)


def test_plain_path_unchanged_by_the_new_options():
    """No background and no jitter: the official transform, draw for draw."""
    rgba = _object()
    for seed in range(5):
        a = preprocess(rgba, True, np.random.default_rng(seed))
        b = preprocess(rgba, True, np.random.default_rng(seed), background=None, jitter=0.0)
        np.testing.assert_array_equal(a, b)
    bg = np.zeros((137, 137, 3), np.uint8)
    np.testing.assert_array_equal(preprocess(rgba, False), preprocess(rgba, False, background=bg,
                                                                      jitter=0.5))


def test_colour_jitter_is_bounded_and_random():
    rgba = _object()
    j = 0.2
    values = []
    for seed in range(60):
        out = preprocess(rgba, True, np.random.default_rng(seed), jitter=j)
        inside = out[:, 60, 60]  # always inside the object whatever the crop
        assert np.ptp(inside) < 1e-6  # a grey object stays grey
        values.append(float(inside[0]))
    v = np.array(values)
    # grey 128/255 -> ((v * b) - 0.5) * c + 0.5 with b, c in [0.8, 1.2]
    lo = (128 / 255 * (1 - j) - 0.5) * (1 + j) + 0.5
    hi = (128 / 255 * (1 + j) - 0.5) * (1 + j) + 0.5
    assert v.min() >= lo - 1e-6 and v.max() <= hi + 1e-6
    assert np.ptp(v) > 0.5 * (hi - lo)  # and it does vary
    rgb = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(augment.colour_jitter(rgb, np.random.default_rng(0), 0.0), rgb,
                               atol=1e-6)


def test_procedural_backgrounds_deterministic_sizes_and_varied():
    a = procedural_background(np.random.default_rng(5), (137, 137))
    b = procedural_background(np.random.default_rng(5), (137, 137))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (137, 137, 3) and a.dtype == np.uint8
    assert procedural_background(np.random.default_rng(6), (50, 80)).shape == (50, 80, 3)
    means = [procedural_background(np.random.default_rng(s), (64, 64)).mean((0, 1))
             for s in range(30)]
    assert np.std(means, axis=0).min() > 10  # colours differ between draws
    stds = [procedural_background(np.random.default_rng(s), (64, 64)).std() for s in range(30)]
    assert np.median(stds) > 5  # not plain colours


@pytest.fixture
def photo_folder(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        arr = rng.integers(0, 256, (300 + 40 * i, 500, 3), dtype=np.uint8)
        Image.fromarray(arr).save(tmp_path / f"photo{i}.jpg" if i else tmp_path / "p.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "tiny.png").write_bytes(b"")
    return tmp_path


def test_photo_backgrounds_read_safely_once_and_crop_at_random(photo_folder, monkeypatch):
    src = Backgrounds(photo_folder)
    assert [p.name for p in src.files] == ["broken.jpg", "p.png", "photo1.jpg", "photo2.jpg",
                                           "tiny.png"]
    reads = []
    real = augment._read_background
    monkeypatch.setattr(augment, "_read_background", lambda p: reads.append(p) or real(p))
    patches = [src.patch(np.random.default_rng(s), (137, 137)) for s in range(20)]
    assert len(reads) == 5  # every file decoded once, on first use
    assert len(src.images()) == 3  # broken and empty files skipped
    assert all(min(im.shape[:2]) <= augment.BG_SIDE for im in src.images())
    assert all(p.shape == (137, 137, 3) and p.dtype == np.uint8 for p in patches)
    assert len({p.tobytes() for p in patches}) == 20  # random crops
    again = Backgrounds(photo_folder).patch(np.random.default_rng(3), (137, 137))
    np.testing.assert_array_equal(again, patches[3])  # deterministic for a seed
    clone = pickle.loads(pickle.dumps(src))  # what a loader worker receives
    assert clone._images is None and len(clone.files) == 5


def test_background_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        Backgrounds(tmp_path / "nope")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ValueError, match="holds no images"):
        Backgrounds(tmp_path)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    src = Backgrounds(tmp_path)
    with pytest.raises(ValueError, match="no readable image"):
        src.patch(np.random.default_rng(0), (137, 137))


def _tiny_dataset(root) -> None:
    from r2n2_viewer.models.data.categories import write_categories
    from r2n2_viewer.models.voxels import write_binvox

    rng = np.random.default_rng(0)
    for i in range(5):
        mid = f"{i:02d}model"
        rdir = root / "ShapeNetRendering" / "03001627" / mid / "rendering"
        rdir.mkdir(parents=True)
        for v in range(3):
            Image.fromarray(_object(), "RGBA").save(rdir / f"{v:02d}.png")
        (rdir / "renderings.txt").write_text("00.png\n01.png\n02.png\n")
        vdir = root / "ShapeNetVox32" / "03001627" / mid
        vdir.mkdir(parents=True)
        write_binvox(vdir / "model.binvox", rng.random((32, 32, 32)) < 0.1)
    write_categories(root / "categories.json", ["03001627"])


def test_loader_puts_backgrounds_behind_training_views_only(tmp_path):
    from r2n2_viewer.models.data.shapenet import make_loader

    data, photos = tmp_path / "data", tmp_path / "photos"
    _tiny_dataset(data)
    photos.mkdir()
    Image.fromarray(np.full((200, 300, 3), (10, 200, 30), np.uint8)).save(photos / "green.png")

    def corners(**kw) -> np.ndarray:
        loader = make_loader(data, "train", batch_size=4, max_views=2, workers=0, seed=1, **kw)
        return next(iter(loader))["images"][:, :, :, 0, 0].numpy() * 255  # T, N, 3

    photo = corners(backgrounds=photos, bg_prob=1.0)
    np.testing.assert_allclose(photo, np.broadcast_to([10, 200, 30], photo.shape), atol=1.0)
    plain = corners()
    assert plain.min() >= 225 - 1e-3  # the official plain colours
    procedural = corners(bg_prob=1.0)
    assert np.abs(procedural - plain).max() > 30
    np.testing.assert_array_equal(procedural, corners(bg_prob=1.0))  # deterministic for a seed
    evaluation = make_loader(data, "test", batch_size=1, max_views=1, workers=0,
                             backgrounds=photos, bg_prob=1.0, jitter=0.3)
    np.testing.assert_allclose(next(iter(evaluation))["images"][0, 0, :, 0, 0] * 255, 240,
                               atol=1e-3)  # the test transform stays as it was


def test_train_cli_photo_options(tmp_path, monkeypatch, capsys):
    import r2n2_viewer.models.train as train_module
    from r2n2_viewer.cli import main

    data = tmp_path / "data"
    data.mkdir()
    photos = tmp_path / "photos"
    photos.mkdir()
    seen = []
    monkeypatch.setattr(train_module, "train", lambda cfg, progress=True: seen.append(cfg) or "x")
    base = ["train", "--data", str(data), "--out", str(tmp_path / "run"), "--no-progress"]
    assert main([*base, "--bg-prob", "0.3", "--jitter", "0.1"]) == 0
    assert (seen[-1].bg_prob, seen[-1].jitter, seen[-1].backgrounds) == (0.3, 0.1, None)
    assert main([*base, "--recipe", "photo", "--backgrounds", str(photos)]) == 0
    cfg = seen[-1]
    assert (cfg.bg_prob, cfg.jitter, cfg.flip, cfg.backgrounds) == (0.5, 0.2, False, str(photos))
    assert main(base) == 0 and (seen[-1].bg_prob, seen[-1].jitter) == (0.0, 0.0)  # official
    capsys.readouterr()
    for extra, message in ((["--bg-prob", "1.5"], "--bg-prob must be in [0, 1]"),
                           (["--jitter", "-0.1"], "--jitter must be in [0, 1)"),
                           (["--backgrounds", str(photos)], "unused with --bg-prob 0"),
                           (["--backgrounds", str(tmp_path / "no"), "--bg-prob", "0.5"],
                            "does not exist")):
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert len(seen) == 3
