"""Solid primitives for procedural objects: each has a polygon mesh and an exact inside test.

An object is a list of :class:`Part` in one raw frame (y up, front towards +z). The same
parts give the rendered mesh (:func:`build_mesh`) and the solid voxel grid
(:func:`voxelize`), so renderings and voxels always agree.

Kinds and the meaning of ``size``:

- ``box``: full edge lengths along the local axes.
- ``frustum``: (radius at the ``-y`` end, half length, radius at the ``+y`` end); the axis is
  local y. A cylinder has equal radii, a cone one radius 0.
- ``ellipsoid``: the three radii.
- ``rbox``: a box with rounded edges and corners (cushions, bevelled tops): ``size`` the
  full edge lengths, ``radius`` the rounding (at most half the smallest edge).
- ``hull``: convex hull of ``points`` (world coordinates); ``size`` unused.

Renders use :func:`part_surface`: every face gets its own vertices, with texture
coordinates projected on the face's dominant local plane and normals that are smooth on
curved surfaces (ellipsoids, cylinder sides, rounded boxes) and flat elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import ConvexHull

_SEGMENTS = 20  # facets around a frustum
_SPHERE_RINGS = 10


@dataclass
class Part:
    """One solid piece of an object."""

    kind: str
    center: np.ndarray
    rot: np.ndarray  # columns: local x, y, z axes in world coordinates
    size: np.ndarray
    tone: int = 0  # palette slot: 0 main, 1 secondary, 2 dark accent, 3 light accent
    points: np.ndarray | None = None  # hull vertices
    planes: np.ndarray | None = field(default=None, repr=False)  # hull (m, 4): n.p + d <= 0
    radius: float = 0.0  # rbox edge rounding


# ---------------------------------------------------------------- constructors


def rot_x(a: float) -> np.ndarray:
    """Rotation by ``a`` radians about +x."""
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=float)


def rot_y(a: float) -> np.ndarray:
    """Rotation by ``a`` radians about +y."""
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=float)


def rot_z(a: float) -> np.ndarray:
    """Rotation by ``a`` radians about +z."""
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=float)


def box(center, size, rot: np.ndarray | None = None, tone: int = 0) -> Part:
    """A box with full edge lengths ``size`` centred at ``center``."""
    r = np.eye(3) if rot is None else np.asarray(rot, float)
    return Part("box", np.asarray(center, float), r, np.abs(np.asarray(size, float)), tone)


def rbox(center, size, radius: float, rot: np.ndarray | None = None, tone: int = 0) -> Part:
    """A box with edges and corners rounded by ``radius`` (clamped to half the smallest edge)."""
    size = np.abs(np.asarray(size, float))
    r = np.eye(3) if rot is None else np.asarray(rot, float)
    radius = float(np.clip(radius, 1e-4, size.min() / 2))
    return Part("rbox", np.asarray(center, float), r, size, tone, radius=radius)


def rbox_span(lo, hi, radius: float, tone: int = 0) -> Part:
    """An axis-aligned rounded box between two opposite corners."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return rbox((lo + hi) / 2, np.abs(hi - lo), radius, tone=tone)


def box_span(lo, hi, tone: int = 0) -> Part:
    """An axis-aligned box between two opposite corners."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return box((lo + hi) / 2, np.abs(hi - lo), tone=tone)


def _frame_along(axis: np.ndarray) -> np.ndarray:
    """A rotation whose local y axis is ``axis`` (normalised)."""
    y = axis / np.linalg.norm(axis)
    helper = np.array([1.0, 0, 0]) if abs(y[0]) < 0.9 else np.array([0, 0, 1.0])
    x = np.cross(y, helper)
    x /= np.linalg.norm(x)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=1)


def frustum(p0, p1, r0: float, r1: float | None = None, tone: int = 0) -> Part:
    """A cylinder (or cone frustum) from ``p0`` (radius ``r0``) to ``p1`` (radius ``r1``)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    r1 = r0 if r1 is None else r1
    axis = p1 - p0
    half = np.linalg.norm(axis) / 2
    return Part("frustum", (p0 + p1) / 2, _frame_along(axis), np.array([r0, half, r1]), tone)


def ellipsoid(center, radii, rot: np.ndarray | None = None, tone: int = 0) -> Part:
    """An ellipsoid with the given radii."""
    r = np.eye(3) if rot is None else np.asarray(rot, float)
    return Part("ellipsoid", np.asarray(center, float), r, np.asarray(radii, float), tone)


def hull(points, tone: int = 0) -> Part:
    """The convex hull of ``points`` (at least 4, not coplanar)."""
    pts = np.asarray(points, float)
    return Part("hull", pts.mean(0), np.eye(3), np.zeros(3), tone, points=pts)


def prism(outline_xz, y0: float, y1: float, tone: int = 0) -> Part:
    """A vertical convex prism: a convex outline in the x-z plane extruded from y0 to y1."""
    o = np.asarray(outline_xz, float)
    lo = np.column_stack([o[:, 0], np.full(len(o), y0), o[:, 1]])
    hi = np.column_stack([o[:, 0], np.full(len(o), y1), o[:, 1]])
    return hull(np.vstack([lo, hi]), tone)


def mirror_x(part: Part) -> Part:
    """The mirror image of a part in the plane x = 0."""
    m = np.diag([-1.0, 1, 1])
    if part.kind == "hull":
        return hull(part.points @ m, part.tone)
    # reflecting the frame and flipping its local x keeps a proper rotation; shapes are
    # symmetric in local x, so the solid is the mirror image
    rot = m @ part.rot @ m
    return Part(part.kind, part.center @ m, rot, part.size.copy(), part.tone, radius=part.radius)


def _hull_width(points: np.ndarray) -> tuple[float, np.ndarray]:
    """Smallest facet-to-vertex width of a convex hull and the facet normal giving it."""
    eq = ConvexHull(points).equations
    widths = -(points @ eq[:, :3].T + eq[:, 3]).min(axis=0)
    k = int(np.argmin(widths))
    return float(widths[k]), eq[k, :3]


def thicken(parts: list[Part], minimum: float) -> None:
    """Grow parts so none is thinner than ``minimum`` (in place).

    Thin hulls are extruded along their thinnest direction, so sails, wings and fins
    keep at least ``minimum`` thickness and cannot fall between voxel samples.
    """
    for p in parts:
        if p.kind == "hull":
            for _ in range(2):
                width, normal = _hull_width(p.points)
                if width >= minimum * 0.999:
                    break
                shift = normal * (minimum - width) / 2
                p.points = np.vstack([p.points - shift, p.points + shift])
                p.planes = None
        elif p.kind in ("box", "rbox"):
            p.size = np.maximum(p.size, minimum)
        elif p.kind == "ellipsoid":
            p.size = np.maximum(p.size, minimum / 2)
        elif p.kind == "frustum":
            r0, h, r1 = p.size
            big = max(r0, r1, minimum / 2)
            scale = big / max(r0, r1, 1e-12)
            p.size = np.array([r0 * scale, max(h, minimum / 2), r1 * scale])


# ---------------------------------------------------------------- meshes


def _unit_box() -> tuple[np.ndarray, list[list[int]]]:
    v = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    faces = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]
    return v, faces


def _frustum_local(r0: float, h: float, r1: float) -> tuple[np.ndarray, list[list[int]]]:
    n = _SEGMENTS
    a = np.arange(n) * 2 * np.pi / n
    c, s = np.cos(a), np.sin(a)
    lower = np.column_stack([r0 * c, np.full(n, -h), r0 * s])
    upper = np.column_stack([r1 * c, np.full(n, h), r1 * s])
    faces = [[i, (i + 1) % n, n + (i + 1) % n, n + i] for i in range(n)]
    faces.append(list(range(n - 1, -1, -1)))
    faces.append(list(range(n, 2 * n)))
    return np.vstack([lower, upper]), faces


def _sphere_local() -> tuple[np.ndarray, list[list[int]]]:
    n, m = _SEGMENTS, _SPHERE_RINGS
    th = np.linspace(0, np.pi, m + 1)[1:-1]
    ph = np.arange(n) * 2 * np.pi / n
    ring = np.stack(
        [
            np.outer(np.sin(th), np.cos(ph)),
            np.repeat(np.cos(th)[:, None], n, 1),
            np.outer(np.sin(th), np.sin(ph)),
        ],
        axis=-1,
    ).reshape(-1, 3)
    v = np.vstack([[0, 1, 0], ring, [0, -1, 0]])
    faces: list[list[int]] = []
    bottom = len(v) - 1
    for j in range(n):
        faces.append([0, 1 + (j + 1) % n, 1 + j])
    for i in range(m - 2):
        for j in range(n):
            a0, a1 = 1 + i * n + j, 1 + i * n + (j + 1) % n
            faces.append([a0, a1, a1 + n, a0 + n])
    last = 1 + (m - 2) * n
    for j in range(n):
        faces.append([last + j, last + (j + 1) % n, bottom])
    return v, faces


_BOX = _unit_box()
_SPHERE = _sphere_local()


def _rbox_local(size: np.ndarray, radius: float) -> tuple[np.ndarray, list[list[int]]]:
    """A rounded box: a grid on each face of the box, pushed onto the rounded surface."""
    half = size / 2
    inner = np.maximum(half - radius, 0.0)
    vals = [np.unique(np.concatenate([np.linspace(-h, -i, 4), [0.0], np.linspace(i, h, 4)]))
            for h, i in zip(half, inner, strict=True)]
    verts: list[np.ndarray] = []
    faces: list[list[int]] = []
    for a in range(3):
        b, c = (a + 1) % 3, (a + 2) % 3
        for sign in (-1.0, 1.0):
            gb, gc = np.meshgrid(vals[b], vals[c], indexing="ij")
            pts = np.zeros(gb.shape + (3,))
            pts[..., a], pts[..., b], pts[..., c] = sign * half[a], gb, gc
            nb, nc = gb.shape
            base = sum(len(v) for v in verts)
            verts.append(pts.reshape(-1, 3))
            for i in range(nb - 1):
                for j in range(nc - 1):
                    q = [base + i * nc + j, base + (i + 1) * nc + j,
                         base + (i + 1) * nc + j + 1, base + i * nc + j + 1]
                    faces.append(q if sign > 0 else q[::-1])
    v = np.vstack(verts)
    q = np.clip(v, -inner, inner)
    d = v - q
    n = np.linalg.norm(d, axis=1, keepdims=True)
    return q + radius * d / np.maximum(n, 1e-12), faces


def part_mesh(part: Part) -> tuple[np.ndarray, list[list[int]]]:
    """World-space vertices and polygon faces (vertex index lists) of one part."""
    if part.kind == "hull":
        h = ConvexHull(part.points)
        return part.points, [list(s) for s in h.simplices]
    if part.kind == "box":
        v, f = _BOX[0] * part.size, _BOX[1]
    elif part.kind == "frustum":
        v, f = _frustum_local(*part.size)
    elif part.kind == "ellipsoid":
        v, f = _SPHERE[0] * part.size, _SPHERE[1]
    elif part.kind == "rbox":
        v, f = _rbox_local(part.size, part.radius)
    else:
        raise ValueError(f"unknown part kind {part.kind!r}")
    return v @ part.rot.T + part.center, f


def _local_normals(part: Part, loc: np.ndarray) -> np.ndarray | None:
    """Outward surface normals (unnormalised) at local points of a curved part, else None."""
    s = part.size
    if part.kind == "ellipsoid":
        return loc / (s * s)
    if part.kind == "rbox":
        inner = np.maximum(s / 2 - part.radius, 0.0)
        return loc - np.clip(loc, -inner, inner)
    if part.kind == "frustum":
        r0, h, r1 = s
        rho = np.maximum(np.hypot(loc[:, 0], loc[:, 2]), 1e-12)
        slope = np.full(len(loc), -(r1 - r0) / (2 * h))
        return np.column_stack([loc[:, 0] / rho, slope, loc[:, 2] / rho])
    return None


def part_surface(part: Part) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A part's render surface: vertices (V, 3), vertices per face (F,), normals (V, 3), uv (V, 2).

    Every face has its own consecutive vertices. Normals are the analytic surface normal where it is
    within ~37 degrees of the face's own (curved surfaces), else the face normal (edges
    stay crisp). Texture coordinates are the local coordinates in the face's dominant
    plane, u along the part's longer extent there (wood grain follows a leg or a slat).
    """
    v, faces = part_mesh(part)
    frame = np.eye(3) if part.kind == "hull" else part.rot
    centre = v.mean(0) if part.kind == "hull" else part.center
    loc_all = (v - centre) @ frame
    extent = np.ptp(loc_all, axis=0)
    idx = np.concatenate([np.asarray(f, np.int64) for f in faces])
    sizes = np.array([len(f) for f in faces])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pts = v[idx]
    loc = loc_all[idx]
    # face normals from three spread vertices of each (convex, planar) face, oriented away
    # from the part's centre
    i1 = starts + np.maximum(1, sizes // 3)
    i2 = starts + np.maximum(2, (2 * sizes) // 3)
    fn = np.cross(pts[i1] - pts[starts], pts[i2] - pts[starts])
    centroid = np.add.reduceat(pts, starts, axis=0) / sizes[:, None]
    fn *= np.where(np.sum(fn * (centroid - centre), axis=1) < 0, -1.0, 1.0)[:, None]
    fn /= np.maximum(np.linalg.norm(fn, axis=1, keepdims=True), 1e-12)
    face_of = np.repeat(np.arange(len(faces)), sizes)
    normals = fn[face_of]
    analytic = _local_normals(part, loc)
    if analytic is not None:
        an = analytic @ frame.T
        an /= np.maximum(np.linalg.norm(an, axis=1, keepdims=True), 1e-12)
        smooth = np.sum(an * normals, axis=1) > 0.8
        normals = np.where(smooth[:, None], an, normals)
    # uv: dominant local axis of each face normal, u along the larger remaining extent
    dom = np.argmax(np.abs(fn @ frame), axis=1)[face_of]
    others = np.array([[1, 2], [0, 2], [0, 1]])[dom]
    swap = extent[others[:, 1]] > extent[others[:, 0]]
    ua = np.where(swap, others[:, 1], others[:, 0])
    va = np.where(swap, others[:, 0], others[:, 1])
    rows = np.arange(len(loc))
    uv = np.column_stack([loc[rows, ua], loc[rows, va]])
    return pts, sizes, normals, uv


def _cell_array(sizes: np.ndarray) -> np.ndarray:
    """VTK's flat cell array for faces whose vertices are numbered consecutively."""
    sizes = np.asarray(sizes, np.int64)
    total = int(sizes.sum())
    count_at = np.concatenate([[0], np.cumsum(sizes + 1)[:-1]])
    out = np.empty(total + len(sizes), np.int64)
    mask = np.ones(len(out), bool)
    mask[count_at] = False
    out[count_at] = sizes
    out[mask] = np.arange(total)
    return out


def bounds(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds (min, max) of all parts' meshes."""
    v = np.vstack([part_mesh(p)[0] for p in parts])
    return v.min(0), v.max(0)


def build_meshes(parts: list[Part], rng: np.random.Generator, offset, scale: float,
                 uv_scale: float = 1.0) -> dict[int, object]:
    """One PyVista PolyData per palette slot (``Part.tone``), mapped by ``(v - offset) * scale``.

    Each carries point normals and texture coordinates (in units of ``1 / uv_scale`` of the
    normalised frame, shifted at random per part so neighbouring parts show different
    grain).
    """
    import pyvista as pv

    groups: dict[int, list] = {}
    for p in parts:
        v, sizes, normals, uv = part_surface(p)
        uv = uv * scale * uv_scale + rng.random(2)
        groups.setdefault(p.tone, []).append(((v - offset) * scale, sizes, normals, uv))
    meshes: dict[int, object] = {}
    for tone in sorted(groups):
        verts, sizes, normals, uvs = (list(x) for x in zip(*groups[tone], strict=True))
        mesh = pv.PolyData(np.vstack(verts), _cell_array(np.concatenate(sizes)))
        mesh.point_data["Normals"] = np.vstack(normals).astype(np.float32)
        mesh.point_data.active_normals_name = "Normals"
        mesh.active_texture_coordinates = np.vstack(uvs).astype(np.float32)
        meshes[tone] = mesh
    return meshes


# ---------------------------------------------------------------- voxels


def inside(part: Part, pts: np.ndarray) -> np.ndarray:
    """Boolean mask of the points (P, 3) that lie inside the solid part."""
    if part.kind == "hull":
        if part.planes is None:
            part.planes = ConvexHull(part.points).equations
        return np.all(pts @ part.planes[:, :3].T + part.planes[:, 3] <= 1e-9, axis=1)
    loc = (pts - part.center) @ part.rot
    s = part.size
    if part.kind == "box":
        return np.all(np.abs(loc) <= s / 2, axis=1)
    if part.kind == "ellipsoid":
        return np.sum((loc / s) ** 2, axis=1) <= 1.0
    if part.kind == "rbox":
        inner = np.maximum(s / 2 - part.radius, 0.0)
        d = loc - np.clip(loc, -inner, inner)
        return np.sum(d * d, axis=1) <= part.radius**2
    if part.kind == "frustum":
        r0, h, r1 = s
        t = (loc[:, 1] + h) / (2 * h)
        r = r0 + (r1 - r0) * t
        return (np.abs(loc[:, 1]) <= h) & (loc[:, 0] ** 2 + loc[:, 2] ** 2 <= r * r)
    raise ValueError(f"unknown part kind {part.kind!r}")


def voxelize(parts: list[Part], lo, side: float, res: int = 32, sub: int = 3) -> np.ndarray:
    """Solid occupancy of the cube ``[lo, lo + side]^3`` as bool [x, y, z].

    Voxel (i, j, k) spans ``lo + side / res * ([i, j, k], [i, j, k] + 1)``. It is occupied
    when any of ``sub^3`` evenly spread sample points inside it lies in some part (points
    at offsets ``(q + 0.5) / sub`` of the voxel edge, q = 0..sub-1), so parts at least a
    third of a voxel thick never vanish.
    """
    lo = np.asarray(lo, float)
    h = side / res
    occ = np.zeros((res, res, res), bool)
    offs = (np.arange(sub) + 0.5) / sub
    sub_off = np.stack(np.meshgrid(offs, offs, offs, indexing="ij"), -1).reshape(-1, 3)
    for p in parts:
        v, _ = part_mesh(p)
        i0 = np.clip(np.floor((v.min(0) - lo) / h).astype(int) - 1, 0, res)
        i1 = np.clip(np.ceil((v.max(0) - lo) / h).astype(int) + 1, 0, res)
        if np.any(i1 <= i0):
            continue
        idx = np.stack(
            np.meshgrid(*[np.arange(a, b) for a, b in zip(i0, i1, strict=True)], indexing="ij"),
            -1,
        )
        shape = idx.shape[:3]
        pts = lo + h * (idx.reshape(-1, 1, 3) + sub_off[None])
        hit = inside(p, pts.reshape(-1, 3)).reshape(-1, len(sub_off)).any(1).reshape(shape)
        occ[i0[0] : i1[0], i0[1] : i1[1], i0[2] : i1[2]] |= hit
    return occ


def moved(parts: list[Part], rot: np.ndarray | None = None, offset=(0.0, 0.0, 0.0)) -> list[Part]:
    """Copies of ``parts`` rotated by ``rot`` about the origin, then shifted by ``offset``."""
    r = np.eye(3) if rot is None else np.asarray(rot, float)
    t = np.asarray(offset, float)
    out = []
    for p in parts:
        if p.kind == "hull":
            out.append(hull(p.points @ r.T + t, p.tone))
        else:
            out.append(Part(p.kind, r @ p.center + t, r @ p.rot, p.size.copy(), p.tone,
                            radius=p.radius))
    return out
