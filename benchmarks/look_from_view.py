"""Look from view k: how well the 3D view, with the camera of a demo view, puts the truth
and the reconstruction over that view's alpha mask; and the cost of seen-vs-inferred.

For every bundled demo and view k, the voxel cubes are drawn off-screen (137x137, the
rendering size) exactly as the viewer places its camera (render.set_camera with
render.camera_for("view:k")), and the covered pixels are compared with the picture's
alpha mask: raw pixel IoU, and the tolerant IoU of models.sh3d.check (disagreements
within 2 pixels, about one projected voxel edge, not counted). "recon" is the bundled
model's reconstruction after all views (P >= 0.4). Last, the time of one view's first-hit
ray cast (137^2 rays) and of the seen split of a 5-view step.

    python benchmarks/look_from_view.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from PIL import Image


def main() -> None:
    from r2n2_viewer.cameras import view_cameras
    from r2n2_viewer.demo import list_demos
    from r2n2_viewer.images import load_view
    from r2n2_viewer.models.sh3d.check import tolerant_iou
    from r2n2_viewer.models.voxels import read_binvox
    from r2n2_viewer.render import silhouette_from_camera
    from r2n2_viewer.session import ReconstructionSession
    from r2n2_viewer.visibility import seen_and_inferred, visible_from

    session = ReconstructionSession("default", device="cpu")
    rows = {"truth": [], "recon": []}
    print(f"{'demo':16s} {'view':>4s}  truth raw/tol   recon raw/tol")
    for demo in list_demos():
        cams = view_cameras(demo.images)
        truth = read_binvox(demo.voxels_path)
        session.reset()
        for path in demo.images:
            step = session.add_view(load_view(path), path.name)
        recon = step.probabilities >= 0.4
        for k, image in enumerate(demo.images, 1):
            alpha = np.asarray(Image.open(image))[..., 3] >= 128
            out = []
            for key, occ in (("truth", truth), ("recon", recon)):
                sil = silhouette_from_camera(occ, f"view:{k}", cams)
                raw = (alpha & sil).sum() / (alpha | sil).sum()
                tol = tolerant_iou(alpha, sil, 2)
                rows[key].append((raw, tol))
                out.append(f"{raw:.3f}/{tol:.3f}")
            print(f"{demo.name:16s} {k:4d}  {out[0]:13s}  {out[1]}")
    for key, vals in rows.items():
        raw, tol = np.array(vals).T
        print(f"{key}: mean raw IoU {raw.mean():.3f} (min {raw.min():.3f}), "
              f"mean tolerant IoU {tol.mean():.3f} (min {tol.min():.3f}) over {len(raw)} views")
    demo = list_demos()[0]
    cams = view_cameras(demo.images)
    truth = read_binvox(demo.voxels_path)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        visible_from(truth, cams[0].line, cams[0].box)
        times.append(time.perf_counter() - t)
    print(f"one view's ray cast (137^2 rays): median {1e3 * statistics.median(times):.0f} ms")
    times = []
    for _ in range(3):
        t = time.perf_counter()
        split = seen_and_inferred(truth.astype(np.float32), cams, 0.5)
        times.append(time.perf_counter() - t)
    print(f"seen split of a 5-view step: median {1e3 * statistics.median(times):.0f} ms "
          f"({split.counts['seen']} seen, {split.counts['inferred']} inferred of the truth "
          f"of {demo.name})")


if __name__ == "__main__":
    main()
