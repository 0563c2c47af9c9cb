"""``r2n2 convert``: official Theano weights -> a ``.safetensors`` checkpoint."""

from __future__ import annotations

import argparse

from .common import CLIError, add_command


def register(sub) -> None:
    p = add_command(
        sub, "convert", run=run,
        help="convert official 3D-R2N2 weights (ResidualGRUNet.npy / GRUNet.npy)",
        description="Read an official Theano weights file without executing code from it, "
        "check every array's shape, and write a .safetensors checkpoint "
        "(preset res_gru3 or gru3).",
    )
    p.add_argument("src", help="official weights file (.npy)")
    p.add_argument("-o", "--out", help="checkpoint to write (default: SRC with .safetensors)")
    p.add_argument("--arch", choices=["residual", "gru"],
                   help="force ResidualGRUNet or GRUNet (default: detect from the file)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..models.official import ARCHS, write_official_checkpoint

    src = Path(args.src)
    out = Path(args.out) if args.out else src.with_suffix(".safetensors")
    if out.resolve() == src.resolve():
        raise CLIError("the output would overwrite the input; pass -o")
    meta = write_official_checkpoint(src, out, arch=args.arch)
    arch = next(a for a, v in ARCHS.items() if v[0] == meta["official_arch"])
    print(f"{src.name}: official {meta['official_arch']} (--arch {arch}), "
          f"{meta['num_parameters']:,} parameters")
    print(f"wrote {out} (preset {meta['preset']})")
    return 0
