"""``r2n2 synth``: a procedural ShapeNet-format dataset."""

from __future__ import annotations

import argparse

from .common import CLIError, add_command, positive_int


def register(sub) -> None:
    p = add_command(
        sub, "synth", run=run,
        help="generate a procedural ShapeNet-format dataset (renderings + voxels)",
        description="Generate procedural objects of the 13 categories in the ShapeNet "
        "layout: DIR/ShapeNetRendering (137x137 RGBA views + metadata), DIR/ShapeNetVox32 "
        "(32^3 binvox) and DIR/categories.json. Deterministic for a seed; objects already "
        "complete in DIR are skipped, so an interrupted run can be resumed.",
    )
    p.add_argument("--out", required=True, help="dataset root to write")
    p.add_argument("--models-per-category", type=positive_int, required=True, metavar="N",
                   help="objects per category")
    p.add_argument("--views", type=int, default=24, help="renderings per object (1..99)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the whole dataset")
    p.add_argument("--categories", help="comma-separated names or synset ids (default: all 13)")
    p.add_argument("--workers", type=positive_int, default=2, help="parallel render processes")


def run(args: argparse.Namespace) -> int:
    from ..models.data.categories import synsets_for
    from ..models.synth.generate import generate

    if not 1 <= args.views <= 99:
        raise CLIError("--views must be 1..99")
    cats = [c for c in args.categories.split(",") if c.strip()] if args.categories else None
    synsets = synsets_for(cats)
    s = generate(args.out, args.models_per_category, args.views, args.seed, synsets,
                 args.workers)
    print(f"wrote {s['generated']} objects ({s['skipped']} already present) to {args.out} "
          f"in {s['seconds']:.1f} s ({s['objects_per_second']:.2f} objects/s)")
    return 0
