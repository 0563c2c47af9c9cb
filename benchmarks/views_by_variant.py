"""Where do extra views help? Mean IoU for 1..K views on a synth test split, grouped by
whether the object has a part on one side only (the generator's ``asymmetric`` tag in
``synth.json``) — per category and overall. Same protocol and seed as `r2n2 eval`.

    python benchmarks/views_by_variant.py --data DATA [--weights default] [--limit N]
        [--per-category] [--mirror]

``--mirror`` adds, for one-sided objects, the IoU against the ground truth mirrored
left-right (the generator's x axis, voxel axis 0): a model that knows which side the
part is on scores lower there than against the truth; equal rows mean it guesses.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from r2n2_viewer.models.data.shapenet import dataset_categories
from r2n2_viewer.models.evaluate import evaluate_items, iter_split
from r2n2_viewer.weights import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="a dataset written by `r2n2 synth`")
    ap.add_argument("--weights", default="default")
    ap.add_argument("--max-views", type=int, default=5)
    ap.add_argument("--limit", type=int, help="at most this many test models")
    ap.add_argument("--per-category", action="store_true", help="also split each category")
    ap.add_argument("--mirror", action="store_true",
                    help="also score one-sided objects against their mirrored ground truth")
    args = ap.parse_args()
    tags_file = Path(args.data) / "synth.json"
    if not tags_file.is_file():
        raise SystemExit(f"{tags_file} not found: this needs a dataset written by `r2n2 synth`")
    objects = json.loads(tags_file.read_text())["objects"]
    asym = {o["id"]: bool(o.get("asymmetric")) for o in objects}
    names = dataset_categories(args.data)

    def group(rec) -> str:
        kind = "one-sided part" if asym.get(rec.model_id) else "symmetric"
        return f"{names.get(rec.synset, rec.synset)}: {kind}" if args.per_category else kind

    net, _ = load_model(args.weights, "cpu")
    items = iter_split(args.data, "test", args.max_views, 0, args.limit, group=group)
    if args.mirror:
        items = _with_mirrored_truth(items)
    res = evaluate_items(net, items, args.max_views, progress=False)
    k = args.max_views
    print(f"{'objects':<34}{'n':>5}" + "".join(f"{i:>7}" for i in range(1, k + 1)) + "   gain")
    for row, curve in res["per_category"].items():
        n = res["models_per_category"][row]
        print(f"{row:<34}{n:>5}" + "".join(f"{curve[str(i)]:>7.3f}" for i in range(1, k + 1))
              + f"{curve[str(k)] - curve['1']:>+7.3f}")


def _with_mirrored_truth(items):
    """Each item, then for one-sided objects the same views against the x-mirrored truth."""
    for row, images, voxels in items:
        yield row, images, voxels
        if "one-sided" in row:
            yield f"{row} vs mirror", images, np.ascontiguousarray(voxels[::-1])


if __name__ == "__main__":
    main()
