"""images.prepare_photo: size limit, reduced decoding, segmentation modes, crop box,
strokes, files that are not regular files, float TIFFs."""

from __future__ import annotations

import io
import os
import struct
import threading
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, JpegImagePlugin
from scipy import ndimage

from r2n2_viewer.images import (
    ImageError,
    PrepSettings,
    border_uniformity,
    load_view,
    prepare_photo,
)


def _png_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _photo(w=2400, h=1800, bg=(235, 235, 238)) -> Image.Image:
    """A dark object on a plain backdrop, like a phone photo."""
    im = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(im)
    d.rectangle([w * 0.35, h * 0.3, w * 0.62, h * 0.55], fill=(120, 60, 30))
    d.rectangle([w * 0.38, h * 0.55, w * 0.42, h * 0.8], fill=(60, 40, 20))
    d.ellipse([w * 0.45, h * 0.35, w * 0.6, h * 0.5], fill=(30, 80, 170))
    return im


# --- size limit ------------------------------------------------------------------------
def _png_header_only(w: int, h: int) -> bytes:
    """A PNG whose header claims w x h pixels, with a few bytes of image data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_size_limit_is_checked_before_decoding():
    # 30000 x 30000 claimed, 100 bytes of data: refused from the header alone
    data = _png_header_only(30000, 30000)
    with pytest.raises(ImageError, match=r"too many pixels \(900 megapixels; "
                                         r"the limit is 64 megapixels\)") as info:
        load_view(data)
    with pytest.raises(ImageError, match=r"too many pixels \(10000x9000 = 90 megapixels; "
                                         r"the limit is 64 megapixels\)") as info:
        load_view(_png_header_only(10000, 9000))
    assert "decompression" not in str(info.value).lower()
    # under the limit the same kind of file is read and found truncated
    with pytest.raises(ImageError, match="truncated"):
        load_view(_png_header_only(3000, 3000))


def test_lowered_limit_and_pillow_guard_give_one_message(monkeypatch):
    data = _png_bytes(_photo(300, 200))
    with pytest.raises(ImageError, match=r"too many pixels \(300x200 = 0 megapixels; the "
                                         r"limit is 0.05 megapixels\)"):
        load_view(data, max_pixels=50_000)
    load_view(data, max_pixels=60_000)
    # Pillow's own guard, when stricter, becomes the limit, with the same wording
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40_000)
    with pytest.raises(ImageError, match="too many pixels") as info:
        load_view(data)
    assert "decompression" not in str(info.value).lower() and "0.04 megapixels" in str(
        info.value)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)  # > 2x: Pillow's error path
    with pytest.raises(ImageError, match="too many pixels") as info:
        load_view(data)
    assert "decompression" not in str(info.value).lower()


# --- reduced decoding ------------------------------------------------------------------
def test_jpeg_draft_decode_matches_full_decode(tmp_path, monkeypatch):
    path = tmp_path / "big.jpg"
    _photo().save(path, quality=92)
    drafts = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        drafts.append(size)
        return real_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    reduced = prepare_photo(path)
    assert drafts and reduced.method == "plain"  # decoded at a reduced scale
    assert max(reduced.preview.size) <= 1024 and reduced.image_size == (2400, 1800)
    full = Image.open(path)
    full.load()  # an already decoded picture: no draft
    n = len(drafts)
    exact = prepare_photo(full)
    assert len(drafts) == n
    diff = np.abs(reduced.view - exact.view)
    assert diff.mean() < 0.01 and np.percentile(diff, 99) < 0.1
    np.testing.assert_allclose(reduced.crop_box, exact.crop_box, atol=4)


def test_crop_box_and_mask_are_in_full_picture_pixels():
    p = prepare_photo(_photo(2400, 1800))
    x0, y0, x1, y1 = p.crop_box
    # object spans x 840..1488, y 540..1440 (900 tall): 0.6 x 137 canvas px
    assert abs((x1 - x0) - 900 / (0.6 * 137) * 127) < 20
    assert abs((x0 + x1) / 2 - 1164) < 10 and abs((y0 + y1) / 2 - 990) < 10
    assert p.mask.shape == (768, 1024) and p.preview.size == (1024, 768)
    assert set(p.timings) >= {"decode", "mask", "crop", "total"}


def test_crop_box_override_shows_that_region():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    arr = np.asarray(Image.fromarray(arr).filter(ImageFilter.GaussianBlur(4)))
    im = Image.fromarray(arr)
    p = prepare_photo(im, PrepSettings(segment="none", crop_box=(100, 50, 227, 177)))
    assert p.method == "none"
    np.testing.assert_allclose(p.crop_box, (100, 50, 227, 177), atol=1e-6)
    expect = np.asarray(im.crop((100, 50, 227, 177)), np.float32).transpose(2, 0, 1) / 255
    assert np.abs(p.view - expect).max() < 2 / 255
    # a box past the picture's edge is padded with the background colour
    q = prepare_photo(im, PrepSettings(segment="none", crop_box=(-127, 0, 0, 127)))
    np.testing.assert_allclose(q.view, 240 / 255, atol=1e-6)


def test_segment_none_keeps_the_backdrop():
    im = _photo(400, 300, bg=(90, 200, 90))
    none = prepare_photo(im, PrepSettings(segment="none"))
    plain = prepare_photo(im, PrepSettings(segment="plain"))
    assert none.method == "none" and plain.method == "plain"
    green = (none.view[1] > 0.7) & (none.view[0] < 0.45)
    assert green.sum() > 2000  # the backdrop is kept inside the framed picture
    assert ((plain.view[1] > 0.7) & (plain.view[0] < 0.45)).sum() == 0
    with pytest.raises(ValueError, match="segment must be one of"):
        PrepSettings(segment="magic")


# --- segmentation on a cluttered background ---------------------------------------------
def _cluttered(w=480, h=360, seed=0, hole=None) -> tuple[Image.Image, np.ndarray]:
    """(photo, true mask): a red object on a textured, multi-coloured backdrop whose
    colours also reach the border, as a room behind a piece of furniture; ``hole``
    (x0, y0, x1, y1, shares of the sides): a gap in the object the backdrop shows through."""
    rng = np.random.default_rng(seed)
    bg = Image.new("RGB", (w, h), (140, 150, 120))
    d = ImageDraw.Draw(bg)
    for _ in range(60):
        x, y = int(rng.integers(-40, w)), int(rng.integers(-40, h))
        colour = [(140, 150, 120), (60, 90, 140), (200, 190, 160), (90, 70, 50)][
            int(rng.integers(4))]
        d.rectangle([x, y, x + int(rng.integers(20, 120)), y + int(rng.integers(20, 120))],
                    fill=colour)
    bg = bg.filter(ImageFilter.GaussianBlur(2))
    alpha = Image.new("L", (w, h), 0)
    a = ImageDraw.Draw(alpha)
    a.ellipse([w * 0.32, h * 0.22, w * 0.68, h * 0.55], fill=255)
    a.rectangle([w * 0.46, h * 0.5, w * 0.54, h * 0.8], fill=255)
    if hole is not None:
        a.rectangle([w * hole[0], h * hole[1], w * hole[2], h * hole[3]], fill=0)
    tex = np.clip(np.array([200, 40, 40])[None, None] + rng.normal(0, 8, (h, w, 1)), 0, 255)
    obj = Image.fromarray(tex.astype(np.uint8))
    photo = Image.composite(obj, bg, alpha)
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", quality=90)
    return Image.open(io.BytesIO(buf.getvalue())), np.asarray(alpha) > 127


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_cluttered_background_is_segmented_by_grabcut():
    photo, truth = _cluttered()
    assert border_uniformity(np.asarray(photo)) < 0.9
    for mode, method in (("grabcut", "grabcut"), ("auto", "hybrid")):
        p = prepare_photo(photo, PrepSettings(segment=mode))
        assert p.method == method
        assert _iou(p.mask > 0.5, truth) >= 0.9, mode
    # the plain method on the same picture keeps the clutter
    plain = prepare_photo(photo, PrepSettings(segment="plain"))
    assert _iou(plain.mask > 0.5, truth) < 0.6
    # the input shows the object on the training background
    assert abs(float(p.view[:, 5, 5].mean()) - 240 / 255) < 1e-6


def test_backdrop_glow_without_edges_is_not_taken_for_the_object():
    """A smooth glow whose colours the border lacks (a lamp's light on a wall, a sunset)
    is reached from the border without crossing an edge: GrabCut's seeds leave it out."""
    w, h = 480, 360
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    r = np.sqrt(((xx - 0.42 * w) / (0.6 * w)) ** 2 + ((yy - 0.45 * h) / (0.6 * h)) ** 2)
    t = np.clip(1.0 - r, 0.0, 1.0)[..., None]  # 1 at the glow's centre, 0 from its edge
    dark, light = np.array([30.0, 40.0, 90.0]), np.array([250.0, 220.0, 120.0])
    room = dark * (1 - t) + light * t
    truth = np.zeros((h, w), bool)
    truth[int(h * 0.38) : int(h * 0.62), int(w * 0.5) : int(w * 0.64)] = True
    room[truth] = (200, 40, 40)
    photo = Image.fromarray(np.rint(room).astype(np.uint8))
    p = prepare_photo(photo)
    assert p.method == "hybrid"
    assert _iou(p.mask > 0.5, truth) >= 0.9


def test_patterned_backdrop_with_a_uniform_border_gets_the_hybrid():
    """Scattered shapes inside a plain border: the plain mask is several objects, so auto
    uses the hybrid (GrabCut seeded by the learned prior and colour edges), which keeps
    the central one."""
    photo, truth = _cluttered()
    w, h = photo.size
    arr = np.full((h, w, 3), 235, np.uint8)
    arr[truth] = np.asarray(photo)[truth]
    rng = np.random.default_rng(1)
    for x, y in ((0.12, 0.2), (0.85, 0.25), (0.15, 0.75), (0.82, 0.8), (0.3, 0.9)):
        s = int(rng.integers(28, 40)) // 2
        cx, cy = int(x * w), int(y * h)
        arr[cy - s : cy + s, cx - s : cx + s] = (40, 70, 170)
    photo = Image.fromarray(arr)
    assert border_uniformity(arr) >= 0.9
    plain = prepare_photo(photo, PrepSettings(segment="plain"))
    assert _iou(plain.mask > 0.5, truth) < 0.8
    p = prepare_photo(photo)
    assert p.method == "hybrid"
    assert _iou(p.mask > 0.5, truth) >= 0.9


def test_background_stroke_removes_a_part():
    photo, truth = _cluttered()
    arr = np.asarray(photo).copy()
    w, h = photo.size
    arr[int(h * 0.3) : int(h * 0.5), int(w * 0.72) : int(w * 0.8)] = (200, 40, 40)  # a red
    photo = Image.fromarray(arr)  # patch touching nothing: a second red part
    before = prepare_photo(photo, PrepSettings(segment="grabcut"))
    strokes = np.zeros((h // 2, w // 2), bool)  # strokes at another resolution
    strokes[int(h * 0.35 / 2) : int(h * 0.45 / 2), int(w * 0.74 / 2) : int(w * 0.78 / 2)] = True
    after = prepare_photo(photo, PrepSettings(segment="grabcut", background_strokes=strokes))
    patch = np.zeros_like(truth)
    patch[int(h * 0.3) : int(h * 0.5), int(w * 0.72) : int(w * 0.8)] = True
    assert (after.mask > 0.5)[patch].mean() < 0.05
    assert _iou(after.mask > 0.5, truth) >= 0.85
    assert before.crop_box != after.crop_box or (before.mask > 0.5)[patch].mean() < 0.05


def test_background_stroke_inside_the_object_stays_a_hole():
    # a gap in the object (the backdrop shows through, as between a chair's back and
    # seat), marked background by a stroke: hole filling must not undo the stroke
    photo, truth = _cluttered(hole=(0.44, 0.31, 0.56, 0.45))
    w, h = photo.size
    hole = np.zeros((h, w), bool)
    hole[int(h * 0.32) : int(h * 0.44), int(w * 0.45) : int(w * 0.55)] = True
    assert not truth[hole].any() and ndimage.binary_fill_holes(truth)[hole].all()
    for mode in ("grabcut", "plain", "hybrid", "auto"):
        p = prepare_photo(photo, PrepSettings(segment=mode, background_strokes=hole))
        found = p.mask > 0.5
        assert found[hole].mean() < 0.02, mode
        if mode != "plain":  # plain keeps the clutter; the object is still found
            assert _iou(found, truth & ~hole) >= 0.85, mode


class _Stop(Exception):
    pass


def test_cancel_check_is_called_between_grabcut_iterations():
    photo, _ = _cluttered()
    calls = []
    prepare_photo(photo, PrepSettings(segment="grabcut"), cancel_check=lambda: calls.append(1))
    total = len(calls)
    assert total >= 5  # after decoding, then before every iteration of both passes

    def stop_at_third():
        calls.append(1)
        if len(calls) == 3:
            raise _Stop

    calls.clear()
    with pytest.raises(_Stop):
        prepare_photo(photo, PrepSettings(segment="grabcut"), cancel_check=stop_at_third)
    assert len(calls) == 3  # it stopped there: no later iteration asked again
    # a cancel check that never raises changes nothing
    a = prepare_photo(photo, PrepSettings(segment="grabcut"))
    b = prepare_photo(photo, PrepSettings(segment="grabcut"), cancel_check=lambda: None)
    assert np.array_equal(a.view, b.view) and np.array_equal(a.mask, b.mask)


def test_foreground_stroke_selects_the_hybrid_in_auto_mode():
    im = _photo(400, 300)
    fg = np.zeros((300, 400), bool)
    fg[120:140, 160:200] = True
    assert prepare_photo(im).method == "plain"
    p = prepare_photo(im, PrepSettings(foreground=fg))
    assert p.method == "hybrid" and (p.mask > 0.5)[120:140, 160:200].all()


# --- files that are not regular files ----------------------------------------------------
def _finishes(fn, seconds=10.0):
    result = {}

    def run():
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            result["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "load_view hung"
    return result.get("error")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    err = _finishes(lambda: load_view(fifo))
    assert isinstance(err, ImageError) and "not a regular file" in str(err)
    assert "\n" not in str(err)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_symlink_to_device_is_refused(tmp_path):
    link = tmp_path / "zero.png"
    link.symlink_to("/dev/zero")
    err = _finishes(lambda: load_view(link))
    assert isinstance(err, ImageError) and "not a regular file" in str(err)


def test_folder_and_oversized_file(tmp_path, monkeypatch):
    with pytest.raises(ImageError, match="is a folder"):
        load_view(tmp_path)
    path = tmp_path / "x.png"
    path.write_bytes(_png_bytes(_photo(64, 48)))
    import r2n2_viewer.images as images

    monkeypatch.setattr(images, "MAX_FILE_BYTES", 100)
    with pytest.raises(ImageError, match="larger than"):
        load_view(path)


# --- float pictures ----------------------------------------------------------------------
def _float_tiff(tmp_path, values: np.ndarray) -> str:
    path = tmp_path / "f.tif"
    Image.fromarray(values.astype(np.float32), "F").save(path)
    assert Image.open(path).mode == "F"
    return str(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_float_tiff_with_non_finite_pixels_is_refused(tmp_path, bad):
    a = np.full((60, 80), 0.95, np.float32)
    a[20:40, 30:50] = 0.1
    a[3, 3] = bad
    with pytest.raises(ImageError, match="NaN or infinite"):
        load_view(_float_tiff(tmp_path, a))


def test_float_tiff_with_one_bright_pixel_keeps_its_object(tmp_path):
    a = np.full((60, 80), 0.95, np.float32)
    a[20:40, 30:50] = 0.1
    a[2, 2] = 1.5  # one out-of-range pixel must not switch the picture to 0..255
    v = load_view(_float_tiff(tmp_path, a))
    assert v[:, 63, 63].max() < 0.15  # the dark object is there, not washed out
    b = np.where(a > 1, 255.0, a * 255)  # a float picture holding 8-bit values
    v255 = load_view(_float_tiff(tmp_path, b))
    assert v255[:, 63, 63].max() < 0.15


def test_fill_holes_matches_scipy_on_random_masks():
    from r2n2_viewer.segmentation import fill_holes

    rng = np.random.default_rng(3)
    for i in range(200):  # speckle, blobs, one-pixel and one-row pictures
        m = rng.random((int(rng.integers(1, 50)), int(rng.integers(1, 50)))) < rng.random()
        if i % 2:
            m = ndimage.binary_dilation(m)
        assert np.array_equal(fill_holes(m), ndimage.binary_fill_holes(m)), i
    ring = np.zeros((9, 9), bool)
    ring[2:7, 2:7], ring[3:6, 3:6] = True, False
    ring[4, 2] = False  # a gap: the inside reaches the outside 4-connected, stays open
    assert not fill_holes(ring)[4, 4]
    ring[4, 2] = True
    assert fill_holes(ring)[3:6, 3:6].all()
