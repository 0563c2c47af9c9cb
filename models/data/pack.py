"""Pack a ShapeNet-format dataset into one file, and unpack it again.

A packed file moves a dataset to a training machine (a GPU box, a cluster node) as one
small file: each rendering is stored as lossless WebP (about 0.9 kB for a 137x137 synth
view, 2.5x smaller than its PNG), each voxel file as its original binvox bytes, plus the
category names and each view's line of ``rendering_metadata.txt``. Unpacking writes the
same ShapeNetRendering / ShapeNetVox32 layout back (PNG renderings, pixel-identical to the
source), so everything that reads a dataset folder reads the copy unchanged.

The file is a compressed ``.npz`` of plain arrays, read with ``allow_pickle=False``:
opening one never runs code from it. ``views`` keeps the first N views of each model (in
``renderings.txt`` order) to fit a size budget. The copy's train/test split is recomputed
from the sorted model ids, as for any dataset folder; it equals the source's unless the
source held broken models (those are left out of the pack).
"""

from __future__ import annotations

import io
import json
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..atomic import atomic_write, atomic_write_bytes, atomic_write_text
from .shapenet import RENDER_DIR, VOXEL_DIR, ModelRecord, build_index, dataset_categories

FORMAT = "r2n2-pack/1"
META_FILE = "rendering_metadata.txt"


class PackError(ValueError):
    """A packed file that cannot be read, or a pack/unpack request that cannot be done."""


@dataclass(frozen=True)
class PackedModel:
    synset: str
    model_id: str
    view_names: list[str]
    views_webp: list[bytes]
    metadata: list[str]  # one rendering_metadata.txt line per view ("" if unknown)
    binvox: bytes


def _map(fn: Callable, jobs: Iterable[tuple], workers: int, bar) -> Iterator:
    """``fn(*job)`` for each job, in order, in ``workers`` processes; ticks ``bar``."""
    try:
        if workers > 1:
            # workers ignore Ctrl+C: the parent stops, drops the queued jobs and says so once
            pool = ProcessPoolExecutor(workers, initializer=signal.signal,
                                       initargs=(signal.SIGINT, signal.SIG_IGN))
            try:
                for result in pool.map(_star, ((fn, job) for job in jobs), chunksize=16):
                    bar.update(1)
                    yield result
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
        else:
            for job in jobs:
                result = fn(*job)
                bar.update(1)
                yield result
    finally:  # also on Ctrl+C, so that what follows starts on a line of its own
        bar.close()


def _star(call: tuple[Callable, tuple]):
    fn, job = call
    return fn(*job)


def _encode_model(rec: ModelRecord, views: int) -> PackedModel:
    names = list(rec.views[:views])  # a prefix: view i is line i of the metadata file
    meta_lines: list[str] = []
    meta_path = rec.rendering_dir / META_FILE
    if meta_path.is_file():
        meta_lines = meta_path.read_text().splitlines()
    blobs, metas = [], []
    for i, name in enumerate(names):
        with Image.open(rec.rendering_dir / name) as im:
            buf = io.BytesIO()
            im.convert("RGBA").save(buf, "WEBP", lossless=True, method=2, exact=True)
        blobs.append(buf.getvalue())
        metas.append(meta_lines[i] if i < len(meta_lines) else "")
    return PackedModel(
        rec.synset, rec.model_id, names, blobs, metas, rec.voxel_path.read_bytes()
    )


def _concat(chunks: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(chunks) + 1, np.int64)
    offsets[1:] = np.cumsum([len(c) for c in chunks])
    return np.frombuffer(b"".join(chunks), np.uint8).copy(), offsets


def pack(
    root: str | os.PathLike,
    out: str | os.PathLike,
    views: int = 8,
    workers: int = 2,
    progress: bool = True,
) -> dict:
    """Pack every usable model of the dataset at ``root`` into ``out``; returns counts."""
    from tqdm import tqdm

    if views < 1:
        raise PackError("--views must be at least 1")
    names = dataset_categories(root)
    records = build_index(root, "all")
    if not records:
        raise PackError(f"no usable models under {root}")
    bar = tqdm(total=len(records), desc="pack", unit="model", disable=not progress)
    jobs = ((rec, views) for rec in records)
    models: list[PackedModel] = list(_map(_encode_model, jobs, workers, bar))

    webp, webp_off = _concat([b for m in models for b in m.views_webp])
    binvox, binvox_off = _concat([m.binvox for m in models])
    view_start = np.zeros(len(models) + 1, np.int64)
    view_start[1:] = np.cumsum([len(m.views_webp) for m in models])
    arrays = {
        "format": np.array(FORMAT),
        "categories": np.array(json.dumps(names)),
        "synsets": np.array([m.synset for m in models]),
        "model_ids": np.array([m.model_id for m in models]),
        "view_start": view_start,
        "view_names": np.array([n for m in models for n in m.view_names]),
        "view_metadata": np.array([s for m in models for s in m.metadata]),
        "webp": webp,
        "webp_offsets": webp_off,
        "binvox": binvox,
        "binvox_offsets": binvox_off,
    }
    with atomic_write(out, "wb") as f:
        np.savez_compressed(f, **arrays)
    return {"models": len(models), "views": int(view_start[-1]), "bytes": Path(out).stat().st_size}


def read_pack(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of a packed file, checked; never unpickles anything."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise PackError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError) as exc:
        raise PackError(f"{path}: not a packed dataset ({exc})") from None
    fmt = str(arrays.get("format", ""))
    if fmt != FORMAT:
        raise PackError(f"{path}: not a packed dataset (format {fmt or 'missing'!r}, "
                        f"expected {FORMAT!r}); make one with `r2n2 pack`")
    n = len(arrays["synsets"])
    if (len(arrays["view_start"]) != n + 1 or len(arrays["binvox_offsets"]) != n + 1
            or arrays["webp_offsets"][-1] != len(arrays["webp"])
            or arrays["binvox_offsets"][-1] != len(arrays["binvox"])):
        raise PackError(f"{path}: packed dataset is truncated or inconsistent")
    return arrays


def _write_model(out: str, synset: str, model_id: str, names: list[str], blobs: list[bytes],
                 metas: list[str], binvox: bytes) -> None:
    rdir = Path(out) / RENDER_DIR / synset / model_id / "rendering"
    rdir.mkdir(parents=True, exist_ok=True)
    for name, blob in zip(names, blobs, strict=True):
        with Image.open(io.BytesIO(blob)) as im:
            buf = io.BytesIO()
            im.save(buf, "PNG", compress_level=1)
        atomic_write_bytes(rdir / name, buf.getvalue())
    if any(metas):
        atomic_write_text(rdir / META_FILE, "\n".join(metas) + "\n")
    atomic_write_text(rdir / "renderings.txt", "\n".join(names) + "\n")
    vdir = Path(out) / VOXEL_DIR / synset / model_id
    vdir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(vdir / "model.binvox", binvox)


def unpack(src: str | os.PathLike, out: str | os.PathLike, workers: int = 2,
           progress: bool = True) -> int:
    """Write the dataset in ``src`` as a ShapeNet-format folder ``out``; returns models."""
    from tqdm import tqdm

    a = read_pack(src)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise PackError(f"{out} is not empty; unpack into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    webp, wo, bv, bo, vs = (a["webp"], a["webp_offsets"], a["binvox"], a["binvox_offsets"],
                            a["view_start"])
    names, metas = a["view_names"].tolist(), a["view_metadata"].tolist()

    def jobs():
        for i, (syn, mid) in enumerate(zip(a["synsets"].tolist(), a["model_ids"].tolist(),
                                           strict=True)):
            v0, v1 = int(vs[i]), int(vs[i + 1])
            blobs = [webp[wo[j] : wo[j + 1]].tobytes() for j in range(v0, v1)]
            yield (str(out), syn, mid, names[v0:v1], blobs, metas[v0:v1],
                   bv[bo[i] : bo[i + 1]].tobytes())

    n = len(a["synsets"])
    bar = tqdm(total=n, desc="unpack", unit="model", disable=not progress)
    for _ in _map(_write_model, jobs(), workers, bar):
        pass
    cats = json.loads(str(a["categories"]))
    official = {syn: {"id": syn, "name": name} for syn, name in cats.items()}
    atomic_write_text(out / "categories.json", json.dumps(official, indent=2) + "\n")
    return n
