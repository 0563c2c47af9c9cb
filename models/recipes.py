"""Training settings without torch: :class:`TrainConfig` and the named recipes.

Kept apart from the training loop so that the command line can show every default
(``r2n2 train --help``) without importing torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass
class TrainConfig:
    data: str | list[str]  # one dataset root, or several whose train splits are pooled
    out: str
    preset: str = "small"
    iterations: int = 60000
    batch_size: int = 8
    max_views: int = 5
    min_views: int = 1
    lr: float = 1e-4
    lr_steps: tuple[float, ...] = (1 / 3,)  # fractions of `iterations` where lr *= 0.1
    weight_decay: float = 5e-5
    loss: str = "last"  # "last" (official) | "every" (mean over every step)
    flip: bool = True  # official augmentation: mirror each view left-right with p = 1/2
    # photo augmentation (paper section 5.1): this fraction of training sequences get
    # background images behind the object (crops of the photographs in `backgrounds`, or
    # procedural ones when it is None) instead of the official plain colour
    bg_prob: float = 0.0
    backgrounds: str | None = None  # a folder of images
    jitter: float = 0.0  # colour jitter strength: factors in [1 - jitter, 1 + jitter]
    # this fraction of training sequences are framed as photos are (data.framing.reframe):
    # object box centred, longer side 0.6 of the canvas, instead of the camera's framing
    reframe: float = 0.0
    # with several roots: how many times each root's training models enter one epoch
    # (oversamples a small dataset among large ones); empty = once each
    data_repeat: tuple[int, ...] = ()
    init: str | None = None  # start from these weights (a checkpoint of the same preset)
    seed: int = 0
    workers: int = 2
    checkpoint_every: int = 500
    val_every: int = 500
    val_models: int = 96
    threads: int = 0  # torch intra-op threads; 0 = torch's default
    recipe: str | None = None


# `r2n2 train --recipe default` reproduces the bundled default model.
RECIPES: dict[str, dict[str, Any]] = {
    "default": dict(
        preset="small",
        iterations=7750,
        batch_size=64,
        max_views=5,
        lr=1e-3,
        lr_steps=(0.75,),
        weight_decay=5e-5,
        loss="last",
        checkpoint_every=1000,
        val_every=2000,
        val_models=260,
    ),
}
# second stage of the bundled model: `--init RUN/last.safetensors` of the recipe above,
# all 12 views, no mirroring (a mirrored view puts a one-sided part on the wrong side)
RECIPES["default-refine"] = {
    **RECIPES["default"], "iterations": 1800, "batch_size": 32, "lr": 3e-4, "lr_steps": (0.7,),
    "flip": False, "checkpoint_every": 250, "val_every": 1000, "val_models": 0,
}
# third stage: `--init RUN2/last.safetensors` on data of synth generator version 2 (stages 1-2
# saw version 1, whose cars, tables and boats differ); fresh batches (seed 1)
RECIPES["default-update"] = {
    **RECIPES["default-refine"], "iterations": 1500, "seed": 1, "val_every": 500, "val_models": 260,
}
# fourth stage: `--init RUN3/last.safetensors`, sequences of 1-8 views (evaluation uses 1-5):
# a model that is not at its last step after 5 views keeps refining (+0.006 at 5 views,
# -0.006 at 1 view on the synth test split)
RECIPES["default-views8"] = {
    **RECIPES["default-update"], "iterations": 600, "max_views": 8, "lr": 1e-4, "seed": 2,
    "checkpoint_every": 100, "val_models": 0,
}
# from scratch with the paper's photo augmentation (section 5.1), for synth generator
# version 3 data: half the sequences on background images (add `--backgrounds DIR` for
# photographs; procedural ones without it), colour jitter 0.2, no mirroring (one-sided parts)
RECIPES["photo"] = {**RECIPES["default"], "bg_prob": 0.5, "jitter": 0.2, "flip": False}

# Real furniture, stage 1: `--init default` (the four stages above) on two datasets, in this
# order: procedural objects of synth generator version 3 (`r2n2 synth --models-per-category
# 200 --views 24 --seed 0`) and Sweet Home 3D pieces (`r2n2 import-sh3d`, its four training
# libraries), the pieces 8 times per epoch; 40 % of sequences on photographs
# (`--backgrounds DIR`), colour jitter, no mirroring, 1-8 views per batch of 16
RECIPES["furniture"] = {
    **RECIPES["default-views8"], "iterations": 175, "batch_size": 16, "lr": 2e-4,
    "lr_steps": (), "bg_prob": 0.4, "jitter": 0.2, "data_repeat": (1, 8), "seed": 3,
    "checkpoint_every": 25, "val_models": 0,
}
# stage 2: `--init RUN/last.safetensors` of the recipe above; 30 % of sequences framed as
# photos are (models.data.framing), lr x0.1 at 75 %, fresh batches (seed 4)
RECIPES["furniture-reframe"] = {
    **RECIPES["furniture"], "iterations": 700, "lr_steps": (0.75,), "reframe": 0.3, "seed": 4,
}

def data_roots(cfg: TrainConfig) -> list[str]:
    """The dataset roots of ``cfg`` as a list (the first one validates during training)."""
    return [cfg.data] if isinstance(cfg.data, str) else list(cfg.data)


def apply_recipe(cfg: TrainConfig, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """``cfg`` with its recipe's settings, then ``overrides`` (explicit options) on top;
    settings that cannot work together are a ValueError."""
    if cfg.recipe is not None and cfg.recipe not in RECIPES:
        raise ValueError(f"unknown recipe {cfg.recipe!r}; choose one of {', '.join(RECIPES)}")
    recipe = RECIPES[cfg.recipe] if cfg.recipe else {}
    out = dataclasses.replace(cfg, **{**recipe, **(overrides or {})})
    if not 0.0 <= out.bg_prob <= 1.0:
        raise ValueError(f"--bg-prob must be in [0, 1], got {out.bg_prob:g}")
    if not 0.0 <= out.reframe <= 1.0:
        raise ValueError(f"--reframe must be in [0, 1], got {out.reframe:g}")
    if not 0.0 <= out.jitter < 1.0:
        raise ValueError(f"--jitter must be in [0, 1), got {out.jitter:g}")
    roots = [out.data] if isinstance(out.data, str) else list(out.data)
    if out.data_repeat and len(out.data_repeat) != len(roots):
        raise ValueError(f"--data-repeat has {len(out.data_repeat)} counts for {len(roots)} "
                         "--data folders; give one count per folder")
    if any(r < 1 for r in out.data_repeat):
        raise ValueError("--data-repeat counts must be whole numbers >= 1")
    if out.backgrounds is not None and out.bg_prob == 0:
        raise ValueError("--backgrounds is unused with --bg-prob 0; pass --bg-prob P (e.g. 0.5)")
    return out
