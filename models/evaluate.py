"""Evaluation with the paper's protocol: mean IoU at a threshold (0.4) per category and
overall, for 1..K views. Each model gets K random views (seeded per model); its k-view
result is step k of one sequence. ``orders`` > 1 gives each model that many sequences of
independently drawn views (seeds ``seed``, ``seed + 1``, ...), all averaged: on a small
test set one draw of views moves a category's mean by several hundredths. Also the
image-blind mean-shape baseline.

Several thresholds (papers differ: 0.3, 0.4, 0.5) are scored from the same forward
passes: the result is the first threshold's, with every threshold's under
``by_threshold``. Split ``all`` takes every model (a test set with no training part).
"""

from __future__ import annotations

import json
import os
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .atomic import atomic_write, atomic_write_text
from .net import R2N2
from .voxels import iou, read_binvox

Item = tuple[str, np.ndarray, np.ndarray]  # (category name, views (K,3,127,127), voxels bool)


def model_seed(seed: int, synset: str, model_id: str) -> int:
    """A per-model seed independent of iteration order and worker count."""
    return zlib.crc32(f"{seed}/{synset}/{model_id}".encode())


def split_records(root: str | os.PathLike, split: str, limit: int | None) -> list:
    from .data.shapenet import build_index

    records = build_index(root, split)
    if limit is not None and limit < len(records):
        # spread a limited evaluation evenly over every category
        idx = np.linspace(0, len(records) - 1, limit).round().astype(int)
        records = [records[i] for i in sorted(set(idx.tolist()))]
    return records


def eval_view_ids(record: Any, max_views: int, seed: int) -> list[int]:
    """The indices of the (at most ``max_views``) random views ``r2n2 eval`` gives a
    model, in order: seeded by ``seed`` and the model, whatever the iteration order."""
    rng = np.random.default_rng(model_seed(seed, record.synset, record.model_id))
    n = min(max_views, len(record.views))
    return rng.choice(len(record.views), size=n, replace=False).tolist()


def iter_split(
    root: str | os.PathLike, split: str, max_views: int, seed: int, limit: int | None,
    group: Callable[[Any], str | None] | None = None, orders: int = 1,
) -> Iterator[Item]:
    """(category, K random test-transformed views, voxels) for each model of a split,
    ``orders`` times per model with views drawn by seeds ``seed .. seed + orders - 1``.

    ``group(record)`` replaces the category as the row a model counts in (None: skip it).
    """
    if orders < 1:
        raise ValueError(f"orders must be at least 1, got {orders}")
    from .data.shapenet import dataset_categories, load_model_views

    names = dataset_categories(root)
    for m in split_records(root, split, limit):
        row = names.get(m.synset, m.synset) if group is None else group(m)
        if row is None:
            continue
        for r in range(orders):
            view_ids = eval_view_ids(m, max_views, seed + r)
            try:
                images, voxels = load_model_views(root, m.synset, m.model_id, view_ids,
                                                  train=False)
            except (OSError, ValueError) as exc:
                print(f"skipping {m.synset}/{m.model_id}: {exc}")
                break
            yield row, images, voxels


def _thresholds(threshold: float, thresholds: Iterable[float] | None) -> list[float]:
    ts = [float(t) for t in thresholds] if thresholds else [float(threshold)]
    for t in ts:
        if not 0.0 < t < 1.0:
            raise ValueError(f"threshold {t:g} must lie strictly between 0 and 1")
    return list(dict.fromkeys(ts))


def _with_thresholds(results: dict[float, dict[str, Any]]) -> dict[str, Any]:
    """The first threshold's result, plus ``by_threshold`` when there are several."""
    first = next(iter(results.values()))
    if len(results) == 1:
        return first
    return {**first, "by_threshold": {f"{t:g}": r for t, r in results.items()}}


@torch.inference_mode()
def evaluate_items(
    net: R2N2,
    items: Iterable[Item],
    max_views: int = 5,
    threshold: float = 0.4,
    device: str | torch.device = "cpu",
    batch_size: int = 8,
    progress: bool = True,
    total: int | None = None,
    thresholds: Iterable[float] | None = None,
) -> dict[str, Any]:
    """Mean IoU per category and overall for 1..max_views views (at ``thresholds`` if
    given, else at ``threshold``)."""
    from tqdm import tqdm

    ts = _thresholds(threshold, thresholds)
    was_training = net.training
    net.eval()
    per_cat: dict[float, dict[str, list[np.ndarray]]] = {t: defaultdict(list) for t in ts}
    buf: list[Item] = []

    def flush() -> None:
        cats = [b[0] for b in buf]
        seq = torch.from_numpy(np.stack([b[1][:max_views] for b in buf], 1)).to(device)
        gt = torch.from_numpy(np.stack([b[2] for b in buf])).to(device).bool()
        logits = net(seq, every_step=True)  # (K, N, 2, 32, 32, 32)
        probs = [R2N2.probabilities(lg) for lg in logits]
        for t in ts:
            ious = torch.stack([iou(p >= t, gt) for p in probs], 1)
            for c, row in zip(cats, ious.cpu().numpy(), strict=True):
                per_cat[t][c].append(row)
        buf.clear()

    bar = tqdm(items, total=total, desc="eval", disable=not progress)
    for item in bar:
        if item[1].shape[0] < max_views:
            continue
        buf.append(item)
        if len(buf) == batch_size:
            flush()
    if buf:
        flush()
    net.train(was_training)
    return _with_thresholds({t: summarise(per_cat[t], t) for t in ts})


def summarise(per_cat: dict[str, list[np.ndarray]], threshold: float) -> dict[str, Any]:
    if not per_cat:
        raise ValueError("no models to evaluate (is the split empty or are all files bad?)")
    rows = {c: np.stack(v) for c, v in sorted(per_cat.items())}
    everything = np.concatenate(list(rows.values()))
    k = everything.shape[1]

    def as_dict(a: np.ndarray) -> dict[str, float]:
        return {str(i + 1): float(a[i]) for i in range(k)}

    return {
        "threshold": threshold,
        "overall": as_dict(everything.mean(0)),
        "per_category": {c: as_dict(r.mean(0)) for c, r in rows.items()},
        "models": int(everything.shape[0]),
        "models_per_category": {c: int(r.shape[0]) for c, r in rows.items()},
    }


def evaluate(
    net: R2N2,
    root: str | os.PathLike,
    split: str = "test",
    max_views: int = 5,
    threshold: float = 0.4,
    seed: int = 0,
    limit: int | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
    thresholds: Iterable[float] | None = None,
    orders: int = 1,
) -> dict[str, Any]:
    """The paper's protocol on a ShapeNet-format dataset root (split train, test or all);
    ``orders`` sequences of random views per model (see the module's docstring)."""
    items = iter_split(root, split, max_views, seed, limit, orders=orders)
    result = evaluate_items(
        net, items, max_views, threshold, device, progress=progress,
        total=None if limit is None else limit * orders, thresholds=thresholds,
    )
    if orders > 1:
        for r in [result, *result.get("by_threshold", {}).values()]:
            r["orders"] = orders
            r["sequences"] = r["models"]
            r["models"] //= orders
            r["models_per_category"] = {c: n // orders
                                        for c, n in r["models_per_category"].items()}
    return result


# --- the image-blind baseline ---------------------------------------------------------
def mean_shapes(root: str | os.PathLike) -> dict[str, np.ndarray]:
    """Per-category mean occupancy of the training split's voxel grids."""
    from .data.shapenet import dataset_categories

    names = dataset_categories(root)
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = defaultdict(int)
    for m in split_records(root, "train", None):
        c = names.get(m.synset, m.synset)
        sums[c] = sums.get(c, 0) + read_binvox(m.voxel_path).astype(np.float32)
        counts[c] += 1
    return {c: s / counts[c] for c, s in sums.items()}


def evaluate_mean_shape(
    root: str | os.PathLike,
    split: str = "test",
    max_views: int = 5,
    threshold: float = 0.4,
    limit: int | None = None,
    thresholds: Iterable[float] | None = None,
) -> dict[str, Any]:
    """IoU of the thresholded per-category mean training shape: the same for any number
    of views, since it ignores the images. (The mean comes from the training split, so
    with split ``all`` the evaluated models include the ones it was made from.)"""
    from .data.shapenet import dataset_categories

    ts = _thresholds(threshold, thresholds)
    names = dataset_categories(root)
    shapes = mean_shapes(root)
    results = {}
    for t in ts:
        means = {c: torch.from_numpy(m >= t)[None] for c, m in shapes.items()}
        per_cat: dict[str, list[np.ndarray]] = defaultdict(list)
        for m in split_records(root, split, limit):
            c = names.get(m.synset, m.synset)
            if c not in means:
                continue
            gt = torch.from_numpy(read_binvox(m.voxel_path))[None]
            per_cat[c].append(np.full(max_views, float(iou(means[c], gt)[0])))
        results[t] = summarise(per_cat, t)
    return _with_thresholds(results)


# --- reporting -----------------------------------------------------------------------
def format_tables(result: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    """One per-category table per threshold (one table when a single threshold ran)."""
    if "by_threshold" not in result:
        return format_table(result, baseline)
    base_by = (baseline or {}).get("by_threshold", {})
    return "\n\n".join(format_table(r, base_by.get(t)) for t, r in result["by_threshold"].items())


def format_table(result: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    k = len(result["overall"])
    head = f"{'category':<14}" + "".join(f"{i:>8}" for i in range(1, k + 1))
    if baseline:
        head += f"{'mean-shape':>12}"
    lines = [f"mean IoU at threshold {result['threshold']} by number of views", head]

    def row(name: str, vals: dict[str, float], base: dict[str, float] | None) -> str:
        s = f"{name:<14}" + "".join(f"{vals[str(i)]:>8.3f}" for i in range(1, k + 1))
        if base is not None:
            s += f"{base['1']:>12.3f}"
        return s

    for c, vals in result["per_category"].items():
        base = baseline["per_category"].get(c) if baseline else None
        lines.append(row(c, vals, base))
    lines.append(row("overall", result["overall"], baseline["overall"] if baseline else None))
    orders = result.get("orders", 1)
    each = f", {orders} random view orders each" if orders > 1 else ""
    lines.append(f"({result['models']} models{each})")
    return "\n".join(lines)


def write_json(path: str | os.PathLike, result: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(result, indent=2) + "\n")


def plot(path: str | os.PathLike, result: dict[str, Any], title: str = "") -> None:
    """IoU against the number of views, one line per category plus the overall mean."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(result["overall"])
    xs = list(range(1, k + 1))
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for c, vals in result["per_category"].items():
        ax.plot(xs, [vals[str(i)] for i in xs], marker="o", lw=1, ms=3, label=c, alpha=0.8)
    ax.plot(xs, [result["overall"][str(i)] for i in xs], "k-o", lw=2.5, label="overall")
    ax.set_xlabel("number of views")
    ax.set_ylabel(f"mean IoU (threshold {result['threshold']})")
    ax.set_xticks(xs)
    ax.grid(alpha=0.3)
    ax.set_title(title or "IoU against the number of views")
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
