"""Any picture -> the network's input: float32 (3, 127, 127) RGB in [0, 1].

Three paths, chosen from the picture itself:

- **ShapeNet rendering** (exactly 137x137 with an alpha channel): composited on the
  background (``rgb * a + bg * (1 - a)``) and centre-cropped to 127x127 (rows and
  columns 5..131), exactly the dataset's test-time transform
  (``models.data.augment.preprocess(train=False)``, tested to be bit-identical).
- **Alpha** (any other picture with transparency): composited on the background; the
  object is the pixels with alpha > 0.
- **No alpha** (photos): the background colour is the median of a band along the
  border; the object is every pixel differing from it by more than ``tolerance``
  (cleaned with a morphological opening, holes filled); the rest is replaced by the
  training background.

The last two are then framed like a ShapeNet rendering: the object's bounding box is
centred in a 137x137 canvas of background colour with its longer side filling
``frame_fraction`` of it, and the canvas is centre-cropped to 127x127 as at test time.
The default 0.6 is the typical fill of the official renders (a unit-diagonal object
seen from 0.65..0.95 x 1.75 with a 49 degree lens fills about 0.45..0.7).
The model was tested on renderings composited on 240 grey (trained on random
225..255 backgrounds), hence the default background.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from .models.config import CROP_OFFSET, RENDER_SIZE, VIEW_SIZE

MAX_PIXELS = 64_000_000
_CROP = slice(CROP_OFFSET, CROP_OFFSET + VIEW_SIZE)  # the test-time centre crop

ImageSource = str | os.PathLike | bytes | Image.Image


class ImageError(ValueError):
    """A picture that cannot become a view; the message is one line naming it."""


def load_view(
    source: ImageSource,
    background: tuple[int, int, int] = (240, 240, 240),
    frame_fraction: float = 0.6,
    tolerance: float = 0.1,
    max_pixels: int = MAX_PIXELS,
) -> np.ndarray:
    """Read ``source`` (path, encoded bytes or PIL image) as the network's input.

    ``tolerance`` is the largest per-channel difference (in [0, 1]) from the estimated
    background colour still counted as background when the picture has no alpha.
    """
    if not 0.05 <= frame_fraction <= 1.0:
        raise ValueError(f"frame_fraction must be in [0.05, 1], got {frame_fraction}")
    name = _name(source)
    im = _open(source, name, max_pixels)
    rgb, alpha = _to_float(im)
    bg = np.asarray(background, np.float32).reshape(3, 1, 1) / 255.0
    if alpha is not None and rgb.shape[1:] == (RENDER_SIZE, RENDER_SIZE):
        if not (alpha > 0).any():
            raise ImageError(f"{name}: no object found (the image is fully transparent)")
        return _composite(rgb, alpha, bg)[:, _CROP, _CROP]
    if alpha is not None:
        mask = alpha > 0
        if not mask.any():
            raise ImageError(f"{name}: no object found (the image is fully transparent)")
        comp = _composite(rgb, alpha, bg)
    else:
        mask = _foreground_mask(rgb, tolerance)
        if not mask.any():
            raise ImageError(
                f"{name}: no object found (every pixel matches the background colour)"
            )
        comp = np.where(mask[None], rgb, bg)
    return _frame(comp, mask, background, frame_fraction)


def to_pil(view: np.ndarray) -> Image.Image:
    """A (3, H, W) view in [0, 1] -> an RGB PIL image (for thumbnails)."""
    arr = np.asarray(view, np.float32)
    if arr.ndim != 3 or arr.shape[0] != 3:
        raise ValueError(f"a view has shape (3, H, W), got {arr.shape}")
    u8 = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(u8.transpose(1, 2, 0)), "RGB")


# --- reading ------------------------------------------------------------------------
def _name(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name or str(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<image bytes>"
    return "<image>"


def _open(source: Any, name: str, max_pixels: int) -> Image.Image:
    if isinstance(source, Image.Image):
        _check_size(source, name, max_pixels)
        im = source
    else:
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if path.is_dir():
                raise ImageError(f"{path}: is a folder, not an image")
            if not path.exists():
                raise ImageError(f"{path}: no such file")
            data = path.read_bytes()
        elif isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
        else:
            raise TypeError(f"cannot read a view from {type(source).__name__}")
        if not data:
            raise ImageError(f"{name}: the file is empty")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im = Image.open(io.BytesIO(data))
                _check_size(im, name, max_pixels)
                im.load()
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageError(f"cannot read {name}: too many pixels ({exc})") from None
        except UnidentifiedImageError:
            raise ImageError(f"cannot read {name}: not an image Pillow understands") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ImageError(f"cannot read {name}: truncated or corrupt image ({msg})") from None
    try:
        return ImageOps.exif_transpose(im) or im
    except Exception:  # a broken EXIF block must not lose the picture
        return im


def _check_size(im: Image.Image, name: str, max_pixels: int) -> None:
    w, h = im.size
    if w * h > max_pixels:
        raise ImageError(
            f"cannot read {name}: {w}x{h} is more than {max_pixels / 1e6:g} megapixels"
        )
    if w < 1 or h < 1:
        raise ImageError(f"cannot read {name}: the image has no pixels")


def _to_float(im: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """(3, H, W) RGB and (H, W) alpha (None if opaque), float32 in [0, 1]."""
    if im.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        a = np.asarray(im, dtype=np.float32)
        top = 1.0 if im.mode == "F" and a.max(initial=0) <= 1.0 else 255.0
        if im.mode.startswith("I;16") or a.max(initial=0) > 255:
            top = 65535.0
        grey = np.clip(a / top, 0.0, 1.0)
        return np.repeat(grey[None], 3, axis=0), None
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if has_alpha:
        arr = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = arr[..., 3]
        rgb = arr[..., :3].transpose(2, 0, 1)
        return np.ascontiguousarray(rgb), (None if (alpha >= 1.0).all() else alpha)
    arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return np.ascontiguousarray(arr.transpose(2, 0, 1)), None


# --- object and framing ----------------------------------------------------------
def _composite(rgb: np.ndarray, alpha: np.ndarray, bg: np.ndarray) -> np.ndarray:
    a = alpha[None]
    return (rgb * a + bg * (1.0 - a)).astype(np.float32)


def _foreground_mask(rgb: np.ndarray, tolerance: float) -> np.ndarray:
    _, h, w = rgb.shape
    band = max(1, round(0.02 * min(h, w)))
    border = np.concatenate(
        [
            rgb[:, :band].reshape(3, -1),
            rgb[:, -band:].reshape(3, -1),
            rgb[:, :, :band].reshape(3, -1),
            rgb[:, :, -band:].reshape(3, -1),
        ],
        axis=1,
    )
    colour = np.median(border, axis=1).reshape(3, 1, 1)
    mask = np.abs(rgb - colour).max(axis=0) > tolerance
    k = max(1, min(h, w) // 300)  # ~1 px per 300 px: removes JPEG speckle, keeps thin parts
    mask = ndimage.binary_opening(mask, structure=np.ones((2 * k + 1, 2 * k + 1), bool))
    return ndimage.binary_fill_holes(mask)


def _frame(
    comp: np.ndarray, mask: np.ndarray, background: tuple[int, int, int], fraction: float
) -> np.ndarray:
    """Centre the mask's bounding box in a 137^2 canvas at ``fraction``, crop to 127^2."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    scale = fraction * RENDER_SIZE / max(r1 - r0, c1 - c0)  # canvas px per source px
    cy, cx = (r0 + r1) / 2.0, (c0 + c1) / 2.0
    h, w = mask.shape

    def to_canvas(v: float, centre: float) -> float:
        return (v - centre) * scale + RENDER_SIZE / 2.0

    # the part of the source inside the canvas, as integer canvas pixels
    ox0 = max(0, int(np.floor(to_canvas(0, cx))))
    oy0 = max(0, int(np.floor(to_canvas(0, cy))))
    ox1 = min(RENDER_SIZE, int(np.ceil(to_canvas(w, cx))))
    oy1 = min(RENDER_SIZE, int(np.ceil(to_canvas(h, cy))))
    box = (
        max(0.0, (ox0 - RENDER_SIZE / 2.0) / scale + cx),
        max(0.0, (oy0 - RENDER_SIZE / 2.0) / scale + cy),
        min(float(w), (ox1 - RENDER_SIZE / 2.0) / scale + cx),
        min(float(h), (oy1 - RENDER_SIZE / 2.0) / scale + cy),
    )
    canvas = Image.new("RGB", (RENDER_SIZE, RENDER_SIZE), tuple(int(v) for v in background))
    if ox1 > ox0 and oy1 > oy0:
        src = to_pil(comp)
        part = src.resize((ox1 - ox0, oy1 - oy0), Image.Resampling.LANCZOS, box=box)
        canvas.paste(part, (ox0, oy0))
    out = np.asarray(canvas, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return np.ascontiguousarray(out[:, _CROP, _CROP])
