"""Render a piece with its materials, textures and transparency using the synth camera.

One off-screen PyVista plotter per process; each material group becomes one actor (its
diffuse colour or ``map_Kd`` texture, specular highlight from ``Ks``/``Ns``, opacity from
``d``). The cameras are :mod:`models.synth.render`'s (same poses, fov and metadata lines).
"""

from __future__ import annotations

import numpy as np

from ..config import RENDER_SIZE
from ..synth.render import prefer_egl_without_display, shoot
from .mesh import PieceMesh


def group_polydata(triangles: np.ndarray, uvs: np.ndarray | None):
    """A PyVista PolyData of separate triangles (corners unshared, so uvs stay per corner)."""
    import pyvista as pv

    n = len(triangles)
    pts = triangles.reshape(-1, 3)
    faces = np.hstack([np.full((n, 1), 3), np.arange(3 * n).reshape(n, 3)]).ravel()
    poly = pv.PolyData(pts, faces)
    if uvs is not None:
        poly.active_texture_coordinates = uvs.reshape(-1, 2).astype(np.float32)
    return poly


class TexturedRenderer:
    """Off-screen renderer for :class:`PieceMesh` objects (reused for many pieces)."""

    def __init__(self, image_size: int = RENDER_SIZE, multi_samples: int = 4):
        import pyvista as pv

        prefer_egl_without_display()
        self.plotter = pv.Plotter(off_screen=True, window_size=(image_size, image_size))
        self.plotter.ren_win.SetMultiSamples(multi_samples)
        self.plotter.set_background("white")

    def render(self, mesh: PieceMesh, metadata_lines: list[str]) -> list[np.ndarray]:
        """RGBA uint8 images (H, W, 4), transparent background, one per metadata line."""
        import pyvista as pv

        p = self.plotter
        p.clear_actors()
        for g in mesh.groups:
            m = g.material
            kwargs = dict(ambient=0.3, diffuse=0.75, specular=min(0.5, 0.6 * m.specular),
                          specular_power=max(1.0, min(100.0, m.shininess / 2)),
                          opacity=float(np.clip(m.opacity, 0.05, 1.0)),
                          smooth_shading=False, show_scalar_bar=False, reset_camera=False)
            poly = group_polydata(g.triangles, g.uvs)
            if g.uvs is not None and m.image is not None:
                tex = pv.Texture(np.ascontiguousarray(m.image))
                tex.repeat = True
                tex.interpolate = True
                p.add_mesh(poly, texture=tex, **kwargs)
            else:
                p.add_mesh(poly, color=tuple(float(c) for c in np.clip(m.diffuse, 0, 1)),
                           **kwargs)
        return shoot(p, metadata_lines)

    def close(self) -> None:
        """Release the plotter's window."""
        self.plotter.close()
