"""Cameras of the 3D view, in numpy only: the presets (front, side, top, iso) and the
camera of a view whose rendering camera is known ("look from view k").

Everything is in the viewer's index frame (voxel ``(i, j, k)`` centred on point
``(i, j, k)``, +y up, objects facing +z). A view's camera comes from
:mod:`r2n2_viewer.models.camera` (the one camera model): its ``rendering_metadata.txt``
line and the box of the voxel grid in that camera's world frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .models.camera import GridBox, IndexCamera, index_camera, parse_metadata_line

GRID = 32
CENTRE = (GRID - 1) / 2.0
PRESETS = ("front", "side", "top", "iso")
PRESET_LABELS = {"front": "Front", "side": "Side", "top": "Top", "iso": "Iso"}
PRESET_VIEW_ANGLE = 30.0  # VTK's default
# direction from the grid's centre to the camera, and the view-up vector
_PRESET_POSES = {
    "front": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),  # objects face +z
    "side": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),  # from the object's left (+x)
    "top": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),  # from above, front at the bottom
    "iso": ((1.0, 1.0, 1.0), (0.0, 1.0, 0.0)),
}


def check_camera(name: str) -> str:
    """A camera choice: ``default``, a preset, or ``view:K`` (K >= 1); else ValueError."""
    text = str(name).strip().lower()
    if text == "default" or text in PRESETS:
        return text
    if text.startswith("view:") and text[5:].isdigit() and int(text[5:]) >= 1:
        return f"view:{int(text[5:])}"
    raise ValueError(f"unknown camera {name!r}: default, {', '.join(PRESETS)} or view:K "
                     "(K = 1, 2, ...)")


def preset_camera(name: str, distance: float = 95.0) -> IndexCamera:
    """The preset camera ``name`` (one of ``PRESETS``) looking at the grid's centre."""
    if name not in _PRESET_POSES:
        raise ValueError(f"unknown camera preset {name!r} ({', '.join(PRESETS)})")
    direction, up = _PRESET_POSES[name]
    d = np.asarray(direction) / np.linalg.norm(direction)
    pos = CENTRE + distance * d
    return IndexCamera(tuple(float(v) for v in pos), (CENTRE,) * 3, up, PRESET_VIEW_ANGLE)


@dataclass(frozen=True)
class ViewCamera:
    """The known camera of one view: its metadata line and where the voxel grid sits in
    that camera's world frame."""

    line: str
    box: GridBox

    def __post_init__(self) -> None:
        values = parse_metadata_line(self.line)  # ValueError on a bad line
        object.__setattr__(self, "line", " ".join(repr(v) for v in values))

    def index_camera(self) -> IndexCamera:
        """This camera in the index frame (the picture through it is the view's)."""
        return index_camera(self.line, self.box)


def view_cameras(paths: list[str | os.PathLike]) -> list[ViewCamera | None]:
    """The camera of each image file where it is known (None elsewhere): a bundled demo's
    view (its ``info.json``) or a rendering of a ShapeNet-format model (its
    ``rendering_metadata.txt`` and the grid box of its ``model.binvox``)."""
    out: list[ViewCamera | None] = []
    cache: dict[Path, dict[str, ViewCamera]] = {}
    for p in paths:
        path = Path(p)
        folder = path.parent
        if folder not in cache:
            cache[folder] = _folder_cameras(folder)
        out.append(cache[folder].get(path.name))
    return out


def _folder_cameras(folder: Path) -> dict[str, ViewCamera]:
    """File name -> camera for the images of a demo folder or a model's rendering folder
    (empty when unknown or unreadable)."""
    if (folder / "info.json").is_file():
        from .demo import list_demos

        try:
            demo = next((d for d in list_demos(folder.parent) if d.folder == folder), None)
        except OSError:
            return {}
        if demo is None or demo.cameras is None or demo.grid is None:
            return {}
        known = {img.name: ViewCamera(line, demo.grid)
                 for img, line in zip(demo.images, demo.cameras, strict=True)}
        if demo.candidate_cameras is not None:
            known.update((img.name, ViewCamera(line, demo.grid)) for img, line
                         in zip(demo.candidates, demo.candidate_cameras, strict=True))
        return known
    if (folder / "rendering_metadata.txt").is_file():
        from .models.data.shapenet import model_files
        from .models.voxels import BinvoxError, decode_binvox

        try:
            files = model_files(folder)
            if files.voxel_path is None:
                return {}
            header = decode_binvox(files.voxel_path.read_bytes())
            box = GridBox(header.translate, header.scale, header.occupancy.shape[0])
        except (OSError, ValueError, BinvoxError):
            return {}
        out = {}
        for view, cam in zip(files.views, files.cameras, strict=True):
            if cam is not None:
                try:
                    out[view.name] = ViewCamera(" ".join(repr(v) for v in cam), box)
                except ValueError:
                    continue
        return out
    return {}
