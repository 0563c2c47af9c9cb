"""``r2n2 train``: train a network on a ShapeNet-format dataset."""

from __future__ import annotations

import argparse

from .common import CLIError, add_command


def register(sub) -> None:
    from ..models.recipes import RECIPES, TrainConfig

    d = TrainConfig(data="", out="")
    p = add_command(
        sub, "train", run=run,
        help="train a network on a ShapeNet-format dataset",
        description="Train on <data>/ShapeNetRendering + ShapeNetVox32 (the layout "
        "`r2n2 synth` writes). Works under `torchrun --nproc_per_node N`. A --recipe sets "
        "every option below; options given explicitly override it.",
    )
    S = argparse.SUPPRESS  # unset options fall back to the recipe, then to the defaults

    def opt(flag: str, help: str, **kw) -> None:
        p.add_argument(flag, default=S, help=help, **kw)

    p.add_argument("--data", required=True, action="append",
                   help="dataset root; repeat the option to pool several datasets' training "
                   "models (the first one validates)")
    opt("--data-repeat", "comma-separated counts, one per --data: each dataset's training "
        "models enter an epoch that many times (default: once each)")
    p.add_argument("--out", required=True, help="run folder (checkpoints, log.csv)")
    p.add_argument("--recipe", choices=list(RECIPES),
                   help="named recipe: 'default' reproduces the bundled model's first stage")
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
    opt("--bg-prob", "fraction of training sequences composited on background images "
        "instead of the official plain colour, as the paper's section 5.1 "
        f"(default: {d.bg_prob:g})", type=float)
    opt("--backgrounds", "folder of photographs cropped at random for those backgrounds "
        "(default: procedural backgrounds: rooms, textures, clutter)")
    opt("--jitter", "colour jitter of the object: brightness, contrast and saturation "
        f"factors in [1-J, 1+J] (default: {d.jitter:g})", type=float)
    opt("--reframe", "fraction of training sequences framed as photos are (object box "
        f"centred, longer side 0.6 of the canvas) instead of by the camera (default: "
        f"{d.reframe:g})", type=float)
    opt("--init", "start from these weights ('default': the bundled model); "
        "ignored when the run resumes (default: random initialisation)")
    opt("--seed", f"(default: {d.seed})", type=int)
    opt("--workers", f"data-loader worker processes (default: {d.workers})", type=int)
    opt("--checkpoint-every", f"(default: {d.checkpoint_every})", type=int)
    opt("--val-every", f"validation IoU every N iterations (default: {d.val_every})", type=int)
    opt("--val-models", f"test models per validation (default: {d.val_models})", type=int)
    opt("--threads", "torch threads (default: torch's choice)", type=int)
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out (the default when it has a checkpoint)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..models.recipes import TrainConfig, apply_recipe

    for root in args.data:
        if not Path(root).is_dir():
            raise CLIError(f"dataset folder {root} does not exist; create one with `r2n2 synth`")
    if args.resume and not (Path(args.out) / "last.safetensors").is_file():
        raise CLIError(f"nothing to resume in {args.out} (no last.safetensors)")
    given = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    if given.get("backgrounds") and not Path(given["backgrounds"]).is_dir():
        raise CLIError(f"background folder {given['backgrounds']} does not exist")
    if "data_repeat" in given:
        try:
            given["data_repeat"] = tuple(int(c) for c in given["data_repeat"].split(","))
        except ValueError:
            raise CLIError(
                "--data-repeat takes whole numbers separated by commas, e.g. 1,4"
            ) from None
    if "lr_steps" in given:
        given["lr_steps"] = tuple(float(f) for f in given["lr_steps"].split(",") if f)
    if given.get("init"):
        from ..weights import resolve_weights

        given["init"] = str(resolve_weights(given["init"]))
    data = args.data[0] if len(args.data) == 1 else args.data
    cfg = apply_recipe(TrainConfig(data=data, out=args.out, recipe=args.recipe), given)
    from ..models.train import train

    path = train(cfg, progress=not args.no_progress)
    print(f"final checkpoint: {path}")
    return 0
