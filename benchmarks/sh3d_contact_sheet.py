"""Contact sheet of an imported Sweet Home 3D dataset: for every piece (or every k-th), the
recorded view nearest a front-right camera (azimuth 300) and its voxels drawn with the same
camera, labelled with category and catalog name. Default output docs/sh3d_contact_sheet.png.

    python benchmarks/sh3d_contact_sheet.py --data DIR [--out PNG] [--tile 72] [--every 1]
                                            [--categories chair,table]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from r2n2_viewer.models.synth.render import (
    camera_pose,
    parse_metadata_line,
    prefer_egl_without_display,
)
from r2n2_viewer.models.voxels import decode_binvox


def voxel_image(plotter, occ: np.ndarray, side: float, line: str) -> np.ndarray:
    """The occupied cells as grey cubes seen by the camera of ``line``."""
    import pyvista as pv

    grid = pv.ImageData(dimensions=(33, 33, 33), spacing=(side / 32,) * 3,
                        origin=(-side / 2,) * 3)
    grid.cell_data["occ"] = occ.astype(np.uint8).ravel(order="F")
    plotter.clear_actors()
    cubes = grid.threshold(0.5, scalars="occ")
    if cubes.n_cells:
        plotter.add_mesh(cubes, color=(0.55, 0.62, 0.75), show_edges=False, reset_camera=False)
    az, el, _, ratio, fov = parse_metadata_line(line)
    pos, focal, up = camera_pose(az, el, ratio)
    cam = plotter.camera
    cam.position, cam.focal_point, cam.up, cam.view_angle = tuple(pos), tuple(focal), \
        tuple(up), fov
    cam.clipping_range = (0.05, 10.0)
    plotter.render()
    return np.asarray(plotter.screenshot(return_img=True))


def contact_sheet(data: Path, out: Path, tile: int = 72, every: int = 1,
                  categories: list[str] | None = None, cols: int = 8) -> None:
    import pyvista as pv

    prefer_egl_without_display()
    meta = json.loads((data / "sh3d.json").read_text())
    objs = [o for o in meta["objects"] if not categories or o["category"] in categories]
    objs = sorted(objs, key=lambda o: (o["category"], o["name"]))[::every]
    test_ids = set()
    for syn in {o["synset"] for o in meta["objects"]}:
        ids = sorted(o["id"] for o in meta["objects"] if o["synset"] == syn)
        test_ids |= set(ids[int(0.8 * len(ids)):])
    label_h = 22
    cell_w, cell_h = 2 * tile + 6, tile + label_h
    rows = (len(objs) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * cell_w, max(1, rows) * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    p = pv.Plotter(off_screen=True, window_size=(137, 137))
    p.set_background("white")
    for n, o in enumerate(objs):
        rdir = data / "ShapeNetRendering" / o["synset"] / o["id"] / "rendering"
        lines = (rdir / "rendering_metadata.txt").read_text().splitlines()
        azs = np.array([float(s.split()[0]) for s in lines])
        k = int(np.argmin(np.abs((azs - 300 + 180) % 360 - 180)))
        rgba = Image.open(rdir / f"{k:02d}.png").convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
        b = decode_binvox((data / "ShapeNetVox32" / o["synset"] / o["id"] /
                           "model.binvox").read_bytes())
        vox = Image.fromarray(voxel_image(p, b.occupancy, b.scale, lines[k])).convert("RGB")
        x, y = (n % cols) * cell_w, (n // cols) * cell_h
        sheet.paste(img.resize((tile, tile)), (x, y))
        sheet.paste(vox.resize((tile, tile)), (x + tile, y))
        mark = " [test]" if o["id"] in test_ids else ""
        draw.text((x + 2, y + tile), f"{o['category']}{mark}", fill=(150, 0, 0))
        draw.text((x + 2, y + tile + 10), o["name"][:24], fill="black")
    p.close()
    sheet = sheet.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    print(f"wrote {out} ({len(objs)} pieces, {out.stat().st_size / 1024:.0f} KB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("docs/sh3d_contact_sheet.png"))
    ap.add_argument("--tile", type=int, default=72)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--cols", type=int, default=8)
    ap.add_argument("--categories", help="comma-separated category names")
    args = ap.parse_args()
    cats = [c.strip() for c in args.categories.split(",")] if args.categories else None
    contact_sheet(args.data, args.out, args.tile, args.every, cats, args.cols)


if __name__ == "__main__":
    main()
