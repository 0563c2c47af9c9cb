"""Silhouette-vs-voxel check of a ShapeNet-format model (the test the procedural data
passes): the occupied voxels, projected with each view's recorded camera, against the
view's alpha mask.

Scores per view: ``tolerant`` IoU counting only disagreements farther than one projected
voxel edge from the other mask (voxels quantise thin parts), ``raw`` pixel IoU, and
``turned``, the tolerant IoU with the camera turned 90 degrees in azimuth (a frame error
scores like this).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from ..synth.render import FOV_DEG, MAX_DISTANCE, project_points
from ..voxels import decode_binvox


def voxel_silhouette(occ: np.ndarray, side: float, line: str, size: int = 137,
                     n: int = 3) -> np.ndarray:
    """Pixels covered by the occupied voxels (sampled densely; interior cells add nothing)."""
    idx = np.argwhere(occ & ~ndimage.binary_erosion(occ))
    offs = (np.arange(n) + 0.5) / n
    sub = np.stack(np.meshgrid(offs, offs, offs, indexing="ij"), -1).reshape(-1, 3)
    res = occ.shape[0]
    pts = (-side / 2 + side / res * (idx[:, None, :] + sub[None])).reshape(-1, 3)
    uv = np.floor(project_points(pts, line, size)).astype(int)
    keep = ((uv >= 0) & (uv < size)).all(1)
    mask = np.zeros((size, size), bool)
    mask[uv[keep, 1], uv[keep, 0]] = True
    return ndimage.binary_closing(mask) | mask


def tolerant_iou(alpha: np.ndarray, vox: np.ndarray, tol: int) -> float:
    """IoU counting only disagreements farther than ``tol`` pixels from the other mask."""
    da = ndimage.binary_dilation(alpha, iterations=tol)
    dv = ndimage.binary_dilation(vox, iterations=tol)
    err = (alpha & ~dv).sum() + (vox & ~da).sum()
    return 1.0 - err / max(1, (alpha | vox).sum())


def silhouette_scores(rendering_dir: str | Path, binvox: str | Path,
                      alpha_min: int = 128) -> np.ndarray:
    """(views, 3) array of (tolerant, raw, turned) IoU for one model."""
    rdir = Path(rendering_dir)
    b = decode_binvox(Path(binvox).read_bytes())
    lines = (rdir / "rendering_metadata.txt").read_text().splitlines()
    names = (rdir / "renderings.txt").read_text().split()
    out = []
    for name, line in zip(names, lines, strict=False):
        alpha = np.asarray(Image.open(rdir / name))[..., 3] >= alpha_min
        ratio = float(line.split()[3])
        vpx = b.scale / 32 * 68.5 / np.tan(np.radians(FOV_DEG / 2)) / (ratio * MAX_DISTANCE)
        tol = int(np.ceil(vpx))
        sil = voxel_silhouette(b.occupancy, b.scale, line)
        raw = (alpha & sil).sum() / max(1, (alpha | sil).sum())
        az, *rest = line.split()
        turned = " ".join([str(float(az) + 90), *rest])
        out.append((tolerant_iou(alpha, sil, tol), raw,
                    tolerant_iou(alpha, voxel_silhouette(b.occupancy, b.scale, turned), tol)))
    return np.array(out)
