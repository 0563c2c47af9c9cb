"""Any picture -> the network's input: float32 (3, 127, 127) RGB in [0, 1].

``prepare_photo(source, PrepSettings(...)) -> PreparedView`` is the full interface (the
input, the object mask, the crop box, the method used, timings); ``load_view`` is the
simple wrapper returning only the input. Paths are chosen from the picture itself:

- **ShapeNet rendering** (exactly 137x137 with an alpha channel): composited on the
  background (``rgb * a + bg * (1 - a)``) and centre-cropped to 127x127 (rows and
  columns 5..131), exactly the dataset's test-time transform
  (``models.data.augment.preprocess(train=False)``, tested to be bit-identical).
- **Alpha** (any other picture with transparency): composited on the background; the
  object is the pixels with alpha > 0.
- **No alpha** (photos): the object is found by ``segment`` (see ``SEGMENT_MODES``):
  ``plain`` - the background colour is the median of a band along the border, the
  object every pixel differing from it by more than ``tolerance`` (cleaned with a
  morphological opening, holes filled); ``hybrid`` - GrabCut seeded by both the bundled
  foreground segmenter's P(object) and the colour-edge seeds (``segmentation.hybrid_mask``);
  ``learned`` - the bundled foreground segmenter alone (a small U-Net trained on
  renderings over photographic backdrops, ``segmentation.learned_mask``; with strokes,
  its probabilities seed GrabCut); ``grabcut`` - OpenCV's GrabCut (colour models of
  object and background, graph cut), seeded by the border and colour edges and by
  optional stroke masks; ``none`` - the whole picture is the object; ``auto`` (default) -
  ``plain`` when the border is uniform, there are no strokes and the plain mask is one
  object clear of the edge (a patterned backdrop with a uniform border is not), else
  ``AUTO_CLUTTERED`` (``hybrid``: the best masks of the three on the segmentation
  benchmark, docs/photo_segmentation.md), falling back to ``plain``, then ``none``, when
  it keeps nothing.
  Pixels outside the object become the background.

The last two are then framed like a ShapeNet rendering: the object's bounding box is
centred in a 137x137 canvas of background colour with its longer side filling
``frame_fraction`` of it, and the canvas is centre-cropped to 127x127 as at test time.
The rule lives in ``models.data.framing`` (``FRAME_FRACTION`` = 0.6, the typical fill of
renderings), where training uses it too: ``r2n2 train --reframe P`` frames that share of
its renderings exactly this way, so a photo and a rendering reach the network alike.
The model was tested on renderings composited on 240 grey (trained on random
225..255 backgrounds), hence the default background.

Speed: a picture is checked against ``MAX_PIXELS`` from its header, before any pixel is
decoded. The mask is computed on a working copy of at most ``WORK_SIZE`` pixels a side
(JPEGs are decoded directly at a reduced scale, ``Image.draft``); the input is then
resampled from the smallest decode that still has twice the input's resolution over the
crop box, so a photo's size costs little beyond its decoding.

Only regular files are read (a FIFO, device or folder is refused before it is opened).
Float pictures (mode ``F``, e.g. float TIFFs) must be finite: NaN or infinity is refused;
finite values are taken as intensities in [0, 1] (clipped), unless more than 1% of them
exceed 1, in which case the picture is taken as 0..255 (a float image holding 8-bit
values) and clipped to that.
"""

from __future__ import annotations

import io
import math
import os
import re
import stat
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from .models.config import CROP_OFFSET, RENDER_SIZE, VIEW_SIZE
from .models.data.framing import FRAME_FRACTION, canvas_window, mask_box, object_frame

_CROP = slice(CROP_OFFSET, CROP_OFFSET + VIEW_SIZE)  # the test-time centre crop
MAX_PIXELS = 64_000_000
MAX_FILE_BYTES = 1 << 30  # larger files are refused before reading (a 64 MP TIFF is ~200 MB)
WORK_SIZE = 1024  # the mask is computed on a copy at most this many pixels a side
SEGMENT_MODES = ("auto", "plain", "hybrid", "learned", "grabcut", "none")
AUTO_CLUTTERED = "hybrid"  # what auto uses when the border is not plain (or with strokes)
UNIFORM_BORDER = 0.9  # auto: plain when this share of the border matches its median colour
ONE_OBJECT = 0.8  # ... and one part holds this share of the plain mask
ONE_OBJECT_BORDER = 0.1  # ... which touches at most this share of the picture's edge

ImageSource = str | os.PathLike | bytes | Image.Image


class ImageError(ValueError):
    """A picture that cannot become a view; the message is one line naming it."""


@dataclass(frozen=True, eq=False)
class PrepSettings:
    """How a picture becomes a view; every field has a sensible default.

    ``crop_box``: (x0, y0, x1, y1) in pixels of the full, upright picture: the region that
    becomes the 127x127 input (widened to a square about its centre; it may extend past
    the picture, which is then padded with the background). None: framed automatically
    from the object mask with ``frame_fraction``.
    ``foreground`` / ``background_strokes``: boolean masks (any resolution, the picture's
    aspect) of pixels the user marked as object / background: GrabCut's hard seeds (with
    ``learned`` and ``hybrid``, GrabCut starts from the segmenter's probabilities); with
    ``plain`` they override the mask. With ``auto``, strokes select ``AUTO_CLUTTERED``.
    """

    segment: str = "auto"
    crop_box: tuple[float, float, float, float] | None = None
    foreground: np.ndarray | None = None
    background_strokes: np.ndarray | None = None
    frame_fraction: float = FRAME_FRACTION
    background: tuple[int, int, int] = (240, 240, 240)
    tolerance: float = 0.1
    max_pixels: int = MAX_PIXELS

    def __post_init__(self) -> None:
        if self.segment not in SEGMENT_MODES:
            raise ValueError(f"segment must be one of {', '.join(SEGMENT_MODES)}, "
                             f"got {self.segment!r}")
        if not 0.05 <= self.frame_fraction <= 1.0:
            raise ValueError(f"frame_fraction must be in [0.05, 1], got {self.frame_fraction}")
        if self.crop_box is not None:
            x0, y0, x1, y1 = (float(v) for v in self.crop_box)
            if not all(map(math.isfinite, (x0, y0, x1, y1))) or x1 <= x0 or y1 <= y0:
                raise ValueError(f"crop_box must be finite (x0, y0, x1, y1) with x1 > x0 and "
                                 f"y1 > y0, got {self.crop_box}")
        for name in ("foreground", "background_strokes"):
            m = getattr(self, name)
            if m is not None and (np.ndim(m) != 2 or min(np.shape(m)) < 1):
                raise ValueError(f"{name} must be a 2-D mask, got shape {np.shape(m)}")


@dataclass(frozen=True, eq=False)
class PreparedView:
    """A picture prepared as the network's input, with what the input editor shows."""

    view: np.ndarray  # (3, 127, 127) float32 in [0, 1]: exactly what the network gets
    mask: np.ndarray  # (h, w) float32 in [0, 1] at the working resolution: 1 = object
    preview: Image.Image  # the upright picture at the working resolution (mask's grid)
    crop_box: tuple[float, float, float, float]  # full-picture pixels shown in the input
    image_size: tuple[int, int]  # (width, height) of the full, upright picture
    method: str  # "rendering", "alpha", "plain", "hybrid", "learned", "grabcut" or "none"
    timings: dict[str, float] = field(default_factory=dict)  # ms: decode, mask, crop, total


def load_view(
    source: ImageSource,
    background: tuple[int, int, int] = (240, 240, 240),
    frame_fraction: float = 0.6,
    tolerance: float = 0.1,
    max_pixels: int = MAX_PIXELS,
    segment: str = "auto",
) -> np.ndarray:
    """Read ``source`` (path, encoded bytes or PIL image) as the network's input.

    ``tolerance`` is the largest per-channel difference (in [0, 1]) from the estimated
    background colour still counted as background by the ``plain`` segmentation.
    """
    settings = PrepSettings(segment=segment, frame_fraction=frame_fraction,
                            background=background, tolerance=tolerance, max_pixels=max_pixels)
    return prepare_photo(source, settings).view


def prepare_photo(source: ImageSource, settings: PrepSettings | None = None,
                  cancel_check: Callable[[], None] | None = None) -> PreparedView:
    """``source`` (path, encoded bytes or PIL image) -> the network input and its making.

    ``cancel_check``: called after decoding, between the learned segmenter's two passes
    and between GrabCut's iterations; whatever it raises stops the preparation (and
    propagates), so a cancel lands within one step.
    """
    s = settings or PrepSettings()
    t0 = time.perf_counter()
    name = _name(source)
    with _Picture(source, name, s.max_pixels) as pic:
        return _prepare(pic, s, t0, cancel_check)


def to_pil(view: np.ndarray) -> Image.Image:
    """A (3, H, W) view in [0, 1] -> an RGB PIL image (for thumbnails)."""
    arr = np.asarray(view, np.float32)
    if arr.ndim != 3 or arr.shape[0] != 3:
        raise ValueError(f"a view has shape (3, H, W), got {arr.shape}")
    u8 = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(u8.transpose(1, 2, 0)), "RGB")


# --- the pipeline -------------------------------------------------------------------
def _prepare(pic: _Picture, s: PrepSettings, t0: float,
             cancel_check: Callable[[], None] | None = None) -> PreparedView:
    bg = np.asarray(s.background, np.float32).reshape(3, 1, 1) / 255.0
    times: dict[str, float] = {}
    work = pic.working()  # RGB or RGBA, upright, <= WORK_SIZE a side
    times["decode"] = _ms(t0)
    W, H = pic.size
    if pic.is_rendering and work.mode == "RGBA":
        rgb, alpha = _to_float(work)
        if alpha is None or not (alpha > 0).any():
            raise ImageError(f"{pic.name}: no object found (the image is fully transparent)")
        view = _composite(rgb, alpha, bg)[:, _CROP, _CROP]
        times["total"] = _ms(t0)
        c = float(CROP_OFFSET)
        return PreparedView(view, alpha, work.convert("RGB"), (c, c, c + VIEW_SIZE,
                            c + VIEW_SIZE), (W, H), "rendering", times)

    if cancel_check is not None:
        cancel_check()
    t1 = time.perf_counter()
    has_alpha = work.mode == "RGBA"
    if has_alpha:
        alpha = np.asarray(work.getchannel("A"), np.float32) / 255.0
        mask, method = alpha, "alpha"
        if not (alpha > 0).any():
            raise ImageError(f"{pic.name}: no object found (the image is fully transparent)")
    else:
        mask, method = _segment(work, s, pic.name, cancel_check)
    times["mask"] = _ms(t1)

    t2 = time.perf_counter()
    sx, sy = W / work.width, H / work.height  # full pixels per working pixel
    if s.crop_box is not None:
        x0, y0, x1, y1 = (float(v) for v in s.crop_box)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        scale = VIEW_SIZE / max(x1 - x0, y1 - y0)  # input pixels per full pixel
    else:
        bx0, by0, bx1, by1 = mask_box(mask)  # type: ignore[misc]  # the mask is not empty
        cx, cy, scale = object_frame((bx0 * sx, by0 * sy, bx1 * sx, by1 * sy), s.frame_fraction)
    view = _frame(pic, work, mask, has_alpha, cx, cy, scale, bg, s.background)
    half = VIEW_SIZE / 2 / scale
    times["crop"] = _ms(t2)
    times["total"] = _ms(t0)
    return PreparedView(view, mask.astype(np.float32), work.convert("RGB"),
                        (cx - half, cy - half, cx + half, cy + half), (W, H), method, times)


def _ms(t: float) -> float:
    return 1000.0 * (time.perf_counter() - t)


# --- reading ------------------------------------------------------------------------
def _name(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name or str(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<image bytes>"
    return "<image>"


_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _open_regular_file(path: Path) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file of sane size; never blocks."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    _check_regular(path, st)
    try:  # O_NONBLOCK: a FIFO swapped in after the stat cannot block the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        _check_regular(path, os.fstat(fd))
    except ImageError:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _check_regular(path: Path, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise ImageError(f"{path}: is a folder, not an image")
    if not stat.S_ISREG(st.st_mode):
        raise ImageError(f"{path}: not a regular file (a pipe, device or socket); "
                         "pass an image file")
    if st.st_size == 0:
        raise ImageError(f"{path.name}: the file is empty")
    if st.st_size > MAX_FILE_BYTES:
        raise ImageError(f"{path.name}: {st.st_size / 2**20:.0f} MB is larger than the "
                         f"{MAX_FILE_BYTES / 2**20:.0f} MB an image may have")


class _Picture:
    """One picture: opened lazily, size-checked from its header, decoded as needed."""

    def __init__(self, source: Any, name: str, max_pixels: int) -> None:
        self.name = name
        self._file: BinaryIO | None = None
        self._full: Image.Image | None = None  # the full-resolution decode, if made
        self.limit = _pixel_limit(max_pixels)
        try:
            self._start(source)
        except BaseException:
            self.close()
            raise

    def _start(self, source: Any) -> None:
        name = self.name
        if isinstance(source, Image.Image):
            im = source
        else:
            if isinstance(source, (str, os.PathLike)):
                self._file = _open_regular_file(Path(source))
            elif isinstance(source, (bytes, bytearray, memoryview)):
                if not len(source):
                    raise ImageError(f"{name}: the file is empty")
                self._file = io.BytesIO(bytes(source))
            else:
                raise TypeError(f"cannot read a view from {type(source).__name__}")
            im = self._reopen()
        w, h = im.size
        if w < 1 or h < 1:
            raise ImageError(f"cannot read {name}: the image has no pixels")
        if w * h > self.limit:
            raise ImageError(f"cannot read {name}: too many pixels ({w}x{h} = "
                             f"{w * h / 1e6:.0f} megapixels; the limit is "
                             f"{self.limit / 1e6:g} megapixels) - scale it down first")
        self.orientation = _orientation(im)
        self.size = (h, w) if self.orientation in (5, 6, 7, 8) else (w, h)
        self.stored = im
        self.is_jpeg = im.format == "JPEG" and self._file is not None
        self.is_rendering = self.size == (RENDER_SIZE, RENDER_SIZE) and _has_alpha(im)

    def __enter__(self) -> _Picture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file and drop the decoded pixels at once (not at the next GC)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._full = self.stored = None  # type: ignore[assignment]

    def _reopen(self) -> Image.Image:
        assert self._file is not None
        self._file.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                return Image.open(self._file)
            except Image.DecompressionBombError as exc:  # Pillow's guard, > 2x its limit
                found = re.search(r"\((\d+) pixels\)", str(exc))
                size = f"{int(found.group(1)) / 1e6:.0f}" if found else "too many"
                raise ImageError(f"cannot read {self.name}: too many pixels ({size} "
                                 f"megapixels; the limit is {self.limit / 1e6:g} megapixels)"
                                 " - scale it down first") from None
            except UnidentifiedImageError:
                raise ImageError(f"cannot read {self.name}: not an image Pillow "
                                 "understands") from None
            except (OSError, SyntaxError, ValueError, EOFError) as exc:
                raise _corrupt(self.name, exc) from None

    def _load(self, im: Image.Image) -> Image.Image:
        """Decode ``im``, made upright and converted to RGB/RGBA (or the float path)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _corrupt(self.name, exc) from None
        im = _to_rgb(im, self.name)
        if self.orientation in _ORIENT:
            im = im.transpose(_ORIENT[self.orientation])
        return im

    def full(self) -> Image.Image:
        """The whole picture decoded (once: reading a PNG's EXIF may already have)."""
        if self._full is None:
            self._full = self._load(self.stored)
        return self._full

    def decoded_at(self, factor: float) -> Image.Image:
        """A decode of at least 1/``factor`` of the full resolution (JPEG: draft scale)."""
        if self._full is not None or not self.is_jpeg or factor < 2:
            return self.full()
        im = self._reopen()
        w, h = im.size
        k = 1
        while k < 8 and k * 2 <= factor:
            k *= 2
        im.draft(im.mode, (max(1, w // k), max(1, h // k)))  # scale 1/k, or finer
        return self._load(im)

    def working(self) -> Image.Image:
        """The upright picture at most WORK_SIZE a side (exact size for renderings)."""
        W, H = self.size
        longest = max(W, H)
        if self.is_rendering or longest <= WORK_SIZE:
            return self.full()
        im = self.decoded_at(longest / (0.75 * WORK_SIZE))  # JPEG: 1/2..1/8 scale
        r = WORK_SIZE / max(im.size)
        if r < 1:
            size = (max(1, round(im.width * r)), max(1, round(im.height * r)))
            im = im.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
        return im


def _pixel_limit(max_pixels: int) -> int:
    """Our limit, lowered to Pillow's own guard when that is stricter."""
    pil = Image.MAX_IMAGE_PIXELS
    return int(min(max_pixels, pil)) if pil else int(max_pixels)


def _corrupt(name: str, exc: BaseException) -> ImageError:
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ImageError(f"cannot read {name}: truncated or corrupt image ({msg})")


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block must not lose the picture
        return 1


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def _to_rgb(im: Image.Image, name: str) -> Image.Image:
    """Any decoded mode -> RGB, or RGBA when the picture has transparency."""
    if im.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        grey = _scaled_grey(im, name)
        return Image.fromarray(np.rint(grey * 255).astype(np.uint8), "L").convert("RGB")
    if _has_alpha(im):
        out = im.convert("RGBA")
        if np.asarray(out.getchannel("A")).min() == 255:
            return out.convert("RGB")
        return out
    return im if im.mode == "RGB" else im.convert("RGB")


def _scaled_grey(im: Image.Image, name: str) -> np.ndarray:
    """A 16-bit, 32-bit integer or float picture as grey intensities in [0, 1]."""
    a = np.asarray(im, dtype=np.float32)
    if im.mode == "F":
        bad = int((~np.isfinite(a)).sum())
        if bad:
            raise ImageError(f"cannot read {name}: {bad} pixel(s) of the float image are NaN "
                             "or infinite; save it with finite values")
        top = 255.0 if (a > 1.0).mean() > 0.01 else 1.0
    else:
        top = 65535.0 if im.mode.startswith("I;16") or a.max(initial=0) > 255 else 255.0
    return np.clip(a / top, 0.0, 1.0)


def _to_float(im: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """(3, H, W) RGB and (H, W) alpha (None if opaque), float32 in [0, 1]."""
    if im.mode == "RGBA":
        arr = np.asarray(im, dtype=np.float32) / 255.0
        alpha = arr[..., 3]
        rgb = arr[..., :3].transpose(2, 0, 1)
        return np.ascontiguousarray(rgb), (None if (alpha >= 1.0).all() else alpha)
    arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return np.ascontiguousarray(arr.transpose(2, 0, 1)), None


# --- object mask ----------------------------------------------------------------------
def _segment(work: Image.Image, s: PrepSettings, name: str,
             cancel_check: Callable[[], None] | None = None) -> tuple[np.ndarray, str]:
    """(mask at the working resolution, method used) for an opaque picture."""
    rgb = np.asarray(work)  # (h, w, 3) uint8
    h, w = rgb.shape[:2]
    fg = _resized_strokes(s.foreground, (h, w))
    bgs = _resized_strokes(s.background_strokes, (h, w))
    method = s.segment
    strokes = (fg is not None and fg.any()) or (bgs is not None and bgs.any())
    plain = None
    if method == "auto":
        method = AUTO_CLUTTERED
        if not strokes and border_uniformity(rgb, s.tolerance) >= UNIFORM_BORDER:
            plain = plain_mask(rgb, s.tolerance)
            if not plain.any() or _one_object(plain):
                method = "plain"
    if method == "none":
        return np.ones((h, w), np.float32), "none"
    if method == "plain":
        mask = plain_mask(rgb, s.tolerance) if plain is None else plain
        if fg is not None:
            mask |= fg
        if bgs is not None:
            mask &= ~bgs
        if not mask.any():
            raise ImageError(f"{name}: no object found (every pixel matches the background "
                             "colour)")
        return mask, method
    from .segmentation import grabcut_mask, hybrid_mask, learned_mask

    cut = {"learned": learned_mask, "hybrid": hybrid_mask, "grabcut": grabcut_mask}[method]
    mask = cut(rgb, fg, bgs, cancel_check=cancel_check)
    if not mask.any() and s.segment == "auto":  # nothing separable: fall back
        mask, method = plain_mask(rgb, s.tolerance), "plain"
        if not mask.any():
            return np.ones((h, w), np.float32), "none"
    if not mask.any():
        raise ImageError(f"{name}: no object found (the segmentation kept no pixel); "
                         "mark the object with foreground strokes or use --segment none")
    return mask, method


def _one_object(mask: np.ndarray) -> bool:
    """True when a plain-background mask looks like one object on a plain backdrop: one
    part holds ``ONE_OBJECT`` of it (parts under 0.5% of it ignored) and it touches at
    most ``ONE_OBJECT_BORDER`` of the picture's edge. A patterned backdrop whose border
    happens to be uniform (tiles, boards, scattered shapes) fails this and gets GrabCut."""
    total = int(mask.sum())
    if total == 0:
        return False
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel())[1:]
    big = sizes[sizes >= 0.005 * total]
    edge = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    return big.max() >= ONE_OBJECT * big.sum() and edge.mean() <= ONE_OBJECT_BORDER


def _resized_strokes(m: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    """A stroke mask resampled to ``shape``; a working pixel is marked if any part is."""
    if m is None:
        return None
    m = np.asarray(m, dtype=bool)
    if m.shape == shape:
        return m.copy()
    im = Image.fromarray(m.astype(np.uint8) * 255, "L")
    return np.asarray(im.resize((shape[1], shape[0]), Image.Resampling.BOX)) > 0


def _border_band(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) the pixels of a band along the border, 2% of the shorter side wide."""
    h, w = rgb.shape[:2]
    b = max(1, round(0.02 * min(h, w)))
    return np.concatenate([rgb[:b].reshape(-1, 3), rgb[-b:].reshape(-1, 3),
                           rgb[:, :b].reshape(-1, 3), rgb[:, -b:].reshape(-1, 3)])


def _far_from(rgb: np.ndarray, colour: np.ndarray, tolerance: float) -> np.ndarray:
    """Pixels of (..., 3) uint8 ``rgb`` differing from ``colour`` (0..255) by more than
    ``tolerance`` (0..1) in some channel; exact integer arithmetic on doubled values."""
    c2 = np.rint(2 * np.asarray(colour, np.float64)).astype(np.int16)
    t2 = 2 * 255 * tolerance
    out = None
    for ch in range(3):
        far = np.abs(rgb[..., ch].astype(np.int16) * 2 - c2[ch]) > t2
        out = far if out is None else out | far
    return out


def border_uniformity(rgb: np.ndarray, tolerance: float = 0.1) -> float:
    """Share of a (H, W, 3) uint8 picture's border band within ``tolerance`` (0..1) of the
    band's median colour: 1.0 for a plain backdrop."""
    border = _border_band(rgb)
    return 1.0 - float(_far_from(border, np.median(border, axis=0), tolerance).mean())


def plain_mask(rgb: np.ndarray, tolerance: float = 0.1) -> np.ndarray:
    """Object mask of a (H, W, 3) uint8 picture on a plain background (the border's
    colour): pixels off that colour by more than ``tolerance``, opened, holes filled."""
    import cv2

    h, w = rgb.shape[:2]
    mask = _far_from(rgb, np.median(_border_band(rgb), axis=0), tolerance).view(np.uint8)
    k = max(1, min(h, w) // 300)  # ~1 px per 300 px: removes JPEG speckle, keeps thin parts
    kernel = np.ones((2 * k + 1, 2 * k + 1), np.uint8)
    # erosion then dilation with the picture's edge counted as background (as scipy's)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_CONSTANT,
                            borderValue=0)
    from .segmentation import fill_holes

    return fill_holes(mask.astype(bool))


# --- framing -------------------------------------------------------------------------
def _composite(rgb: np.ndarray, alpha: np.ndarray, bg: np.ndarray) -> np.ndarray:
    a = alpha[None]
    return (rgb * a + bg * (1.0 - a)).astype(np.float32)


def _frame(pic: _Picture, work: Image.Image, mask: np.ndarray, has_alpha: bool, cx: float,
           cy: float, scale: float, bg: np.ndarray, background: tuple[int, int, int]
           ) -> np.ndarray:
    """Map full-picture point (cx, cy) to the 137^2 canvas centre at ``scale`` canvas px per
    full px; fill it from the picture (object kept, the rest background); crop to 127^2."""
    W, H = pic.size

    canvas = Image.new("RGB", (RENDER_SIZE, RENDER_SIZE), tuple(int(v) for v in background))
    window = canvas_window(cx, cy, scale, W, H)
    if window is not None:
        (ox0, oy0, ox1, oy1), box = window
        tw, th = ox1 - ox0, oy1 - oy0
        # the coarsest decode keeping >= 2 source pixels per output pixel over the box
        want = max(1.0, min((box[2] - box[0]) / tw, (box[3] - box[1]) / th) / 2.0)
        src = work if W / work.width <= want else pic.decoded_at(want)
        k = max(1, int(want / (W / src.width)))  # then integer-reduced to that resolution
        fx, fy = W / src.width, H / src.height
        sbox = (box[0] / fx, box[1] / fy, box[2] / fx, box[3] / fy)
        ibox = (int(np.floor(sbox[0] / k)) * k, int(np.floor(sbox[1] / k)) * k,
                min(src.width, int(np.ceil(sbox[2] / k)) * k),
                min(src.height, int(np.ceil(sbox[3] / k)) * k))
        ibox = (ibox[0], ibox[1], max(ibox[2], ibox[0] + 1), max(ibox[3], ibox[1] + 1))
        region = src.reduce(k, box=ibox) if k > 1 else src.crop(ibox)
        rgb, alpha = _to_float(region)
        if not has_alpha:  # the working-resolution mask over the same region
            alpha = _mask_over(mask, work.size, (W, H), ibox, (fx, fy), region.size)
        comp = rgb if alpha is None else _composite(rgb, alpha, bg)
        rbox = tuple((v - o) / k for v, o in zip(sbox, ibox[:2] * 2, strict=True))
        part = to_pil(comp).resize((tw, th), Image.Resampling.LANCZOS, box=rbox)
        canvas.paste(part, (ox0, oy0))
    out = np.asarray(canvas, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return np.ascontiguousarray(out[:, _CROP, _CROP])


def _mask_over(mask: np.ndarray, work_size: tuple[int, int], full: tuple[int, int],
               ibox: tuple[int, int, int, int], f: tuple[float, float],
               out_size: tuple[int, int]) -> np.ndarray:
    """The mask (working grid) resampled onto a region ``ibox`` of a decode at ``f``."""
    mx, my = full[0] / work_size[0], full[1] / work_size[1]  # full px per mask px
    wbox = (ibox[0] * f[0] / mx, ibox[1] * f[1] / my, ibox[2] * f[0] / mx, ibox[3] * f[1] / my)
    if all(abs(a - round(a)) < 1e-9 for a in wbox) and \
            (round(wbox[2] - wbox[0]), round(wbox[3] - wbox[1])) == out_size:
        x0, y0, x1, y1 = (round(a) for a in wbox)
        return mask[y0:y1, x0:x1].astype(np.float32)
    im = Image.fromarray(mask.astype(np.float32), "F")
    return np.asarray(im.resize(out_size, Image.Resampling.BILINEAR, box=wbox), np.float32)
