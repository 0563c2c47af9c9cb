"""Generate a procedural dataset in the ShapeNet layout (renderings + 32^3 voxels).

Layout written under ``out_dir``::

    categories.json                                   13 categories, as shapenet_1000.json
    synth.json                                        generator settings and per-object tags
    ShapeNetRendering/<synset>/<id>/rendering/NN.png  137x137 RGBA, transparent background
    ShapeNetRendering/<synset>/<id>/rendering/renderings.txt
    ShapeNetRendering/<synset>/<id>/rendering/rendering_metadata.txt
    ShapeNetVox32/<synset>/<id>/model.binvox          32^3 solid, [x, y, z] after fix_coords

Normalisation (the mesh rendered and the voxel grid share it): the object's axis-aligned
bounding box is centred at the origin and scaled to a diagonal of 1 (as ShapeNetCore v1).
With ``L`` the largest extent after that, the voxel grid covers the cube
``[-L/2, L/2]^3``: voxel ``(i, j, k)`` spans ``x in -L/2 + L/32 * [i, i + 1]`` (likewise
``y``/``j``, ``z``/``k``), so the largest extent spans the grid and the object is centred in
the others. The binvox header records ``translate = (-L/2,)*3`` and ``scale = L``.
Frame: y up, every object faces +z. The camera is described in :mod:`.render`.

Everything about object ``(seed, synset, index)`` (shape, colours, cameras, id) comes
from a seed derived from those three values, so output does not depend on the number of
workers or the order of work. Objects whose files are already complete are skipped.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..atomic import atomic_write_text
from ..data.categories import CATEGORIES, synsets_for, write_categories
from ..voxels import encode_binvox
from .categories import GENERATORS
from .materials import Look, draw_look
from .render import FOV_DEG, Renderer, format_metadata_line
from .shapes import Part, bounds, build_meshes, thicken, voxelize

RENDER_DIR = "ShapeNetRendering"
VOXEL_DIR = "ShapeNetVox32"
RES = 32
# Bump whenever object (seed, synset, index) changes in any way (shape, colours, cameras):
# a dataset and the models trained on it are tied to one version. Version 1 had car doors
# swinging inward and hid the one-sided options of tables and watercraft; version 2 fixed
# that (the bundled model was trained on version-2 data); version 3 adds textured materials
# with specular light, random lighting, rounded and curved parts, glass, and new chair and
# table kinds. tests/test_synth.py pins a fingerprint of the current version's objects.
GENERATOR_VERSION = 3


def _digest(*key: object) -> bytes:
    return hashlib.sha256("/".join(str(k) for k in ("r2n2-synth", *key)).encode()).digest()


def model_id(seed: int, synset: str, index: int) -> str:
    """A 32-hex-digit id, fixed by (seed, synset, index)."""
    return _digest("id", seed, synset, index)[:16].hex()


def object_seed(seed: int, synset: str, index: int) -> int:
    """The seed for every random choice about one object."""
    return int.from_bytes(_digest("obj", seed, synset, index)[:8], "little")


@dataclass
class SynthObject:
    """One normalised object: parts in the raw frame plus the map to the normalised one."""

    parts: list[Part]
    tags: dict
    offset: np.ndarray  # raw bounding-box centre
    scale: float  # raw -> normalised (1 / bounding-box diagonal)
    extent: np.ndarray  # normalised bounding-box size; max = voxel cube side L


def make_object(synset: str, rng: np.random.Generator) -> SynthObject:
    """Draw one object of a category and normalise it."""
    parts, tags = GENERATORS[synset](rng)
    lo, hi = bounds(parts)
    thicken(parts, 0.45 * float(np.max(hi - lo)) / RES)
    lo, hi = bounds(parts)
    scale = 1.0 / float(np.linalg.norm(hi - lo))
    return SynthObject(parts, tags, (lo + hi) / 2, scale, (hi - lo) * scale)


def object_voxels(obj: SynthObject, res: int = RES) -> np.ndarray:
    """Solid occupancy bool [x, y, z] of the normalised object's bounding cube."""
    side = float(obj.extent.max()) / obj.scale
    return voxelize(obj.parts, obj.offset - side / 2, side, res)


def object_look(synset: str, rng: np.random.Generator) -> Look:
    """Materials (textures, finish, glass) and lights of one object of ``synset``."""
    return draw_look(CATEGORIES[synset], rng)


def sample_views(rng: np.random.Generator, views: int) -> list[str]:
    """Metadata lines as the official render script draws them."""
    return [
        format_metadata_line(rng.uniform(0, 360), rng.uniform(25, 30), rng.uniform(0.65, 0.95),
                             FOV_DEG)
        for _ in range(views)
    ]


def _complete(out: Path, synset: str, mid: str, views: int) -> bool:
    rdir = out / RENDER_DIR / synset / mid / "rendering"
    return (out / VOXEL_DIR / synset / mid / "model.binvox").is_file() and (
        rdir / f"{views - 1:02d}.png"
    ).is_file()


def build_object(seed: int, synset: str, index: int) -> tuple[SynthObject, np.random.Generator]:
    """The object (seed, synset, index) and its rng, positioned after the shape draw."""
    rng = np.random.default_rng(object_seed(seed, synset, index))
    return make_object(synset, rng), rng


def write_object(out: Path, renderer: Renderer, seed: int, synset: str, index: int,
                 views: int) -> dict:
    """Generate, render, voxelise and write one object; returns its tags."""
    mid = model_id(seed, synset, index)
    obj, rng = build_object(seed, synset, index)
    lines = sample_views(rng, views)
    look = object_look(synset, rng)
    meshes = build_meshes(obj.parts, rng, obj.offset, obj.scale, look.uv_scale)
    images = renderer.render_scene([(m, look.materials[tone]) for tone, m in meshes.items()],
                                   look.lights, lines)
    write_model_files(out, synset, mid, images, lines, object_voxels(obj),
                      float(obj.extent.max()))
    return {"synset": synset, "index": index, "id": mid, **obj.tags}


def write_model_files(out: Path, synset: str, mid: str, images: list[np.ndarray],
                      lines: list[str], occ: np.ndarray, side: float) -> None:
    """Write one model in the ShapeNet layout: its rendering folder appears atomically
    (written beside it, then renamed), then the binvox of ``occ`` over the cube of edge
    ``side`` centred at the origin, last, so a model with a binvox is complete."""
    model_dir = out / RENDER_DIR / synset / mid
    tmp = out / RENDER_DIR / synset / f".{mid}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "rendering").mkdir(parents=True)
    names = [f"{i:02d}.png" for i in range(len(lines))]
    for name, img in zip(names, images, strict=True):
        Image.fromarray(img, "RGBA").save(tmp / "rendering" / name, compress_level=6)
    (tmp / "rendering" / "renderings.txt").write_text("\n".join(names) + "\n")
    (tmp / "rendering" / "rendering_metadata.txt").write_text("\n".join(lines) + "\n")
    shutil.rmtree(model_dir, ignore_errors=True)
    os.replace(tmp, model_dir)
    vdir = out / VOXEL_DIR / synset / mid
    vdir.mkdir(parents=True, exist_ok=True)
    vtmp = vdir / ".model.binvox.tmp"
    vtmp.write_bytes(encode_binvox(occ, (-side / 2,) * 3, side))
    os.replace(vtmp, vdir / "model.binvox")


_WORKER: dict = {}


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C: the parent stops the pool
    _WORKER["renderer"] = Renderer()


def _worker_task(task: tuple) -> dict:
    out, seed, synset, index, views = task
    return write_object(Path(out), _WORKER["renderer"], seed, synset, index, views)


def _check_manifest(out: Path, views: int, seed: int) -> None:
    """Refuse to add objects to a dataset written by another generator version, or with
    another number of views or seed: an object counts as complete by its files, so older
    objects would be kept as they are while ``synth.json`` described the new settings."""
    manifest = out / "synth.json"
    if not manifest.is_file():
        return
    try:
        found = json.loads(manifest.read_text(encoding="utf-8"))
        version = found.get("generator_version", 1)
    except (OSError, ValueError, AttributeError) as exc:
        raise ValueError(f"{manifest}: unreadable ({exc}); delete it or write to a new "
                         "folder") from None
    if version != GENERATOR_VERSION:
        raise ValueError(
            f"{out} was written by synth generator version {version}, this is version "
            f"{GENERATOR_VERSION}: its objects differ, so write to a new folder"
        )
    for name, value in (("views", views), ("seed", seed)):
        if name in found and found[name] != value:
            raise ValueError(f"{out} holds objects made with --{name} {found[name]!r}; "
                             f"extend it with --{name} {found[name]!r} or write to a new folder")


def generate(
    out_dir: str | os.PathLike,
    models_per_category: int,
    views: int = 24,
    seed: int = 0,
    categories: list[str] | None = None,
    workers: int = 2,
    progress: bool = True,
) -> dict:
    """Write ``models_per_category`` objects of each category under ``out_dir``.

    ``categories`` takes names or synset ids (default: all 13). ``workers`` <= 1 renders
    in this process. Returns a summary: counts, seconds and objects per second.
    """
    if not 1 <= views <= 99:
        raise ValueError("views must be 1..99")
    synsets = synsets_for(categories)
    out = Path(out_dir)
    _check_manifest(out, views, seed)
    out.mkdir(parents=True, exist_ok=True)
    write_categories(out / "categories.json", synsets)
    tasks, done = [], []
    for syn in synsets:
        for i in range(models_per_category):
            if _complete(out, syn, model_id(seed, syn, i), views):
                done.append((syn, i))
            else:
                tasks.append((str(out), seed, syn, i, views))
    t0 = time.perf_counter()
    results: list[dict] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), unit="obj", desc="synth")
    try:
        if workers <= 1 or len(tasks) <= 1:
            renderer = Renderer()
            try:
                for t in tasks:
                    results.append(write_object(out, renderer, *t[1:]))
                    if bar:
                        bar.update()
            finally:
                renderer.close()
        else:
            ctx = mp.get_context("spawn")
            with ctx.Pool(min(workers, len(tasks)), initializer=_worker_init) as pool:
                for res in pool.imap_unordered(_worker_task, tasks, chunksize=2):
                    results.append(res)
                    if bar:
                        bar.update()
    finally:  # also on Ctrl+C, so that what follows starts on a line of its own
        if bar:
            bar.close()
    seconds = time.perf_counter() - t0
    for syn, i in done:  # tags of skipped objects: rebuild the shape only (cheap)
        obj, _ = build_object(seed, syn, i)
        results.append({"synset": syn, "index": i, "id": model_id(seed, syn, i), **obj.tags})
    results.sort(key=lambda d: (d["synset"], d["index"]))
    summary = {
        "generator": "r2n2_viewer.models.synth", "generator_version": GENERATOR_VERSION,
        "seed": seed, "views": views,
        "models_per_category": models_per_category, "fov_deg": FOV_DEG,
        "categories": {s: CATEGORIES[s] for s in synsets}, "objects": results,
    }
    atomic_write_text(out / "synth.json", json.dumps(summary, indent=1) + "\n")
    return {"generated": len(tasks), "skipped": len(done), "seconds": seconds,
            "objects_per_second": len(tasks) / seconds if seconds > 0 and tasks else 0.0}
