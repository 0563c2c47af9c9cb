"""The voxel probe, in numpy only: which voxel a ray through the view hits first, and one
voxel's story over the steps (its P(occupied) and the update gate of its recurrent cell).

Grids are indexed ``[x, y, z]``; voxel ``(i, j, k)`` is the unit cube centred on point
``(i, j, k)`` (the index frame of :mod:`r2n2_viewer.geometry`, in which the viewer draws).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .geometry import grid

Voxel = tuple[int, int, int]


def check_voxel(voxel: object, shape: tuple[int, ...] = (32, 32, 32)) -> Voxel:
    """``voxel`` as three ints inside a grid of ``shape``, else ValueError."""
    try:
        v = tuple(int(c) for c in voxel)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ValueError(f"a voxel is three integer indices, got {voxel!r}") from None
    if len(v) != 3 or not all(0 <= c < n for c, n in zip(v, shape, strict=False)):
        raise ValueError(f"voxel {voxel!r} is outside the {'x'.join(map(str, shape))} grid")
    return v  # type: ignore[return-value]


def parse_voxel(text: str, shape: tuple[int, ...] = (32, 32, 32)) -> Voxel:
    """A voxel typed as three integers ("12, 5, 30", "12 5 30" or "(12, 5, 30)"), checked
    against ``shape``; ValueError in one line otherwise."""
    parts = str(text).strip().strip("()[]").replace(",", " ").split()
    n = "x".join(map(str, shape))
    if len(parts) != 3 or not all(p.lstrip("-").isdigit() for p in parts):
        raise ValueError(f"type a voxel as three integers i, j, k (each 0..{shape[0] - 1}), "
                         f"got {text!r}")
    v = tuple(int(p) for p in parts)
    if not all(0 <= c < m for c, m in zip(v, shape, strict=False)):
        raise ValueError(f"voxel {v} is outside the {n} grid: each index is 0..{shape[0] - 1}")
    return v  # type: ignore[return-value]


def gate_cell(voxel: object, grid_shape: tuple[int, int, int] = (32, 32, 32),
              gate_shape: tuple[int, int, int] = (4, 4, 4)) -> Voxel:
    """The recurrent cell whose state decodes to ``voxel``: each cell of the (4, 4, 4)
    recurrent grid covers one 8^3 block of the 32^3 output (the decoder unpools by 8)."""
    v = check_voxel(voxel, grid_shape)
    return tuple(c * g // n for c, g, n in zip(v, gate_shape, grid_shape, strict=True))  # type: ignore[return-value]


def ray_voxel(shown: object, origin: object, direction: object) -> Voxel | None:
    """The first voxel of ``shown`` (a boolean grid) whose cube the ray ``origin + t *
    direction``, ``t >= 0``, enters; None when it misses them all.

    Exact slab test against every shown cube (at most 32^3, vectorised), so it answers
    the same for cubes, surfaces and points: what the user clicked is the first voxel
    drawn under the cursor. Ties (the ray through an edge) go to the lowest flat index.
    """
    occ = np.asarray(shown, dtype=bool)
    o = np.asarray(origin, dtype=np.float64).reshape(3)
    d = np.asarray(direction, dtype=np.float64).reshape(3)
    if not (np.isfinite(o).all() and np.isfinite(d).all()) or not d.any():
        raise ValueError("a ray needs a finite origin and a non-zero direction")
    idx = np.argwhere(occ)
    if idx.size == 0:
        return None
    lo, hi = idx - 0.5, idx + 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        t1, t2 = (lo - o) * inv, (hi - o) * inv
    enter, leave = np.minimum(t1, t2), np.maximum(t1, t2)
    # an axis the ray runs parallel to: inside the slab -> (-inf, inf), outside -> empty
    parallel = d == 0
    inside = (o >= lo) & (o <= hi)
    enter = np.where(parallel, np.where(inside, -np.inf, np.inf), enter)
    leave = np.where(parallel, np.where(inside, np.inf, -np.inf), leave)
    near, far = enter.max(axis=1), leave.min(axis=1)
    hit = (near <= far) & (far >= 0)
    if not hit.any():
        return None
    entry = np.where(hit, np.maximum(near, 0.0), np.inf)
    return tuple(int(c) for c in idx[int(np.argmin(entry))])  # type: ignore[return-value]


@dataclass(frozen=True)
class VoxelHistory:
    """One voxel over the steps (index 0 = step 1)."""

    voxel: Voxel
    cell: Voxel  # its recurrent cell (gate_cell)
    probability: np.ndarray  # float32 (n_steps,): P(occupied) after each step
    gate: np.ndarray  # float32 (n_steps,): the cell's update gate (write strength) per step

    def first_step_at(self, threshold: float) -> int | None:
        """The first step (1-based) from which P stays >= ``threshold``; None if never."""
        above = self.probability >= threshold
        if not above.size or not above[-1]:
            return None
        below = np.flatnonzero(~above)
        return int(below[-1]) + 2 if below.size else 1


def voxel_history(probabilities: Sequence[object], gates: Sequence[object],
                  voxel: object) -> VoxelHistory:
    """``voxel``'s P(occupied) in each of ``probabilities`` (one grid per step) and the
    write strength of its recurrent cell in each of ``gates`` (one (4, 4, 4) grid per
    step). Both lists have one entry per step (else ValueError)."""
    if len(probabilities) != len(gates):
        raise ValueError(f"{len(probabilities)} probability grids but {len(gates)} gate grids")
    grids = [grid(p) for p in probabilities]
    shape = grids[0].shape if grids else (32, 32, 32)
    v = check_voxel(voxel, shape)
    gate_grids = [np.asarray(g, dtype=np.float32) for g in gates]
    gshape = gate_grids[0].shape if gate_grids else (4, 4, 4)
    if any(g.shape != gshape or g.ndim != 3 for g in gate_grids):
        raise ValueError("every step's gates must be one 3D grid of the same shape")
    cell = gate_cell(v, shape, gshape)  # type: ignore[arg-type]
    return VoxelHistory(
        voxel=v,
        cell=cell,
        probability=np.array([g[v] for g in grids], np.float32),
        gate=np.array([g[cell] for g in gate_grids], np.float32),
    )


def shown_voxels(probabilities: object, layers: Sequence[str], threshold: float,
                 band: tuple[float, float], truth: object | None = None) -> np.ndarray:
    """The voxels a click can land on when ``layers`` are drawn (see
    :func:`r2n2_viewer.layers.layers_for`): those inside the uncertain ``band`` when it is
    drawn alone, else ``P >= threshold``, with the true voxels too in the errors mode
    (its false negatives are drawn)."""
    from .analysis import uncertain_band
    from .geometry import occupancy

    if "band" in layers:
        return uncertain_band(probabilities, band)
    shown = occupancy(probabilities, threshold)
    if "errors" in layers and truth is not None:
        shown = shown | grid(truth).astype(bool)
    return shown
