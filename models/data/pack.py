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
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..atomic import atomic_write, atomic_write_bytes, atomic_write_text
from .shapenet import (
    RENDER_DIR,
    VOXEL_DIR,
    ModelRecord,
    build_index,
    dataset_categories,
    report,
)

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


def _encode_model(rec: ModelRecord, views: int) -> PackedModel | None:
    """One model's packed form; ``None`` (with a warning naming the file) if it is broken."""
    from ..files import read_bytes_capped

    names = list(rec.views[:views])  # a prefix: view i is line i of the metadata file
    meta_lines: list[str] = []
    meta_path = rec.rendering_dir / META_FILE
    blobs, metas = [], []
    path = meta_path
    try:
        if meta_path.is_file():
            meta_lines = read_bytes_capped(meta_path, 2**20, "metadata file").decode(
                "utf-8").splitlines()
        for i, name in enumerate(names):
            path = rec.rendering_dir / name
            with Image.open(path) as im:
                buf = io.BytesIO()
                im.convert("RGBA").save(buf, "WEBP", lossless=True, method=2, exact=True)
            blobs.append(buf.getvalue())
            metas.append(meta_lines[i] if i < len(meta_lines) else "")
        path = rec.voxel_path
        binvox = read_bytes_capped(path, 2**26, "binvox file")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        report(path, f"model left out of the pack ({exc})")
        return None
    return PackedModel(rec.synset, rec.model_id, names, blobs, metas, binvox)


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
    models = [m for m in _map(_encode_model, jobs, workers, bar) if m is not None]
    if not models:
        raise PackError(f"no readable models under {root}")

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


# What each array of a pack must be: (dtype kinds, number of dimensions).
_SPEC: dict[str, tuple[str, int]] = {
    "format": ("U", 0), "categories": ("U", 0),
    "synsets": ("U", 1), "model_ids": ("U", 1),
    "view_start": ("iu", 1), "view_names": ("U", 1), "view_metadata": ("U", 1),
    "webp": ("u", 1), "webp_offsets": ("iu", 1),
    "binvox": ("u", 1), "binvox_offsets": ("iu", 1),
}
# An array may inflate to at most this much more than it takes in the zip (plus a slack):
# real packs hold WebP and binvox bytes that compress little, while a zip bomb (8 MiB of
# deflated zeros declaring an 8 GiB array) is refused before a byte is inflated.
MAX_INFLATION = 64
INFLATION_SLACK = 64 * 2**20
MAX_VIEW_SIDE = 4096  # pixels; ShapeNet renderings are 137 x 137


def _array_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """(shape, dtype) of each array in the zip, from the .npy headers, sizes checked."""
    from ..files import read_npy_header

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise PackError(f"{path}: not a packed dataset (not a zip file: {exc})") from None
    headers = {}
    with zf:
        for info in zf.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            try:
                with zf.open(info) as f:
                    shape, fortran, dtype = read_npy_header(f)
                    header_end = f.tell()
            except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, SyntaxError,
                    TypeError, NotImplementedError, RuntimeError, OSError) as exc:
                raise PackError(f"{path}: not a packed dataset (array {key!r}: "
                                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                                ) from None
            if dtype.hasobject:
                raise PackError(f"{path}: not a packed dataset (array {key!r} holds "
                                "Python objects)")
            nbytes = dtype.itemsize
            for d in shape:
                nbytes *= d
            if nbytes != info.file_size - header_end:
                raise PackError(f"{path}: packed dataset is truncated or inconsistent "
                                f"(array {key!r} declares {nbytes:,} bytes, holds "
                                f"{info.file_size - header_end:,})")
            if nbytes > INFLATION_SLACK + MAX_INFLATION * info.compress_size:
                raise PackError(f"{path}: array {key!r} would inflate {info.compress_size:,} "
                                f"bytes to {nbytes:,}; refusing a zip bomb")
            headers[key] = (tuple(shape), dtype)
    return headers


def _bad(path: Path, what: str) -> PackError:
    return PackError(f"{path}: not a packed dataset ({what})")


def read_pack(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of a packed file, checked; never unpickles anything.

    Structure and declared sizes are checked from the zip and .npy headers before any
    array is inflated; then offsets, counts and every name (synset, model id and view
    names must be plain names, view names ``.png``) so that unpacking stays inside its
    output folder.
    """
    from ..files import regular_file

    path = regular_file(path, "file")
    headers = _array_headers(path)
    fshape, fdtype = headers.get("format", ((), np.dtype("U1")))
    if fdtype.kind != "U" or fshape != () or fdtype.itemsize > 256:
        raise _bad(path, "format missing or not a string")
    try:
        with np.load(path, allow_pickle=False) as z:
            fmt = str(z["format"]) if "format" in headers else ""
            if fmt != FORMAT:
                raise PackError(f"{path}: not a packed dataset (format {fmt or 'missing'!r}, "
                                f"expected {FORMAT!r}); make one with `r2n2 pack`")
            for key, (kinds, ndim) in _SPEC.items():
                if key not in headers:
                    raise _bad(path, f"array {key!r} is missing")
                shape, dtype = headers[key]
                if dtype.kind not in kinds or len(shape) != ndim:
                    raise _bad(path, f"array {key!r} is {dtype} of shape {shape}")
                if key in ("webp", "binvox") and dtype.itemsize != 1:
                    raise _bad(path, f"array {key!r} is {dtype}, expected uint8")
            arrays = {k: z[k] for k in _SPEC}
    except PackError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise PackError(f"{path}: not a packed dataset ({exc})") from None
    _check_counts(path, arrays)
    _check_names(path, arrays)
    return arrays


def _offsets_ok(off: np.ndarray, count: int, total: int) -> bool:
    return (len(off) == count + 1 and int(off[0]) == 0 and int(off[-1]) == total
            and bool(np.all(np.diff(off) >= 0)))


def _check_counts(path: Path, a: dict[str, np.ndarray]) -> None:
    n, views = len(a["synsets"]), len(a["view_names"])
    if (len(a["model_ids"]) != n or len(a["view_metadata"]) != views
            or not _offsets_ok(a["view_start"], n, views)
            or not _offsets_ok(a["webp_offsets"], views, len(a["webp"]))
            or not _offsets_ok(a["binvox_offsets"], n, len(a["binvox"]))):
        raise PackError(f"{path}: packed dataset is truncated or inconsistent "
                        "(counts or offsets do not add up)")


def _check_names(path: Path, a: dict[str, np.ndarray]) -> None:
    from ..files import is_safe_name

    try:
        cats = json.loads(str(a["categories"]))
    except ValueError as exc:
        raise _bad(path, f"categories are not JSON: {exc}") from None
    if not isinstance(cats, dict) or not all(
            is_safe_name(k) and isinstance(v, str) for k, v in cats.items()):
        raise _bad(path, "categories must map synset ids to names")
    seen = set()
    vs = a["view_start"]
    names, metas = a["view_names"].tolist(), a["view_metadata"].tolist()
    for i, (syn, mid) in enumerate(zip(a["synsets"].tolist(), a["model_ids"].tolist(),
                                       strict=True)):
        for what, name in (("synset", syn), ("model id", mid)):
            if not is_safe_name(name):
                raise _bad(path, f"{what} {name[:80]!r} is not a plain name")
        if (syn, mid) in seen:
            raise _bad(path, f"model {syn}/{mid} appears twice")
        seen.add((syn, mid))
        own = names[int(vs[i]) : int(vs[i + 1])]
        for name in own:
            if not is_safe_name(name) or not name.lower().endswith(".png"):
                raise _bad(path, f"view name {name[:80]!r} of {syn}/{mid} is not a plain "
                           "'.png' file name")
        if len(set(own)) != len(own):
            raise _bad(path, f"model {syn}/{mid} names a view twice")
    if any("\n" in m or "\r" in m for m in metas):
        raise _bad(path, "a view's metadata spans several lines")


def _png_bytes(blob: bytes, where: str) -> bytes:
    """A packed WebP view as PNG bytes; refuses other formats and oversized pictures."""
    try:
        with Image.open(io.BytesIO(blob), formats=["WEBP"]) as im:
            if max(im.size) > MAX_VIEW_SIDE:
                raise PackError(f"{where}: view of {im.size[0]}x{im.size[1]} pixels is larger "
                                f"than {MAX_VIEW_SIDE} on a side")
            buf = io.BytesIO()
            im.save(buf, "PNG", compress_level=1)
    except PackError:
        raise
    except Exception as exc:  # any decoder failure on foreign bytes is a bad pack
        raise PackError(f"{where}: unreadable packed view ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    return buf.getvalue()


def _write_model(out: str, synset: str, model_id: str, names: list[str], blobs: list[bytes],
                 metas: list[str], binvox: bytes) -> None:
    from ..files import inside
    from ..voxels import BinvoxError, decode_binvox

    rdir = Path(out) / RENDER_DIR / synset / model_id / "rendering"
    vdir = Path(out) / VOXEL_DIR / synset / model_id
    targets = [rdir / n for n in names] + [rdir / META_FILE, vdir / "model.binvox"]
    escaped = next((t for t in targets if not inside(out, t)), None)
    if escaped is not None:  # read_pack allows plain names only; a link could still point out
        raise PackError(f"{synset}/{model_id}: {escaped} would be written outside {out}")
    try:
        decode_binvox(binvox)
    except BinvoxError as exc:
        raise PackError(f"{synset}/{model_id}: bad packed voxels ({exc})") from None
    pngs = [_png_bytes(blob, f"{synset}/{model_id}/{name}")
            for name, blob in zip(names, blobs, strict=True)]
    rdir.mkdir(parents=True, exist_ok=True)
    for name, png in zip(names, pngs, strict=True):
        atomic_write_bytes(rdir / name, png)
    if any(metas):
        atomic_write_text(rdir / META_FILE, "\n".join(metas) + "\n")
    atomic_write_text(rdir / "renderings.txt", "\n".join(names) + "\n")
    vdir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(vdir / "model.binvox", binvox)


def unpack(src: str | os.PathLike, out: str | os.PathLike, workers: int = 2,
           progress: bool = True) -> int:
    """Write the dataset in ``src`` as a ShapeNet-format folder ``out``; returns models.

    The whole pack is checked (:func:`read_pack`) before anything is written; every file
    lands inside ``out``. If a model fails later (a corrupt view), what was written is
    removed again and ``out`` is left as it was (empty or absent).
    """
    import shutil

    from tqdm import tqdm

    a = read_pack(src)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PackError(f"{out} exists and is not a folder; unpack into a new folder")
    if out.exists() and any(out.iterdir()):
        raise PackError(f"{out} is not empty; unpack into a new folder")
    created = not out.exists()
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
    try:
        for _ in _map(_write_model, jobs(), workers, bar):
            pass
        cats = json.loads(str(a["categories"]))
        official = {syn: {"id": syn, "name": name} for syn, name in cats.items()}
        atomic_write_text(out / "categories.json", json.dumps(official, indent=2) + "\n")
    except BaseException:
        bar.close()
        if created:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for name in (RENDER_DIR, VOXEL_DIR):
                shutil.rmtree(out / name, ignore_errors=True)
        raise
    return n
