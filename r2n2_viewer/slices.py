"""Slices of a probability grid, in numpy only: one plane of voxels across an axis, as
an image the right way up.

Grids are indexed ``[x, y, z]`` with +y up. :func:`slice_image` returns rows top to
bottom and columns left to right: across ``x`` and ``z`` +y points up the image (+z, +x
to the right: seen from -x, from +z); across ``y`` the slice is seen from above (+z down
the image, +x to the right). ``SLICE_AXES`` names the grid axis along the image's rows
and columns.
"""

from __future__ import annotations

import numpy as np

from .geometry import grid

AXES = ("x", "y", "z")
# axis -> (grid axis down the image's rows, grid axis along its columns)
SLICE_AXES = {"x": ("y", "z"), "y": ("z", "x"), "z": ("y", "x")}


def check_slice(axis: object, index: object, size: int = 32) -> tuple[str, int]:
    """``(axis, index)`` with ``axis`` one of x, y, z and ``0 <= index < size``, else
    ValueError."""
    if axis not in AXES:
        raise ValueError(f"a slice axis is one of x, y, z, got {axis!r}")
    try:
        i = int(index)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError(f"a slice position is an integer, got {index!r}") from None
    if i != index or not 0 <= i < size:
        raise ValueError(f"a slice position lies in 0..{size - 1}, got {index!r}")
    return str(axis), i


def grid_slice(probabilities: object, axis: str, index: int) -> np.ndarray:
    """The plane ``axis == index`` of the grid, in grid order: ``p[index]`` for x,
    ``p[:, index]`` for y, ``p[:, :, index]`` for z (a copy)."""
    p = grid(probabilities)
    axis, index = check_slice(axis, index, p.shape[AXES.index(axis) if axis in AXES else 0])
    return np.take(p, index, axis=AXES.index(axis)).copy()


def slice_image(probabilities: object, axis: str, index: int) -> np.ndarray:
    """:func:`grid_slice` turned into an image (row 0 at the top, see ``SLICE_AXES``):
    for x ``img[r, c] = p[index, ny-1-r, c]``; for y ``img[r, c] = p[c, index, r]``; for
    z ``img[r, c] = p[c, ny-1-r, index]``."""
    plane = grid_slice(probabilities, axis, index)
    if axis == "x":  # plane[y, z]
        return plane[::-1, :].copy()
    if axis == "y":  # plane[x, z]
        return plane.T.copy()
    return plane.T[::-1, :].copy()  # z: plane[x, y]
