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
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import geometry
from .models.atomic import atomic_write, atomic_write_bytes
from .models.voxels import write_binvox

_FRAME = "frame: unit cube centred at the origin, +y up, voxel (i,j,k) -> [i/N-0.5, (i+1)/N-0.5]"


def export_binvox(
    path: str | os.PathLike, probabilities: np.ndarray, threshold: float = 0.4
) -> int:
    """Write the thresholded grid as binvox; returns the number of occupied voxels."""
    occ = geometry.occupancy(probabilities, threshold)
    write_binvox(path, occ, translate=(-0.5, -0.5, -0.5), scale=1.0)
    return int(occ.sum())


def export_obj_cubes(
    path: str | os.PathLike, probabilities: np.ndarray, threshold: float = 0.4
) -> int:
    """Write one cube per occupied voxel (outer faces only) as OBJ quads; returns faces."""
    occ = geometry.occupancy(probabilities, threshold)
    verts, quads = geometry.cube_mesh(occ)
    header = f"voxel cubes of {int(occ.sum())} voxels >= {threshold:g}"
    _write_obj(path, verts, quads, header)
    return len(quads)


def smooth_mesh(probabilities: np.ndarray, threshold: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Marching-cubes surface at ``threshold`` in the unit-cube frame: (V, 3) vertices,
    (F, 3) outward triangles (see :func:`geometry.smooth_surface`)."""
    p = geometry.grid(probabilities)
    verts, faces, _ = geometry.smooth_surface(p, threshold)
    return geometry.index_to_unit(verts, p.shape), faces


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
        f"step{i}": geometry.grid(getattr(s, "probabilities", s)).astype(np.float32)
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


# --- the format registry: one list for the command line and the viewer -------------------
StepWriter = Callable[[Path, np.ndarray, float], Any]  # (path, probabilities, threshold)


@dataclass(frozen=True)
class ExportFormat:
    """A file format: ``name`` for ``--format`` and the viewer, ``label`` for dialogs,
    ``suffix`` ending the file name after its stem (``step_NN`` or ``reconstruction``)."""

    name: str
    label: str
    suffix: str
    write_step: StepWriter | None = None  # one step's probabilities -> one file
    whole_sequence: bool = False  # one file holding every step
    cli: bool = True  # offered by `r2n2 reconstruct` (a PNG needs a picture of the view)

    @property
    def extension(self) -> str:
        """The file extension proper: ``.obj`` for ``_smooth.obj``."""
        return Path("f" + self.suffix).suffix

    @property
    def file_filter(self) -> str:
        """A Qt file-dialog filter, e.g. ``binvox voxels (*.binvox)``."""
        return f"{self.label} (*{self.extension})"


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("binvox", "binvox voxels", ".binvox", export_binvox),
    ExportFormat("obj", "OBJ voxel cubes", ".obj", export_obj_cubes),
    ExportFormat("smooth-obj", "OBJ smooth surface", "_smooth.obj", export_obj_smooth),
    ExportFormat("npz", "NumPy probabilities of every step", ".npz", whole_sequence=True),
    ExportFormat("png", "PNG screenshot", ".png", cli=False),
)}

_SUFFIXES = sorted((f.suffix for f in FORMATS.values()), key=len, reverse=True)
_OWN_NAME = re.compile(r"(reconstruction|step_\d{2,})(" + "|".join(map(re.escape, _SUFFIXES)) + ")")


def write_reconstruction(
    folder: str | os.PathLike,
    steps: Sequence[Any],
    formats: Sequence[str],
    threshold: float = 0.4,
    every_step: bool = False,
    picture: Callable[[int], Any] | None = None,
    remove_stale: bool = False,
) -> list[Path]:
    """Write a reconstruction into ``folder`` (which must exist); returns the paths written.

    ``steps`` holds :class:`~r2n2_viewer.session.Step` objects or probability grids. Each
    per-step format writes ``reconstruction<suffix>`` from the last step, or with
    ``every_step`` ``step_NN<suffix>`` for every step; a whole-sequence format (npz)
    writes ``reconstruction<suffix>``. ``png`` needs ``picture(k)``, an image of step
    ``k`` (1-based). With ``remove_stale``, files named as this function names its
    output (``reconstruction.*``, ``step_NN.*``) that this call did not write are
    removed afterwards, so the folder holds one reconstruction; other files stay.
    """
    folder = Path(folder)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    if "png" in formats and picture is None:
        raise ValueError("png export needs a picture of each step")
    if not steps:
        raise ValueError("nothing to export: there are no steps")
    geometry.check_threshold(threshold)
    chosen = [FORMATS[f] for f in dict.fromkeys(formats)]
    grids = [getattr(s, "probabilities", s) for s in steps]
    written: list[Path] = []
    for k in range(1, len(grids) + 1) if every_step else [len(grids)]:
        stem = f"step_{k:02d}" if every_step else "reconstruction"
        for fmt in chosen:
            target = folder / f"{stem}{fmt.suffix}"
            if fmt.write_step is not None:
                fmt.write_step(target, grids[k - 1], threshold)
            elif fmt.name == "png":
                export_png(target, picture(k))
            else:
                continue
            written.append(target)
    for fmt in chosen:
        if fmt.whole_sequence:
            target = folder / f"reconstruction{fmt.suffix}"
            export_npz(target, grids)
            written.append(target)
    if remove_stale:
        keep = {p.name for p in written}
        for old in folder.iterdir():
            if old.name not in keep and _OWN_NAME.fullmatch(old.name) and old.is_file():
                old.unlink()
    return written


# --- helpers -------------------------------------------------------------------------
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
