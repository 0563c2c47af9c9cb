"""``r2n2 pack`` / ``r2n2 unpack``: a dataset folder as one small file and back."""

from __future__ import annotations

import argparse

from .common import CLIError, add_command, positive_int


def register(sub) -> None:
    p = add_command(
        sub, "pack", run=run_pack,
        help="pack a dataset folder into one small file (to move it to a training machine)",
        description="Write every usable model of a ShapeNet-format dataset into one .npz "
        "file: lossless WebP renderings (the first --views of each model), the binvox "
        "files and the category names. `r2n2 unpack` restores the folder layout.",
    )
    p.add_argument("data", help="dataset root (ShapeNetRendering + ShapeNetVox32)")
    p.add_argument("-o", "--out", required=True, help="packed file to write (.npz)")
    p.add_argument("--views", type=positive_int, default=8, help="views kept per model")
    p.add_argument("--workers", type=positive_int, default=2, help="parallel processes")

    u = add_command(
        sub, "unpack", run=run_unpack,
        help="write a packed dataset back as a ShapeNet-format folder",
        description="Restore the ShapeNetRendering / ShapeNetVox32 layout (PNG renderings, "
        "pixel-identical to the packed source) from a file written by `r2n2 pack`.",
    )
    u.add_argument("src", help="packed file (.npz)")
    u.add_argument("-o", "--out", required=True, help="new, empty dataset folder")
    u.add_argument("--workers", type=positive_int, default=2, help="parallel processes")


def run_pack(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..models.data.pack import pack

    if not Path(args.data).is_dir():
        raise CLIError(f"{args.data} is not a folder; pass a dataset root")
    s = pack(args.data, args.out, views=args.views, workers=args.workers)
    print(f"packed {s['models']} models, {s['views']} views into {args.out} "
          f"({s['bytes'] / 2**20:.1f} MiB)")
    return 0


def run_unpack(args: argparse.Namespace) -> int:
    from ..models.data.pack import unpack

    n = unpack(args.src, args.out, workers=args.workers)
    print(f"unpacked {n} models into {args.out}")
    return 0
