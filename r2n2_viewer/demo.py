"""Bundled demo sequences: objects of the synthetic test split, 5 views each.

Layout: ``assets/demo/<name>/view_01.png ... view_05.png`` (137x137 RGBA renderings in
ShapeNetRendering's style), ``model.binvox`` (ground-truth 32^3 voxels, [x, y, z], y up)
and ``info.json`` (category, synset, model id, why this object was chosen).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .models.voxels import read_binvox


@dataclass(frozen=True)
class Demo:
    name: str
    folder: Path
    category: str
    images: tuple[Path, ...]
    voxels_path: Path | None

    def ground_truth(self) -> np.ndarray | None:
        """The ground-truth occupancy [x, y, z], or None when the demo has none."""
        return read_binvox(self.voxels_path) if self.voxels_path else None


def demo_root() -> Path:
    from . import assets

    return Path(assets.__file__).resolve().parent / "demo"


def list_demos(root: Path | None = None) -> list[Demo]:
    """Every demo under ``root`` (default: the bundled ones), sorted by name."""
    root = root or demo_root()
    demos = []
    for folder in sorted(p for p in root.glob("*") if p.is_dir()):
        images = tuple(sorted(folder.glob("view_*.png")))
        if not images:
            continue
        info_path = folder / "info.json"
        info = json.loads(info_path.read_text()) if info_path.is_file() else {}
        vox = folder / "model.binvox"
        demos.append(
            Demo(
                name=folder.name,
                folder=folder,
                category=str(info.get("category", "")),
                images=images,
                voxels_path=vox if vox.is_file() else None,
            )
        )
    return demos
