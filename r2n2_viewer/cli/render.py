"""``r2n2 render``: every step to PNG pictures and a GIF, without a window."""

from __future__ import annotations

import argparse

from .common import add_command, model_options
from .reconstruct import add_segment_option


def register(sub) -> None:
    p = add_command(
        sub, "render", run=run, parents=(model_options(),),
        help="render every step to PNGs and a GIF, without a window",
        description="Reconstruct from the pictures one view at a time and render each step "
        "off-screen: step_01.png ... and refinement.gif.",
    )
    p.add_argument("images", nargs="+", metavar="IMG", help="views of one object, in order")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--mode", choices=["cubes", "smooth", "points"], default="cubes",
                   help="how voxels are drawn")
    p.add_argument("--changes", action="store_true",
                   help="colour the voxels that appeared; ghosts for those that disappeared")
    p.add_argument("--size", default="800x600", help="image size WxH")
    add_segment_option(p)


def run(args: argparse.Namespace) -> int:
    from ..render import parse_size, render_images

    written = render_images(args.images, args.out, weights=args.weights,
                            threshold=args.threshold, mode=args.mode, changes=args.changes,
                            size=parse_size(args.size), device=args.device,
                            segment=args.segment)
    for path in written:
        print(path)
    return 0
