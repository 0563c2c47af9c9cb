"""CPU against CUDA: do the two devices give the same reconstruction?

Runs the demo sequences (assets/demo/, 5 views each) through a ReconstructionSession (what
the viewer runs) on the CPU and on CUDA and prints, per demo and step, the largest difference in
occupancy probability, how many voxels change side of the threshold, and the IoU with the
ground truth on each device.

    python benchmarks/device_parity.py [--weights default] [--threshold 0.4]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from r2n2_viewer.demo import list_demos
from r2n2_viewer.models.voxels import iou
from r2n2_viewer.session import ReconstructionSession


def probabilities(weights: str, device: str, images: tuple) -> list[np.ndarray]:
    session = ReconstructionSession(weights, device=device)
    return [session.add_view(path).probabilities for path in images]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", default="default")
    p.add_argument("--threshold", type=float, default=0.4)
    args = p.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("device_parity: no CUDA device here; run it on a machine with a GPU")
    print(f"weights {args.weights}; {torch.cuda.get_device_name()}; torch {torch.__version__}")
    worst = 0.0
    for demo in list_demos():
        truth = demo.ground_truth()
        cpu = probabilities(args.weights, "cpu", demo.images)
        gpu = probabilities(args.weights, "cuda", demo.images)
        for t, (a, b) in enumerate(zip(cpu, gpu, strict=True)):
            flips = int(((a >= args.threshold) != (b >= args.threshold)).sum())
            d = float(np.abs(a - b).max())
            worst = max(worst, d)
            line = f"{demo.name:24s} step {t + 1}: max |dP| {d:.1e}, {flips} voxels flip"
            if truth is not None:
                line += (
                    f", IoU cpu {iou(a >= args.threshold, truth):.4f}"
                    f" cuda {iou(b >= args.threshold, truth):.4f}"
                )
            print(line)
    print(f"largest |dP| over every demo and step: {worst:.1e}")


if __name__ == "__main__":
    main()
