"""Solid 32^3 voxels of artist meshes that need not be watertight.

1. Surface: every triangle is sampled on a barycentric grid finer than a third of a cell
   and each cell holding a sample is occupied (thin parts stay, as binvox keeps them).
2. Fill from the outside: empty space is flood-filled from the border of the grid
   (6-connected); every cell not reached is inside. To survive small gaps in the mesh
   (missing faces, parts that do not quite meet) the flood runs on the surface dilated by
   ``close`` cells and the filled result is eroded back by the same amount, so openings up
   to about ``2 * close`` cells wide are bridged while the outline does not grow.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

RES = 32


def sample_triangles(triangles: np.ndarray, spacing: float) -> np.ndarray:
    """Points (P, 3) on triangles (T, 3, 3), no two grid neighbours farther than ``spacing``."""
    t = np.asarray(triangles, float)
    edges = np.stack([t[:, 1] - t[:, 0], t[:, 2] - t[:, 1], t[:, 0] - t[:, 2]], 1)
    longest = np.linalg.norm(edges, axis=2).max(1)
    steps = np.clip(np.ceil(longest / spacing).astype(int), 1, 256)
    out = [t.reshape(-1, 3)]
    for n in np.unique(steps):
        sel = t[steps == n]
        i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
        keep = i + j <= n
        a, b = i[keep] / n, j[keep] / n
        w = np.stack([1 - a - b, a, b], 1)  # (S, 3) barycentric weights
        out.append(np.einsum("sk,tkd->tsd", w, sel).reshape(-1, 3))
    return np.concatenate(out)


def surface_voxels(triangles: np.ndarray, side: float, res: int = RES) -> np.ndarray:
    """Cells of the cube ``[-side/2, side/2]^3`` that the triangles pass through."""
    cell = side / res
    pts = sample_triangles(triangles, cell / 3)
    idx = np.floor((pts + side / 2) / cell).astype(int)
    idx = np.clip(idx, 0, res - 1)
    occ = np.zeros((res, res, res), bool)
    occ[idx[:, 0], idx[:, 1], idx[:, 2]] = True
    return occ


def fill_from_outside(surface: np.ndarray, close: int = 1) -> np.ndarray:
    """Solid occupancy: the surface plus every cell the outside cannot reach."""
    pad = close + 1
    s = np.pad(surface, pad)
    if close > 0:
        s = ndimage.binary_dilation(s, iterations=close)
    filled = ndimage.binary_fill_holes(s)
    if close > 0:
        filled = ndimage.binary_erosion(filled, iterations=close, border_value=0)
    sl = (slice(pad, -pad),) * 3
    return filled[sl] | surface


def enclosed_along_axes(surface: np.ndarray) -> np.ndarray:
    """Cells with surface on both sides along each of the three axes."""
    out = np.ones(surface.shape, bool)
    for ax in range(surface.ndim):
        before = np.cumsum(surface, axis=ax) > 0
        after = np.flip(np.cumsum(np.flip(surface, ax), axis=ax), ax) > 0
        out &= before & after
    return out


def solid_voxels(triangles: np.ndarray, extent: np.ndarray, res: int = RES,
                 close: int = 1) -> np.ndarray:
    """Solid bool [x, y, z] grid of a normalised mesh (bounding box centred at the origin);
    the grid cube's side is the largest extent, as :mod:`models.synth` does."""
    side = float(np.max(extent))
    surface = surface_voxels(triangles, side, res)
    return fill_from_outside(surface, close) | enclosed_along_axes(surface)
