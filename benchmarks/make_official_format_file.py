"""Write a full-size random weights file in the official 3D-R2N2 layout.

Lets the converter be demonstrated end to end without the real download:

    python benchmarks/make_official_format_file.py -o /tmp/ResidualGRUNet.npy
    r2n2 convert /tmp/ResidualGRUNet.npy -o /tmp/res_gru3.safetensors

Weights are seeded, He-scaled (LeakyReLU layers) or unit-gain (recurrent gates), biases
0.1 like the official initialisation, so the network's outputs are not saturated.
The numbers mean nothing: this is a format fixture, not a model.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from r2n2_viewer.models.config import preset
from r2n2_viewer.models.official import ARCHS, official_layout, save_official_layout


def random_official_arrays(arch: str, seed: int = 0) -> list[np.ndarray]:
    """Random float32 arrays with the shapes of the official ``arch`` file, in order."""
    rng = np.random.default_rng(seed)
    arrays = []
    for name, shape in official_layout(preset(ARCHS[arch][1])):
        if name.endswith(".b"):
            arrays.append(np.full(shape, 0.1, np.float32))
            continue
        if name.endswith(".Wx") or name == "fc7.W":  # (in, out)
            fan_in = shape[0]
        elif len(shape) == 5:  # (out, kD, in, kH, kW)
            fan_in = shape[1] * shape[2] * shape[3] * shape[4]
        else:  # (out, in, kh, kw)
            fan_in = int(np.prod(shape[1:]))
        gain = 1.0 if name.startswith("t_x_") else 2.0
        a = rng.standard_normal(shape, dtype=np.float32)
        a *= np.float32(np.sqrt(gain / fan_in))
        arrays.append(a)
    return arrays


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", default="ResidualGRUNet.npy")
    ap.add_argument("--arch", choices=sorted(ARCHS), default="residual")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    arrays = random_official_arrays(args.arch, args.seed)
    save_official_layout(args.out, arrays)
    n = sum(a.size for a in arrays)
    print(
        f"wrote {args.out}: {ARCHS[args.arch][0]} layout, {len(arrays)} arrays, "
        f"{n:,} values, {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
