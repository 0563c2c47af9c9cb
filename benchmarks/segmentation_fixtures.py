"""The test composites in tests/data/segmentation: test-split objects on held-out wallpapers.

Each: a rendered view (137x137 RGBA, test split) enlarged 1.5x, pasted near the centre of
a random 480x360 crop of a held-out wallpaper (``models.data.composites.wallpaper_split``),
JPEG q90 (``NN.jpg``), with its true mask (the rendering's alpha > 127, ``NN_mask.png``).
The picks are the first --count of a seeded draw, not chosen by any method's result.
Sources and licences are written to ``sources.csv``.

    python benchmarks/segmentation_fixtures.py --data SYNTH --data SH3D \\
        --backgrounds BGDIR --out tests/data/segmentation [--count 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image

from r2n2_viewer.models.data.composites import wallpapers
from r2n2_viewer.models.data.shapenet import build_index

PHOTO = (480, 360)
ENLARGE = 1.5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", required=True)
    ap.add_argument("--backgrounds", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    walls = wallpapers(args.backgrounds, "held-out")
    meta = {}
    with open(Path(args.backgrounds) / "backgrounds.csv", newline="") as f:
        for row in csv.DictReader(f):
            meta[row["file"]] = row
    pools = [build_index(d, "test") for d in args.data]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for k in range(args.count):
        root, pool = args.data[k % len(pools)], pools[k % len(pools)]
        rec = pool[int(rng.integers(len(pool)))]
        view = rec.views[int(rng.integers(len(rec.views)))]
        rgba = Image.open(rec.rendering_dir / view).convert("RGBA")
        wall = walls[int(rng.integers(len(walls)))]
        bg = Image.open(wall).convert("RGB")
        r = max(PHOTO[0] / bg.width, PHOTO[1] / bg.height, 0.5)
        bg = bg.resize((round(bg.width * r + 0.5), round(bg.height * r + 0.5)),
                       Image.Resampling.BICUBIC)
        x = int(rng.integers(0, bg.width - PHOTO[0] + 1))
        y = int(rng.integers(0, bg.height - PHOTO[1] + 1))
        photo = bg.crop((x, y, x + PHOTO[0], y + PHOTO[1]))
        size = (round(rgba.width * ENLARGE), round(rgba.height * ENLARGE))
        big = rgba.resize(size, Image.Resampling.BICUBIC)
        px = (PHOTO[0] - size[0]) // 2 + int(rng.integers(-PHOTO[0] // 8, PHOTO[0] // 8))
        py = (PHOTO[1] - size[1]) // 2 + int(rng.integers(-PHOTO[1] // 10, PHOTO[1] // 10))
        photo.paste(big, (px, py), big)
        truth = Image.new("1", PHOTO, 0)
        truth.paste(big.getchannel("A").point(lambda v: 255 if v > 127 else 0).convert("1"),
                    (px, py))
        buf = io.BytesIO()
        photo.save(buf, format="JPEG", quality=90)
        (out / f"{k:02d}.jpg").write_bytes(buf.getvalue())
        truth.save(out / f"{k:02d}_mask.png", optimize=True)
        m = meta.get(wall.name, {})
        rows.append({"file": f"{k:02d}.jpg", "dataset": Path(root).name,
                     "object": f"{rec.synset}/{rec.model_id}/{view}", "wallpaper": wall.name,
                     "wallpaper_copyright": m.get("copyright", ""),
                     "wallpaper_license": m.get("license", "")})
    with open(out / "sources.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} composites to {out}")


if __name__ == "__main__":
    main()
