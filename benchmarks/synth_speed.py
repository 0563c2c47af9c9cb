"""Time the procedural dataset generator and print objects per second.

    python benchmarks/synth_speed.py [--objects 52] [--views 24] [--workers 2]

Objects are spread evenly over the 13 categories; the count includes worker start-up.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time

from r2n2_viewer.models.synth.generate import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=52, help="about this many objects")
    ap.add_argument("--views", type=int, default=24)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    per_cat = max(1, math.ceil(args.objects / 13))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = generate(tmp, per_cat, views=args.views, seed=args.seed, workers=args.workers,
                     progress=False)
        wall = time.perf_counter() - t0
    n = s["generated"]
    print(f"{n} objects, {args.views} views, {args.workers} workers: {wall:.1f} s wall, "
          f"{n / wall:.2f} objects/s ({s['objects_per_second']:.2f} objects/s excluding setup)")


if __name__ == "__main__":
    main()
