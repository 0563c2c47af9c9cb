"""Pictures of a model's worst reconstructions on a split: the views it saw, what it built.

    python benchmarks/failure_sheet.py --data DIR [--split test] [--weights W] [--worst 4]
                                       [--views 5] [--out failures.png]

Each model of the split gets the K views ``r2n2 eval`` gives it (same seeds); the
``--worst`` models by IoU@0.4 after K views (one per category first) get a row: the K
views, then the reconstruction after K views drawn in the viewer's errors mode (grey =
right, orange = false positive, blue = false negative), labelled with the category, the
piece's name and creator (from ``sh3d.json`` when present) and its IoU after 1 and K views.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from r2n2_viewer.models.data.shapenet import dataset_categories
from r2n2_viewer.models.evaluate import eval_view_ids, split_records
from r2n2_viewer.models.voxels import iou, read_binvox
from r2n2_viewer.render import render_images
from r2n2_viewer.session import ReconstructionSession

TILE, SHOT = (110, 110), (260, 195)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--weights", default="default")
    ap.add_argument("--worst", type=int, default=4)
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--out", default="failures.png")
    args = ap.parse_args()
    root = Path(args.data)
    names = dataset_categories(root)
    meta = {}
    if (root / "sh3d.json").is_file():
        meta = {o["id"]: o for o in json.loads((root / "sh3d.json").read_text())["objects"]}
    session = ReconstructionSession(args.weights, device="cpu")
    scored = []
    for m in split_records(root, args.split, None):
        if len(m.views) < args.views:
            continue
        paths = [m.rendering_dir / m.views[i] for i in eval_view_ids(m, args.views, 0)]
        truth = read_binvox(m.voxel_path)
        session.reset()
        curve = []
        for p in paths:
            step = session.add_view(str(p), p.name)
            curve.append(iou(step.probabilities >= 0.4, truth))
        scored.append((curve[-1], names.get(m.synset, m.synset), m, paths, curve))
    scored.sort(key=lambda s: s[0])
    chosen, seen = [], set()
    for s in scored:  # one per category first, then the rest by IoU
        if s[1] not in seen and len(chosen) < args.worst:
            chosen.append(s)
            seen.add(s[1])
    chosen += [s for s in scored if s not in chosen][: args.worst - len(chosen)]
    width = TILE[0] * args.views + SHOT[0]
    sheet = Image.new("RGB", (width, len(chosen) * (SHOT[1] + 22)), "white")
    draw = ImageDraw.Draw(sheet)
    with tempfile.TemporaryDirectory() as tmp:
        for row, (_, cat, m, paths, curve) in enumerate(chosen):
            y = row * (SHOT[1] + 22)
            o = meta.get(m.model_id, {})
            label = f"{cat}: {o.get('name', m.model_id[:8])}"
            if o.get("creator"):
                label += f" by {o['creator']} ({o.get('license', '')})"
            label += f"  IoU {curve[0]:.2f} after 1 view, {curve[-1]:.2f} after {len(curve)}"
            draw.text((4, y + 4), label, fill="black")
            for k, p in enumerate(paths):
                tile = Image.open(p).convert("RGBA")
                bg = Image.new("RGBA", tile.size, (240, 240, 240, 255))
                tile = Image.alpha_composite(bg, tile).convert("RGB").resize(TILE)
                sheet.paste(tile, (k * TILE[0], y + 22 + (SHOT[1] - TILE[1]) // 2))
            out = Path(tmp) / f"r{row}"
            render_images([str(p) for p in paths], out, weights=args.weights, mode="errors",
                          truth=m.voxel_path, size=(640, 480), device="cpu")
            shot = Image.open(out / f"step_{len(paths):02d}.png").convert("RGB").resize(SHOT)
            sheet.paste(shot, (TILE[0] * args.views, y + 22))
    sheet.save(args.out, optimize=True)
    for s in chosen:
        print(f"{s[1]:<10} {s[2].model_id[:8]}  IoU " + " ".join(f"{v:.3f}" for v in s[4]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
