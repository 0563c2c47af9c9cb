"""The `r2n2` command line: view, reconstruct, render, convert, synth, train, eval, bench.

Each sub-command lives in its own small function pair ``_add_<name>`` / ``_run_<name>``
so that the heavy logic stays in the modules it belongs to.
"""

from __future__ import annotations

import argparse
import sys


class CLIError(Exception):
    """A user mistake: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="r2n2", description="3D-R2N2 reconstruction, training and viewing."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


COMMANDS: list = []  # functions (subparsers) -> None, appended below


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("r2n2: interrupted", file=sys.stderr)
        return 130
    except (CLIError, OSError, ValueError) as exc:
        print(f"r2n2 {args.command}: error: {exc}", file=sys.stderr)
        return 2


def viewer_main() -> int:
    return main(["view", *sys.argv[1:]])


# --- reconstruct -------------------------------------------------------------------
_RECON_FORMATS = {"binvox": ".binvox", "obj": ".obj", "smooth-obj": "_smooth.obj", "npz": ".npz"}


def _add_reconstruct(sub) -> None:
    p = sub.add_parser(
        "reconstruct",
        help="reconstruct an object's voxels from one or more pictures of it",
        description="Feed the pictures to the network one view at a time (one recurrent "
        "step each) and write the reconstruction after the last view, or after every view "
        "with --every-step (step_01.*, step_02.*, ...). Files are in a unit cube centred "
        "at the origin with +y up (see r2n2_viewer.export).",
    )
    p.add_argument("images", nargs="+", metavar="IMG",
                   help="views of one object, in order (PNG, JPEG, WebP, BMP, TIFF, ...)")
    p.add_argument("--weights", default="default",
                   help="checkpoint (.safetensors), official .npy, or 'default' (bundled model)")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--every-step", action="store_true",
                   help="write step_NN.* after every view, not only reconstruction.*")
    p.add_argument("--format", default="binvox,obj",
                   help="comma-separated: binvox, obj (voxel cubes), smooth-obj (marching "
                   "cubes), npz (every step's probabilities as step1..stepK); "
                   "default: binvox,obj")
    p.add_argument("--threshold", type=float, default=0.4,
                   help="P(occupied) at or above which a voxel is solid (default 0.4)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_reconstruct)


def _run_reconstruct(args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from . import export
    from .images import load_view
    from .session import ReconstructionSession

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(_RECON_FORMATS))
    if unknown or not formats:
        raise CLIError(f"unknown --format {','.join(unknown) or '(none)'}; "
                       f"choose from {', '.join(_RECON_FORMATS)}")
    if not 0.0 < args.threshold < 1.0:
        raise CLIError("--threshold must lie strictly between 0 and 1")
    views = [load_view(path) for path in args.images]  # every picture checked before any work
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} exists and is not a folder")
    session = ReconstructionSession(args.weights, device=args.device)
    out.mkdir(parents=True, exist_ok=True)
    writers = {"binvox": export.export_binvox, "obj": export.export_obj_cubes,
               "smooth-obj": export.export_obj_smooth}
    written: list[Path] = []
    n = len(views)
    bar = tqdm(total=n, unit="view", disable=args.no_progress, desc="reconstruct")
    for i, (path, view) in enumerate(zip(args.images, views, strict=True), 1):
        step = session.add_view(view, label=Path(path).name)
        voxels = int((step.probabilities >= args.threshold).sum())
        bar.update(1)
        tqdm.write(f"view {i}/{n} {Path(path).name}: {step.ms:.1f} ms, "
                   f"{voxels} voxels >= {args.threshold:g}")
        if args.every_step or i == n:
            stem = f"step_{i:02d}" if args.every_step else "reconstruction"
            for fmt in formats:
                if fmt in writers:
                    target = out / f"{stem}{_RECON_FORMATS[fmt]}"
                    writers[fmt](target, step.probabilities, args.threshold)
                    written.append(target)
    bar.close()
    if "npz" in formats:
        target = out / "reconstruction.npz"
        export.export_npz(target, session.steps)
        written.append(target)
    print(f"model {session.model_name} on {session.torch_device}; wrote {len(written)} files "
          f"to {out}: {', '.join(p.name for p in written)}")
    return 0


COMMANDS.append(_add_reconstruct)



# --- train -------------------------------------------------------------------------
def _add_train(sub) -> None:
    from .models.train import TrainConfig

    d = TrainConfig(data="", out="")
    p = sub.add_parser(
        "train",
        help="train a network on a ShapeNet-format dataset",
        description="Train on <data>/ShapeNetRendering + ShapeNetVox32 (the layout "
        "`r2n2 synth` writes). Works under `torchrun --nproc_per_node N`. A --recipe sets "
        "every option below; options given explicitly override it.",
    )
    S = argparse.SUPPRESS  # unset options fall back to the recipe, then to the defaults

    def opt(flag: str, help: str, **kw) -> None:
        p.add_argument(flag, default=S, help=help, **kw)

    p.add_argument("--data", required=True, help="dataset root")
    p.add_argument("--out", required=True, help="run folder (checkpoints, log.csv)")
    p.add_argument("--recipe", help="named recipe: 'default' reproduces the bundled model")
    opt("--preset", f"network preset (default: {d.preset})")
    opt("--iterations", f"iteration budget (default: {d.iterations})", type=int)
    opt("--batch-size", f"models per batch (default: {d.batch_size})", type=int)
    opt("--max-views", f"views per sequence: 1..N per batch (default: {d.max_views})", type=int)
    opt("--lr", f"Adam learning rate (default: {d.lr:g})", type=float)
    opt("--lr-steps", "comma-separated fractions of --iterations where lr *= 0.1 "
        "(default: 0.3333, the official 20k of 60k)")
    opt("--weight-decay", f"(default: {d.weight_decay:g}, official)", type=float)
    opt("--loss", "loss at the last step (official) or averaged over every step "
        f"(default: {d.loss})", choices=["last", "every"])
    opt("--flip", "mirror training views left-right with p = 1/2, as the official code "
        "(default: on); --no-flip for data whose objects are not left-right symmetric",
        action=argparse.BooleanOptionalAction)
    opt("--init", "start from these weights ('default': the bundled model); "
        "ignored when the run resumes")
    opt("--seed", f"(default: {d.seed})", type=int)
    opt("--workers", f"data-loader worker processes (default: {d.workers})", type=int)
    opt("--checkpoint-every", f"(default: {d.checkpoint_every})", type=int)
    opt("--val-every", f"validation IoU every N iterations (default: {d.val_every})", type=int)
    opt("--val-models", f"test models per validation (default: {d.val_models})", type=int)
    opt("--threads", "torch threads (default: torch's choice)", type=int)
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out (the default when it has a checkpoint)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_train)


def _run_train(args) -> int:
    from pathlib import Path

    from .models.train import TrainConfig, apply_recipe, train

    if not Path(args.data).is_dir():
        raise CLIError(f"dataset folder {args.data} does not exist; create one with `r2n2 synth`")
    if args.resume and not (Path(args.out) / "last.safetensors").is_file():
        raise CLIError(f"nothing to resume in {args.out} (no last.safetensors)")
    given = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    if "lr_steps" in given:
        given["lr_steps"] = tuple(float(f) for f in given["lr_steps"].split(",") if f)
    if given.get("init"):
        from .weights import resolve_weights

        given["init"] = str(resolve_weights(given["init"]))
    cfg = apply_recipe(TrainConfig(data=args.data, out=args.out, recipe=args.recipe), given)
    path = train(cfg, progress=not args.no_progress)
    print(f"final checkpoint: {path}")
    return 0


COMMANDS.append(_add_train)


# --- eval --------------------------------------------------------------------------
def _add_eval(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="mean IoU per category for 1..K views (the paper's protocol)",
        description="Evaluate a model on a ShapeNet-format split: mean IoU at a threshold "
        "per category and overall for 1..K views; each model's k-view result is step k of "
        "one sequence of K random (seeded) views.",
    )
    p.add_argument("--weights", default="default",
                   help="checkpoint (.safetensors), official .npy, or 'default'")
    p.add_argument("--data", required=True, help="dataset root")
    p.add_argument("--split", default="test", choices=["train", "test"])
    p.add_argument("--max-views", type=int, default=5)
    p.add_argument("--threshold", type=float, default=0.4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="evaluate at most this many models")
    p.add_argument("--baseline", choices=["mean-shape"],
                   help="also print an image-blind baseline beside the model")
    p.add_argument("--json", help="write the result as JSON")
    p.add_argument("--plot", help="write a PNG plot of IoU against the number of views")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=_run_eval)


def _run_eval(args) -> int:
    from pathlib import Path

    from .models import evaluate as ev
    from .weights import load_model, pick_device

    if not Path(args.data).is_dir():
        raise CLIError(f"dataset folder {args.data} does not exist")
    if not 0.0 < args.threshold < 1.0:
        raise CLIError("--threshold must lie strictly between 0 and 1")
    device = pick_device(args.device)
    net, meta = load_model(args.weights, device)
    result = ev.evaluate(net, args.data, args.split, args.max_views, args.threshold,
                         args.seed, args.limit, device)
    result["weights"] = str(args.weights)
    baseline = None
    if args.baseline == "mean-shape":
        baseline = ev.evaluate_mean_shape(args.data, args.split, args.max_views,
                                          args.threshold, args.limit)
        result["baseline_mean_shape"] = baseline
    print(ev.format_table(result, baseline))
    if args.json:
        ev.write_json(args.json, result)
        print(f"wrote {args.json}")
    if args.plot:
        ev.plot(args.plot, result, title=f"{meta.get('name') or meta.get('preset') or ''}")
        print(f"wrote {args.plot}")
    return 0


COMMANDS.append(_add_eval)

# --- synth -------------------------------------------------------------------------
def _add_synth(sub) -> None:
    p = sub.add_parser(
        "synth",
        help="generate a procedural ShapeNet-format dataset (renderings + voxels)",
        description="Generate procedural objects of the 13 categories in the ShapeNet "
        "layout: DIR/ShapeNetRendering (137x137 RGBA views + metadata), DIR/ShapeNetVox32 "
        "(32^3 binvox) and DIR/categories.json. Deterministic for a seed; objects already "
        "complete in DIR are skipped, so an interrupted run can be resumed.",
    )
    p.add_argument("--out", required=True, help="dataset root to write")
    p.add_argument("--models-per-category", type=int, required=True, metavar="N")
    p.add_argument("--views", type=int, default=24, help="renderings per object (default 24)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--categories", help="comma-separated names or synset ids (default: all 13)")
    p.add_argument("--workers", type=int, default=2, help="parallel render processes")
    p.set_defaults(func=_run_synth)


def _run_synth(args) -> int:
    from .models.data.categories import synsets_for
    from .models.synth.generate import generate

    if args.models_per_category < 1:
        raise CLIError("--models-per-category must be at least 1")
    if not 1 <= args.views <= 99:
        raise CLIError("--views must be 1..99")
    cats = [c for c in args.categories.split(",") if c.strip()] if args.categories else None
    try:
        synsets = synsets_for(cats)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    s = generate(args.out, args.models_per_category, args.views, args.seed, synsets,
                 max(1, args.workers))
    print(f"wrote {s['generated']} objects ({s['skipped']} already present) to {args.out} "
          f"in {s['seconds']:.1f} s ({s['objects_per_second']:.2f} objects/s)")
    return 0


COMMANDS.append(_add_synth)


# --- pack / unpack -----------------------------------------------------------------
def _add_pack(sub) -> None:
    p = sub.add_parser(
        "pack",
        help="pack a dataset folder into one small file (to move it to a training machine)",
        description="Write every usable model of a ShapeNet-format dataset into one .npz "
        "file: lossless WebP renderings (the first --views of each model), the binvox "
        "files and the category names. `r2n2 unpack` restores the folder layout.",
    )
    p.add_argument("data", help="dataset root (ShapeNetRendering + ShapeNetVox32)")
    p.add_argument("-o", "--out", required=True, help="packed file to write (.npz)")
    p.add_argument("--views", type=int, default=8, help="views kept per model (default 8)")
    p.add_argument("--workers", type=int, default=2, help="parallel processes")
    p.set_defaults(func=_run_pack)

    u = sub.add_parser(
        "unpack",
        help="write a packed dataset back as a ShapeNet-format folder",
        description="Restore the ShapeNetRendering / ShapeNetVox32 layout (PNG renderings, "
        "pixel-identical to the packed source) from a file written by `r2n2 pack`.",
    )
    u.add_argument("src", help="packed file (.npz)")
    u.add_argument("-o", "--out", required=True, help="new, empty dataset folder")
    u.add_argument("--workers", type=int, default=2, help="parallel processes")
    u.set_defaults(func=_run_unpack)


def _run_pack(args) -> int:
    from pathlib import Path

    from .models.data.pack import pack

    if not Path(args.data).is_dir():
        raise CLIError(f"{args.data} is not a folder; pass a dataset root")
    s = pack(args.data, args.out, views=args.views, workers=max(1, args.workers))
    print(f"packed {s['models']} models, {s['views']} views into {args.out} "
          f"({s['bytes'] / 2**20:.1f} MiB)")
    return 0


def _run_unpack(args) -> int:
    from .models.data.pack import unpack

    n = unpack(args.src, args.out, workers=max(1, args.workers))
    print(f"unpacked {n} models into {args.out}")
    return 0


COMMANDS.append(_add_pack)

# --- convert -----------------------------------------------------------------------
def _add_convert(sub) -> None:
    p = sub.add_parser(
        "convert",
        help="convert official 3D-R2N2 weights (ResidualGRUNet.npy / GRUNet.npy)",
        description="Read an official Theano weights file without executing code from it, "
        "check every array's shape, and write a .safetensors checkpoint "
        "(preset res_gru3 or gru3).",
    )
    p.add_argument("src", help="official weights file (.npy)")
    p.add_argument("-o", "--out", help="checkpoint to write (default: SRC with .safetensors)")
    p.add_argument("--arch", choices=["residual", "gru"],
                   help="force ResidualGRUNet or GRUNet (default: detect from the file)")
    p.set_defaults(func=_run_convert)


def _run_convert(args) -> int:
    from pathlib import Path

    from .models.official import ARCHS, write_official_checkpoint

    src = Path(args.src)
    out = Path(args.out) if args.out else src.with_suffix(".safetensors")
    if out.resolve() == src.resolve():
        raise CLIError("the output would overwrite the input; pass -o")
    meta = write_official_checkpoint(src, out, arch=args.arch)
    arch = next(a for a, v in ARCHS.items() if v[0] == meta["official_arch"])
    print(f"{src.name}: official {meta['official_arch']} (--arch {arch}), "
          f"{meta['num_parameters']:,} parameters")
    print(f"wrote {out} (preset {meta['preset']})")
    return 0


COMMANDS.append(_add_convert)

# --- view / render -------------------------------------------------------------------
def _add_view(sub) -> None:
    p = sub.add_parser("view", help="open the viewer window",
                       description="See the network refine its reconstruction view by view. "
                       "Drop photos of one object into the window, one step each.")
    p.add_argument("images", nargs="*", metavar="IMG", help="views to add at start, in order")
    p.add_argument("--weights", default="default",
                   help="checkpoint (.safetensors), official .npy, or 'default' (bundled model)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    p.add_argument("--demo", help="start with this bundled demo sequence")
    p.set_defaults(func=_run_view)


def _run_view(args) -> int:
    from .gui.app import run

    return run(args.images, weights=args.weights, device=args.device, demo=args.demo)


def _add_render(sub) -> None:
    p = sub.add_parser("render", help="render every step to PNGs and a GIF, without a window",
                       description="Reconstruct from the pictures one view at a time and "
                       "render each step off-screen: step_01.png ... and refinement.gif.")
    p.add_argument("images", nargs="+", metavar="IMG", help="views of one object, in order")
    p.add_argument("--weights", default="default",
                   help="checkpoint (.safetensors), official .npy, or 'default' (bundled model)")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--threshold", type=float, default=0.4, help="default 0.4")
    p.add_argument("--mode", choices=["cubes", "smooth", "points"], default="cubes")
    p.add_argument("--changes", action="store_true",
                   help="colour the voxels that appeared; ghosts for those that disappeared")
    p.add_argument("--size", default="800x600", help="image size WxH (default 800x600)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    p.set_defaults(func=_run_render)


def _run_render(args) -> int:
    from .render import parse_size, render_images

    written = render_images(args.images, args.out, weights=args.weights,
                            threshold=args.threshold, mode=args.mode, changes=args.changes,
                            size=parse_size(args.size), device=args.device)
    for path in written:
        print(path)
    return 0


COMMANDS.append(_add_view)
COMMANDS.append(_add_render)

if __name__ == "__main__":
    sys.exit(main())
