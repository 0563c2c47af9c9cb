"""``r2n2 import-sh3d``: Sweet Home 3D furniture libraries as a ShapeNet-format dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import CLIError, add_command, positive_int


def register(sub) -> None:
    p = add_command(
        sub, "import-sh3d", run=run,
        help="turn Sweet Home 3D furniture libraries into a ShapeNet-format dataset",
        description="Render and voxelise the pieces of Sweet Home 3D furniture libraries "
        "(.sh3f files, or sweethome3d.jar for the default catalog) that the category "
        "manifest maps to one of the 13 categories, in the layout `r2n2 synth` writes.\n\n"
        "Get the libraries with `apt-get download sweethome3d-furniture sweethome3d` and "
        "`dpkg-deb -x PKG.deb DIR` (they land in DIR/usr/share/sweethome3d/). Finished "
        "pieces are skipped, so an interrupted import resumes.",
    )
    p.add_argument("libraries", nargs="+", metavar="LIB", help=".sh3f file or sweethome3d.jar")
    p.add_argument("--out", required=True, help="dataset root to write")
    p.add_argument("--views", type=int, default=24, help="renderings per piece (1..99)")
    p.add_argument("--seed", type=int, default=0, help="seed of the camera draws")
    p.add_argument("--workers", type=positive_int, default=2, help="parallel render processes")
    p.add_argument("--manifest", help="category manifest CSV (default: the committed one)")


def run(args: argparse.Namespace) -> int:
    from ..models.sh3d.catalog import load_library
    from ..models.sh3d.importer import import_libraries
    from ..models.sh3d.mapping import MANIFEST

    if not 1 <= args.views <= 99:
        raise CLIError("--views must be 1..99")
    manifest = Path(args.manifest) if args.manifest else MANIFEST
    if args.manifest and not manifest.is_file():
        raise CLIError(f"manifest {manifest} does not exist")
    for lib in args.libraries:
        load_library(lib)  # one clear line (LibraryError) before anything is written
    s = import_libraries(args.libraries, args.out, args.views, args.seed, args.workers,
                         manifest)
    print(f"wrote {s['written']} pieces ({s['skipped']} already present, {s['failed']} "
          f"failed, {s['excluded']} excluded by the manifest) to {args.out} in "
          f"{s['seconds']:.1f} s")
    return 0
