"""How an object is framed in the network's input: one rule for photos and renderings.

A photo has no camera we know, so the viewer frames it by its object mask: the mask's
bounding box is centred in a 137x137 canvas with its longer side filling
``FRAME_FRACTION`` of it, and the canvas is centre-cropped to 127x127 like a test
rendering (``r2n2_viewer.images``). A rendering is framed by its camera instead: the
object sits where the camera put it, 0.45-0.85 of the canvas, a few pixels off centre.

So that a photo and a rendering reach the network the same way, training can reframe a
share of its renderings by the photo rule (:func:`reframe`, ``--reframe P`` in
``r2n2 train``); :func:`object_frame` and :func:`canvas_window` are the rule itself, used
by both paths. :func:`frame_stats` measures a rendering's own framing
(``benchmarks/framing.py``).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..config import RENDER_SIZE

FRAME_FRACTION = 0.6  # longer side of the object's box / canvas side, for photos


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the pixels > 0 of a 2-D mask (x1, y1 exclusive), None if empty."""
    m = np.asarray(mask) > 0
    rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def object_frame(box: tuple[float, float, float, float], fraction: float = FRAME_FRACTION
                 ) -> tuple[float, float, float]:
    """(cx, cy, scale) that frame ``box`` (x0, y0, x1, y1 in picture pixels) by the photo
    rule: its centre goes to the canvas centre, its longer side to ``fraction`` of the
    canvas (``scale`` = canvas pixels per picture pixel)."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    if side <= 0:
        raise ValueError(f"cannot frame an empty box {box}")
    return (x0 + x1) / 2.0, (y0 + y1) / 2.0, fraction * RENDER_SIZE / side


def canvas_window(cx: float, cy: float, scale: float, width: int, height: int
                  ) -> tuple[tuple[int, int, int, int], tuple[float, float, float, float]] | None:
    """Where a ``width`` x ``height`` picture lands in the canvas when picture point
    (cx, cy) goes to the canvas centre at ``scale``: the covered canvas pixels
    (ox0, oy0, ox1, oy1) and the same region in picture pixels; None if it misses."""
    half = RENDER_SIZE / 2.0
    ox0 = max(0, int(np.floor((0 - cx) * scale + half)))
    oy0 = max(0, int(np.floor((0 - cy) * scale + half)))
    ox1 = min(RENDER_SIZE, int(np.ceil((width - cx) * scale + half)))
    oy1 = min(RENDER_SIZE, int(np.ceil((height - cy) * scale + half)))
    if ox1 <= ox0 or oy1 <= oy0:
        return None
    box = (max(0.0, (ox0 - half) / scale + cx), max(0.0, (oy0 - half) / scale + cy),
           min(float(width), (ox1 - half) / scale + cx),
           min(float(height), (oy1 - half) / scale + cy))
    return (ox0, oy0, ox1, oy1), box


def reframe(rgba: np.ndarray, fraction: float = FRAME_FRACTION) -> np.ndarray:
    """A rendering (H, W, 4) uint8 framed by the photo rule: a RENDER_SIZE^2 RGBA canvas,
    transparent around the object (Lanczos on premultiplied colour, as photos are
    resampled). A rendering with no visible pixel comes back unchanged."""
    img = np.asarray(rgba)
    if img.ndim != 3 or img.shape[2] != 4:
        raise ValueError(f"reframe needs an RGBA image (H, W, 4), got shape {img.shape}")
    box = mask_box(img[..., 3])
    if box is None:
        return img
    cx, cy, scale = object_frame(box, fraction)
    h, w = img.shape[:2]
    window = canvas_window(cx, cy, scale, w, h)
    canvas = Image.new("RGBa", (RENDER_SIZE, RENDER_SIZE), (0, 0, 0, 0))
    if window is not None:
        (ox0, oy0, ox1, oy1), src = window
        part = Image.fromarray(np.ascontiguousarray(img), "RGBA").convert("RGBa")
        canvas.paste(part.resize((ox1 - ox0, oy1 - oy0), Image.Resampling.LANCZOS, box=src),
                     (ox0, oy0))
    return np.asarray(canvas.convert("RGBA"))


def frame_stats(alpha: np.ndarray) -> tuple[float, float, float] | None:
    """A rendering's own framing: the offset (dx, dy) in canvas pixels of its object box's
    centre from the canvas centre (+y = down) and its fill (longer box side / canvas
    side); None when nothing is visible."""
    box = mask_box(alpha)
    if box is None:
        return None
    h, w = np.shape(alpha)
    x0, y0, x1, y1 = box
    return ((x0 + x1 - w) / 2.0, (y0 + y1 - h) / 2.0, max(x1 - x0, y1 - y0) / max(h, w))
