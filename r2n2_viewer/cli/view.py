"""``r2n2 view``: the viewer window (``r2n2-viewer`` is the same command)."""

from __future__ import annotations

import argparse

from .common import CLIError, add_command, model_options


def register(sub) -> None:
    p = add_command(
        sub, "view", run=run, parents=(model_options(threshold_option=False),),
        help="open the viewer window",
        description="See the network refine its reconstruction view by view. Drop photos "
        "of one object into the window, one step each.",
    )
    p.add_argument("images", nargs="*", metavar="IMG", help="views to add at start, in order")
    p.add_argument("--demo", metavar="NAME",
                   help="start with this bundled demo sequence: a category (chair, lamp, "
                   "sofa, table) or a demo's folder name")


def run(args: argparse.Namespace) -> int:
    demo = None
    if args.demo:
        from ..demo import find_demo

        try:
            demo = find_demo(args.demo).name
        except LookupError as exc:
            raise CLIError(str(exc)) from None
    from ..gui.app import run as run_viewer

    return run_viewer(args.images, weights=args.weights, device=args.device, demo=demo)
