"""Render a labelled contact sheet of the procedural dataset: a few views of a few objects
of every category (default output: docs/synth_contact_sheet.png).

    python benchmarks/synth_contact_sheet.py [--out docs/synth_contact_sheet.png] [--seed 0]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from r2n2_viewer.models.data.categories import CATEGORIES
from r2n2_viewer.models.synth.generate import RENDER_DIR, generate, model_id


def contact_sheet(out: Path, seed: int = 0, objects: int = 3, views: int = 3,
                  tile: int = 96) -> None:
    """Generate ``objects`` per category and tile ``views`` views of each, one row per category."""
    label_w = 110
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, objects, views=views, seed=seed, workers=2, progress=False)
        synsets = sorted(CATEGORIES)
        sheet = Image.new("RGB", (label_w + objects * views * tile + (objects - 1) * 8,
                                  len(synsets) * tile), "white")
        draw = ImageDraw.Draw(sheet)
        for row, syn in enumerate(synsets):
            draw.text((6, row * tile + tile // 2 - 6), CATEGORIES[syn], fill="black")
            for k in range(objects):
                rdir = Path(tmp) / RENDER_DIR / syn / model_id(seed, syn, k) / "rendering"
                for v in range(views):
                    rgba = Image.open(rdir / f"{v:02d}.png").convert("RGBA")
                    bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    img = Image.alpha_composite(bg, rgba).convert("RGB").resize((tile, tile))
                    x = label_w + (k * views + v) * tile + k * 8
                    sheet.paste(img, (x, row * tile))
        # 8-bit palette keeps the PNG small
        sheet = sheet.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=0)
        out.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/synth_contact_sheet.png"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--objects", type=int, default=3)
    ap.add_argument("--views", type=int, default=3)
    args = ap.parse_args()
    contact_sheet(args.out, args.seed, args.objects, args.views)


if __name__ == "__main__":
    main()
