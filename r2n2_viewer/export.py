"""Write reconstructions: binvox, OBJ (voxel cubes or a smooth surface), NPZ, PNG.

Axis convention. Probability grids are indexed ``[x, y, z]`` with +y up: the network's
output axes (d, row, col), the same order as ShapeNetVox32 after the usual fix_coords
reorder. Every file here shows the object in one frame, the unit cube centred at the
origin: voxel ``(i, j, k)`` of an ``N^3`` grid spans ``[i/N - 0.5, (i+1)/N - 0.5]`` in x,
likewise ``j`` in y (up) and ``k`` in z. binvox files carry ``translate -0.5 -0.5 -0.5``,
``scale 1`` so binvox readers (trimesh, viewvox) place them in that frame too. An object
upright in the input pictures is upright (+y) in the exported files.

A voxel is occupied when its probability is ``>= threshold``. An empty reconstruction
still gives valid files: an all-empty binvox grid, and an OBJ with no faces and a
comment saying so.

Every write is atomic (temporary file + rename): on any error the target is left as
it was and no partial or temporary file remains.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .models.atomic import atomic_write, atomic_write_bytes
from .models.voxels import write_binvox

_FRAME = "frame: unit cube centred at the origin, +y up, voxel (i,j,k) -> [i/N-0.5, (i+1)/N-0.5]"


def occupancy(probabilities: np.ndarray, threshold: float = 0.4) -> np.ndarray:
    """Boolean [x, y, z] grid of the voxels with probability >= ``threshold``."""
    p = _grid(probabilities)
    _check_threshold(threshold)
    return p >= threshold


def export_binvox(
    path: str | os.PathLike, probabilities: np.ndarray, threshold: float = 0.4
) -> int:
    """Write the thresholded grid as binvox; returns the number of occupied voxels."""
    occ = occupancy(probabilities, threshold)
    write_binvox(path, occ, translate=(-0.5, -0.5, -0.5), scale=1.0)
    return int(occ.sum())


def cube_mesh(occ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Surface of the union of occupied voxels: (V, 3) float vertices, (F, 4) quads.

    Only faces between an occupied cell and an empty/outside one are kept, corners are
    shared, and each quad is counter-clockwise seen from outside (normal points out).
    """
    occ = np.asarray(occ, bool)
    n = np.array(occ.shape)
    pad = np.pad(occ, 1)
    quads = []
    for axis in range(3):
        b, c = (axis + 1) % 3, (axis + 2) % 3
        for sign in (1, -1):
            neighbour = np.roll(pad, -sign, axis=axis)[1:-1, 1:-1, 1:-1]
            cells = np.argwhere(occ & ~neighbour)  # (M, 3) voxel indices
            base = cells.copy()
            if sign > 0:
                base[:, axis] += 1  # the face lies on the far side of the voxel
            offsets = [(0, 0), (1, 0), (1, 1), (0, 1)]  # in (b, c): normal +axis
            if sign < 0:
                offsets = offsets[::-1]
            corners = np.repeat(base[:, None, :], 4, axis=1)
            for q, (db, dc) in enumerate(offsets):
                corners[:, q, b] += db
                corners[:, q, c] += dc
            quads.append(corners)
    allc = np.concatenate(quads).reshape(-1, 3) if quads else np.zeros((0, 3), int)
    dims = n + 1
    flat = np.ravel_multi_index(allc.T, dims) if len(allc) else np.zeros(0, np.int64)
    uniq, inverse = np.unique(flat, return_inverse=True)
    verts = np.stack(np.unravel_index(uniq, dims), axis=1) / n - 0.5
    return verts.astype(np.float64), inverse.reshape(-1, 4)


def export_obj_cubes(
    path: str | os.PathLike, probabilities: np.ndarray, threshold: float = 0.4
) -> int:
    """Write one cube per occupied voxel (outer faces only) as OBJ quads; returns faces."""
    occ = occupancy(probabilities, threshold)
    verts, quads = cube_mesh(occ)
    header = f"voxel cubes of {int(occ.sum())} voxels >= {threshold:g}"
    _write_obj(path, verts, quads, header)
    return len(quads)


def smooth_mesh(probabilities: np.ndarray, threshold: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Marching-cubes surface at ``threshold``: (V, 3) vertices, (F, 3) outward triangles.

    The grid is zero-padded so the surface is closed; vertices are in the cube frame
    (voxel centres at ``(i + 0.5)/N - 0.5``).
    """
    from skimage.measure import marching_cubes

    p = _grid(probabilities)
    _check_threshold(threshold)
    if p.max() <= threshold:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    pad = np.pad(p.astype(np.float32), 1)
    verts, faces, _, _ = marching_cubes(pad, level=threshold)
    verts = (verts - 0.5) / np.array(p.shape) - 0.5
    # skimage's winding is clockwise seen from the high side; make normals point out
    faces = faces[:, ::-1]
    return verts.astype(np.float64), faces.astype(np.int64)


def export_obj_smooth(
    path: str | os.PathLike, probabilities: np.ndarray, threshold: float = 0.4
) -> int:
    """Write the marching-cubes surface as OBJ triangles; returns the number of faces."""
    verts, faces = smooth_mesh(probabilities, threshold)
    _write_obj(path, verts, faces, f"marching-cubes surface at P = {threshold:g}")
    return len(faces)


def export_npz(path: str | os.PathLike, steps: Sequence[Any]) -> None:
    """Save every step's probabilities as ``step1``..``stepK`` float32 (32^3) arrays.

    ``steps`` holds :class:`~r2n2_viewer.session.Step` objects or plain arrays.
    """
    arrays = {
        f"step{i}": _grid(getattr(s, "probabilities", s)).astype(np.float32)
        for i, s in enumerate(steps, 1)
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def export_png(path: str | os.PathLike, image: Any) -> None:
    """Save a PIL image, an (H, W[, 3|4]) uint8 array or a (3, H, W) view in [0, 1]."""
    from PIL import Image

    from .images import to_pil

    if isinstance(image, Image.Image):
        im = image
    else:
        arr = np.asarray(image)
        if arr.ndim == 3 and arr.shape[0] == 3 and arr.dtype.kind == "f":
            im = to_pil(arr)
        elif arr.dtype == np.uint8 and (arr.ndim == 2 or arr.shape[-1] in (3, 4)):
            im = Image.fromarray(arr)
        else:
            raise ValueError(f"cannot save an array of shape {arr.shape} ({arr.dtype}) as PNG")
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


# --- helpers -------------------------------------------------------------------------
def _grid(probabilities: Any) -> np.ndarray:
    p = np.asarray(probabilities)
    if p.ndim != 3:
        raise ValueError(f"a voxel grid is 3-D, got shape {p.shape}")
    return p


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")


def _write_obj(path: str | os.PathLike, verts: np.ndarray, faces: np.ndarray, what: str) -> None:
    with atomic_write(path, "w") as f:
        f.write(f"# r2n2-viewer: {what}\n# {_FRAME}\n")
        if len(faces) == 0:
            f.write("# empty reconstruction: no voxel reaches the threshold, no faces\n")
            return
        f.write(f"# {len(verts)} vertices, {len(faces)} faces\n")
        np.savetxt(f, verts, fmt="v %.6f %.6f %.6f")
        cols = faces.shape[1]
        np.savetxt(f, faces + 1, fmt="f" + " %d" * cols)
