"""Test data built in one place: box renderings, PNG files and ShapeNet-format trees."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from r2n2_viewer.models.config import RENDER_SIZE
from r2n2_viewer.models.voxels import write_binvox

CHAIR, TABLE = "03001627", "04379243"


def box_rendering(
    box: tuple[int, int, int, int] = (30, 100, 40, 90),
    colour: Sequence[int] = (200, 40, 40),
    size: tuple[int, int] = (RENDER_SIZE, RENDER_SIZE),
) -> np.ndarray:
    """RGBA uint8 (H, W, 4): an opaque box ``[r0:r1, c0:c1]`` on a transparent background."""
    r0, r1, c0, c1 = box
    a = np.zeros((*size, 4), np.uint8)
    a[r0:r1, c0:c1, :3] = colour
    a[r0:r1, c0:c1, 3] = 255
    return a


def noise_rendering(rng: np.random.Generator, size: int = RENDER_SIZE) -> np.ndarray:
    """RGBA uint8 noise (no slack for lossy codecs) whose top rows are fully transparent."""
    a = rng.integers(0, 256, (size, size, 4), dtype=np.uint8)
    a[:20, :, 3] = 0
    return a


def save_png(path: str | Path, pixels: np.ndarray) -> str:
    """Write ``pixels`` (H, W[, 3|4] uint8) as a PNG; returns the path as a string."""
    Image.fromarray(pixels).save(path)
    return str(path)


def box_views(
    folder: str | Path, n: int, size: tuple[int, int] = (RENDER_SIZE, RENDER_SIZE),
    seed: int = 3,
) -> list[str]:
    """``view_1.png`` .. ``view_n.png`` in ``folder``: one box per view, of a random colour,
    that shrinks from view to view (so the steps of a reconstruction differ)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    h, w = size
    return [
        save_png(folder / f"view_{i + 1}.png",
                 box_rendering((h * (20 + 6 * i) // 137, h * 110 // 137,
                                w * 30 // 137, w * (110 - 7 * i) // 137),
                               rng.integers(0, 255, 3), size))
        for i in range(n)
    ]


def write_model(
    root: str | Path, synset: str, model_id: str, views: Sequence[np.ndarray],
    voxels: np.ndarray | None, cameras: Sequence[str] | None = None,
) -> Path:
    """One model in the ShapeNet layout under ``root``: ``ShapeNetRendering/<synset>/<id>/
    rendering/NN.png`` with ``renderings.txt`` and ``rendering_metadata.txt`` (``cameras``,
    default one fixed camera), and ``ShapeNetVox32/<synset>/<id>/model.binvox`` unless
    ``voxels`` is None. Returns the model's rendering-side folder."""
    root = Path(root)
    model = root / "ShapeNetRendering" / synset / model_id
    rdir = model / "rendering"
    rdir.mkdir(parents=True)
    names = []
    for v, pixels in enumerate(views):
        names.append(f"{v:02d}.png")
        save_png(rdir / names[-1], pixels)
    (rdir / "renderings.txt").write_text("\n".join(names) + "\n")
    lines = list(cameras) if cameras is not None else ["10 27 0 0.8 25"] * len(names)
    (rdir / "rendering_metadata.txt").write_text("".join(f"{ln}\n" for ln in lines))
    if voxels is not None:
        vdir = root / "ShapeNetVox32" / synset / model_id
        vdir.mkdir(parents=True)
        write_binvox(vdir / "model.binvox", voxels)
    return model


def shapenet_tree(
    root: str | Path,
    categories: dict[str, str],
    per_category: int,
    views: int,
    seed: int = 0,
    image: Callable[[np.random.Generator, int], np.ndarray] | None = None,
    fill: float = 0.1,
    model_id: Callable[[str, int], str] = lambda syn, i: f"{i:02d}{syn}abcdef",
) -> Path:
    """A ShapeNet-format dataset: ``per_category`` models of each ``{synset: name}`` with
    ``views`` renderings (``image(rng, view)``, default one box of a random colour), random
    voxels filled at ``fill``, cameras differing per view and model, ``categories.json``."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    if image is None:
        def image(rng: np.random.Generator, view: int) -> np.ndarray:
            return box_rendering(colour=rng.integers(0, 255, 3))
    for syn in categories:
        for i in range(per_category):
            pictures = [image(rng, v) for v in range(views)]
            cameras = [f"{10 * v + i} 27 0 0.8 25" for v in range(views)]
            write_model(root, syn, model_id(syn, i), pictures, rng.random((32, 32, 32)) < fill,
                        cameras)
    (root / "categories.json").write_text(
        json.dumps({s: {"id": s, "name": n} for s, n in categories.items()}))
    return root
