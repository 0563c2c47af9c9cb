"""Write Sweet Home 3D furniture as a ShapeNet-format dataset (the layout ``r2n2 synth``
writes), one model per kept catalog piece.

Layout under ``out``: ``categories.json``, ``sh3d.json`` (settings; per piece its library,
catalog id and name, creator, licence, category decision), ``ShapeNetRendering/<synset>/
<id>/rendering/NN.png`` (137x137 RGBA) + ``renderings.txt`` + ``rendering_metadata.txt``,
``ShapeNetVox32/<synset>/<id>/model.binvox`` (solid 32^3).

Model ids are 32 hex digits from (library file name, piece id), so the reader's 80/20 split
by sorted id is fixed per piece whatever else is imported. Views come from a seed derived
from (seed, model id). Finished pieces are skipped (an interrupted import resumes); a piece
that fails is reported and skipped.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
import time
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_text
from ..data.categories import CATEGORIES, NAME_TO_SYNSET, write_categories
from ..synth.generate import sample_views, write_model_files
from ..synth.render import FOV_DEG
from .catalog import Library, Piece, load_library
from .mapping import MANIFEST, Decision, decide, read_manifest
from .mesh import load_piece_mesh
from .voxelize import solid_voxels

RENDER_DIR = "ShapeNetRendering"
VOXEL_DIR = "ShapeNetVox32"
METADATA = "sh3d.json"
#: bump when the output for a piece changes (frame, voxels, rendering)
IMPORTER_VERSION = 1


def model_id(library: str, piece_id: str) -> str:
    """32 hex digits fixed by the library file name and the catalog piece id."""
    return hashlib.sha256(f"r2n2-sh3d/{library}/{piece_id}".encode()).digest()[:16].hex()


def view_seed(seed: int, mid: str) -> int:
    return int.from_bytes(hashlib.sha256(f"r2n2-sh3d-views/{seed}/{mid}".encode())
                          .digest()[:8], "little")


def _complete(out: Path, synset: str, mid: str, views: int) -> bool:
    rdir = out / RENDER_DIR / synset / mid / "rendering"
    return (out / VOXEL_DIR / synset / mid / "model.binvox").is_file() and (
        rdir / f"{views - 1:02d}.png").is_file()


def _prune(out: Path, mid: str, keep: str | None) -> None:
    """Remove a piece's files from every category folder but ``keep`` (a decision changed)."""
    for syn in CATEGORIES:
        if syn == keep:
            continue
        for d in (out / RENDER_DIR / syn / mid, out / VOXEL_DIR / syn / mid):
            if d.is_dir():
                shutil.rmtree(d)


def write_piece(out: Path, renderer, lib: Library, piece: Piece, default_mtl: str,
                synset: str, mid: str, lines: list[str]) -> dict:
    """Load, render, voxelise and write one piece; returns facts for the metadata."""
    with lib.open() as z:
        mesh = load_piece_mesh(z, piece, default_mtl)
    occ = solid_voxels(mesh.all_triangles(), mesh.extent)
    images = renderer.render(mesh, lines)
    write_model_files(out, synset, mid, images, lines, occ, float(mesh.extent.max()))
    return {"voxels": int(occ.sum()), "stretch": [round(float(f), 4) for f in mesh.stretch]}


_WORKER: dict = {}


def _worker_init() -> None:
    from .render import TexturedRenderer

    _WORKER["renderer"] = TexturedRenderer()
    _WORKER["libs"] = {}


def _library(path: str) -> tuple[Library, str]:
    libs = _WORKER.setdefault("libs", {})
    if path not in libs:
        lib = load_library(path)
        libs[path] = (lib, lib.default_mtl())
    return libs[path]


def _task(task: tuple) -> dict:
    out, lib_path, index, synset, mid, lines = task
    try:
        lib, mtl = _library(lib_path)
        piece = next(p for p in lib.pieces if p.index == index)
        return {"id": mid, **write_piece(Path(out), _WORKER["renderer"], lib, piece, mtl,
                                          synset, mid, lines)}
    except Exception as exc:  # noqa: BLE001 - one bad piece must not end the import
        return {"id": mid, "error": f"{type(exc).__name__}: {exc}"}


def piece_record(piece: Piece, d: Decision, mid: str | None) -> dict:
    rec = {"library": piece.library, "piece_id": piece.piece_id, "name": piece.name,
           "catalog_category": piece.category, "creator": piece.creator,
           "license": piece.license, "reason": d.reason, "reviewed": d.reviewed}
    if mid is not None:
        rec = {"synset": NAME_TO_SYNSET[d.category], "category": d.category, "id": mid, **rec}
    return rec


def import_libraries(
    libraries: list[str | os.PathLike], out_dir: str | os.PathLike, views: int = 24,
    seed: int = 0, workers: int = 2, manifest: str | os.PathLike = MANIFEST,
    progress: bool = True, log=print,
) -> dict:
    """Import every kept piece of ``libraries`` into ``out_dir``; returns a summary.

    Raises :class:`~.catalog.LibraryError` (before writing anything) for a path that is
    not a library.
    """
    if not 1 <= views <= 99:
        raise ValueError("views must be 1..99")
    libs = [load_library(p) for p in libraries]
    decisions = read_manifest(manifest)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta_path = out / METADATA
    previous = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    if previous.get("importer_version", IMPORTER_VERSION) != IMPORTER_VERSION:
        raise ValueError(f"{out} was written by another importer version; use a new folder")
    kept, excluded, tasks, done = [], [], [], 0
    for lib in libs:
        for piece in lib.pieces:
            d = decide(piece, decisions)
            mid = model_id(piece.library, piece.piece_id)
            syn = NAME_TO_SYNSET[d.category] if d.category else None
            _prune(out, mid, keep=syn)
            if syn is None:
                excluded.append(piece_record(piece, d, None))
                continue
            kept.append(piece_record(piece, d, mid))
            if _complete(out, syn, mid, views):
                done += 1
                continue
            lines = sample_views(np.random.default_rng(view_seed(seed, mid)), views)
            tasks.append((str(out), str(lib.path), piece.index, syn, mid, lines))
    t0 = time.perf_counter()
    results: dict[str, dict] = {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), unit="piece", desc="import-sh3d")
    if workers <= 1 or len(tasks) <= 1:
        _worker_init()
        try:
            for t in tasks:
                r = _task(t)
                results[r["id"]] = r
                if bar:
                    bar.update()
        finally:
            _WORKER["renderer"].close()
            _WORKER.clear()
    else:
        ctx = mp.get_context("spawn")
        with ctx.Pool(min(workers, len(tasks)), initializer=_worker_init) as pool:
            for r in pool.imap_unordered(_task, tasks, chunksize=1):
                results[r["id"]] = r
                if bar:
                    bar.update()
    if bar:
        bar.close()
    failed = []
    objects = {o["id"]: o for o in previous.get("objects", [])}
    for e in excluded:
        objects.pop(model_id(e["library"], e["piece_id"]), None)
    for rec in kept:
        r = results.get(rec["id"], {})
        if "error" in r:
            log(f"skipped {rec['library']} {rec['piece_id']!r} ({rec['name']}): {r['error']}")
            failed.append({**rec, "error": r["error"]})
            objects.pop(rec["id"], None)
            continue
        old = objects.get(rec["id"], {})
        objects[rec["id"]] = {**old, **rec, **{k: v for k, v in r.items() if k != "id"}}
    synsets = sorted({o["synset"] for o in objects.values()}) or sorted(CATEGORIES)
    write_categories(out / "categories.json", synsets)
    lib_info = {x["file"]: x for x in previous.get("libraries", [])}
    for lib in libs:
        lib_info[lib.path.name] = {"file": lib.path.name, "name": lib.name,
                                   "license": lib.license, "pieces": len(lib.pieces)}
    excl = {(e["library"], e["piece_id"]): e for e in previous.get("excluded", [])}
    excl.update({(e["library"], e["piece_id"]): e for e in excluded})
    summary = {
        "generator": "r2n2_viewer.models.sh3d", "importer_version": IMPORTER_VERSION,
        "seed": seed, "views": views, "fov_deg": FOV_DEG,
        "libraries": sorted(lib_info.values(), key=lambda x: x["file"]),
        "categories": {s: CATEGORIES[s] for s in synsets},
        "objects": sorted(objects.values(), key=lambda o: (o["synset"], o["id"])),
        "excluded": sorted(excl.values(), key=lambda e: (e["library"], e["piece_id"])),
        "failed": failed,
    }
    atomic_write_text(meta_path, json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    seconds = time.perf_counter() - t0
    return {"written": len(tasks) - len(failed), "skipped": done, "failed": len(failed),
            "excluded": len(excluded), "seconds": seconds}
