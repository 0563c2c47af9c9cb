"""Voxel grids -> PyVista meshes: the pictures of one reconstruction step.

Pure functions (no Qt). World frame: voxel ``[x, y, z]`` is the unit cube centred on
world point ``(x, y, z)``; ``y`` is up, so objects stand upright. Everything a viewer
needs for one step is built at once by :func:`build_step_scene` (in a worker thread),
so changing the shown step only swaps prepared meshes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyvista as pv

from . import analysis, geometry
from .layers import ENTROPY_CMAP, ERROR_RGB, GATES_CMAP, PROBABILITY_CMAP, SEEN_RGB

if TYPE_CHECKING:
    from .cameras import ViewCamera
    from .visibility import SeenSplit

GRID = 32
CENTER = (GRID - 1) / 2.0  # world centre of the voxel grid
GRID_BOUNDS = (-0.5, GRID - 0.5) * 3  # xmin, xmax, ymin, ymax, zmin, zmax
VIEW_AZIMUTH = 45.0  # degrees around +y, 0 = looking from +z
VIEW_ELEVATION = 25.0  # ShapeNet renderings use 25..30 degrees

# colours (RGB 0..255)
KEPT_RGB = (200, 200, 205)
APPEARED_RGB = (40, 170, 90)
DISAPPEARED_RGB = (220, 60, 60)

# fixed light per face direction (+x, -x, +y, -y, +z, -z), baked into the face colours so
# voxel surfaces render unlit: about twice as fast under software OpenGL, and the
# classic voxel look (tops bright, undersides dark)
FACE_SHADE = np.array([0.82, 0.66, 1.0, 0.5, 0.9, 0.72], np.float32)
SMOOTH_RGB = (201, 166, 107)  # the smooth surface's colour, shaded like the cubes


def _empty_polydata() -> pv.PolyData:
    return pv.PolyData()


def voxel_surface(
    occupancy: np.ndarray, cell_values: dict[str, np.ndarray] | None = None
) -> pv.PolyData:
    """The visible faces of the occupied voxels (:func:`geometry.voxel_faces`) as quads.

    Cell data ``voxel`` holds the flat index (C order) of the voxel each face belongs to,
    ``direction`` the face's index into ``FACE_SHADE``; every array in ``cell_values``
    (shape of the grid, or ``(*grid, k)``) is copied to the faces of its voxel.
    """
    occ = np.asarray(occupancy, dtype=bool)
    f = geometry.voxel_faces(occ)
    n = len(f)
    if n == 0:
        return _empty_polydata()
    faces = np.empty((n, 5), dtype=np.int64)
    faces[:, 0] = 4
    faces[:, 1:] = np.arange(4 * n, dtype=np.int64).reshape(n, 4)
    mesh = pv.PolyData(f.corners.reshape(-1, 3), faces=faces.ravel())
    mesh.cell_data["voxel"] = f.voxel.astype(np.int32)
    mesh.cell_data["direction"] = f.direction
    for name, values in (cell_values or {}).items():
        arr = np.asarray(values)
        mesh.cell_data[name] = arr.reshape(occ.size, *arr.shape[3:])[f.voxel]
    return mesh


@functools.cache
def _colour_table(cmap: str) -> np.ndarray:
    """256 uint8 RGB entries of a matplotlib colour map (made once: it takes
    milliseconds, and the slice plane asks for it at every step change)."""
    from matplotlib import colormaps

    lut = (colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)
    lut.flags.writeable = False
    return lut


def probability_rgb(p: np.ndarray, cmap: str = PROBABILITY_CMAP) -> np.ndarray:
    """Map probabilities in [0, 1] to uint8 RGB with a matplotlib colour map."""
    return _colour_table(cmap)[np.clip((np.asarray(p) * 255).astype(np.int32), 0, 255)]


def shade(mesh: pv.PolyData, rgb: np.ndarray) -> np.ndarray:
    """Per-face colours ``rgb`` (n_cells, 3) darkened by the face's direction."""
    return _shaded(rgb, FACE_SHADE[mesh.cell_data["direction"]])


def _shaded(rgb: np.ndarray | tuple[int, int, int], light: np.ndarray) -> np.ndarray:
    """uint8 colours ``rgb`` (one, or one per element) times ``light`` (one per element)."""
    return np.clip(np.asarray(rgb, np.float32) * light[:, None] + 0.5, 0, 255).astype(np.uint8)


def cubes_mesh(probabilities: np.ndarray, threshold: float) -> pv.PolyData:
    """Voxels with P >= threshold as cubes; cell data ``probability`` and ``rgb`` (colour
    by probability, shaded by face direction)."""
    prob = np.asarray(probabilities, dtype=np.float32)
    mesh = voxel_surface(prob >= threshold, {"probability": prob, "rgb": probability_rgb(prob)})
    if mesh.n_cells:
        mesh.cell_data["rgb"] = shade(mesh, mesh.cell_data["rgb"])
    return mesh


def smooth_mesh(probabilities: np.ndarray, threshold: float) -> pv.PolyData:
    """Marching-cubes surface of the probability field at ``threshold`` (world frame),
    with outward point normals (:func:`geometry.smooth_surface`)."""
    verts, tris, normals = geometry.smooth_surface(probabilities, threshold)
    if len(tris) == 0:
        return _empty_polydata()
    faces = np.hstack([np.full((len(tris), 1), 3, np.int64), tris])
    mesh = pv.PolyData(verts, faces=faces.ravel())
    mesh.point_data["Normals"] = normals
    mesh.point_data.active_normals_name = "Normals"
    mesh.point_data["rgb"] = smooth_shade(normals)
    return mesh


def smooth_shade(normals: np.ndarray, rgb: tuple[int, int, int] = SMOOTH_RGB) -> np.ndarray:
    """(N, 3) uint8 colours of a surface with unit ``normals``: the cubes' fixed light
    (``FACE_SHADE``) blended by the squared normal components, so a face that looks
    along an axis gets exactly that cube face's shade. Baked in, the surface renders
    unlit (under software OpenGL the viewer's lights cost 2-3 times the drawing)."""
    n = np.asarray(normals, np.float32)
    positive = FACE_SHADE[0::2][None, :]  # +x, +y, +z
    negative = FACE_SHADE[1::2][None, :]
    shade = (n * n * np.where(n >= 0, positive, negative)).sum(axis=1)
    shade /= np.maximum((n * n).sum(axis=1), 1e-12)
    return _shaded(rgb, shade)


POINT_FLOOR = 0.1  # the point cloud's least P: below it a point would be a faint dot


def point_cloud(probabilities: np.ndarray, floor: float = POINT_FLOOR) -> pv.PolyData:
    """Voxel centres with P >= ``floor``; point data ``probability`` and ``rgba`` (alpha
    grows with the probability). Each point costs the software rasteriser about as much
    as a cube face, so the faintest (P < 0.1, 7-15 % of a cloud at 0.05) are left out."""
    prob = np.asarray(probabilities, dtype=np.float32)
    idx = np.argwhere(prob >= floor)
    if idx.size == 0:
        return _empty_polydata()
    p = prob[tuple(idx.T)]
    mesh = pv.PolyData(idx.astype(np.float32))
    mesh.point_data["probability"] = p
    rgba = np.empty((len(p), 4), np.uint8)
    rgba[:, :3] = probability_rgb(p)
    rgba[:, 3] = np.clip(40 + p * 215, 0, 255).astype(np.uint8)
    mesh.point_data["rgba"] = rgba
    return mesh


@dataclass
class Changes:
    appeared: np.ndarray  # bool [x, y, z]: occupied now, empty at the previous step
    disappeared: np.ndarray  # bool: empty now, occupied at the previous step
    kept: np.ndarray  # bool: occupied at both


def changes(probabilities: np.ndarray, previous: np.ndarray | None, threshold: float) -> Changes:
    """What thresholding at ``threshold`` gains and loses from the previous step (none
    before the first step: everything appeared)."""
    now = np.asarray(probabilities) >= threshold
    before = np.zeros_like(now) if previous is None else np.asarray(previous) >= threshold
    return Changes(now & ~before, before & ~now, now & before)


def changes_meshes(ch: Changes) -> tuple[pv.PolyData, pv.PolyData]:
    """(current occupancy with appeared voxels coloured, ghosts of disappeared voxels);
    cell data ``appeared`` (0/1) and ``rgb`` on the first."""
    rgb = np.empty((*ch.appeared.shape, 3), np.uint8)
    rgb[...] = KEPT_RGB
    rgb[ch.appeared] = APPEARED_RGB
    current = voxel_surface(ch.appeared | ch.kept, {"appeared": ch.appeared.astype(np.uint8),
                                                    "rgb": rgb})
    if current.n_cells:
        current.cell_data["rgb"] = shade(current, current.cell_data["rgb"])
    return current, voxel_surface(ch.disappeared)


def gate_grid(update_gate: np.ndarray, shrink: float = 0.9) -> pv.UnstructuredGrid:
    """The recurrent grid as one cube per cell (64 for 4^3), each covering the voxels
    it writes to, with cell data ``write_strength``."""
    gate = np.asarray(update_gate, dtype=np.float32)
    n = gate.shape[0]
    size = GRID / n
    image = pv.ImageData(dimensions=(n + 1,) * 3, spacing=(size,) * 3, origin=(-0.5,) * 3)
    image.cell_data["write_strength"] = gate.ravel(order="F")  # VTK: x fastest
    grid = image.cast_to_unstructured_grid()
    return grid.shrink(shrink) if shrink < 1.0 else grid


def entropy_mesh(probabilities: np.ndarray, shown: np.ndarray) -> pv.PolyData:
    """The ``shown`` voxels as cubes coloured by the entropy of P (bits, 0..1, colour map
    ``ENTROPY_CMAP``); cell data ``entropy`` and ``rgb``."""
    h = analysis.entropy(probabilities)
    mesh = voxel_surface(shown, {"entropy": h, "rgb": probability_rgb(h, ENTROPY_CMAP)})
    if mesh.n_cells:
        mesh.cell_data["rgb"] = shade(mesh, mesh.cell_data["rgb"])
    return mesh


def uncertainty_mesh(
    probabilities: np.ndarray, threshold: float, band: tuple[float, float] | None = None
) -> pv.PolyData:
    """Cubes coloured by uncertainty: the occupied voxels (P >= threshold), or with
    ``band`` only the voxels with ``low < P < high``."""
    shown = (analysis.uncertain_band(probabilities, band) if band is not None
             else geometry.occupancy(probabilities, threshold))
    return entropy_mesh(probabilities, shown)


def errors_mesh(errors: analysis.TruthErrors) -> pv.PolyData:
    """Predicted and true voxels as cubes: correct ones grey, false positives and false
    negatives in ``ERROR_RGB``; cell data ``category`` (0 correct, 1 false positive,
    2 false negative) and ``rgb``."""
    category = np.zeros(errors.true_positive.shape, np.uint8)
    category[errors.false_positive] = 1
    category[errors.false_negative] = 2
    rgb = np.asarray(ERROR_RGB, np.uint8)[category]
    shown = errors.true_positive | errors.false_positive | errors.false_negative
    mesh = voxel_surface(shown, {"category": category, "rgb": rgb})
    if mesh.n_cells:
        mesh.cell_data["rgb"] = shade(mesh, mesh.cell_data["rgb"])
    return mesh


def seen_mesh(split: SeenSplit) -> pv.PolyData:
    """The occupied voxels as cubes: seen by a view so far in ``SEEN_RGB[0]``, inferred
    (never seen) in ``SEEN_RGB[1]``; cell data ``seen`` (1/0) and ``rgb``."""
    seen = split.seen.astype(np.uint8)
    rgb = np.asarray(SEEN_RGB, np.uint8)[1 - seen]
    mesh = voxel_surface(split.seen | split.inferred, {"seen": seen, "rgb": rgb})
    if mesh.n_cells:
        mesh.cell_data["rgb"] = shade(mesh, mesh.cell_data["rgb"])
    return mesh


def gate_glyphs(update_gate: np.ndarray, level: float = 0.0) -> pv.PolyData:
    """One cube per recurrent cell whose write strength is >= ``level``, centred in the
    block of voxels the cell writes to, its edge growing with the strength (0.15 of the
    block at 0, 0.85 at 1): the object stays visible between them. Cell data
    ``write_strength``, ``cell`` (flat index of the recurrent cell, C order),
    ``direction`` and ``rgb`` (``GATES_CMAP``, shaded like the voxel cubes)."""
    gate = np.asarray(update_gate, dtype=np.float32)
    n = gate.shape[0]
    size = GRID / n
    idx = np.argwhere(gate >= level)
    if idx.size == 0:
        return _empty_polydata()
    g = gate[tuple(idx.T)]
    centres = idx * size + (size - 1) / 2.0  # index frame: block [c*size, (c+1)*size)
    half = (0.15 + 0.7 * np.clip(g, 0.0, 1.0)) * size / 2.0
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)],
                       np.float32)
    points = (centres[:, None, :] + corners[None] * half[:, None, None]).reshape(-1, 3)
    quads = np.array([[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6],
                      [0, 2, 6, 4], [1, 5, 7, 3]], np.int64)
    faces = (quads[None] + 8 * np.arange(len(idx))[:, None, None]).reshape(-1, 4)
    mesh = pv.PolyData(points.astype(np.float32),
                       faces=np.hstack([np.full((len(faces), 1), 4), faces]).ravel())
    mesh.cell_data["write_strength"] = np.repeat(g, 6)
    mesh.cell_data["cell"] = np.repeat(np.ravel_multi_index(idx.T, gate.shape), 6)
    # the quads above face -x, +x, -y, +y, -z, +z: their indices into FACE_SHADE
    mesh.cell_data["direction"] = np.tile(np.array([1, 0, 3, 2, 5, 4], np.uint8), len(idx))
    mesh.cell_data["rgb"] = shade(mesh, probability_rgb(np.repeat(g, 6), GATES_CMAP))
    return mesh


def slice_plane(probabilities: np.ndarray, axis: str, index: int) -> pv.PolyData:
    """The plane ``axis == index`` of the grid as a flat sheet of unit squares through the
    voxel centres, one per voxel of the slice, in VTK's image order (the first remaining
    grid axis runs fastest); cell data ``probability`` and ``rgba``
    (:func:`slice_colours`). Polygons, so the view draws it with its direct-colour actors
    and a new step only replaces the colours."""
    from .slices import AXES

    a = AXES.index(axis)
    shape = np.shape(probabilities)
    first, second = (i for i in range(3) if i != a)
    n0, n1 = shape[first], shape[second]
    corners = np.zeros(((n0 + 1) * (n1 + 1), 3), np.float32)
    u, v = np.meshgrid(np.arange(n0 + 1) - 0.5, np.arange(n1 + 1) - 0.5, indexing="xy")
    corners[:, first], corners[:, second], corners[:, a] = u.ravel(), v.ravel(), float(index)
    i, j = np.meshgrid(np.arange(n0), np.arange(n1), indexing="xy")
    c0 = (j * (n0 + 1) + i).ravel()
    faces = np.column_stack([np.full(c0.size, 4), c0, c0 + 1, c0 + n0 + 2, c0 + n0 + 1])
    sheet = pv.PolyData(corners, faces.ravel())
    values, rgba = slice_colours(probabilities, axis, index)
    sheet.cell_data["probability"] = values
    sheet.cell_data["rgba"] = rgba
    return sheet


def slice_colours(probabilities: np.ndarray, axis: str,
                  index: int) -> tuple[np.ndarray, np.ndarray]:
    """P on the plane ``axis == index`` (float32, :func:`slice_plane`'s cell order) and its
    (N, 4) uint8 colours: the cubes' colour map; sure-empty voxels faint, alpha 0.35 at
    P = 0 to 1 from P = 0.5, so the plane does not hide the object."""
    from .slices import grid_slice

    values = grid_slice(probabilities, axis, index).astype(np.float32).ravel(order="F")
    rgba = np.empty((len(values), 4), np.uint8)
    rgba[:, :3] = probability_rgb(values)
    rgba[:, 3] = np.clip(90 + 330 * values, 0, 255).astype(np.uint8)
    return values, rgba


def voxel_marker(voxel: tuple[int, int, int], margin: float = 0.2) -> pv.PolyData:
    """The edges of voxel ``voxel``'s cube, grown by ``margin`` so they show around it."""
    h = 0.5 + margin
    x, y, z = (float(c) for c in voxel)
    return pv.Box(bounds=(x - h, x + h, y - h, y + h, z - h, z + h)).outline()


def ground_truth_mesh(occupancy: np.ndarray) -> pv.PolyData:
    """The ground-truth voxels as a surface of cubes."""
    return voxel_surface(np.asarray(occupancy, dtype=bool))


def grid_outline() -> pv.PolyData:
    """The 32^3 grid's bounding box as lines."""
    return pv.Box(bounds=GRID_BOUNDS).outline()


def default_camera(distance: float = 95.0) -> list[tuple[float, float, float]]:
    """[position, focal point, view up] of the default ShapeNet-like viewpoint."""
    az, el = math.radians(VIEW_AZIMUTH), math.radians(VIEW_ELEVATION)
    d = (math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az))
    pos = tuple(CENTER + distance * c for c in d)
    return [pos, (CENTER,) * 3, (0.0, 1.0, 0.0)]  # type: ignore[list-item]


@dataclass
class StepScene:
    """Every mesh needed to show one step, built at one threshold."""

    index: int  # 1-based step number
    threshold: float
    n_voxels: int
    cubes: pv.PolyData
    smooth: pv.PolyData
    points: pv.PolyData
    changed: pv.PolyData  # current voxels, appeared ones coloured
    ghosts: pv.PolyData  # voxels lost since the previous step
    n_appeared: int
    n_disappeared: int
    gates: pv.PolyData  # one glyph per recurrent cell (gate_glyphs)
    ms: float = 0.0
    iou: float | None = None
    uncertainty: pv.PolyData = None  # type: ignore[assignment]  # occupied, by entropy
    band: pv.PolyData = None  # type: ignore[assignment]  # only the uncertain band
    band_range: tuple[float, float] = analysis.DEFAULT_BAND
    mean_entropy: float = 0.0  # bits, over the whole grid
    n_band: int = 0  # voxels in the uncertain band
    errors: pv.PolyData = None  # type: ignore[assignment]  # empty without ground truth
    n_false_positive: int | None = None  # None without ground truth
    n_false_negative: int | None = None
    seen: pv.PolyData = None  # type: ignore[assignment]  # occupied: seen / inferred
    n_seen: int = 0  # occupied voxels seen by one of the views so far
    n_inferred: int = 0  # occupied voxels none of them saw
    seen_views: int = 0  # views so far whose camera is known
    seen_known: bool = False  # the split was made (else every voxel counts as inferred)

    def layer(self, name: str) -> pv.DataSet:
        return getattr(self, name)


def build_step_scene(
    probabilities: np.ndarray,
    previous: np.ndarray | None,
    update_gate: np.ndarray,
    threshold: float,
    index: int,
    ms: float = 0.0,
    ground_truth: np.ndarray | None = None,
    band: tuple[float, float] = analysis.DEFAULT_BAND,
    cameras: Sequence[ViewCamera | None] | None = None,
) -> StepScene:
    """All meshes of one step (cubes, smooth, points, changes, gates, uncertainty, the
    uncertain ``band``, errors against the truth, seen vs inferred) and its IoU.

    ``cameras``: the known cameras of views 1..t (None where unknown) for the seen /
    inferred split (ray casting, the slowest part: None leaves it to :func:`with_seen`)."""
    band = analysis.check_band(band)
    ch = changes(probabilities, previous, threshold)
    changed, ghosts = changes_meshes(ch)
    occ = ch.appeared | ch.kept
    iou = n_fp = n_fn = None
    errors = _empty_polydata()
    if ground_truth is not None:
        from .models.voxels import iou as _iou

        iou = float(_iou(occ, np.asarray(ground_truth, dtype=bool)))
        err = analysis.truth_errors(probabilities, ground_truth, threshold)
        errors = errors_mesh(err)
        n_fp, n_fn = int(err.false_positive.sum()), int(err.false_negative.sum())
    in_band = analysis.uncertain_band(probabilities, band)
    split = _seen_split(probabilities, occ, cameras, threshold)
    return StepScene(
        index=index,
        threshold=threshold,
        n_voxels=int(occ.sum()),
        cubes=cubes_mesh(probabilities, threshold),
        smooth=smooth_mesh(probabilities, threshold),
        points=point_cloud(probabilities),
        changed=changed,
        ghosts=ghosts,
        n_appeared=int(ch.appeared.sum()),
        n_disappeared=int(ch.disappeared.sum()),
        gates=gate_glyphs(update_gate),
        ms=ms,
        iou=iou,
        uncertainty=entropy_mesh(probabilities, occ),
        band=entropy_mesh(probabilities, in_band),
        band_range=band,
        mean_entropy=analysis.mean_entropy(probabilities),
        n_band=int(in_band.sum()),
        errors=errors,
        n_false_positive=n_fp,
        n_false_negative=n_fn,
        seen=seen_mesh(split),
        n_seen=int(split.seen.sum()),
        n_inferred=int(split.inferred.sum()),
        seen_views=split.views_used,
        seen_known=cameras is not None,
    )


def _seen_split(probabilities: np.ndarray, occ: np.ndarray,
                cameras: Sequence[ViewCamera | None] | None, threshold: float) -> SeenSplit:
    from .visibility import SeenSplit, seen_and_inferred

    if cameras is not None and any(c is not None for c in cameras):
        return seen_and_inferred(probabilities, cameras, threshold)
    return SeenSplit(np.zeros_like(occ), occ, 0)


def with_seen(scene: StepScene, probabilities: np.ndarray,
              cameras: Sequence[ViewCamera | None]) -> StepScene:
    """A copy of ``scene`` (built at its threshold from ``probabilities``) with the seen /
    inferred split for ``cameras``, the known cameras of views 1..t."""
    from dataclasses import replace

    occ = geometry.occupancy(probabilities, scene.threshold)
    split = _seen_split(probabilities, occ, cameras, scene.threshold)
    return replace(scene, seen=seen_mesh(split), n_seen=int(split.seen.sum()),
                   n_inferred=int(split.inferred.sum()), seen_views=split.views_used,
                   seen_known=True)
