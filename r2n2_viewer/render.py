"""Draw reconstruction steps with PyVista: shared styling for the viewer's viewport, and
off-screen rendering of every step to PNG files plus an animated GIF (``r2n2 render``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyvista as pv

from . import scene as sc
from .geometry import check_threshold
from .layers import ColourScale, colour_scales, layers_for
from .models.synth.render import prefer_egl_without_display

BACKGROUND = "#f4f5f7"
GHOST_OPACITY = 0.18
GT_COLOR = "#2a7fff"

# add_mesh keyword arguments for each layer of a StepScene
LAYER_STYLE: dict[str, dict[str, Any]] = {
    # voxel faces carry baked shading (scene.FACE_SHADE): unlit is twice as fast in software
    "cubes": dict(scalars="rgb", rgb=True, lighting=False),
    # the marching-cubes surface, its vertices shaded like the cubes' faces (baked, unlit)
    "smooth": dict(scalars="rgb", rgb=True, lighting=False),
    "points": dict(scalars="rgba", rgba=True, point_size=6, style="points",
                   render_points_as_spheres=False, lighting=False),
    "changed": dict(scalars="rgb", rgb=True, lighting=False),
    "uncertainty": dict(scalars="rgb", rgb=True, lighting=False),
    "band": dict(scalars="rgb", rgb=True, lighting=False),
    "errors": dict(scalars="rgb", rgb=True, lighting=False),
    "seen": dict(scalars="rgb", rgb=True, lighting=False),
    "ghosts": dict(color=tuple(c / 255 for c in sc.DISAPPEARED_RGB), opacity=GHOST_OPACITY,
                   ambient=0.4),
    # one opaque glyph per recurrent cell, its size and colour the write strength
    "gates": dict(scalars="rgb", rgb=True, lighting=False, show_edges=True,
                  edge_color="#555555", line_width=1),
    "truth": dict(color=GT_COLOR, opacity=0.22, ambient=0.4),
    "outline": dict(color="#9aa0a8", line_width=1),
    # the slice plane of P (scene.slice_plane) and the probed voxel (scene.voxel_marker)
    "slice": dict(scalars="rgba", rgba=True, lighting=False),
    "probe": dict(color="#e0301e", line_width=4),
}


# layers drawn in their own colours (an RGB / RGBA array, unlit): built straight from
# VTK objects, which takes well under a millisecond where ``add_mesh`` takes tens (it
# probes scalars and colour maps)
POINT_COLOURED = ("points", "smooth")  # the others colour whole faces
DIRECT_COLOUR = frozenset(layer for layer, style in LAYER_STYLE.items()
                          if style.get("lighting") is False
                          and (style.get("rgb") or style.get("rgba")))
# layers whose mesh is changed in place (the slice plane's colours follow the step)
MUTABLE = ("slice",)


def configure_renderer(plotter: Any) -> None:
    """Settings every viewer renderer shares: plain alpha blending, no order-independent
    transparency. Under software OpenGL its extra full-window passes cost as much as the
    rest of a frame; the translucent layers are single-coloured surfaces (the same result
    in any order), a flat plane, or points sorted back to front (:func:`add_layer`)."""
    plotter.renderer.SetUseOIT(False)


def add_layer(plotter: Any, mesh: pv.DataSet, layer: str, name: str | None = None) -> Any:
    """Add ``mesh`` styled as ``layer``; returns the actor (None for an empty mesh)."""
    if mesh is None or mesh.n_points == 0:
        return None
    if layer in DIRECT_COLOUR and isinstance(mesh, pv.PolyData):
        actor = _direct_colour_actor(plotter, mesh, layer)
        plotter.add_actor(actor, name=name, reset_camera=False, pickable=False, render=False)
        return actor
    style = dict(LAYER_STYLE[layer])
    return plotter.add_mesh(mesh, name=name, show_scalar_bar=False, reset_camera=False,
                            render=False, pickable=False, **style)


def _direct_colour_actor(plotter: Any, mesh: pv.PolyData, layer: str) -> Any:
    """An unlit actor coloured straight from the mesh's RGB(A) array. Translucent points
    are drawn back to front from the plotter's camera (correct blending without
    order-independent transparency)."""
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

    style = LAYER_STYLE[layer]
    per_point, point_size = layer in POINT_COLOURED, style.get("point_size")
    mapper = vtkPolyDataMapper()
    if point_size:
        from vtkmodules.vtkFiltersHybrid import vtkDepthSortPolyData

        order = vtkDepthSortPolyData()
        order.SetInputData(mesh)
        order.SetCamera(plotter.camera)
        order.SetDirectionToBackToFront()
        order.SetDepthSortModeToParametricCenter()
        mapper.SetInputConnection(order.GetOutputPort())
    else:
        mapper.SetInputData(mesh)
        mapper.SetStatic(layer not in MUTABLE)  # no pipeline checks for fixed meshes
    if per_point:
        mapper.SetScalarModeToUsePointFieldData()
    else:
        mapper.SetScalarModeToUseCellFieldData()
    mapper.SelectColorArray(style["scalars"])
    mapper.SetColorModeToDirectScalars()
    mapper.ScalarVisibilityOn()
    actor = vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.SetLighting(False)
    if per_point and not point_size:
        prop.SetInterpolationToGouraud()  # colours blend across each triangle
    else:
        prop.SetInterpolationToFlat()
    if point_size:
        prop.SetRepresentationToPoints()
        prop.SetPointSize(point_size)
    if style.get("show_edges"):
        prop.EdgeVisibilityOn()
        prop.SetEdgeColor(pv.Color(style["edge_color"]).float_rgb)
        prop.SetLineWidth(style.get("line_width", 1))
    return actor


def colour_bar(scale: ColourScale, slot: int = 0) -> list[Any]:
    """VTK 2D actors explaining ``scale`` at the right edge of the view (``slot`` 1 sits
    below slot 0): a scalar bar with numbers, or for named classes one line of text per
    class in its colour."""
    from vtkmodules.vtkCommonCore import vtkLookupTable
    from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor
    from vtkmodules.vtkRenderingCore import vtkTextActor

    top = 0.94 - 0.47 * slot
    if scale.categories:
        actors = []
        for i, (label, rgb) in enumerate(((scale.title, (70, 70, 70)), *scale.categories)):
            text = vtkTextActor()
            text.SetInput(label)
            text.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
            text.SetPosition(0.80, top - 0.05 - 0.055 * i)
            prop = text.GetTextProperty()
            prop.SetFontSize(13)
            prop.SetBold(i > 0)
            prop.SetColor(*(0.8 * c / 255 for c in rgb))  # darker: legible on white
            actors.append(text)
        return actors
    from matplotlib import colormaps

    lut = vtkLookupTable()
    colours = colormaps[scale.cmap](np.linspace(0.0, 1.0, 256))
    lut.SetNumberOfTableValues(256)
    for i, c in enumerate(colours):
        lut.SetTableValue(i, *c[:3], 1.0)
    lut.SetRange(scale.low, scale.high)
    lut.Build()
    bar = vtkScalarBarActor()
    bar.SetLookupTable(lut)
    bar.SetTitle(scale.title)
    bar.SetNumberOfLabels(6)
    bar.SetLabelFormat("%.1f")
    bar.SetOrientationToVertical()
    bar.SetBarRatio(0.25)
    bar.UnconstrainedFontSizeOn()
    bar.SetPosition(0.86, top - 0.42)
    bar.SetWidth(0.13)
    bar.SetHeight(0.42)
    for prop, size in ((bar.GetTitleTextProperty(), 13), (bar.GetLabelTextProperty(), 11)):
        prop.SetColor(0.2, 0.2, 0.2)
        prop.SetFontSize(size)
        prop.BoldOff()
        prop.ItalicOff()
        prop.ShadowOff()
    return [bar]


def add_colour_bars(plotter: Any, layers: list[str]) -> list[Any]:
    """Colour bars explaining ``layers`` (at most two) added to ``plotter``'s renderer."""
    actors = [a for slot, scale in enumerate(colour_scales(layers)[:2])
              for a in colour_bar(scale, slot)]
    for actor in actors:
        plotter.renderer.AddViewProp(actor)
    return actors


def set_default_camera(plotter: Any) -> None:
    """The ShapeNet-like viewpoint, zoomed to the whole 32^3 grid."""
    plotter.camera_position = sc.default_camera()
    plotter.reset_camera(bounds=sc.GRID_BOUNDS)
    plotter.camera.zoom(0.92)


def set_camera(plotter: Any, camera: Any, fit: bool = False) -> None:
    """Put ``plotter``'s camera at ``camera`` (a :class:`~r2n2_viewer.models.camera.
    IndexCamera`): exactly there, or with ``fit`` moved along its line of sight until the
    whole grid fills the view (the presets)."""
    cam = plotter.camera
    cam.position = camera.position
    cam.focal_point = camera.focal_point
    cam.up = camera.up
    cam.view_angle = camera.view_angle
    if fit:
        plotter.reset_camera(bounds=sc.GRID_BOUNDS)
        cam.zoom(0.92)
    plotter.renderer.ResetCameraClippingRange()


def camera_for(name: str, cameras: Sequence[Any] = ()) -> tuple[Any, bool] | None:
    """(index-frame camera, fit) of a camera choice: ``default`` (None), a preset of
    :mod:`r2n2_viewer.cameras`, or ``view:K``, view K's known camera in ``cameras``
    (ValueError when view K has none)."""
    from .cameras import check_camera, preset_camera

    name = check_camera(name)
    if name == "default":
        return None
    if name.startswith("view:"):
        k = int(name[5:])
        cam = cameras[k - 1] if k <= len(cameras) else None
        if cam is None:
            raise ValueError(f"view {k} has no known camera (only a demo's views and a "
                             "dataset model's renderings have one)")
        return cam.index_camera(), False
    return preset_camera(name), True



def silhouette_from_camera(occupancy: np.ndarray, name: str, cameras: Sequence[Any] = (),
                           size: int = 137) -> np.ndarray:
    """(size, size) bool: the pixels the voxel cubes of ``occupancy`` cover from camera
    ``name`` (a preset or ``view:K``, see :func:`camera_for`), drawn as the viewer draws
    them, off screen."""
    prefer_egl_without_display()
    plotter = pv.Plotter(off_screen=True, window_size=(size, size))
    try:
        plotter.set_background("white")
        plotter.add_mesh(sc.voxel_surface(occupancy), color="black", lighting=False)
        set_camera(plotter, *camera_for(name, cameras))
        plotter.render()
        img = np.asarray(plotter.screenshot(None, return_img=True))
    finally:
        plotter.close()
    return img[..., :3].max(axis=2) < 128

def parse_size(text: str) -> tuple[int, int]:
    """'800x600' -> (800, 600)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must look like 800x600, got {text!r}") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise ValueError(f"size {w}x{h} out of range (16..8192)")
    return w, h


def render_scenes(
    scenes: Sequence[sc.StepScene],
    out_dir: str | os.PathLike,
    mode: str = "cubes",
    changes: bool = False,
    gates: bool = False,
    truth: np.ndarray | None = None,
    size: tuple[int, int] = (800, 600),
    gif_ms: int = 700,
    band_only: bool = False,
    colour_bar: bool = True,
    camera: Any = None,
) -> list[Path]:
    """Render each scene off-screen to ``step_NN.png`` and all of them to
    ``refinement.gif`` in ``out_dir``; returns the written paths.

    ``mode`` "errors" needs scenes built with a ground truth (else ValueError);
    ``band_only`` draws only the uncertain band in the "uncertainty" mode; ``camera``:
    ``(IndexCamera, fit)`` from :func:`camera_for` (None: the default viewpoint)."""
    from PIL import Image

    from .models.atomic import atomic_write_bytes

    known = truth is not None or any(s.n_false_positive is not None for s in scenes)
    if mode == "errors" and not known:
        raise ValueError("the errors mode needs a ground truth (--truth FILE.binvox)")
    names = layers_for(mode, changes, gates, truth is not None, band_only, known)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prefer_egl_without_display()
    plotter = pv.Plotter(off_screen=True, window_size=list(size))
    plotter.set_background(BACKGROUND)
    configure_renderer(plotter)
    add_layer(plotter, sc.grid_outline(), "outline")
    truth_mesh = sc.ground_truth_mesh(truth) if truth is not None else None
    if colour_bar:
        add_colour_bars(plotter, names)
    if camera is None:
        set_default_camera(plotter)
    else:
        set_camera(plotter, *camera)
    written, frames = [], []
    try:
        for scene in scenes:
            actors = []
            for layer in names:
                mesh = truth_mesh if layer == "truth" else scene.layer(layer)
                actors.append(add_layer(plotter, mesh, layer))
            label = f"step {scene.index}  \u00b7  {scene.n_voxels} voxels"
            if scene.iou is not None:
                label += f"  \u00b7  IoU {scene.iou:.3f}"
            if "errors" in names and scene.n_false_positive is not None:
                label += (f"\n{scene.n_false_positive} false positive, "
                          f"{scene.n_false_negative} false negative")
            if names[0] in ("uncertainty", "band"):
                label += f"\nmean entropy {scene.mean_entropy:.3f} bits"
                if names[0] == "band":
                    lo, hi = scene.band_range
                    label += f"  \u00b7  {scene.n_band} voxels with {lo:g} < P < {hi:g}"
            if names[0] == "seen":
                label += (f"\n{scene.n_seen} seen, {scene.n_inferred} inferred "
                          f"({scene.seen_views} view(s) with a known camera)")
            text = plotter.add_text(label, position="upper_left", font_size=11, color="#333333")
            plotter.render()
            img = plotter.screenshot(None, return_img=True)
            frames.append(Image.fromarray(img))
            buf = io.BytesIO()
            frames[-1].save(buf, format="PNG")
            path = out / f"step_{scene.index:02d}.png"
            atomic_write_bytes(path, buf.getvalue())
            written.append(path)
            for actor in [*actors, text]:
                if actor is not None:
                    plotter.remove_actor(actor, render=False)
        if frames:
            gif = out / "refinement.gif"
            atomic_write_bytes(gif, gif_bytes(frames, gif_ms))
            written.append(gif)
    finally:
        plotter.close()
    return written


def gif_bytes(frames: Sequence[Any], ms: int = 700) -> bytes:
    """An endlessly looping animated GIF of PIL images (the last frame held longer)."""
    frames = [f.convert("RGB") for f in frames]
    durations = [ms] * len(frames)
    durations[-1] = ms * 3
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=durations, loop=0, optimize=False)
    return buf.getvalue()


def render_images(
    images: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    weights: str | None = "default",
    threshold: float = 0.4,
    mode: str = "cubes",
    changes: bool = False,
    size: tuple[int, int] = (800, 600),
    device: str = "auto",
    segment: str = "auto",
    truth: str | os.PathLike | np.ndarray | None = None,
    band: tuple[float, float] | None = None,
    camera: str = "default",
) -> list[Path]:
    """Reconstruct from ``images`` one view at a time and render every step.

    ``segment``: how photos are separated from their background (``images.SEGMENT_MODES``).
    ``truth`` (a 32^3 grid or a .binvox file) adds IoU and enables the "errors" mode;
    ``band`` in the "uncertainty" mode draws only the voxels with low < P < high.
    The cameras of the views are looked up beside the images
    (:func:`~r2n2_viewer.cameras.view_cameras`): the "seen" mode needs at least one, and
    ``camera`` ``view:K`` view K's (else ValueError); the presets need none.
    """
    from .analysis import DEFAULT_BAND, check_band
    from .cameras import view_cameras
    from .images import load_view
    from .session import ReconstructionSession

    check_threshold(threshold)
    layers_for(mode, changes, False, False)  # validate the mode before any work
    if band is not None:
        check_band(band)
    gt = load_truth(truth) if truth is not None else None
    if mode == "errors" and gt is None:
        raise ValueError("the errors mode needs a ground truth (--truth FILE.binvox)")
    cameras = view_cameras(list(images))
    if mode == "seen" and not any(cameras):
        raise ValueError("the seen mode needs views whose camera is known: a demo's views "
                         "or the renderings of a ShapeNet-format model")
    view_camera = camera_for(camera, cameras)
    views = [load_view(p, segment=segment) for p in images]
    session = ReconstructionSession(weights, device=device)
    scenes, prev = [], None
    for path, view in zip(images, views, strict=True):
        step = session.add_view(view, Path(path).name)
        scenes.append(sc.build_step_scene(step.probabilities, prev, step.update_gate,
                                          threshold, step.index, step.ms, gt,
                                          band or DEFAULT_BAND, cameras[:step.index]))
        prev = step.probabilities
    return render_scenes(scenes, out_dir, mode=mode, changes=changes, size=size,
                         band_only=band is not None, camera=view_camera)


def load_truth(truth: str | os.PathLike | np.ndarray) -> np.ndarray:
    """A 32^3 ground-truth occupancy from an array or a .binvox file (else ValueError)."""
    if isinstance(truth, np.ndarray):
        arr = truth
    else:
        from .models.voxels import read_binvox

        path = Path(truth)
        if not path.is_file():
            raise ValueError(f"{path}: no such ground-truth file")
        arr = read_binvox(path)
    if arr.shape != (32, 32, 32):
        raise ValueError(f"the ground truth is {arr.shape}; the network reconstructs "
                         "(32, 32, 32)")
    return np.asarray(arr, dtype=bool)
