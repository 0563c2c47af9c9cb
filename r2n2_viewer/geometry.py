"""Voxel grids -> surfaces, in numpy only: the one place both the viewer's meshes
(:mod:`r2n2_viewer.scene`) and the exported files (:mod:`r2n2_viewer.export`) come from.

Frames. Grids are indexed ``[x, y, z]`` with +y up (the network's output axes). In the
*index frame* voxel ``(i, j, k)`` is the unit cube centred on the point ``(i, j, k)``:
its corners lie at half-integers, voxel centres at integers. The *unit-cube frame* of
the exported files maps an ``N^3`` grid onto ``[-0.5, 0.5]^3``, centred at the origin:
:func:`index_to_unit` converts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# the six face directions in the order (+x, -x, +y, -y, +z, -z)
DIRECTIONS: tuple[tuple[int, int], ...] = tuple((a, s) for a in range(3) for s in (1, -1))


def check_threshold(threshold: float) -> float:
    """``threshold`` if it lies strictly between 0 and 1, else ValueError."""
    t = float(threshold)
    if not 0.0 < t < 1.0:  # also rejects NaN
        raise ValueError(f"the threshold must lie strictly between 0 and 1, got {threshold}")
    return t


def grid(probabilities: object) -> np.ndarray:
    """``probabilities`` as a 3-D array, else ValueError."""
    p = np.asarray(probabilities)
    if p.ndim != 3:
        raise ValueError(f"a voxel grid is 3-D, got shape {p.shape}")
    return p


def occupancy(probabilities: object, threshold: float) -> np.ndarray:
    """Boolean ``[x, y, z]`` grid of the voxels with probability ``>= threshold``."""
    return grid(probabilities) >= check_threshold(threshold)


def index_to_unit(points: np.ndarray, n: int | tuple[int, int, int]) -> np.ndarray:
    """Index-frame points of an ``n^3`` grid -> the unit-cube frame (float64)."""
    return (np.asarray(points, np.float64) + 0.5) / np.asarray(n, np.float64) - 0.5


@dataclass
class VoxelFaces:
    """The faces between occupied voxels and empty ones (or the grid's border)."""

    corners: np.ndarray  # float32 (F, 4, 3), index frame, counter-clockwise seen from outside
    voxel: np.ndarray  # int64 (F,): flat (C-order) index of the voxel each face belongs to
    direction: np.ndarray  # uint8 (F,): index into DIRECTIONS

    def __len__(self) -> int:
        return len(self.voxel)


def _corner_offsets(axis: int, sign: int) -> np.ndarray:
    """The four corners of a unit cube's face, relative to its centre, counter-clockwise
    seen from outside (so the right-hand normal points out)."""
    u, v = (axis + 1) % 3, (axis + 2) % 3
    out = np.zeros((4, 3), np.float32)
    for q, (a, b) in enumerate(((-1, -1), (1, -1), (1, 1), (-1, 1))):
        out[q, axis], out[q, u], out[q, v] = 0.5 * sign, 0.5 * a, 0.5 * b
    return out if sign > 0 else out[::-1].copy()


def voxel_faces(occupancy: np.ndarray) -> VoxelFaces:
    """Every visible face of the occupied voxels: one quad per face between an occupied
    voxel and an empty one or the grid's border."""
    occ = np.asarray(occupancy, dtype=bool)
    padded = np.pad(occ, 1)
    corners, voxel, direction = [], [], []
    for d, (axis, sign) in enumerate(DIRECTIONS):
        neighbour = np.roll(padded, -sign, axis=axis)[1:-1, 1:-1, 1:-1]
        idx = np.argwhere(occ & ~neighbour)
        corners.append(idx[:, None, :].astype(np.float32) + _corner_offsets(axis, sign))
        voxel.append(np.ravel_multi_index(idx.T, occ.shape) if idx.size else np.zeros(0, int))
        direction.append(np.full(len(idx), d, np.uint8))
    return VoxelFaces(np.concatenate(corners), np.concatenate(voxel).astype(np.int64),
                      np.concatenate(direction))


def cube_mesh(occupancy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Surface of the union of occupied voxels in the unit-cube frame: (V, 3) float64
    vertices shared between faces, (F, 4) quads with outward normals."""
    occ = np.asarray(occupancy, dtype=bool)
    faces = voxel_faces(occ)
    if not len(faces):
        return np.zeros((0, 3)), np.zeros((0, 4), np.int64)
    lattice = np.rint(faces.corners.reshape(-1, 3) + 0.5).astype(np.int64)  # 0..N per axis
    dims = np.array(occ.shape) + 1
    uniq, inverse = np.unique(np.ravel_multi_index(lattice.T, dims), return_inverse=True)
    verts = np.stack(np.unravel_index(uniq, dims), axis=1) - 0.5  # back to the index frame
    return index_to_unit(verts, occ.shape), inverse.reshape(-1, 4).astype(np.int64)


def smooth_surface(
    probabilities: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marching-cubes surface of the probability field at ``threshold``, closed at the
    grid's border: (V, 3) float32 vertices in the index frame, (F, 3) int64 triangles
    wound counter-clockwise seen from outside, (V, 3) float32 outward normals."""
    from skimage.measure import marching_cubes

    p = grid(probabilities).astype(np.float32)
    check_threshold(threshold)
    if p.size == 0 or p.max() <= threshold:
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int64), np.zeros((0, 3))
    verts, tris, normals, _ = marching_cubes(np.pad(p, 1), level=threshold,
                                             allow_degenerate=False)
    verts -= 1.0  # undo the padding
    # skimage winds triangles clockwise and points normals toward high values seen from
    # outside the object; flip both so they face out (toward low probability)
    return verts.astype(np.float32), tris[:, ::-1].astype(np.int64), -normals.astype(np.float32)
