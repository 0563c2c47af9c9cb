"""Image preprocessing: the official 3D-R2N2 transform plus the paper's photo augmentation.

Training (official): the RGBA rendering is composited onto a random colour (each channel
uniform in [225, 255]), cropped at a random offset to 127x127 and flipped left-right with
probability 1/2. Test: a grey 240 background and the centre crop. Output: float32
(3, 127, 127), RGB, in [0, 1].

Photo augmentation (paper, section 5.1, which composited renderings onto random crops of
PASCAL VOC images): ``preprocess(..., background=IMG, jitter=J)`` composites onto a
background image instead of the plain colour and jitters the object's colour (brightness,
contrast and saturation, each by a factor in [1 - J, 1 + J]). :class:`Backgrounds` gives
the background images: random crops of the photographs in a folder, decoded once per
process, or procedural ones (room corners with wood or fabric floors, textures, blurred
clutter, colour gradients) so training needs no download. The background and the crop
move together: the background is whatever lies behind the object in the 137x137
rendering, then the whole picture is cropped.

The flip mirrors one view, not the voxels: the mirrored view shows a part on one side of
the object on the other side. Where objects are left-right symmetric (most of ShapeNet)
that costs nothing; where a part is on one side only (the procedural set's one-sided
objects) every view's side cue becomes a coin toss, so ``flip=False`` switches it off.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..config import VIEW_SIZE

TRAIN_BG = (225, 255)  # inclusive range per channel
TEST_BG = 240


def composite(rgba: np.ndarray, background) -> np.ndarray:
    """Alpha-composite an image (H, W, 3|4) onto an RGB colour -> float32 (H, W, 3) in [0, 1].

    Images without an alpha channel are returned as they are (scaled to [0, 1]).
    """
    img = np.asarray(rgba)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    rgb = img[..., :3].astype(np.float32) / 255.0
    if img.shape[2] < 4:
        return rgb
    a = img[..., 3:4].astype(np.float32) / 255.0
    bg = np.asarray(background, np.float32).reshape(1, 1, 3) / 255.0
    return rgb * a + bg * (1.0 - a)


def colour_jitter(rgb: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Random saturation, brightness and contrast of an RGB float image (H, W, 3) in [0, 1],
    each a factor drawn in [1 - strength, 1 + strength]; the result is clipped to [0, 1]."""
    sat, bright, contrast = rng.uniform(1 - strength, 1 + strength, size=3)
    grey = rgb.mean(axis=2, keepdims=True)
    out = grey + (rgb - grey) * sat
    out = out * bright
    out = (out - 0.5) * contrast + 0.5
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def preprocess(rgba: np.ndarray, train: bool, rng: np.random.Generator | None = None,
               crop: int = VIEW_SIZE, flip: bool = True,
               background: np.ndarray | None = None, jitter: float = 0.0) -> np.ndarray:
    """One network input (3, crop, crop) float32 from an RGBA rendering (H, W, 4).

    ``train`` picks the official training augmentation (needs ``rng``); otherwise the
    deterministic test transform; ``flip=False`` keeps training's colour and crop but
    never mirrors. In training, ``background`` (uint8 (H, W, 3), the rendering's size)
    replaces the plain colour behind the object and ``jitter`` > 0 jitters the object's
    colour (:func:`colour_jitter`); both leave the official draws, and so the official
    transform, as they are. Images smaller than ``crop`` are an error.
    """
    h, w = rgba.shape[:2]
    if h < crop or w < crop:
        raise ValueError(f"image {w}x{h} is smaller than the {crop}x{crop} crop")
    if train:
        if rng is None:
            raise ValueError("training augmentation needs an rng")
        bg = rng.integers(TRAIN_BG[0], TRAIN_BG[1] + 1, size=3)
        y0 = int(rng.integers(0, h - crop + 1))
        x0 = int(rng.integers(0, w - crop + 1))
        mirror = bool(rng.random() < 0.5) and flip
    else:
        bg = (TEST_BG,) * 3
        y0, x0, mirror = (h - crop) // 2, (w - crop) // 2, False
    window = rgba[y0 : y0 + crop, x0 : x0 + crop]
    if train and (background is not None or jitter > 0):
        if background is not None and background.shape[:2] != (h, w):
            raise ValueError(f"background is {background.shape[:2]}, the image {(h, w)}")
        img = composite(window, (0, 0, 0))  # colour premultiplied by alpha
        win = np.asarray(window)
        if win.ndim == 3 and win.shape[2] == 4:
            a = win[..., 3:4].astype(np.float32) / 255.0
        else:
            a = np.ones(win.shape[:2] + (1,), np.float32)
        if jitter > 0:
            straight = np.where(a > 0, img / np.maximum(a, 1e-6), 0.0)
            img = colour_jitter(straight, rng, jitter) * a
        if background is not None:
            back = background[y0 : y0 + crop, x0 : x0 + crop, :3].astype(np.float32) / 255.0
        else:
            back = np.asarray(bg, np.float32).reshape(1, 1, 3) / 255.0
        img = (img + back * (1.0 - a)).astype(np.float32)
    else:
        img = composite(window, bg)
    if mirror:
        img = img[:, ::-1]
    return np.ascontiguousarray(img.transpose(2, 0, 1))


# --- backgrounds -----------------------------------------------------------------------
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
BG_SIDE = 256  # photographs are reduced on loading so that their shorter side is at most this
MAX_FILE_BYTES = 50_000_000
MAX_PIXELS = 80_000_000
MAX_FILES = 5000


class Backgrounds:
    """Random background images for training (uint8 RGB, any size asked).

    ``folder``: photographs (JPEG, PNG, WebP, BMP, TIFF; searched recursively, at most
    5,000, in sorted order). Files are only listed here; they are decoded the first time
    a background is asked for, once per process (each data-loader worker), reduced so that
    the shorter side is at most 256 pixels. Unreadable, oversized (over 50 MB or 80
    megapixels) or tiny files are reported once and skipped. A patch is a random square
    crop (35-100 % of the shorter side) resized to the size asked, mirrored with p = 1/2.
    Without ``folder`` every patch is procedural (:func:`procedural_background`).
    """

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = None if folder is None else Path(folder)
        self.files: list[Path] = []
        if self.folder is not None:
            if not self.folder.is_dir():
                raise ValueError(f"background folder {self.folder} does not exist")
            self.files = sorted(
                p for p in self.folder.rglob("*")
                if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            )[:MAX_FILES]
            if not self.files:
                raise ValueError(
                    f"background folder {self.folder} holds no images "
                    f"({', '.join(IMAGE_SUFFIXES)})"
                )
        self._images: list[np.ndarray] | None = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_images"] = None  # decoded again, once, in each worker process
        return state

    @property
    def photographic(self) -> bool:
        return self.folder is not None

    def images(self) -> list[np.ndarray]:
        """The folder's photographs, decoded and reduced (cached in this process)."""
        if self._images is None:
            loaded = [im for im in (_read_background(p) for p in self.files) if im is not None]
            if self.files and not loaded:
                raise ValueError(f"no readable image in background folder {self.folder}")
            self._images = loaded
        return self._images

    def patch(self, rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
        """A background of ``size`` (H, W): uint8 (H, W, 3)."""
        h, w = size
        if not self.photographic:
            return procedural_background(rng, (h, w))
        imgs = self.images()
        img = imgs[int(rng.integers(len(imgs)))]
        ih, iw = img.shape[:2]
        side = max(8, int(round(min(ih, iw) * rng.uniform(0.35, 1.0))))
        y0 = int(rng.integers(0, ih - side + 1))
        x0 = int(rng.integers(0, iw - side + 1))
        part = Image.fromarray(img[y0 : y0 + side, x0 : x0 + side])
        out = np.asarray(part.resize((w, h), Image.Resampling.BILINEAR))
        if rng.random() < 0.5:
            out = out[:, ::-1]
        return np.ascontiguousarray(out)


def _read_background(path: Path) -> np.ndarray | None:
    """One photograph as uint8 RGB with its shorter side at most BG_SIDE, or None (reported)."""
    from .shapenet import report

    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            report(path, f"background image over {MAX_FILE_BYTES // 1_000_000} MB")
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.width * im.height > MAX_PIXELS:
                    report(path, "background image has too many pixels")
                    return None
                im.draft("RGB", (BG_SIDE, BG_SIDE))  # JPEG: decode at a reduced scale
                im = im.convert("RGB")
        scale = BG_SIDE / min(im.size)
        if scale < 1:
            im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                           Image.Resampling.BILINEAR)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        report(path, f"unreadable background image ({exc})")
        return None
    if min(im.size) < 16:
        report(path, "background image smaller than 16 pixels")
        return None
    return np.asarray(im)


def procedural_background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A photo-like background without image files: uint8 (H, W, 3).

    One of: a room corner (wall above a wood, fabric or tiled floor at a random horizon,
    lit unevenly), a close-up texture (wood, fabric, leather, metal), out-of-focus clutter
    (random rectangles and ellipses on a gradient, blurred), or a smooth colour field.
    """
    from ..synth.materials import base_colour, texture

    h, w = size
    kind = int(rng.integers(4))
    if kind == 0:  # room corner
        wall = base_colour("plastic", rng) * rng.uniform(0.7, 1.0)
        floor_kind = ["wood", "fabric", "plastic"][int(rng.integers(3))]
        floor = _tiled(texture(floor_kind, base_colour(floor_kind, rng), rng), (h, w), rng)
        horizon = rng.uniform(0.3, 0.8) * h + rng.uniform(-0.3, 0.3) * (np.arange(w) - w / 2)
        rows = np.arange(h)[:, None]
        img = np.where((rows > horizon[None])[..., None], floor / 255.0, wall[None, None])
    elif kind == 1:  # texture close-up
        k = ["wood", "fabric", "leather", "metal"][int(rng.integers(4))]
        img = _tiled(texture(k, base_colour(k, rng), rng), (h, w), rng) / 255.0
    elif kind == 2:  # clutter
        im = Image.fromarray(_gradient(rng, (h, w)))
        draw = ImageDraw.Draw(im)
        for _ in range(int(rng.integers(5, 25))):
            x0, x1 = sorted(rng.uniform(-0.2, 1.2, 2) * w)
            y0, y1 = sorted(rng.uniform(-0.2, 1.2, 2) * h)
            col = tuple(int(c) for c in rng.integers(0, 256, 3))
            if rng.random() < 0.5:
                draw.rectangle((x0, y0, x1, y1), fill=col)
            else:
                draw.ellipse((x0, y0, x1, y1), fill=col)
        im = im.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 3.0))))
        img = np.asarray(im) / 255.0
    else:
        img = _gradient(rng, (h, w)) / 255.0
    # uneven lighting: a soft brightness ramp in a random direction
    a = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    ramp = ((xx - w / 2) * np.cos(a) + (yy - h / 2) * np.sin(a)) / max(h, w)
    img = img * (1.0 + rng.uniform(0.0, 0.6) * ramp)[..., None]
    return np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)


def _gradient(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A linear blend between two random colours, uint8 (H, W, 3)."""
    h, w = size
    c0, c1 = rng.uniform(0, 255, (2, 3))
    a = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    t = ((xx - w / 2) * np.cos(a) + (yy - h / 2) * np.sin(a)) / max(h, w) + 0.5
    t = np.clip(t, 0, 1)[..., None]
    return np.rint(c0 * (1 - t) + c1 * t).astype(np.uint8)


def _tiled(tex: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A texture scaled by a random factor and tiled to ``size``, float (H, W, 3) 0..255."""
    h, w = size
    scale = rng.uniform(0.5, 2.0)
    side = max(8, int(round(tex.shape[0] * scale)))
    im = np.asarray(Image.fromarray(tex).resize((side, side), Image.Resampling.BILINEAR))
    reps = (h // side + 2, w // side + 2, 1)
    big = np.tile(im, reps)
    y0, x0 = int(rng.integers(side)), int(rng.integers(side))
    return big[y0 : y0 + h, x0 : x0 + w].astype(np.float32)
