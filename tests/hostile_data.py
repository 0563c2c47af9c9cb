"""Builders of hostile and broken inputs: datasets, packs, zip bombs, checkpoints."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from r2n2_viewer.models.voxels import write_binvox

SYNSETS = {"03001627": "chair", "04379243": "table"}


def make_dataset(root: Path, per_cat: int = 5, views: int = 3, seed: int = 0) -> Path:
    """A small valid ShapeNet-format dataset (noise renderings, random voxels)."""
    rng = np.random.default_rng(seed)
    for syn in SYNSETS:
        for i in range(per_cat):
            mid = f"m{i:02d}{syn}"
            rdir = root / "ShapeNetRendering" / syn / mid / "rendering"
            rdir.mkdir(parents=True)
            names = [f"{v:02d}.png" for v in range(views)]
            for name in names:
                rgba = rng.integers(0, 256, (137, 137, 4), dtype=np.uint8)
                Image.fromarray(rgba, "RGBA").save(rdir / name)
            (rdir / "renderings.txt").write_text("\n".join(names) + "\n")
            vdir = root / "ShapeNetVox32" / syn / mid
            vdir.mkdir(parents=True)
            write_binvox(vdir / "model.binvox", rng.random((32, 32, 32)) < 0.2)
    (root / "categories.json").write_text(
        json.dumps({s: {"id": s, "name": n} for s, n in SYNSETS.items()}))
    return root


def pack_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def rewrite_pack(src: Path, dst: Path, drop: tuple[str, ...] = (), **changes) -> Path:
    """A copy of pack ``src`` with arrays replaced (``changes``) or removed (``drop``)."""
    arrays = pack_arrays(src)
    arrays.update(changes)
    for key in drop:
        arrays.pop(key)
    np.savez_compressed(dst, **arrays)
    return dst


def _npy_header(shape: tuple[int, ...], descr: str = "|u1") -> bytes:
    d = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    total = 10 + len(d) + 1
    pad = (64 - total % 64) % 64
    head = d + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head


def zip_bomb(path: Path, declared: int, fmt: str = "r2n2-pack/1") -> Path:
    """An ``.npz`` whose ``webp`` member inflates to ``declared`` zero bytes (< 4 GiB) from
    about declared / 1000 compressed bytes, next to a valid ``format`` member.

    The deflate stream repeats one independently compressed segment of zeros (full
    flushes keep segments independent), so building it takes no time whatever it claims.
    """
    assert declared < 2**32 - 2**20
    chunk = 2**24
    header = _npy_header((declared,))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    seg_c = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = seg_c.compress(bytes(chunk)) + seg_c.flush(zlib.Z_FULL_FLUSH)
    n, rest = divmod(declared, chunk)
    tail_c = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = tail_c.compress(bytes(rest)) + tail_c.flush(zlib.Z_FINISH)
    bomb = first + segment * n + tail
    fmt_arr = np.array(fmt)
    fmt_raw = _npy_header((), fmt_arr.dtype.str) + fmt_arr.tobytes()
    members = [("format.npy", fmt_raw, 0, len(fmt_raw), zlib.crc32(fmt_raw)),
               ("webp.npy", bomb, 8, len(header) + declared, 0)]
    out, central = bytearray(), bytearray()
    for name, data, method, size, crc in members:
        offset = len(out)
        fields = struct.pack("<HHHHHIIIHH", 20, 0, method, 0, 0x21, crc, len(data), size,
                             len(name), 0)
        out += b"PK\x03\x04" + fields + name.encode() + data
        central += (b"PK\x01\x02" + struct.pack("<H", 20) + fields
                    + struct.pack("<HHHII", 0, 0, 0, 0, offset) + name.encode())
    eocd = struct.pack("<HHHHIIH", 0, 0, len(members), len(members), len(central), len(out), 0)
    path.write_bytes(bytes(out) + bytes(central) + b"PK\x05\x06" + eocd)
    return path
