"""Voxel grids: the binvox format (as ShapeNetVox32 stores it) and overlap measures.

Axis convention. Arrays in this project are indexed ``[x, y, z]`` with ``y`` up, the
order ShapeNetVox32 grids have after the usual "fix_coords" reorder of binvox's
x-z-y storage, and the order of the network's output axes (d, row, col). A binvox
file written here stores the same grid in binvox's native x-z-y run order, so any
binvox reader (viewvox, trimesh, the official ``binvox_rw``) shows the object upright
with +y up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .atomic import atomic_write_bytes


class BinvoxError(ValueError):
    """A file is not a valid binvox file."""


@dataclass
class Binvox:
    occupancy: np.ndarray  # bool [x, y, z]
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = 1.0


def encode_binvox(
    occupancy: np.ndarray,
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0),
    scale: float = 1.0,
) -> bytes:
    """Serialise a boolean grid indexed [x, y, z] to binvox bytes."""
    occ = np.asarray(occupancy).astype(bool)
    if occ.ndim != 3:
        raise ValueError(f"binvox needs a 3-D grid, got shape {occ.shape}")
    dx, dy, dz = occ.shape
    # binvox stores x slowest, then z, then y fastest: transpose [x, y, z] -> [x, z, y].
    flat = np.ascontiguousarray(occ.transpose(0, 2, 1)).reshape(-1).astype(np.uint8)
    # run-length encode as (value, count) byte pairs with counts 1..255
    if flat.size == 0:
        raise ValueError("binvox grid is empty")
    change = np.flatnonzero(np.diff(flat)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [flat.size]]))
    values = flat[starts]
    reps = (lengths + 254) // 255
    out_values = np.repeat(values, reps)
    out_counts = np.full(out_values.size, 255, dtype=np.int64)
    last = np.cumsum(reps) - 1
    out_counts[last] = lengths - 255 * (reps - 1)
    body = np.empty(out_values.size * 2, dtype=np.uint8)
    body[0::2] = out_values
    body[1::2] = out_counts
    header = (
        "#binvox 1\n"
        f"dim {dx} {dz} {dy}\n"
        f"translate {translate[0]:g} {translate[1]:g} {translate[2]:g}\n"
        f"scale {scale:g}\n"
        "data\n"
    ).encode("ascii")
    return header + body.tobytes()


def write_binvox(
    path: str | os.PathLike,
    occupancy: np.ndarray,
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0),
    scale: float = 1.0,
) -> None:
    """Write a boolean grid indexed [x, y, z] to ``path`` atomically."""
    atomic_write_bytes(path, encode_binvox(occupancy, translate, scale))


# Largest grid side accepted when reading (ShapeNetVox32 uses 32): a 1024^3 header on a
# small file would otherwise allocate a gigabyte.
MAX_BINVOX_DIM = 256


def decode_binvox(data: bytes, max_dim: int = MAX_BINVOX_DIM) -> Binvox:
    """Parse binvox bytes into a grid indexed [x, y, z] (y up).

    Dimensions above ``max_dim`` per axis, a run-length total that differs from the grid
    size and trailing bytes after the last run are refused before the grid is allocated.
    """
    lines = []
    pos = 0
    for _ in range(5):
        end = data.find(b"\n", pos)
        if end < 0:
            raise BinvoxError("truncated binvox header")
        lines.append(data[pos:end].decode("ascii", "replace").strip())
        pos = end + 1
        if lines[-1] == "data":
            break
    if not lines or not lines[0].startswith("#binvox"):
        raise BinvoxError("not a binvox file (missing '#binvox' header)")
    dims = translate = scale = None
    for line in lines[1:]:
        key, _, rest = line.partition(" ")
        try:
            if key == "dim":
                dims = tuple(int(v) for v in rest.split())
            elif key == "translate":
                translate = tuple(float(v) for v in rest.split())
            elif key == "scale":
                scale = float(rest)
        except ValueError as exc:
            raise BinvoxError(f"bad binvox header line {line!r}") from exc
    if lines[-1] != "data" or dims is None or len(dims) != 3 or min(dims) <= 0:
        raise BinvoxError("binvox header lacks 'dim' or 'data'")
    if max(dims) > max_dim:
        raise BinvoxError(f"binvox grid {'x'.join(map(str, dims))} is larger than "
                          f"{max_dim} on a side")
    body = np.frombuffer(data, dtype=np.uint8, offset=pos)
    values, counts = body[0::2], body[1::2].astype(np.int64)
    n = int(np.prod(dims))
    total = np.cumsum(counts)
    done = int(np.searchsorted(total, n))  # index of the run that completes the grid
    if done == len(total):
        raise BinvoxError(f"binvox data is truncated: {int(total[-1]) if len(total) else 0} "
                          f"of {n} voxels")
    if int(total[done]) != n or body.size != 2 * (done + 1):
        raise BinvoxError(f"binvox data does not end with the grid's {n} voxels "
                          "(trailing or overlong runs)")
    flat = np.repeat(values[: done + 1].astype(bool), counts[: done + 1])
    # stored dims are (x, z, y) in run order x slowest, z, y fastest
    occ = flat.reshape(dims[0], dims[1], dims[2]).transpose(0, 2, 1)
    return Binvox(
        np.ascontiguousarray(occ),
        tuple(translate) if translate and len(translate) == 3 else (0.0, 0.0, 0.0),
        float(scale) if scale is not None else 1.0,
    )


def read_binvox(path: str | os.PathLike, max_dim: int = MAX_BINVOX_DIM) -> np.ndarray:
    """Read a binvox file as a boolean grid indexed [x, y, z] (y up).

    Only regular files are read (a FIFO or device is refused by name), at most the size
    the largest accepted grid can take.
    """
    from .files import read_bytes_capped

    limit = 2 * max_dim**3 + 4096  # one (value, count) pair per voxel at worst, + header
    return decode_binvox(read_bytes_capped(path, limit, "binvox file"), max_dim).occupancy


def iou(pred: Any, target: Any) -> Any:
    """Intersection over union of boolean grids over their last three axes; 1 where both
    are empty.

    Two grids give a float. Batches (``(..., D, H, W)``, broadcast against each other)
    give an array of IoUs of the leading shape, as numpy arrays or, for torch tensors
    (bool, on any device), as a float tensor on their device.
    """
    if not _is_tensor(pred):
        pred = np.asarray(pred, dtype=bool)
    if not _is_tensor(target):
        target = np.asarray(target, dtype=bool)
    inter = (pred & target).sum((-3, -2, -1))
    union = (pred | target).sum((-3, -2, -1))
    ratio = inter / union.clip(min=1) + (union == 0)  # both empty: 0 / 1 + 1
    return float(ratio) if ratio.ndim == 0 else ratio


def _is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch")
