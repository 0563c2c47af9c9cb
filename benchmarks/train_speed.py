"""Time training on a dataset: seconds per iteration, samples per second, and whether the
data loader or the network is the limit. Use it to size `--iterations` for a time budget.

    python benchmarks/train_speed.py --data DATA [--preset small] [--batch-size 64]
        [--iterations 80] [--workers 2] [--device auto]

Runs the real `r2n2 train` loop (no validation, no checkpoints but the last) in a temporary
folder and reports the second half of the run (data loader warm, cuDNN tuned); then times
the data loader alone over the same number of batches.
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

from r2n2_viewer.models.recipes import TrainConfig, apply_recipe
from r2n2_viewer.models.train import train, training_batches


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="dataset root")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=80)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--device", default="auto", help="auto or cpu (cuda is used when present)")
    args = ap.parse_args()
    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    overrides = dict(preset=args.preset, batch_size=args.batch_size,
                     iterations=args.iterations, workers=args.workers, val_models=0,
                     checkpoint_every=10**9)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = apply_recipe(TrainConfig(data=args.data, out=tmp, recipe="default"), overrides)
        train(cfg, progress=False)
        with open(Path(tmp) / "log.csv") as f:
            rows = list(csv.DictReader(f))
    half = len(rows) // 2
    steps = len(rows) - half
    s_it = (float(rows[-1]["elapsed_s"]) - float(rows[half - 1]["elapsed_s"])) / steps
    views = sum(int(r["views"]) for r in rows[half:]) / steps

    batches = training_batches(cfg)  # the loader exactly as training iterates it
    for _ in range(min(5, half)):
        next(batches)  # workers started, queues filled
    t0 = time.perf_counter()
    for _ in range(steps):
        next(batches)
    s_batch = (time.perf_counter() - t0) / steps

    print(f"{args.preset}, batch {args.batch_size}, {args.workers} workers, mean "
          f"{views:.1f} views/sequence over the last {steps} of {len(rows)} iterations:")
    print(f"  training: {s_it * 1e3:.1f} ms/iteration, {args.batch_size / s_it:.0f} "
          f"sequences/s, {args.batch_size * views / s_it:.0f} images/s")
    print(f"  data loader alone: {s_batch * 1e3:.1f} ms/batch "
          f"({'the limit' if s_batch > 0.8 * s_it else 'not the limit'})")
    print(f"  1,000 iterations take about {s_it * 1000 / 60:.1f} min")


if __name__ == "__main__":
    main()
