"""OBJ + MTL meshes read from a library archive, in the canonical frame.

Sweet Home 3D shows a piece as its OBJ turned by the catalog's ``modelRotation``
(row-major 3x3, ``v' = M v``), with y up and the front of the piece facing +z (pieces face
the bottom of the plan, which is +z in 3D), its bounding box stretched to the catalog's
width (x), height (y) and depth (z). :func:`load_piece_mesh` reproduces that and then
normalises as ShapeNetCore v1 (bounding box centred at the origin, diagonal 1).

The parser is small and written here rather than taken from trimesh because it must read
OBJ, MTL and textures out of a zip, fall back on Sweet Home 3D's built-in material
library (the default catalog's OBJs say ``usemtl white`` without any ``mtllib``), keep
per-material transparency and keep the triangles of every material group in file order.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .catalog import Piece, resolve


@dataclass
class Material:
    """The MTL fields the renderer uses."""

    name: str
    diffuse: tuple[float, float, float] = (0.8, 0.8, 0.8)
    specular: float = 0.0
    shininess: float = 30.0
    opacity: float = 1.0
    texture: str | None = None  # archive path of map_Kd
    image: np.ndarray | None = field(default=None, repr=False)  # decoded texture, RGB(A)


@dataclass
class MeshGroup:
    """Triangles sharing one material: corner positions (T, 3, 3) and uvs (T, 3, 2)|None."""

    material: Material
    triangles: np.ndarray
    uvs: np.ndarray | None


@dataclass
class PieceMesh:
    """A piece's triangles grouped by material, in the canonical normalised frame."""

    groups: list[MeshGroup]
    extent: np.ndarray  # bounding-box size after normalisation (diagonal 1)
    stretch: np.ndarray  # per-axis factors applied to match the catalog's size

    def all_triangles(self) -> np.ndarray:
        return np.concatenate([g.triangles for g in self.groups])


def parse_mtl(text: str, base: str = "") -> dict[str, Material]:
    """Materials of an MTL text; texture paths are resolved against archive path ``base``."""
    mats: dict[str, Material] = {}
    cur: Material | None = None
    for raw in text.splitlines():
        parts = raw.strip().split()
        if not parts or parts[0].startswith("#"):
            continue
        key, args = parts[0], parts[1:]
        if key == "newmtl":
            cur = mats.setdefault(" ".join(args), Material(" ".join(args)))
        elif cur is None or not args:
            continue
        elif key == "Kd" and len(args) >= 3:
            cur.diffuse = tuple(float(a) for a in args[:3])
        elif key == "Ks" and len(args) >= 3:
            cur.specular = float(np.mean([float(a) for a in args[:3]]))
        elif key == "Ns":
            cur.shininess = float(args[0])
        elif key == "d":
            cur.opacity = float(args[-1])
        elif key == "Tr":
            cur.opacity = 1.0 - float(args[-1])
        elif key == "map_Kd":
            cur.texture = resolve(base, _map_file(raw.strip()[len("map_Kd"):].strip()))
    return mats


def _map_file(rest: str) -> str:
    """The file name of a ``map_Kd`` line after its options (``-s 1 1 1 file name.png``)."""
    toks = rest.split()
    i = 0
    nargs = {"-s": 3, "-o": 3, "-t": 3, "-mm": 2, "-bm": 1, "-boost": 1, "-blendu": 1,
             "-blendv": 1, "-clamp": 1, "-texres": 1, "-imfchan": 1, "-cc": 1}
    while i < len(toks) and toks[i] in nargs:
        i += 1 + nargs[toks[i]]
    return " ".join(toks[i:])


def parse_obj(text: str) -> tuple[np.ndarray, np.ndarray, list[str], list[tuple]]:
    """(positions (V, 3), uvs (U, 2), mtllib names, faces) of an OBJ text.

    A face is ``(material name, vertex indices, uv indices or None)``, 0-based.
    """
    vs: list[list[float]] = []
    vts: list[list[float]] = []
    libs: list[str] = []
    faces: list[tuple] = []
    mat = ""
    for raw in text.splitlines():
        if not raw or raw[0] == "#":
            continue
        parts = raw.split()
        if not parts:
            continue
        key = parts[0]
        if key == "v":
            vs.append([float(a) for a in parts[1:4]])
        elif key == "vt":
            vts.append([float(a) for a in parts[1:3]] + [0.0] * (2 - len(parts[1:3])))
        elif key == "f":
            vi, ti = [], []
            for corner in parts[1:]:
                bits = corner.split("/")
                v = int(bits[0])
                vi.append(v - 1 if v > 0 else len(vs) + v)
                if len(bits) > 1 and bits[1]:
                    t = int(bits[1])
                    ti.append(t - 1 if t > 0 else len(vts) + t)
            if len(vi) >= 3:
                faces.append((mat, vi, ti if len(ti) == len(vi) else None))
        elif key == "usemtl":
            mat = " ".join(parts[1:])
        elif key == "mtllib":
            libs.append(raw.strip()[len("mtllib"):].strip())
    pos = np.array(vs, float).reshape(-1, 3)
    uv = np.array(vts, float).reshape(-1, 2)
    return pos, uv, libs, faces


def _decode_image(data: bytes) -> np.ndarray | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info
                            else "RGB")
            return np.asarray(im)
    except Exception:  # noqa: BLE001 - a broken texture only loses its colour
        return None


def read_raw_mesh(z: zipfile.ZipFile, model: str, default_mtl: str = "") -> list[MeshGroup]:
    """A piece's OBJ as material groups in the OBJ's own frame (no rotation yet)."""
    names = set(z.namelist())
    if model not in names:
        raise ValueError(f"model {model} is missing from the archive")
    pos, uv, libs, faces = parse_obj(z.read(model).decode("utf-8", "replace"))
    mats = parse_mtl(default_mtl) if default_mtl else {}
    for lib in libs:
        path = resolve(model, lib)
        if path in names:
            mats.update(parse_mtl(z.read(path).decode("utf-8", "replace"), path))
    by_mat: dict[str, tuple[list, list, bool]] = {}
    for mat, vi, ti in faces:
        tris, tuv, _ = by_mat.setdefault(mat, ([], [], True))
        for k in range(1, len(vi) - 1):  # fan triangulation
            tris.append((vi[0], vi[k], vi[k + 1]))
            tuv.append((ti[0], ti[k], ti[k + 1]) if ti is not None else (-1, -1, -1))
    groups = []
    images: dict[str, np.ndarray | None] = {}
    for name, (tris, tuv, _) in by_mat.items():
        m = mats.get(name, Material(name or "default"))
        idx = np.array(tris, int)
        if idx.size == 0 or idx.max() >= len(pos) or idx.min() < 0:
            idx = idx[((idx >= 0) & (idx < len(pos))).all(1)]
            if idx.size == 0:
                continue
        tri = pos[idx]
        uvs = None
        tuv_a = np.array(tuv, int)[: len(idx)]
        if m.texture and len(uv) and (tuv_a >= 0).all() and tuv_a.max() < len(uv):
            if m.texture not in images:
                images[m.texture] = (_decode_image(z.read(m.texture))
                                     if m.texture in names else None)
            if images[m.texture] is not None:
                m.image = images[m.texture]
                uvs = uv[tuv_a]
        groups.append(MeshGroup(m, tri, uvs))
    if not groups:
        raise ValueError(f"model {model} has no faces")
    return groups


def canonical(groups: list[MeshGroup], piece: Piece | None, stretch: bool = True) -> PieceMesh:
    """Rotate by the piece's modelRotation, stretch to its catalog size, centre, diagonal 1."""
    rot = np.eye(3) if piece is None or piece.rotation is None else \
        np.array(piece.rotation, float).reshape(3, 3)
    out = [MeshGroup(g.material, g.triangles @ rot.T, g.uvs) for g in groups]
    allv = np.concatenate([g.triangles.reshape(-1, 3) for g in out])
    lo, hi = allv.min(0), allv.max(0)
    size = hi - lo
    factors = np.ones(3)
    if stretch and piece is not None and min(piece.width, piece.height, piece.depth) > 0:
        target = np.array([piece.width, piece.height, piece.depth], float)
        ok = size > 1e-9 * max(size.max(), 1e-12)
        scale_each = np.where(ok, target / np.where(ok, size, 1), 1.0)
        factors = scale_each / np.median(scale_each[ok]) if ok.any() else factors
    centre = (lo + hi) / 2
    diag = float(np.linalg.norm(size * factors))
    if diag <= 0:
        raise ValueError("model has no extent")
    for g in out:
        g.triangles = (g.triangles - centre) * factors / diag
    return PieceMesh(out, size * factors / diag, factors)


def load_piece_mesh(z: zipfile.ZipFile, piece: Piece, default_mtl: str = "",
                    stretch: bool = True) -> PieceMesh:
    """A catalog piece as a normalised mesh in the canonical frame."""
    return canonical(read_raw_mesh(z, piece.model, default_mtl), piece, stretch)
