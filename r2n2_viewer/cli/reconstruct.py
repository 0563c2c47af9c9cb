"""``r2n2 reconstruct``: pictures in, voxel files out."""

from __future__ import annotations

import argparse

from .common import CLIError, add_command, model_options

# images.SEGMENT_MODES, kept here so that --help needs no heavy import
SEGMENT_CHOICES = ("auto", "plain", "hybrid", "learned", "grabcut", "none")


def register(sub) -> None:
    from ..export import FORMATS

    per_step = [f for f in FORMATS.values() if f.cli]
    p = add_command(
        sub, "reconstruct", run=run, parents=(model_options(),),
        help="reconstruct an object's voxels from one or more pictures of it",
        description="Feed the pictures to the network one view at a time (one recurrent "
        "step each) and write the reconstruction after the last view, or after every view "
        "with --every-step (step_01.*, step_02.*, ...). Files are in a unit cube centred "
        "at the origin with +y up (see r2n2_viewer.export).\n\n"
        "--out holds one reconstruction: files an earlier run wrote there under these "
        "names (reconstruction.*, step_NN.*) and this run does not write are removed once "
        "the new files are in place; other files are left alone.",
    )
    p.add_argument("images", nargs="+", metavar="IMG",
                   help="views of one object, in order (PNG, JPEG, WebP, BMP, TIFF, ...)")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--every-step", action="store_true",
                   help="write step_NN.* after every view, not only reconstruction.*")
    p.add_argument("--format", default="binvox,obj",
                   help="comma-separated: " + ", ".join(f"{f.name} ({f.label})"
                                                         for f in per_step))
    add_segment_option(p)
    p.add_argument("--save-inputs", metavar="DIR",
                   help="also write each view's exact 127x127 network input as "
                   "DIR/input_NN.png")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_segment_option(p) -> None:
    """--segment: how a photo's object is separated from its background."""
    p.add_argument("--segment", choices=SEGMENT_CHOICES, default="auto",
                   help="plain: the border's colour is the background; hybrid: GrabCut "
                   "seeded by the bundled foreground segmenter and by colour edges, for "
                   "cluttered backgrounds (best on our benchmark); grabcut: colour models + "
                   "graph cut from colour-edge seeds only; learned: the segmenter alone "
                   "(a small network; cheapest, least accurate); none: the whole picture is "
                   "the object; auto: plain when the border is uniform, else hybrid. "
                   "Pictures with transparency use their alpha")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from .. import export
    from ..images import load_view
    from ..session import ReconstructionSession

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    known = [name for name, f in export.FORMATS.items() if f.cli]
    unknown = sorted(set(formats) - set(known))
    if unknown or not formats:
        raise CLIError(f"unknown --format {','.join(unknown) or '(none)'}; "
                       f"choose from {', '.join(known)}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} exists and is not a folder")
    inputs = Path(args.save_inputs) if args.save_inputs else None
    if inputs is not None and inputs.exists() and not inputs.is_dir():
        raise CLIError(f"--save-inputs {inputs} exists and is not a folder")
    # every picture checked before any work
    views = [load_view(path, segment=args.segment) for path in args.images]
    if inputs is not None:
        try:
            inputs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CLIError(f"cannot create the --save-inputs folder {inputs}: "
                           f"{exc.strerror}") from None
        for i, view in enumerate(views, 1):
            export.export_png(inputs / f"input_{i:02d}.png", view)
    session = ReconstructionSession(args.weights, device=args.device)
    n = len(views)
    bar = tqdm(total=n, unit="view", disable=args.no_progress, desc="reconstruct")
    for i, (path, view) in enumerate(zip(args.images, views, strict=True), 1):
        step = session.add_view(view, label=Path(path).name)
        voxels = int((step.probabilities >= args.threshold).sum())
        bar.update(1)
        tqdm.write(f"view {i}/{n} {Path(path).name}: {step.ms:.1f} ms, "
                   f"{voxels} voxels >= {args.threshold:g}")
    bar.close()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create the output folder {out}: {exc.strerror}") from None
    written = export.write_reconstruction(out, session.steps, formats, args.threshold,
                                          every_step=args.every_step, remove_stale=True)
    print(f"model {session.model_name} on {session.torch_device}; wrote {len(written)} files "
          f"to {out}: {', '.join(p.name for p in written)}")
    return 0
