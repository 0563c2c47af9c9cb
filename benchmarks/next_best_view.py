"""Next best view: does choosing the next view by the ranking beat a random order?

For each held-out model (the test split of each ``--data`` root, ``--limit`` models per
root, spread over the categories as `r2n2 eval` does) a pool of ``--pool`` renderings
is drawn at random (the evaluation's seed). Both policies start from the same first
view (the pool's first); *ranked* then adds, twice, the candidate that
``next_view.rank_next_views`` puts first, *random* adds the pool's next two (a random
order). Printed: mean IoU at 1, 2 and 3 views for both, the share of models where the
ranking is better / equal / worse at 3 views, and the mean IoU of the best and worst
possible second view (the spread a choice can make). Then the time to rank
``--candidates`` candidates after one view (median of ``--repeats``), with the
machine's load average, since other work on the machine slows it.

    nice -n 5 python benchmarks/next_best_view.py --data /path/synth --data /path/sh3d \\
        [--limit 20] [--pool 8] [--weights default] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from r2n2_viewer.compare import step_ious
from r2n2_viewer.models.evaluate import iter_split
from r2n2_viewer.models.voxels import iou
from r2n2_viewer.next_view import rank_next_views
from r2n2_viewer.session import ReconstructionSession


def run_root(root: str, weights: str, limit: int, pool: int, threshold: float) -> dict:
    session = ReconstructionSession(weights, "cpu")
    ranked_ious, random_ious, second = [], [], []
    for _, images, voxels in iter_split(root, "test", pool, 0, limit):
        if len(images) < 3:
            continue
        session.reset()
        session.add_view(images[0])
        rest = list(range(1, len(images)))
        # every possible second view, for the spread a choice can make
        seconds = []
        for i in rest:
            session.add_view(images[i])
            seconds.append(iou(session.steps[-1].probabilities >= threshold, voxels))
            session.remove_view(1)
        second.append((min(seconds), max(seconds)))
        for _ in range(2):
            best = rank_next_views(session, [images[i] for i in rest])[0]
            session.add_view(images[rest.pop(best.index)])
        ranked_ious.append(step_ious(session, voxels, threshold))
        while len(session) > 1:
            session.remove_view(len(session) - 1)
        session.add_view(images[1])
        session.add_view(images[2])
        random_ious.append(step_ious(session, voxels, threshold))
    return {"ranked": np.array(ranked_ious), "random": np.array(random_ious),
            "second": np.array(second)}


def time_ranking(weights: str, n: int, repeats: int) -> list[float]:
    rng = np.random.default_rng(0)
    session = ReconstructionSession(weights, "cpu")
    session.add_view(rng.random((3, 127, 127), dtype=np.float32))
    cands = [rng.random((3, 127, 127), dtype=np.float32) for _ in range(n)]
    rank_next_views(session, cands)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        rank_next_views(session, cands)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", default=[], help="a ShapeNet-format root "
                    "(repeatable)")
    ap.add_argument("--weights", default="default")
    ap.add_argument("--limit", type=int, default=20, help="test models per root")
    ap.add_argument("--pool", type=int, default=8, help="renderings drawn per model")
    ap.add_argument("--threshold", type=float, default=0.4)
    ap.add_argument("--candidates", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for root in args.data:
        r = run_root(root, args.weights, args.limit, args.pool, args.threshold)
        ranked, rand, second = r["ranked"], r["random"], r["second"]
        n = len(ranked)
        if n == 0:
            print(f"{root}: no test models with 3 or more views")
            continue
        better = int((ranked[:, 2] > rand[:, 2] + 1e-9).sum())
        worse = int((ranked[:, 2] < rand[:, 2] - 1e-9).sum())
        print(f"{root}: {n} test models, pool {args.pool}, threshold {args.threshold}")
        print(f"  {'views':<22}{'1':>7}{'2':>7}{'3':>7}")
        for name, arr in (("ranked (entropy drop)", ranked), ("random order", rand)):
            print(f"  {name:<22}" + "".join(f"{v:>7.3f}" for v in arr.mean(0)))
        print(f"  at 3 views ranked is better on {better}, equal on {n - better - worse}, "
              f"worse on {worse} models; mean difference "
              f"{(ranked[:, 2] - rand[:, 2]).mean():+.4f} IoU")
        print(f"  second view: worst possible {second[:, 0].mean():.3f}, best possible "
              f"{second[:, 1].mean():.3f} mean IoU")
    times = time_ranking(args.weights, args.candidates, args.repeats)
    load = os.getloadavg()
    print(f"ranking {args.candidates} candidates after one view ({args.weights}, "
          f"{args.threads} threads): median {statistics.median(times):.3f} s, "
          f"min {min(times):.3f} s over {args.repeats}; load average "
          f"{load[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
