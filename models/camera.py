"""The camera of a ShapeNetRendering view, defined once for the whole code base.

Convention (what a ``rendering_metadata.txt`` line describes):
``azimuth elevation in_plane distance_ratio fov``, angles in degrees.

- The camera looks at the origin (the centre of the object's bounding box) with up = +y.
- Its position is ``D * (cos(el) cos(az), sin(el), -cos(el) sin(az))`` with
  ``D = distance_ratio * MAX_DISTANCE`` (1.75): azimuth 0 views the object from +x,
  azimuth 90 from -z; azimuth grows counter-clockwise seen from above (+y).
  Elevation is the angle above the x-z plane. The in-plane rotation is always 0.
- ``fov`` is the full field of view in degrees (vertical = horizontal; square images),
  a pinhole camera. :mod:`.synth` renders with 49.13° (Blender's default 35 mm lens on a
  32 mm sensor, the lens of the official renders) and records exactly that value.
- Objects face +z, so azimuth 90 sees their back and 270 their front.

The voxel grid of the same model sits in that world frame as its binvox header says:
voxel ``(i, j, k)`` spans ``translate + scale / res * ([i, i + 1], [j, j + 1], [k, k + 1])``
(:class:`GridBox`). :func:`index_camera` turns a view's camera into the viewer's index
frame (voxel ``(i, j, k)`` centred on point ``(i, j, k)``), where the same picture results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import RENDER_SIZE

MAX_DISTANCE = 1.75
FOV_DEG = float(np.degrees(2 * np.arctan(16.0 / 35.0)))  # 49.134...


def camera_pose(
    azimuth: float, elevation: float, distance_ratio: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position, focal point, view up) of the camera a metadata line describes."""
    az, el = np.radians(azimuth), np.radians(elevation)
    dist = distance_ratio * MAX_DISTANCE
    pos = dist * np.array([np.cos(el) * np.cos(az), np.sin(el), -np.cos(el) * np.sin(az)])
    return pos, np.zeros(3), np.array([0.0, 1.0, 0.0])


def parse_metadata_line(line: str | list[float] | tuple[float, ...] | np.ndarray
                        ) -> tuple[float, ...]:
    """The five numbers of one ``rendering_metadata.txt`` line (ValueError otherwise)."""
    try:
        vals = ([float(v) for v in line.split()] if isinstance(line, str)
                else [float(v) for v in line])
    except (TypeError, ValueError):
        raise ValueError(f"a metadata line is 5 numbers, got {line!r:.80}") from None
    if len(vals) != 5:
        raise ValueError(f"a metadata line has 5 numbers, got {len(vals)}")
    if not all(np.isfinite(vals)) or vals[3] <= 0 or not 0 < vals[4] < 180:
        raise ValueError(f"a metadata line needs finite numbers, a distance ratio > 0 and "
                         f"0 < fov < 180, got {vals}")
    return tuple(vals)


def format_metadata_line(azimuth: float, elevation: float, distance_ratio: float,
                         fov: float = FOV_DEG) -> str:
    """One metadata line; values are rounded here and rendered exactly as written."""
    return f"{azimuth:.4f} {elevation:.4f} 0 {distance_ratio:.5f} {fov:.4f}"


@dataclass(frozen=True)
class CameraBasis:
    """A pinhole camera in the world frame: position, unit viewing direction, unit right
    and up vectors of the image, full field of view in degrees."""

    position: np.ndarray
    forward: np.ndarray
    right: np.ndarray
    up: np.ndarray
    fov: float


def camera_basis(metadata_line: str | list[float] | tuple[float, ...]) -> CameraBasis:
    """The camera a metadata line describes, as position and image axes."""
    az, el, _inplane, ratio, fov = parse_metadata_line(metadata_line)
    pos, focal, up = camera_pose(az, el, ratio)
    f = focal - pos
    f /= np.linalg.norm(f)
    right = np.cross(f, up)
    right /= np.linalg.norm(right)
    return CameraBasis(pos, f, right, np.cross(right, f), fov)


def project_points(
    points: np.ndarray, metadata_line: str | list[float], image_size: int = RENDER_SIZE
) -> np.ndarray:
    """Project world points (P, 3) to continuous pixel coordinates (P, 2) = (column, row).

    Pixel (row i, column j) of the rendered image covers ``[j, j + 1) x [i, i + 1)``; row 0
    is the top. Points behind the camera get NaN.
    """
    cam = camera_basis(metadata_line)
    d = np.asarray(points, float) - cam.position
    zc = d @ cam.forward
    scale = 1.0 / np.tan(np.radians(cam.fov) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (d @ cam.right) * scale / zc
        y = (d @ cam.up) * scale / zc
    col = (x + 1) / 2 * image_size
    row = (1 - y) / 2 * image_size
    out = np.stack([col, row], axis=1)
    out[zc <= 0] = np.nan
    return out


def pixel_rays(metadata_line: str | list[float], image_size: int = RENDER_SIZE,
               samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(origin (3,), unit directions (N, 3)) of rays through the pixels of a view, in the
    world frame: ``samples`` x ``samples`` rays per pixel, row by row from the top left
    (the inverse of :func:`project_points`)."""
    cam = camera_basis(metadata_line)
    offs = (np.arange(samples) + 0.5) / samples
    coords = (np.arange(image_size)[:, None] + offs[None]).ravel()  # pixel units
    col, row = np.meshgrid(coords, coords)  # row-major: rows vary slowest
    t = np.tan(np.radians(cam.fov) / 2)
    x = (2 * col.ravel() / image_size - 1) * t
    y = (1 - 2 * row.ravel() / image_size) * t
    d = cam.forward[None] + x[:, None] * cam.right[None] + y[:, None] * cam.up[None]
    return cam.position.copy(), d / np.linalg.norm(d, axis=1, keepdims=True)


@dataclass(frozen=True)
class GridBox:
    """Where a voxel grid sits in the world frame (a binvox header): voxel ``(i, j, k)``
    spans ``translate + scale / resolution * [i, i + 1]`` along each axis."""

    translate: tuple[float, float, float]
    scale: float
    resolution: int = 32

    def __post_init__(self) -> None:
        t = tuple(float(v) for v in self.translate)
        if len(t) != 3 or not all(np.isfinite(t)) or not (np.isfinite(self.scale)
                                                          and self.scale > 0):
            raise ValueError(f"a grid box needs 3 finite translate values and a scale > 0, "
                             f"got {self.translate!r}, {self.scale!r}")
        object.__setattr__(self, "translate", t)
        object.__setattr__(self, "scale", float(self.scale))

    @classmethod
    def centred(cls, side: float, resolution: int = 32) -> GridBox:
        """The box of the generator's grids: the cube ``[-side/2, side/2]^3``."""
        return cls((-side / 2,) * 3, side, resolution)

    @property
    def voxel(self) -> float:
        """The edge of one voxel in world units."""
        return self.scale / self.resolution

    def world_to_index(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) -> the index frame (voxel ``(i, j, k)`` centred on
        ``(i, j, k)``)."""
        return (np.asarray(points, float) - np.asarray(self.translate)) / self.voxel - 0.5

    def index_to_world(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, float) + 0.5) * self.voxel + np.asarray(self.translate)


@dataclass(frozen=True)
class IndexCamera:
    """A view's camera in the index frame: what a 3D view sets to look from it."""

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    up: tuple[float, float, float]
    view_angle: float  # full field of view, degrees


def index_camera(metadata_line: str | list[float] | tuple[float, ...],
                 box: GridBox) -> IndexCamera:
    """The camera of a metadata line moved into ``box``'s index frame (a uniform scale and
    a shift, so the picture through it is the same)."""
    cam = camera_basis(metadata_line)
    pos = box.world_to_index(cam.position)
    focal = box.world_to_index(cam.position + cam.forward)
    return IndexCamera(tuple(float(v) for v in pos), tuple(float(v) for v in focal),
                       tuple(float(v) for v in cam.up), float(cam.fov))
