"""Training loop: Adam, step-decayed learning rate, variable sequence length, per-step or
last-step loss, checkpoints, resume, CSV log, validation IoU; single process or
``torchrun`` (DistributedDataParallel: gloo on CPU, nccl on GPU).

The official schedule (lr 1e-4, x0.1 at 20k of 60k iterations, weight decay 5e-5) is
expressed as fractions of the iteration budget so it scales to any budget.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .atomic import atomic_write_bytes, atomic_write_text
from .checkpoint import chain_stages, load_checkpoint, read_metadata, save_checkpoint
from .config import preset
from .net import R2N2
from .recipes import TrainConfig, data_roots
from .voxels import iou


def check_config(cfg: TrainConfig) -> None:
    """Refuse settings no run can use, with one line naming the option."""
    def need(ok: bool, msg: str) -> None:
        if not ok:
            raise ValueError(msg)

    ints = ("iterations", "batch_size", "max_views", "min_views", "seed", "workers",
            "checkpoint_every", "val_every", "val_models", "threads")
    for name in ints:
        v = getattr(cfg, name)
        need(isinstance(v, int) and not isinstance(v, bool),
             f"--{name.replace('_', '-')} must be an integer, not {v!r}")
    for name in ("batch_size", "max_views", "checkpoint_every", "val_every"):
        need(getattr(cfg, name) >= 1, f"--{name.replace('_', '-')} must be at least 1")
    for name in ("iterations", "workers", "val_models", "threads", "seed"):
        need(getattr(cfg, name) >= 0, f"--{name.replace('_', '-')} must not be negative")
    need(1 <= cfg.min_views <= cfg.max_views, "min_views must lie in 1..--max-views")
    need(math.isfinite(cfg.lr) and cfg.lr > 0, "--lr must be a positive number")
    need(math.isfinite(cfg.weight_decay) and cfg.weight_decay >= 0,
         "--weight-decay must not be negative")
    need(all(math.isfinite(f) and 0 <= f <= 1 for f in cfg.lr_steps),
         "--lr-steps are fractions of --iterations, each in 0..1")
    need(cfg.loss in ("last", "every"), "--loss must be 'last' or 'every'")
    preset(cfg.preset)  # names the presets if unknown


def learning_rate(cfg: TrainConfig, it: int) -> float:
    drops = sum(1 for f in cfg.lr_steps if it >= f * cfg.iterations)
    return cfg.lr * (0.1**drops)


def sequence_loss(logits: torch.Tensor, voxels: torch.Tensor, mode: str) -> torch.Tensor:
    """Voxel-wise cross-entropy. ``logits`` (T, N, 2, D, H, W) for "every", else (N, 2, ...)."""
    target = voxels.long()
    if mode == "every":
        t = logits.shape[0]
        return F.cross_entropy(logits.flatten(0, 1), target.repeat(t, 1, 1, 1))
    return F.cross_entropy(logits, target)


def batch_iou(logits: torch.Tensor, voxels: torch.Tensor, threshold: float = 0.4) -> float:
    pred = R2N2.probabilities(logits.detach()) >= threshold
    return float(iou(pred, voxels.bool()).mean())


# --- distributed helpers ---------------------------------------------------------
def _dist_env() -> tuple[int, int, int]:
    return (
        int(os.environ.get("RANK", 0)),
        int(os.environ.get("WORLD_SIZE", 1)),
        int(os.environ.get("LOCAL_RANK", 0)),
    )


def _setup_distributed() -> tuple[int, int, torch.device]:
    rank, world, local = _dist_env()
    if torch.cuda.is_available():
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def training_batches(cfg: TrainConfig, rank: int = 0, start: int = 0) -> Iterator[dict]:
    """Endless training batches; every pass reshuffles and redraws views."""
    from .data.shapenet import make_loader

    roots = data_roots(cfg)
    loader = make_loader(
        roots if len(roots) > 1 else roots[0],
        "train",
        repeat=cfg.data_repeat or None,
        batch_size=cfg.batch_size,
        max_views=cfg.max_views,
        min_views=cfg.min_views,
        workers=cfg.workers,
        seed=cfg.seed * 1000 + rank,
        train=True,
        drop_last=True,
        flip=cfg.flip,
        backgrounds=cfg.backgrounds,
        bg_prob=cfg.bg_prob,
        jitter=cfg.jitter,
        reframe=cfg.reframe,
    )
    if len(loader) == 0:
        raise ValueError(
            f"{', '.join(roots)}: fewer training models than one batch of {cfg.batch_size}"
        )
    loader.batch_sampler.set_epoch(start // len(loader))  # a resumed run sees new batches
    while True:
        yield from loader


def train(cfg: TrainConfig, progress: bool = True) -> Path:
    """Train, checkpointing into ``cfg.out``; returns the path of the final checkpoint.

    On the CPU, subnormal floats are flushed to zero while it runs: weight decay drives
    dead channels' weights into subnormals, which x86 CPUs compute in microcode (a run
    started from the bundled model's weights took 10.3 s per step instead of 2.5 s).
    """
    check_config(cfg)
    rank, world, device = _setup_distributed()
    flush = device.type == "cpu" and torch.set_flush_denormal(True)
    try:
        return _train(cfg, progress, rank, world, device)
    finally:
        if flush:
            torch.set_flush_denormal(False)


def _train(cfg: TrainConfig, progress: bool, rank: int, world: int, device: torch.device) -> Path:
    from tqdm import tqdm

    from .evaluate import evaluate

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # only max_views input shapes: tuned once each
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    last_ckpt, state_file = out / "last.safetensors", out / "train_state.pt"

    seed_everything(cfg.seed + rank)
    net = R2N2(preset(cfg.preset)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    start, elapsed = 0, 0.0
    before: dict[str, Any] = {}  # the training metadata of the weights this run started from
    if last_ckpt.is_file() and state_file.is_file():
        load_weights(net, last_ckpt)
        start, elapsed = _load_state(state_file, opt, device)
        stages = read_metadata(last_ckpt).get("training", {}).get("stages")
        if stages:  # the earlier stages recorded at the last checkpoint, this one dropped
            before = {"stages": stages[:-1]}
        if rank == 0:
            print(f"resuming {out} at iteration {start}")
    elif last_ckpt.exists() or state_file.exists():  # half a checkpoint: never overwrite it
        have, lost = ((last_ckpt, state_file) if last_ckpt.exists() else (state_file, last_ckpt))
        hint = (f"to continue from its weights, start a new run with --init {last_ckpt}"
                if have == last_ckpt else "move it away to start afresh")
        raise ValueError(f"cannot resume {out}: it has {have.name} but no {lost.name} "
                         f"(optimizer state and iteration); {hint}")
    elif cfg.init:
        load_weights(net, cfg.init)
        # the stages that made the --init weights travel on in this run's checkpoints
        before = read_metadata(cfg.init).get("training", {})
    model: torch.nn.Module = net
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(net)

    log_path = out / "log.csv"
    fields = ["iteration", "loss", "iou", "lr", "views", "s_per_step", "elapsed_s"]
    val_fields = [f"val_iou_{k}" for k in range(1, cfg.max_views + 1)]
    if rank == 0:
        atomic_write_text(out / "train_config.json", json.dumps(dataclasses.asdict(cfg), indent=2))
        if not log_path.is_file() or start == 0:
            atomic_write_text(log_path, ",".join(fields + val_fields) + "\n")
        else:  # rows logged after the checkpoint (a hard kill) are logged again from here
            _trim_log(log_path, start)

    def checkpoint(it: int) -> None:
        if rank != 0:
            return
        meta_training = {
            "data": ", ".join(data_roots(cfg)),
            "iterations": it,
            "wall_time_s": round(elapsed, 1),
            "config": dataclasses.asdict(cfg),
            "world_size": world,
            "device": device.type,
        }
        if before:
            meta_training = chain_stages(before, meta_training)
        save_checkpoint(last_ckpt, net, preset=cfg.preset, training=meta_training)
        buf = _torch_bytes({"optimizer": opt.state_dict(), "iteration": it, "elapsed": elapsed})
        atomic_write_bytes(state_file, buf)

    batches = training_batches(cfg, rank, start)
    bar = tqdm(
        total=cfg.iterations, initial=start, disable=not progress or rank != 0, desc="train"
    )
    ema_loss = ema_iou = None
    it = start
    try:
        net.train()
        while it < cfg.iterations:
            t0 = time.perf_counter()
            try:
                batch = next(batches)
            except (RuntimeError, ValueError, OSError) as exc:  # from the data, maybe a worker
                roots = ", ".join(data_roots(cfg))
                raise ValueError(f"{roots}: no training batch ({_last_line(exc)})") from None
            images = batch["images"].to(device, non_blocking=True)
            voxels = batch["voxels"].to(device, non_blocking=True)
            for g in opt.param_groups:
                g["lr"] = learning_rate(cfg, it)
            logits = model(images, every_step=cfg.loss == "every")
            loss = sequence_loss(logits, voxels, cfg.loss)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            it += 1
            dt = time.perf_counter() - t0
            elapsed += dt
            iou = batch_iou(logits[-1] if cfg.loss == "every" else logits, voxels)
            lv = float(loss.detach())
            if not math.isfinite(lv):
                raise FloatingPointError(f"loss became {lv} at iteration {it}; lower --lr")
            ema_loss = lv if ema_loss is None else 0.95 * ema_loss + 0.05 * lv
            ema_iou = iou if ema_iou is None else 0.95 * ema_iou + 0.05 * iou
            bar.update(1)
            bar.set_postfix(loss=f"{ema_loss:.4f}", iou=f"{ema_iou:.3f}", s_it=f"{dt:.2f}")
            row: dict[str, Any] = {
                "iteration": it,
                "loss": round(lv, 5),
                "iou": round(iou, 4),
                "lr": learning_rate(cfg, it - 1),
                "views": images.shape[0],
                "s_per_step": round(dt, 3),
                "elapsed_s": round(elapsed, 1),
            }
            if rank == 0 and (it % cfg.val_every == 0 or it == cfg.iterations) and cfg.val_models:
                net.eval()
                res = evaluate(
                    net, data_roots(cfg)[0], split="test", max_views=cfg.max_views,
                    limit=cfg.val_models, device=device, progress=False,
                )
                net.train()
                for k, v in res["overall"].items():
                    row[f"val_iou_{k}"] = round(v, 4)
                bar.write(
                    f"iteration {it}: val IoU by views "
                    + " ".join(f"{k}:{v:.3f}" for k, v in res["overall"].items())
                )
            if rank == 0:
                with open(log_path, "a", newline="") as f:
                    csv.DictWriter(f, fields + val_fields).writerow(row)
            if it % cfg.checkpoint_every == 0:
                checkpoint(it)
    except KeyboardInterrupt:
        checkpoint(it)
        bar.close()
        if rank == 0:
            print(f"interrupted: checkpoint saved at iteration {it} in {out}")
        raise
    bar.close()
    checkpoint(it)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return last_ckpt


def load_weights(net: R2N2, path: str | os.PathLike) -> None:
    """Load the weights of checkpoint ``path`` (a resumed run's or ``--init``'s) into
    ``net``; its network config must match."""
    from .checkpoint import CheckpointError

    loaded, _ = load_checkpoint(path, "cpu")
    if loaded.cfg != net.cfg:
        raise CheckpointError(
            f"{path}: its network config differs from the run's preset; "
            "pass --preset with the preset it was trained as"
        )
    net.load_state_dict(loaded.state_dict())


def _last_line(exc: BaseException) -> str:
    """The message of ``exc``; a DataLoader worker's (which carries the worker's traceback)
    reduced to its last line."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def _load_state(path: Path, opt: torch.optim.Optimizer,
                device: torch.device) -> tuple[int, float]:
    """Load the optimizer state saved beside a checkpoint; (iteration, elapsed seconds)."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
        it, elapsed = state["iteration"], float(state.get("elapsed", 0.0))
        if not isinstance(it, int) or not 0 <= it:
            raise ValueError(f"iteration {it!r}")
        opt.load_state_dict(state["optimizer"])
    except Exception as exc:  # any unpickling or shape failure of a corrupt file
        raise ValueError(f"{path}: unreadable training state ({type(exc).__name__}: "
                         f"{_last_line(exc)[:200]}); to continue from the weights, start a new "
                         f"run with --init {path.parent / 'last.safetensors'}") from None
    return it, elapsed


def _trim_log(path: Path, upto: int) -> None:
    """Keep the header and the rows of iterations <= ``upto`` (atomically)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    kept = lines[:1]
    for line in lines[1:]:
        first = line.split(",", 1)[0]
        if first.isdigit() and int(first) <= upto:
            kept.append(line)
    if len(kept) != len(lines):
        atomic_write_text(path, "\n".join(kept) + "\n")


def _torch_bytes(obj: Any) -> bytes:
    import io

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()
