"""Which voxels a view saw: first hits of its pixel rays on a voxel grid (numpy only).

A view with a known camera (:mod:`r2n2_viewer.models.camera`) sees, through each pixel,
the first occupied voxel its ray meets; the rest of the object is behind something or
outside the picture. Over views 1..t of a sequence, the occupied voxels of step t split
into *seen* (first hit of some pixel of some view) and *inferred* (never seen: filled in
by the network). Rays are traced exactly through the grid's cells (Amanatides & Woo's
traversal, all rays of a view at once), so a voxel counts as seen only when a ray really
reaches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .cameras import ViewCamera
from .geometry import check_threshold, grid
from .models.camera import GridBox, pixel_rays
from .models.config import RENDER_SIZE

SAMPLES = 1  # rays per pixel along each image axis: one through each pixel centre


def first_hits(occupancy: np.ndarray, origin: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """For rays ``origin + t * directions`` (t >= 0) in the index frame (voxel ``(i, j, k)``
    is the unit cube centred on ``(i, j, k)``), the flat (C order) index of the first
    occupied voxel each ray enters, or -1 when it meets none. ``origin``: one point (3,)
    for all rays or one per ray (N, 3). Returns int64 (N,)."""
    occ = np.asarray(occupancy, dtype=bool)
    if occ.ndim != 3:
        raise ValueError(f"an occupancy grid is 3D, got shape {occ.shape}")
    d = np.asarray(directions, dtype=np.float64).reshape(-1, 3)
    o = np.broadcast_to(np.asarray(origin, dtype=np.float64) + 0.5, d.shape)  # voxel i: [i, i+1]
    out = np.full(len(d), -1, dtype=np.int64)
    filled = np.argwhere(occ)
    if filled.size == 0:
        return out
    # trace only through the box around the occupied voxels: rays missing it hit nothing
    box_lo, box_hi = filled.min(axis=0), filled.max(axis=0) + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        ta, tb = (box_lo - o) * inv, (box_hi - o) * inv
    lo = np.where(np.isnan(ta), -np.inf, np.minimum(ta, tb))
    hi = np.where(np.isnan(ta), np.inf, np.maximum(ta, tb))
    # a ray parallel to a slab it lies outside of never enters the box
    outside = (d == 0) & ((o < box_lo) | (o >= box_hi))
    t_in = np.maximum(lo.max(axis=1), 0.0)
    t_out = hi.min(axis=1)
    live = np.flatnonzero((t_in < t_out) & ~outside.any(axis=1))
    if live.size == 0:
        return out
    d, inv, t_in, o = d[live], inv[live], t_in[live], o[live]
    # the cell the ray enters: a tiny step inside the box decides ties
    p = o + d * (t_in + 1e-9 * np.maximum(1.0, t_out[live] - t_in))[:, None]
    cell = np.clip(np.floor(p).astype(np.int64), box_lo, box_hi - 1)
    step = np.sign(d).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_next = np.where(step != 0, (cell + (step > 0) - o) * inv, np.inf)
        t_delta = np.where(step != 0, np.abs(inv), np.inf)
    ids = live
    strides = np.array([occ.shape[1] * occ.shape[2], occ.shape[2], 1])
    index = cell @ strides
    stride_step = step * strides
    flat = occ.ravel()
    for _ in range(int((box_hi - box_lo).sum()) + 1):
        hit = flat[index]
        out[ids[hit]] = index[hit]
        axis = np.argmin(t_next, axis=1)
        rows = np.arange(len(ids))
        moved = cell[rows, axis] + step[rows, axis]
        cell[rows, axis] = moved
        index += stride_step[rows, axis]
        t_next[rows, axis] += t_delta[rows, axis]
        inside = ~hit & (moved >= box_lo[axis]) & (moved < box_hi[axis])
        if not inside.any():
            break
        if not inside.all():
            ids, cell, index, step, stride_step, t_next, t_delta = (
                a[inside] for a in (ids, cell, index, step, stride_step, t_next, t_delta))
    return out


def visible_from(occupancy: np.ndarray, camera: str | Sequence[float], box: GridBox,
                 image_size: int = RENDER_SIZE, samples: int = SAMPLES) -> np.ndarray:
    """Boolean grid of the voxels a view with ``camera`` (a metadata line) sees first
    through its ``image_size``-pixel picture (``samples``^2 rays per pixel); ``box``
    places the grid in the camera's world frame."""
    occ = np.asarray(occupancy, dtype=bool)
    if box.resolution != occ.shape[0]:
        box = GridBox(box.translate, box.scale, occ.shape[0])
    origin, dirs = pixel_rays(camera, image_size, samples)
    hits = first_hits(occ, box.world_to_index(origin), dirs)
    seen = np.zeros(occ.size, dtype=bool)
    seen[hits[hits >= 0]] = True
    return seen.reshape(occ.shape)


def seen_voxels(occupancy: np.ndarray, cameras: Sequence[ViewCamera | None],
                image_size: int = RENDER_SIZE, samples: int = SAMPLES) -> np.ndarray:
    """The voxels of ``occupancy`` seen by at least one of ``cameras`` (views whose
    camera is unknown, None, are skipped); the rays of all views are traced together."""
    occ = np.asarray(occupancy, dtype=bool)
    origins, directions = [], []
    for camera in cameras:
        if camera is not None:
            box = camera.box
            if box.resolution != occ.shape[0]:
                box = GridBox(box.translate, box.scale, occ.shape[0])
            origin, dirs = pixel_rays(camera.line, image_size, samples)
            origins.append(np.broadcast_to(box.world_to_index(origin), dirs.shape))
            directions.append(dirs)
    seen = np.zeros(occ.size, dtype=bool)
    if directions:
        hits = first_hits(occ, np.concatenate(origins), np.concatenate(directions))
        seen[hits[hits >= 0]] = True
    return seen.reshape(occ.shape)


@dataclass(frozen=True)
class SeenSplit:
    """The occupied voxels of one step: seen by a view so far, or inferred."""

    seen: np.ndarray  # bool grid
    inferred: np.ndarray  # bool grid: occupied, seen by none of the views
    views_used: int  # views with a known camera among those counted

    @property
    def counts(self) -> dict[str, int]:
        return {"seen": int(self.seen.sum()), "inferred": int(self.inferred.sum())}


def seen_and_inferred(probabilities: object, cameras: Sequence[ViewCamera | None],
                      threshold: float, truth: object | None = None,
                      image_size: int = RENDER_SIZE, samples: int = SAMPLES) -> SeenSplit:
    """Split the voxels with ``P >= threshold`` into seen and inferred for the views with
    ``cameras`` (views 1..t of step t; None: camera unknown). Rays stop at the first voxel
    of the reconstruction itself, or with ``truth`` (a grid) at the first voxel of the
    truth: a voxel is then seen when it is also a visible voxel of the true object."""
    occ = grid(probabilities) >= check_threshold(threshold)
    target = occ if truth is None else grid(truth).astype(bool)
    if target.shape != occ.shape:
        raise ValueError(f"the truth is {target.shape} but the reconstruction is {occ.shape}")
    seen = seen_voxels(target, cameras, image_size, samples) & occ
    return SeenSplit(seen, occ & ~seen, sum(c is not None for c in cameras))
