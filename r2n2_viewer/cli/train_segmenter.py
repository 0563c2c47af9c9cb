"""``r2n2 train-segmenter``: train the foreground segmenter used by ``--segment learned``."""

from __future__ import annotations

import argparse

from .common import CLIError, add_command, positive_int


def register(sub) -> None:
    p = add_command(
        sub, "train-segmenter", run=run,
        help="train the foreground segmenter for photos on cluttered backgrounds",
        description="Train the small U-Net that finds a photo's object (`--segment learned`) "
        "on renderings of the train split of each --data dataset composited over the train "
        "split of the --backgrounds wallpapers (split by a hash of each file name), "
        "procedural backdrops and plain colours. The recipe (steps, batch, learning rate, "
        "augmentation) is the one the bundled assets/segmenter.safetensors was made with, "
        "and is written into OUT's metadata. Resumable: the state is saved to "
        "OUT.state.safetensors every --save-every steps and a run with the same OUT "
        "continues from it. --restart-steps N sets a restart stage (a warm restart: N more "
        "steps on a cosine from --restart-lr); repeat the pair for several stages, one "
        "after the other. A recipe that adds stages continues a finished run of the "
        "earlier ones from its state file.",
    )
    p.add_argument("--data", action="append", required=True,
                   help="dataset root (ShapeNet layout); repeat for several")
    p.add_argument("--backgrounds", help="folder of wallpapers / photographs (its train "
                   "split is used); without it, procedural and plain backdrops only")
    p.add_argument("-o", "--out", required=True, help="segmenter file to write (.safetensors)")
    p.add_argument("--steps", type=positive_int, help="training steps (default: the recipe's)")
    p.add_argument("--restart-steps", type=positive_int, action="append",
                   help="steps of a restart stage after the first stage; repeat for more "
                   "stages (default: the recipe's stages)")
    p.add_argument("--restart-lr", type=float, action="append",
                   help="learning rate the restart stage of the same position starts from "
                   "(default: the recipe's, else a third of the first stage's)")
    p.add_argument("--save-every", type=positive_int, default=25,
                   help="steps between saved states")
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from ..models.segmenter import RECIPE
    from ..models.segmenter_train import restart_stages, train_segmenter, with_stages

    for d in args.data:
        if not Path(d).is_dir():
            raise CLIError(f"{d} is not a folder; pass a dataset root")
    if args.backgrounds is not None and not Path(args.backgrounds).is_dir():
        raise CLIError(f"{args.backgrounds} is not a folder of background pictures")
    if not Path(args.out).parent.is_dir():
        raise CLIError(f"folder {Path(args.out).parent} does not exist")
    torch.set_num_threads(args.threads)
    recipe = dict(RECIPE)
    if args.steps is not None:
        recipe["steps"] = args.steps
    if args.restart_steps is not None or args.restart_lr is not None:
        recipe = with_stages(recipe, _stages(args, restart_stages(recipe), recipe["lr"] / 3))
    out = train_segmenter(args.data, args.backgrounds, args.out, recipe, args.save_every,
                          log=lambda line: print(line, flush=True))
    print(f"wrote {out}")
    return 0


def _stages(args: argparse.Namespace, known: list[dict], default_lr: float) -> list[dict]:
    """The restart stages the options ask for: --restart-steps and --restart-lr pair by
    position; a missing one is the recipe's stage of that position (else ``default_lr``)."""
    steps, lrs = args.restart_steps or [], args.restart_lr or []
    for lr in lrs:
        if not 0 < lr < 1:
            raise CLIError(f"--restart-lr must be between 0 and 1, got {lr}")
    n = max(len(steps), len(lrs))
    stages = []
    for i in range(n):
        old = known[i] if i < len(known) else {}
        if i >= len(steps) and "steps" not in old:
            raise CLIError("each --restart-lr needs a --restart-steps (the recipe has no "
                           f"restart stage {i + 1})")
        stages.append({**old, "steps": steps[i] if i < len(steps) else old["steps"],
                       "lr": lrs[i] if i < len(lrs) else old.get("lr", default_lr),
                       "lr_schedule": "cosine to 0"})
    return stages
