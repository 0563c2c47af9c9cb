"""Training of the foreground segmenter (``r2n2 train-segmenter``): resumable, on CPU.

Each step draws a batch of composites (:class:`models.data.composites.CompositeSampler`,
its random generator seeded by (seed, step), so a resumed run draws what an unbroken
one would) and takes an Adam step on binary cross-entropy plus a soft-IoU loss against
the renderings' alpha, the learning rate falling along a cosine to 0. A recipe with
``restart`` stages ({"steps": N, "lr": L}, or a list of them) then runs N more steps from
a new cosine (warm restart) starting at L, stage after stage: a finished run of the
earlier stages (its state file) is continued by a recipe that adds a stage. A stage may
also change what is drawn (:data:`SAMPLING`: e.g. ``"patch": 128, "centre": 0.7``); its
settings hold from that stage on. Every
``save_every`` steps the state (weights, optimiser, step) is written atomically to
``OUT.state.safetensors`` beside ``OUT``; a run started again with the same ``OUT``
continues from there. At the end the weights are written to ``OUT`` with the recipe in
the file's metadata (:func:`models.segmenter.save_segmenter`).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .data.composites import CompositeSampler
from .segmenter import RECIPE, SegmenterNet, save_segmenter


def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy + (1 - soft IoU), per batch."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits)
    inter = (p * target).sum((1, 2, 3))
    union = (p + target - p * target).sum((1, 2, 3))
    return bce + (1 - (inter + 1) / (union + 1)).mean()


def _state_path(out: Path) -> Path:
    return out.with_name(out.name + ".state.safetensors")


def _save_state(path: Path, net: SegmenterNet, opt: torch.optim.Optimizer, step: int,
                recipe: dict) -> None:
    from safetensors.torch import save

    from .atomic import atomic_write_bytes

    tensors = {f"net.{k}": v.detach().clone() for k, v in net.state_dict().items()}
    for i, st in opt.state_dict()["state"].items():
        for name, v in st.items():
            tensors[f"opt.{i}.{name}"] = torch.as_tensor(v).detach().clone().reshape(
                v.shape if torch.is_tensor(v) else ())
    meta = {"step": str(step), "recipe": json.dumps(recipe, sort_keys=True)}
    atomic_write_bytes(path, save(tensors, metadata=meta))


# what a restart stage may change about the composites drawn (and the patch size)
SAMPLING = ("patch", "backdrops", "object_fill", "centre", "distractors", "large")


def restart_stages(recipe: dict) -> list[dict]:
    """The recipe's warm-restart stages in order: ``restart`` is one stage or a list."""
    again = recipe.get("restart")
    if again is None:
        return []
    return [dict(again)] if isinstance(again, dict) else [dict(st) for st in again]


def with_stages(recipe: dict, stages: list[dict]) -> dict:
    """``recipe`` with these restart stages: none, one (a dict) or several (a list)."""
    out = {k: v for k, v in recipe.items() if k != "restart"}
    if stages:
        out["restart"] = dict(stages[0]) if len(stages) == 1 else [dict(s) for s in stages]
    return out


def total_steps(recipe: dict) -> int:
    """All the steps of a recipe: its first stage and its restart stages, if any."""
    return int(recipe["steps"]) + sum(int(st["steps"]) for st in restart_stages(recipe))


def _stage_at(recipe: dict, step: int) -> tuple[int, int]:
    """(k, start): the stage ``step`` (0-based) falls in, 0 for the first and k for the
    k-th restart stage (steps past the end count to the last), and that stage's first step."""
    k, start, steps = 0, 0, int(recipe["steps"])
    for i, st in enumerate(restart_stages(recipe), 1):
        if step < start + steps:
            break
        k, start, steps = i, start + steps, int(st["steps"])
    return k, start


def learning_rate(recipe: dict, step: int) -> float:
    """The learning rate of ``step`` (0-based): a cosine to 0 over the first stage, then
    (for each restart stage) a new cosine from that stage's own ``lr`` over its steps."""
    k, start = _stage_at(recipe, step)
    stage = recipe if k == 0 else restart_stages(recipe)[k - 1]
    lr, steps = stage["lr"], int(stage["steps"])
    return lr * 0.5 * (1 + math.cos(math.pi * min(step - start, steps) / steps))


def sampling_at(recipe: dict, step: int) -> dict:
    """The sampling settings (:data:`SAMPLING`) of ``step``: the recipe's, with those of
    every restart stage begun by then laid over them."""
    k, _ = _stage_at(recipe, step)
    out = {}
    for stage in [recipe, *restart_stages(recipe)[:k]]:
        out.update({key: stage[key] for key in SAMPLING if key in stage})
    return out


def _continues(saved: object, step: int, recipe: dict) -> bool:
    """Whether a state saved at ``step`` with recipe ``saved`` is a finished run of the
    first stages of ``recipe`` (which adds one or more restart stages to it)."""
    if not isinstance(saved, dict):
        return False
    stages = restart_stages(recipe)
    for k in range(len(stages)):
        earlier = with_stages(recipe, stages[:k])
        if saved == earlier and step == total_steps(earlier):
            return True
    return False


def _load_state(path: Path, net: SegmenterNet, opt: torch.optim.Optimizer, recipe: dict
                ) -> int:
    from safetensors import safe_open
    from safetensors.torch import load

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    saved = json.loads(meta.get("recipe", "null"))
    if saved != recipe and not _continues(saved, int(meta.get("step", -1)), recipe):
        raise ValueError(f"{path}: a run with another recipe; remove it or pick another --out")
    tensors = load(path.read_bytes())
    net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
    sd = opt.state_dict()
    state: dict = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, i, name = k.split(".", 2)
            state.setdefault(int(i), {})[name] = v
    sd["state"] = state
    opt.load_state_dict(sd)
    return int(meta["step"])


def _sampler(cache: dict[str, CompositeSampler], data: list[str], backgrounds: str | None,
             settings: dict) -> CompositeSampler:
    """The sampler of these settings (made once: indexing the datasets takes a while)."""
    key = json.dumps(settings, sort_keys=True)
    if key not in cache:
        cache[key] = CompositeSampler(
            data, backgrounds, settings["patch"], settings["backdrops"],
            tuple(settings["object_fill"]), centre=settings.get("centre", 0.0),
            distractors=settings.get("distractors", 0.0), large=settings.get("large", 0.0))
    return cache[key]


def train_segmenter(data: list[str], backgrounds: str | None, out: str | os.PathLike,
                    recipe: dict | None = None, save_every: int = 50,
                    log: Callable[[str], None] = print) -> Path:
    """Train (or resume) a segmenter to ``recipe`` (default :data:`RECIPE`); returns ``out``."""
    recipe = dict(RECIPE if recipe is None else recipe)
    out = Path(out)
    torch.manual_seed(recipe["seed"])
    net = SegmenterNet(recipe["channels"])
    opt = torch.optim.AdamW(net.parameters(), lr=recipe["lr"],
                            weight_decay=recipe["weight_decay"])
    samplers: dict[str, CompositeSampler] = {}
    state = _state_path(out)
    step = _load_state(state, net, opt, recipe) if state.is_file() else 0
    if step:
        log(f"resuming from step {step} ({state})")
    steps = total_steps(recipe)
    net.train()
    t0, seen, running = time.perf_counter(), 0, None
    while step < steps:
        rng = np.random.default_rng([recipe["seed"], step])
        pics, masks = _sampler(samplers, data, backgrounds, sampling_at(recipe, step)).batch(
            rng, recipe["batch"])
        x = torch.from_numpy(pics).permute(0, 3, 1, 2).float() / 255.0
        y = torch.from_numpy(masks)[:, None]
        lr = learning_rate(recipe, step)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = loss_fn(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        seen += 1
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if step % save_every == 0 or step == steps:
            _save_state(state, net, opt, step, recipe)
            rate = (time.perf_counter() - t0) / seen
            log(f"step {step}/{steps} loss {running:.4f} lr {lr:.2e} {rate:.2f} s/step")
    net.eval()
    save_segmenter(net, out, recipe, {"data": [Path(d).name for d in data],
                                       "backgrounds": Path(backgrounds).name if backgrounds
                                       else None, "steps": steps})
    return out
