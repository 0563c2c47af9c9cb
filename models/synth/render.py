"""An off-screen PyVista renderer of ShapeNetRendering views.

The camera (what a ``rendering_metadata.txt`` line describes) is :mod:`models.camera`'s;
its names are re-exported here for the generator and the Sweet Home 3D importer.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from ..camera import (  # noqa: F401 - the one camera model, re-exported
    FOV_DEG,
    MAX_DISTANCE,
    camera_pose,
    format_metadata_line,
    parse_metadata_line,
    project_points,
)
from ..config import RENDER_SIZE


def prefer_egl_without_display() -> None:
    """With no X or Wayland display on Linux, have VTK open its EGL window directly for
    off-screen rendering. Otherwise it first tries X and prints a coloured "bad X server
    connection" warning (once per process) before falling back to EGL itself."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def unpremultiply(img: np.ndarray) -> np.ndarray:
    """RGBA rendered over black (colour premultiplied by alpha) -> straight alpha, uint8.

    Anti-aliased edges and translucent parts then keep their own colour instead of a
    fringe of the clear colour.
    """
    rgb = img[..., :3].astype(np.float32)
    a = img[..., 3:4].astype(np.float32)
    out = np.where(a > 0, rgb * 255.0 / np.maximum(a, 1.0), 0.0)
    return np.concatenate([np.clip(np.rint(out), 0, 255).astype(np.uint8), img[..., 3:4]],
                          axis=2)


class Renderer:
    """One off-screen PyVista plotter reused for many objects (one per process)."""

    def __init__(self, image_size: int = RENDER_SIZE, multi_samples: int = 4):
        import pyvista as pv

        prefer_egl_without_display()

        self.plotter = pv.Plotter(off_screen=True, window_size=(image_size, image_size))
        self.plotter.ren_win.SetMultiSamples(multi_samples)
        self.plotter.set_background("black")  # cleared to alpha 0; see unpremultiply
        self._actors: list = []
        self._default_lights = True

    def _clear(self) -> None:
        for actor in self._actors:
            self.plotter.remove_actor(actor, render=False)
        self._actors = []

    def render(self, mesh, metadata_lines: list[str]) -> list[np.ndarray]:
        """Images of a mesh with per-cell colours ``"rgb"``, Lambert-shaded under VTK's light
        kit: RGBA uint8 (H, W, 4), transparent background, one per metadata line."""
        self._clear()
        if not self._default_lights:
            self.plotter.remove_all_lights()
            self.plotter.enable_lightkit()
            self._default_lights = True
        self._actors.append(self.plotter.add_mesh(
            mesh, scalars="rgb", rgb=True, ambient=0.3, diffuse=0.75, specular=0.0,
            smooth_shading=False, show_scalar_bar=False, reset_camera=False,
        ))
        return self._shoot(metadata_lines)

    def render_scene(self, items: list, lights: list,
                     metadata_lines: list[str]) -> list[np.ndarray]:
        """Images of textured meshes under the given lights.

        ``items``: ``(mesh, material)`` pairs, each mesh with point normals and texture
        coordinates and each material a :class:`.materials.Material`; ``lights``:
        :class:`.materials.Light`. Returns RGBA uint8 (H, W, 4) with straight alpha:
        translucent materials give 0 < alpha < 255.
        """
        import pyvista as pv

        p = self.plotter
        self._clear()
        p.remove_all_lights()
        self._default_lights = False
        for li in lights:
            d = np.asarray(li.direction, float)
            if li.camera:  # camera frame: x right, y up, looking down -z
                light = pv.Light(position=tuple(-d), focal_point=(0, 0, 0),
                                 light_type="camera light")
            else:
                light = pv.Light(position=tuple(-10 * d), focal_point=(0, 0, 0),
                                 light_type="scene light")
            light.positional = False
            light.diffuse_color = tuple(float(c) for c in li.rgb)
            light.specular_color = tuple(float(c) for c in li.rgb)
            light.intensity = float(li.intensity)
            p.add_light(light)
        for mesh, mat in items:
            tex = pv.Texture(mat.texture())
            tex.repeat = True
            tex.interpolate = True
            actor = p.add_mesh(
                mesh, texture=tex, ambient=mat.ambient, diffuse=mat.diffuse,
                specular=mat.specular, specular_power=mat.specular_power, opacity=mat.opacity,
                smooth_shading=False, show_scalar_bar=False, reset_camera=False,
            )
            actor.prop.interpolation = "phong"
            self._actors.append(actor)
        return self._shoot(metadata_lines)

    def _shoot(self, metadata_lines: list[str]) -> list[np.ndarray]:
        return [unpremultiply(img) for img in shoot(self.plotter, metadata_lines)]

    def close(self) -> None:
        """Release the plotter's window."""
        self.plotter.close()


def shoot(plotter, metadata_lines: list[str]) -> list[np.ndarray]:
    """One RGBA screenshot of ``plotter``'s scene per camera of ``metadata_lines``
    (transparent background, as the plotter's renderer blends it)."""
    cam = plotter.camera
    images = []
    for line in metadata_lines:
        az, el, _inplane, ratio, fov = parse_metadata_line(line)
        pos, focal, up = camera_pose(az, el, ratio)
        cam.position = tuple(pos)
        cam.focal_point = tuple(focal)
        cam.up = tuple(up)
        cam.view_angle = fov
        cam.clipping_range = (0.05, 10.0)
        plotter.render()
        img = plotter.screenshot(transparent_background=True, return_img=True)
        images.append(np.ascontiguousarray(img))
    return images
