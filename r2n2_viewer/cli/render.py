"""``r2n2 render``: every step to PNG pictures and a GIF, without a window."""

from __future__ import annotations

import argparse

from ..layers import MODES
from .common import CLIError, add_command, model_options
from .reconstruct import add_segment_option


def band(text: str) -> tuple[float, float]:
    """'0.2,0.6' -> (0.2, 0.6): the uncertain band."""
    from ..analysis import check_band

    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a band looks like 0.2,0.6, got {text!r}") from None
    try:
        return check_band((lo, hi))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def camera(text: str) -> str:
    """A camera choice (default, a preset, view:K)."""
    from ..cameras import check_camera

    try:
        return check_camera(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub) -> None:
    p = add_command(
        sub, "render", run=run, parents=(model_options(),),
        help="render every step to PNGs and a GIF, without a window",
        description="Reconstruct from the pictures one view at a time and render each step "
        "off-screen: step_01.png ... and refinement.gif.",
    )
    p.add_argument("images", nargs="+", metavar="IMG", help="views of one object, in order")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--mode", choices=list(MODES), default="cubes",
                   help="how voxels are drawn: uncertainty colours by the entropy of P, "
                   "errors colours false positives / negatives (needs --truth), seen colours "
                   "the voxels seen by the views so far apart from the inferred ones (needs "
                   "views with known cameras: a demo's or a dataset model's renderings)")
    p.add_argument("--truth", metavar="FILE.binvox",
                   help="ground truth: adds IoU and the errors mode")
    p.add_argument("--band", type=band, metavar="LOW,HIGH",
                   help="uncertainty mode: only the voxels with LOW < P < HIGH, e.g. 0.2,0.6")
    p.add_argument("--changes", action="store_true",
                   help="colour the voxels that appeared; ghosts for those that disappeared")
    p.add_argument("--camera", type=camera, default="default",
                   help="default, front, side, top, iso, or view:K to look from view K's "
                   "camera (when known)")
    p.add_argument("--size", default="800x600", help="image size WxH")
    add_segment_option(p)


def run(args: argparse.Namespace) -> int:
    from ..render import parse_size, render_images

    if args.mode == "errors" and not args.truth:
        raise CLIError("--mode errors needs the ground truth: add --truth FILE.binvox")
    written = render_images(args.images, args.out, weights=args.weights,
                            threshold=args.threshold, mode=args.mode, changes=args.changes,
                            size=parse_size(args.size), device=args.device,
                            segment=args.segment, truth=args.truth, band=args.band,
                            camera=args.camera)
    for path in written:
        print(path)
    return 0
