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
    """

    def __init__(self, data: list[str | os.PathLike], backgrounds: str | os.PathLike | None,
                 patch: int, mix: dict[str, float], fill: tuple[float, float],
                 split: str = "train"):
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

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        s = self.patch
        rgba = self.rendering(rng)
        x0, y0, x1, y1 = alpha_box(rgba[..., 3])
        obj = rgba[y0:y1, x0:x1]
        fill = rng.uniform(*self.fill)
        scale = fill * s / max(x1 - x0, y1 - y0)
        w, h = max(2, round((x1 - x0) * scale)), max(2, round((y1 - y0) * scale))
        # premultiplied resampling, so that edges take no colour from transparent pixels
        im = Image.fromarray(np.ascontiguousarray(obj), "RGBA").convert("RGBa")
        im = im.resize((w, h), Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.BOX)
        small = np.asarray(im.convert("RGBA")).astype(np.float32) / 255.0
        a = small[..., 3:4]
        rgb = colour_jitter(small[..., :3], rng, 0.3)
        if rng.random() < 0.5:
            rgb, a = rgb[:, ::-1], a[:, ::-1]
        # anywhere, a little past the edge at most (a tenth of the object)
        px = int(rng.integers(-w // 10, s - w + w // 10 + 1))
        py = int(rng.integers(-h // 10, s - h + h // 10 + 1))
        canvas = self.backdrop(rng).astype(np.float32) / 255.0
        label = np.zeros((s, s), np.float32)
        cx0, cy0, cx1, cy1 = max(0, px), max(0, py), min(s, px + w), min(s, py + h)
        ox, oy = cx0 - px, cy0 - py
        part = (slice(oy, oy + cy1 - cy0), slice(ox, ox + cx1 - cx0))
        aa = a[part]
        canvas[cy0:cy1, cx0:cx1] = rgb[part] * aa + canvas[cy0:cy1, cx0:cx1] * (1 - aa)
        label[cy0:cy1, cx0:cx1] = aa[..., 0]
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

    def batch(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, S, S, 3) uint8 pictures and (n, S, S) float32 masks."""
        pairs = [self.sample(rng) for _ in range(n)]
        return np.stack([p for p, _ in pairs]), np.stack([m for _, m in pairs])
