"""images.load_view: modes, formats, EXIF, alpha, background removal, framing, errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, features

from r2n2_viewer.images import ImageError, load_view, to_pil
from r2n2_viewer.models.config import CROP_OFFSET, VIEW_SIZE
from r2n2_viewer.models.data import augment

BG = 240 / 255


def _scene(h=160, w=200, box=(40, 120, 60, 110)) -> np.ndarray:
    """(h, w) float mask of a rectangular object, rows box[0]:box[1], cols box[2]:box[3]."""
    m = np.zeros((h, w), bool)
    m[box[0] : box[1], box[2] : box[3]] = True
    return m


def _object_box(view: np.ndarray, tol=0.08) -> tuple[int, int, int, int]:
    m = np.abs(view - BG).max(0) > tol
    rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _check_framed(view: np.ndarray, fraction=0.6) -> None:
    assert view.shape == (3, 127, 127) and view.dtype == np.float32
    assert 0.0 <= view.min() and view.max() <= 1.0
    np.testing.assert_allclose(view[:, [0, 0, -1, -1], [0, -1, 0, -1]], BG, atol=1e-6)
    r0, r1, c0, c1 = _object_box(view)
    assert abs((r0 + r1) / 2 - 63.5) <= 1.5 and abs((c0 + c1) / 2 - 63.5) <= 1.5
    assert abs(max(r1 - r0, c1 - c0) - fraction * 137) <= 3


def _png(im: Image.Image, fmt="PNG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


MASK = _scene()


def _rgb(bg=(255, 255, 255), fg=(30, 60, 200)) -> np.ndarray:
    a = np.empty(MASK.shape + (3,), np.uint8)
    a[:] = bg
    a[MASK] = fg
    return a


def _rgba() -> np.ndarray:
    a = np.zeros(MASK.shape + (4,), np.uint8)
    a[MASK] = (30, 60, 200, 255)
    return a


def _modes() -> dict[str, Image.Image]:
    grey = np.where(MASK, 40, 250).astype(np.uint8)
    p = Image.fromarray(MASK.astype(np.uint8), "P")
    p.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    p.info["transparency"] = 0
    la = Image.fromarray(np.stack([grey, np.where(MASK, 255, 0).astype(np.uint8)], -1), "LA")
    return {
        "RGB": Image.fromarray(_rgb()),
        "RGBA": Image.fromarray(_rgba()),
        "L": Image.fromarray(grey),
        "LA": la,
        "P+transparency": p,
        "CMYK": Image.fromarray(_rgb(bg=(250, 250, 250))).convert("CMYK"),
        "I;16": Image.fromarray(np.where(MASK, 5000, 64000).astype(np.uint16)),
        "I": Image.fromarray(np.where(MASK, 5000, 64000).astype(np.int32)),
        "F": Image.fromarray(np.where(MASK, 0.1, 0.98).astype(np.float32)),
        "1": Image.fromarray(~MASK),
    }


@pytest.mark.parametrize("mode", list(_modes()))
def test_modes_are_framed(mode):
    im = _modes()[mode]
    view = load_view(im)
    _check_framed(view)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "TIFF"])
def test_formats_from_bytes_and_paths(fmt, tmp_path):
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    data = _png(Image.fromarray(_rgb(bg=(90, 200, 90))), fmt)
    _check_framed(load_view(data))
    path = tmp_path / f"x.{fmt.lower()}"
    path.write_bytes(data)
    _check_framed(load_view(path))
    _check_framed(load_view(str(path)))


def test_sixteen_bit_png_and_cmyk_jpeg(tmp_path):
    p16 = tmp_path / "g16.png"
    Image.fromarray(np.where(MASK, 1000, 65000).astype(np.uint16)).save(p16)
    with Image.open(p16) as im:
        assert im.mode.startswith("I")
    v = load_view(p16)
    _check_framed(v)
    assert v[:, 63, 63].max() < 0.1  # dark object, not saturated by a wrong scale
    cmyk = tmp_path / "c.jpg"
    Image.fromarray(_rgb(bg=(250, 250, 250))).convert("CMYK").save(cmyk, quality=95)
    _check_framed(load_view(cmyk))


def test_exif_rotated_jpeg_is_upright(tmp_path):
    up = np.full((200, 160, 3), 255, np.uint8)  # displayed: red above blue
    up[40:100, 50:110] = (220, 20, 20)
    up[100:160, 50:110] = (20, 20, 220)
    stored = Image.fromarray(up).transpose(Image.Transpose.ROTATE_90)  # sideways on disk
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    path = tmp_path / "rot.jpg"
    stored.save(path, quality=95, exif=exif.tobytes())
    v = load_view(path)
    red = (v[0] > 0.6) & (v[2] < 0.4)
    blue = (v[2] > 0.6) & (v[0] < 0.4)
    assert red.sum() > 500 and blue.sum() > 500
    assert np.argwhere(red)[:, 0].mean() + 20 < np.argwhere(blue)[:, 0].mean()
    assert abs(np.argwhere(red)[:, 1].mean() - np.argwhere(blue)[:, 1].mean()) < 3


def test_alpha_composites_on_240():
    a = np.zeros((160, 200, 4), np.uint8)
    a[30:130, 50:150] = (0, 0, 0, 128)  # half-transparent black
    v = load_view(Image.fromarray(a))
    _check_framed(v)
    np.testing.assert_allclose(v[:, 63, 63] * 255, 240 * (1 - 128 / 255), atol=1.0)
    v2 = load_view(Image.fromarray(a), background=(255, 0, 0))
    np.testing.assert_allclose(v2[:, 0, 0], [1.0, 0.0, 0.0])


@pytest.mark.parametrize("bg", [(255, 255, 255), (40, 90, 160)])
def test_no_alpha_background_is_replaced_and_object_centred(bg):
    box = (10, 60, 120, 190)  # off-centre, near the top right
    mask = _scene(box=box)
    a = np.empty(mask.shape + (3,), np.uint8)
    a[:] = bg
    a[mask] = (200, 120, 20)
    noisy = _png(Image.fromarray(a), "JPEG", quality=75)  # JPEG noise near edges
    v = load_view(noisy)
    _check_framed(v)
    r0, r1, c0, c1 = _object_box(v)
    assert (c1 - c0) > (r1 - r0)  # 70 wide x 50 tall keeps its aspect
    np.testing.assert_allclose(v[:, 5, 5], BG, atol=1e-6)


def test_frame_fraction_parameter():
    im = Image.fromarray(_rgb())
    _check_framed(load_view(im, frame_fraction=0.8), fraction=0.8)
    _check_framed(load_view(im, frame_fraction=0.4), fraction=0.4)
    with pytest.raises(ValueError):
        load_view(im, frame_fraction=2.0)


def test_shapenet_rendering_is_composite_plus_centre_crop(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (137, 137, 4), dtype=np.uint8)
    a[:20, :, 3] = 0  # transparent top rows, as around a rendered object
    path = tmp_path / "00.png"
    Image.fromarray(a, "RGBA").save(path)
    rgb, alpha = a[..., :3].astype(np.float32) / 255, a[..., 3:].astype(np.float32) / 255
    crop = slice(CROP_OFFSET, CROP_OFFSET + VIEW_SIZE)
    expect = (rgb * alpha + np.float32(BG) * (1 - alpha))[crop, crop]
    expect = expect.transpose(2, 0, 1)
    v = load_view(path)
    np.testing.assert_allclose(v, expect, atol=1e-6)


def test_rendering_matches_dataset_test_transform(tmp_path):
    a = np.random.default_rng(3).integers(0, 256, (137, 137, 4), dtype=np.uint8)
    path = tmp_path / "01.png"
    Image.fromarray(a, "RGBA").save(path)
    np.testing.assert_array_equal(load_view(path), augment.preprocess(a, train=False))


def test_to_pil_round_trip():
    v = load_view(Image.fromarray(_rgb()))
    im = to_pil(v)
    assert im.mode == "RGB" and im.size == (127, 127)
    np.testing.assert_allclose(np.asarray(im).transpose(2, 0, 1) / 255, v, atol=1 / 255)


# --- errors ----------------------------------------------------------------------------
def _truncated_png() -> bytes:
    data = _png(Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8)))
    return data[: len(data) // 2]


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda d: d / "missing.png", "no such file"),
        (lambda d: d, "is a folder"),
        (lambda d: _write(d / "e.png", b""), "is empty"),
        (lambda d: _write(d / "t.png", b"hello"), "not an image Pillow"),
        (lambda d: _write(d / "tr.png", _truncated_png()), "truncated"),
    ],
    ids=["missing", "folder", "empty", "text", "truncated"],
)
def test_bad_files(make, match, tmp_path):
    path = make(tmp_path)
    with pytest.raises(ImageError, match=match) as info:
        load_view(path)
    assert "\n" not in str(info.value)


def test_decompression_bomb(tmp_path, monkeypatch):
    data = _png(Image.new("RGB", (300, 300), (255, 255, 255)))
    with pytest.raises(ImageError, match="megapixels"):
        load_view(data, max_pixels=50_000)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)  # Pillow's own guard
    with pytest.raises(ImageError, match="too many pixels"):
        load_view(data)


@pytest.mark.parametrize(
    "im",
    [
        Image.new("RGBA", (80, 60), (10, 10, 10, 0)),
        Image.new("RGBA", (137, 137), (10, 10, 10, 0)),
        Image.new("RGB", (80, 60), (255, 255, 255)),
    ],
    ids=["transparent", "transparent-rendering", "blank"],
)
def test_no_object(im):
    with pytest.raises(ImageError, match="no object found"):
        load_view(im)


def test_image_error_is_value_error():
    assert issubclass(ImageError, ValueError)
