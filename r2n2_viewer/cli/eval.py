"""``r2n2 eval``: mean IoU per category for 1..K views (the paper's protocol)."""

from __future__ import annotations

import argparse

from .common import CLIError, add_command, model_options, positive_int, threshold


def threshold_list(text: str) -> list[float]:
    """Comma-separated occupancy thresholds, each strictly between 0 and 1."""
    parts = [t.strip() for t in text.split(",") if t.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("give thresholds like 0.3,0.4,0.5")
    return [threshold(t) for t in parts]


def register(sub) -> None:
    p = add_command(
        sub, "eval", run=run, parents=(model_options(),),
        help="mean IoU per category for 1..K views (the paper's protocol)",
        description="Evaluate a model on a ShapeNet-format split: mean IoU at a threshold "
        "per category and overall for 1..K views; each model's k-view result is step k of "
        "one sequence of K random (seeded) views.",
    )
    p.add_argument("--data", required=True, help="dataset root")
    p.add_argument("--split", default="test", choices=["train", "test", "all"],
                   help="which split; all: every model (a set with no training part)")
    p.add_argument("--thresholds", type=threshold_list, metavar="T1,T2,...",
                   help="several thresholds, one per-category table each, e.g. 0.3,0.4,0.5 "
                   "(the first is the result's main one; replaces --threshold)")
    p.add_argument("--max-views", type=positive_int, default=5, help="K: views per model")
    p.add_argument("--seed", type=int, default=0, help="seed of the view orders")
    p.add_argument("--orders", type=positive_int, default=1,
                   help="sequences of independently drawn views per model, all averaged "
                   "(seeds --seed, --seed+1, ...; default 1)")
    p.add_argument("--limit", type=positive_int, help="evaluate at most this many models")
    p.add_argument("--baseline", choices=["mean-shape"],
                   help="also print an image-blind baseline beside the model")
    p.add_argument("--json", help="write the result as JSON")
    p.add_argument("--plot", help="write a PNG plot of IoU against the number of views")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..models import evaluate as ev
    from ..weights import load_model, pick_device

    if not Path(args.data).is_dir():
        raise CLIError(f"dataset folder {args.data} does not exist")
    device = pick_device(args.device)
    net, meta = load_model(args.weights, device)
    result = ev.evaluate(net, args.data, args.split, args.max_views, args.threshold,
                         args.seed, args.limit, device, thresholds=args.thresholds,
                         orders=args.orders)
    result["weights"] = str(args.weights)
    result["split"] = args.split
    baseline = None
    if args.baseline == "mean-shape":
        baseline = ev.evaluate_mean_shape(args.data, args.split, args.max_views,
                                          args.threshold, args.limit,
                                          thresholds=args.thresholds)
        result["baseline_mean_shape"] = baseline
    print(ev.format_tables(result, baseline))
    if args.json:
        ev.write_json(args.json, result)
        print(f"wrote {args.json}")
    if args.plot:
        ev.plot(args.plot, result, title=f"{meta.get('name') or meta.get('preset') or ''}")
        print(f"wrote {args.plot}")
    return 0
