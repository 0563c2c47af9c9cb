"""Photos with known object masks: renderings composited over backdrops.

The segmenter (``models.segmenter``) learns from these and ``benchmarks/segmentation.py``
measures on them, on disjoint wallpapers: :func:`wallpaper_split` divides a folder of
wallpapers by a hash of each file's name (SHA-1 of the name, first 8 hex digits as an
integer, mod 10: 0-6 train, 7-9 held out), so the split does not change when files are
added or removed.

:class:`CompositeSampler` makes training pairs: a rendering (RGBA, its alpha the label)
of a random model of a training split, colour-jittered, scaled so that its longer side
fills a random share (``fill``) of a square patch, placed at a random spot, over a
backdrop: a random crop of a training wallpaper (:class:`augment.Backgrounds`), a
procedural one (``augment.procedural_background``: room corners, textures, clutter,
gradients) or a plain colour; then blur, noise and JPEG re-encoding as a camera would.
Optionally (``centre``) a share of the objects are framed as a photo of one object is:
near the patch's centre; of those, a share (``distractors``) get one to three other
renderings behind them, smaller and away from the centre (things in the room, cut by the
frame at times), labelled background: the object is the central one, not any object.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from .augment import IMAGE_SUFFIXES, Backgrounds, colour_jitter, procedural_background
from .shapenet import build_index

HELD_OUT = (7, 8, 9)  # hash digits (mod 10) of the held-out wallpapers


def wallpaper_split(name: str) -> str:
    """"train" or "held-out" for a wallpaper file name (its name only, not its folder)."""
    h = int(hashlib.sha1(Path(name).name.encode("utf-8")).hexdigest()[:8], 16)
    return "held-out" if h % 10 in HELD_OUT else "train"


def wallpapers(folder: str | os.PathLike, split: str) -> list[Path]:
    """The image files directly in ``folder`` of one split ("train" or "held-out"), sorted."""
    if split not in ("train", "held-out"):
        raise ValueError(f"split must be 'train' or 'held-out', got {split!r}")
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"background folder {folder} does not exist")
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                  and wallpaper_split(p.name) == split)


def alpha_box(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    rows, cols = np.flatnonzero((alpha > 0).any(1)), np.flatnonzero((alpha > 0).any(0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


class CompositeSampler:
    """Random (picture, mask) training pairs: uint8 (S, S, 3) and float32 (S, S) in [0, 1].

    ``data``: dataset roots (ShapeNet layout); their ``split`` renderings are used, each
    root in an equal share. ``backgrounds``: a wallpaper folder (its train split is used)
    or None (procedural and plain backdrops only). ``mix``: shares of wallpaper /
    procedural / plain backdrops. ``fill``: range of the object's longer side / patch side.
    ``centre``: share of objects placed near the centre (their centre within an eighth of
    the side of the patch's) instead of anywhere; ``distractors``: share of those with
    other renderings behind them, labelled background; ``large``: share of those whose
    first one is larger than the patch (1-2x its side: a floor, a pier, a table the object
    stands on, cut by the frame).
    """

    def __init__(self, data: list[str | os.PathLike], backgrounds: str | os.PathLike | None,
                 patch: int, mix: dict[str, float], fill: tuple[float, float],
                 split: str = "train", centre: float = 0.0, distractors: float = 0.0,
                 large: float = 0.0):
        self.views: list[list[Path]] = []
        for root in data:
            recs = build_index(root, split, check_voxels=False)
            views = [r.rendering_dir / v for r in recs for v in r.views]
            if not views:
                raise ValueError(f"{root}: no renderings in its {split} split")
            self.views.append(views)
        self.walls = None
        if backgrounds is not None:
            self.walls = Backgrounds(backgrounds)
            self.walls.files = wallpapers(backgrounds, "train")
            if not self.walls.files:
                raise ValueError(f"{backgrounds}: no wallpaper in the train split")
        self.patch = patch
        kinds = ["wallpaper", "procedural", "plain"]
        p = np.array([mix.get(k, 0.0) if (k != "wallpaper" or self.walls) else 0.0
                      for k in kinds], float)
        self.kinds, self.kind_p = kinds, p / p.sum()
        self.fill = fill
        self.centre, self.distractors, self.large = centre, distractors, large

    def backdrop(self, rng: np.random.Generator) -> np.ndarray:
        s = self.patch
        kind = self.kinds[int(rng.choice(len(self.kinds), p=self.kind_p))]
        if kind == "wallpaper":
            return self.walls.patch(rng, (s, s))
        if kind == "procedural":
            return procedural_background(rng, (s, s))
        return np.broadcast_to(rng.integers(0, 256, 3).astype(np.uint8), (s, s, 3)).copy()

    def rendering(self, rng: np.random.Generator) -> np.ndarray:
        """A random rendering with some visible pixel, uint8 RGBA."""
        for _ in range(20):
            views = self.views[int(rng.integers(len(self.views)))]
            path = views[int(rng.integers(len(views)))]
            try:
                with Image.open(path) as im:
                    rgba = np.asarray(im.convert("RGBA"))
            except (OSError, ValueError):
                continue
            if (rgba[..., 3] > 127).sum() >= 16:
                return rgba
        raise ValueError("no readable rendering with a visible object in 20 tries")

    def _cutout(self, rng: np.random.Generator, fill: tuple[float, float]
                ) -> tuple[np.ndarray, np.ndarray]:
        """A random rendering cropped to its object, scaled so that its longer side is a
        random share in ``fill`` of the patch, colour-jittered, mirrored half the time:
        float32 RGB (h, w, 3) and alpha (h, w, 1) in [0, 1]."""
        rgba = self.rendering(rng)
        x0, y0, x1, y1 = alpha_box(rgba[..., 3])
        obj = rgba[y0:y1, x0:x1]
        fill = rng.uniform(*fill)
        scale = fill * self.patch / max(x1 - x0, y1 - y0)
        w, h = max(2, round((x1 - x0) * scale)), max(2, round((y1 - y0) * scale))
        # premultiplied resampling, so that edges take no colour from transparent pixels
        im = Image.fromarray(np.ascontiguousarray(obj), "RGBA").convert("RGBa")
        im = im.resize((w, h), Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.BOX)
        small = np.asarray(im.convert("RGBA")).astype(np.float32) / 255.0
        a = small[..., 3:4]
        rgb = colour_jitter(small[..., :3], rng, 0.3)
        if rng.random() < 0.5:
            rgb, a = rgb[:, ::-1], a[:, ::-1]
        return rgb, a

    def _paste(self, canvas: np.ndarray, rgb: np.ndarray, a: np.ndarray, px: int, py: int
               ) -> np.ndarray:
        """Blend the cut-out onto ``canvas`` (in place) with its top-left at (px, py); the
        patch-sized alpha it covers (0 outside)."""
        s = self.patch
        h, w = a.shape[:2]
        cover = np.zeros((s, s), np.float32)
        cx0, cy0, cx1, cy1 = max(0, px), max(0, py), min(s, px + w), min(s, py + h)
        if cx1 <= cx0 or cy1 <= cy0:
            return cover
        ox, oy = cx0 - px, cy0 - py
        part = (slice(oy, oy + cy1 - cy0), slice(ox, ox + cx1 - cx0))
        aa = a[part]
        canvas[cy0:cy1, cx0:cx1] = rgb[part] * aa + canvas[cy0:cy1, cx0:cx1] * (1 - aa)
        cover[cy0:cy1, cx0:cx1] = aa[..., 0]
        return cover

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        s = self.patch
        rgb, a = self._cutout(rng, self.fill)
        h, w = a.shape[:2]
        centred = self.centre > 0 and rng.random() < self.centre
        if centred:  # framed as a photo of it: its centre near the patch's
            px = round((s - w) / 2 + rng.uniform(-s / 8, s / 8))
            py = round((s - h) / 2 + rng.uniform(-s / 8, s / 8))
        else:  # anywhere, a little past the edge at most (a tenth of the object)
            px = int(rng.integers(-w // 10, s - w + w // 10 + 1))
            py = int(rng.integers(-h // 10, s - h + h // 10 + 1))
        canvas = self.backdrop(rng).astype(np.float32) / 255.0
        if centred and self.distractors > 0 and rng.random() < self.distractors:
            self._distract(canvas, rng, (px + w / 2, py + h / 2), max(w, h) / s)
        label = self._paste(canvas, rgb, a, px, py)
        out = Image.fromarray(np.clip(np.rint(canvas * 255), 0, 255).astype(np.uint8))
        if rng.random() < 0.3:
            out = out.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))
        pic = np.asarray(out).astype(np.float32)
        if rng.random() < 0.5:
            pic = pic + rng.normal(0, rng.uniform(1, 6), pic.shape)
        out = Image.fromarray(np.clip(np.rint(pic), 0, 255).astype(np.uint8))
        if rng.random() < 0.5:
            buf = io.BytesIO()
            out.save(buf, format="JPEG", quality=int(rng.integers(60, 96)))
            buf.seek(0)
            out = Image.open(buf).convert("RGB")
        return np.asarray(out), label

    def _distract(self, canvas: np.ndarray, rng: np.random.Generator,
                  centre: tuple[float, float], fill: float) -> None:
        """One to three other renderings on ``canvas``, 0.3-0.8 of the object's size, their
        centres at least 0.35 of the patch side from the object's (cut by the frame at
        times); the first 1-2x the patch's side instead, a ``large`` share of the time."""
        s = self.patch
        large = self.large > 0 and rng.random() < self.large
        for k in range(int(rng.integers(1, 4))):
            span = (1.0, 2.0) if large and k == 0 else (0.3 * fill, 0.8 * fill)
            rgb, a = self._cutout(rng, span)
            h, w = a.shape[:2]
            for _ in range(10):
                cx, cy = rng.uniform(-0.1 * s, 1.1 * s, 2)
                if np.hypot(cx - centre[0], cy - centre[1]) >= 0.35 * s:
                    self._paste(canvas, rgb, a, round(cx - w / 2), round(cy - h / 2))
                    break

    def batch(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, S, S, 3) uint8 pictures and (n, S, S) float32 masks."""
        pairs = [self.sample(rng) for _ in range(n)]
        return np.stack([p for p, _ in pairs]), np.stack([m for _, m in pairs])
