"""Does a photo reach the network as a rendering does? Framing and accuracy, both paths.

    python benchmarks/framing.py --data DIR [--split test] [--limit N] [--views 5]
                                 [--weights W [--weights W2 ...]]

Framing: a rendering is framed by its camera (the object box's centre offset from the
canvas centre and its fill, the longer box side over the canvas side); a photo by the
photo rule of ``models.data.framing`` (centred, fill 0.6). Printed: the renderings' own
offsets and fills, and the mask IoU of each rendering's test input against the same
rendering framed as a photo (1.0 = identical framing).

Accuracy (``--weights``): mean IoU@0.4 at 1..K views of each test model's K random views
(the seeds ``r2n2 eval`` uses) fed two ways: as renderings (the dataset's test transform)
and as photos (each rendering composited on plain grey 240, its alpha dropped, then
``images.prepare_photo`` finds, frames and crops the object as for a user's photo).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import numpy as np
from PIL import Image

from r2n2_viewer.images import PrepSettings, prepare_photo
from r2n2_viewer.models.config import CROP_OFFSET, VIEW_SIZE
from r2n2_viewer.models.data.augment import composite, preprocess
from r2n2_viewer.models.data.framing import frame_stats, reframe
from r2n2_viewer.models.data.shapenet import build_index, dataset_categories, load_png
from r2n2_viewer.models.evaluate import eval_view_ids, evaluate_items, split_records
from r2n2_viewer.models.voxels import iou, read_binvox
from r2n2_viewer.weights import load_model

CROP = slice(CROP_OFFSET, CROP_OFFSET + VIEW_SIZE)


def framing_figures(root: str, split: str, limit: int | None) -> None:
    stats, ious = [], []
    for m in split_records(root, split, limit):
        for name in m.views:
            rgba = load_png(m.rendering_dir / name)
            s = frame_stats(rgba[..., 3])
            if s is None:
                continue
            stats.append(s)
            own = rgba[CROP, CROP, 3] > 0
            photo = reframe(rgba)[CROP, CROP, 3] > 0
            ious.append(iou(own[None], photo[None]))  # one 1-deep grid each
    a = np.asarray(stats)
    print(f"{len(a)} renderings of {root} ({split})")
    print(f"  object centre below the canvas centre: {a[:, 1].mean():+.1f} +- {a[:, 1].std():.1f}"
          f" px; right of it: {a[:, 0].mean():+.1f} +- {a[:, 0].std():.1f} px (photos: 0, 0)")
    print(f"  fill: mean {a[:, 2].mean():.2f}, 5-95 % {np.percentile(a[:, 2], 5):.2f}-"
          f"{np.percentile(a[:, 2], 95):.2f} (photos: 0.60)")
    print(f"  mask IoU, rendering's own input vs framed as a photo: {np.mean(ious):.3f} "
          f"(min {np.min(ious):.3f})")


def _items(root: str, split: str, views: int, limit: int | None, as_photo: bool
           ) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    names = dataset_categories(root)
    settings = PrepSettings(segment="plain")
    for m in split_records(root, split, limit):
        imgs = []
        for i in eval_view_ids(m, views, 0):
            rgba = load_png(m.rendering_dir / m.views[i])
            if as_photo:
                rgb = np.rint(composite(rgba, (240, 240, 240)) * 255).astype(np.uint8)
                imgs.append(prepare_photo(Image.fromarray(rgb, "RGB"), settings).view)
            else:
                imgs.append(preprocess(rgba, train=False))
        yield names.get(m.synset, m.synset), np.stack(imgs), read_binvox(m.voxel_path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=None, help="models (default: all)")
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--weights", action="append", default=[],
                    help="also measure IoU both ways with these weights (repeatable)")
    args = ap.parse_args()
    if not build_index(args.data, args.split):
        raise SystemExit(f"no models in the {args.split} split of {args.data}")
    framing_figures(args.data, args.split, args.limit)
    for w in args.weights:
        net, _ = load_model(w)
        print(f"\n{w}: mean IoU@0.4 at 1..{args.views} views")
        for label, as_photo in (("as renderings", False), ("as photos", True)):
            r = evaluate_items(net, _items(args.data, args.split, args.views, args.limit,
                                           as_photo), max_views=args.views, progress=False)
            row = " ".join(f"{v:.3f}" for v in r["overall"].values())
            print(f"  {label:<14} {row}")


if __name__ == "__main__":
    main()
