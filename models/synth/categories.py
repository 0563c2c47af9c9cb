"""Parametric generators for the 13 ShapeNet categories of 3D-R2N2.

Every generator takes a ``numpy.random.Generator`` and returns ``(parts, tags)``: the
object's solid parts in a raw frame (y up, the object's front towards +z, left-right
along x, standing on y = 0 where it stands at all) and a dict describing the variant.
``tags["asymmetric"]`` says whether a left-right asymmetric option was drawn (about
45% of objects): a part on one side only, which some views hide and others reveal.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .shapes import (
    Part,
    box,
    box_span,
    ellipsoid,
    frustum,
    hull,
    mirror_x,
    moved,
    prism,
    rbox,
    rbox_span,
    rot_x,
    rot_y,
)

ASYM_P = 0.45

Rng = np.random.Generator
Result = tuple[list[Part], dict]


def _u(r: Rng, a: float, b: float) -> float:
    return float(r.uniform(a, b))


def _pick(r: Rng, options: list[str], p: list[float] | None = None) -> str:
    return str(options[int(r.choice(len(options), p=p))])


def _side(r: Rng) -> float:
    return float(r.choice([-1.0, 1.0]))


def _pair(part: Part) -> list[Part]:
    """A part and its mirror image in x = 0."""
    return [part, mirror_x(part)]


def _legs4(r: Rng, w: float, d: float, top: float, inset: float, t: float, tone=1) -> list[Part]:
    round_legs = r.random() < 0.4
    splay = _u(r, 0, 0.06) if r.random() < 0.3 else 0.0
    out = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            x, z = sx * (w / 2 - inset), sz * (d / 2 - inset)
            foot = (x + sx * splay * top, 0.0, z + sz * splay * top)
            if round_legs:
                out.append(frustum(foot, (x, top, z), t / 2 * 0.8, t / 2, tone=tone))
            else:
                p = frustum(foot, (x, top, z), t / 2, tone=tone)
                out.append(box(p.center, (t, 2 * p.size[1], t), p.rot, tone))
    return out


def _tube(points, radius: float, tone: int = 1) -> list[Part]:
    """A bent tube (steel-tube furniture, lamp arcs): cylinders along a polyline, balls at
    the bends."""
    pts = [np.asarray(p, float) for p in points]
    out = [frustum(a, b, radius, tone=tone) for a, b in zip(pts[:-1], pts[1:], strict=True)]
    out += [ellipsoid(p, (radius, radius, radius), tone=tone) for p in pts[1:-1]]
    return out


def _shell(profile, widths, thickness: float, tone: int = 0) -> list[Part]:
    """A curved one-piece shell (moulded seat, bent plywood): slabs between consecutive
    cross-sections of a profile in the y-z plane, each of its own width along x."""
    prof = np.asarray(profile, float)
    tang = np.gradient(prof, axis=0)
    normal = np.column_stack([tang[:, 1], -tang[:, 0]])  # (y, z) turned: up / forward side
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    out = []
    for i in range(len(prof) - 1):
        pts = []
        for j in (i, i + 1):
            for off in (0.0, thickness):
                y, z = prof[j] + normal[j] * off
                for sx in (-1, 1):
                    pts.append((sx * widths[j] / 2, y, z))
        out.append(hull(pts, tone))
    return out


# ---------------------------------------------------------------- airplane


def airplane(r: Rng) -> Result:
    lf = _u(r, 4.0, 7.0)
    rad = _u(r, 0.22, 0.4)
    parts = [frustum((0, 0, -lf * 0.3), (0, 0, lf * 0.4), rad)]
    parts.append(ellipsoid((0, 0, lf * 0.4), (rad, rad, _u(r, 0.5, 1.2) * rad * 2)))
    tail_len = lf * _u(r, 0.2, 0.3)
    parts.append(frustum((0, 0, -lf * 0.3), (0, rad * 0.5, -lf * 0.3 - tail_len), rad, rad * 0.3))
    swept = r.random() < 0.6
    span = _u(r, 0.4, 0.65) * lf
    chord = _u(r, 0.12, 0.22) * lf
    taper = _u(r, 0.3, 0.8) if swept else _u(r, 0.6, 1.0)
    sweep = _u(r, 0.35, 0.8) * span if swept else _u(r, -0.05, 0.1) * span
    wing_y = float(r.choice([-0.6, 0.0, 0.7])) * rad
    dihedral = _u(r, 0.0, 0.12) * span
    zw = _u(r, -0.05, 0.15) * lf
    th = _u(r, 0.06, 0.1) * rad * 3

    def wing(half_span, c_root, c_tip, sw, y0, z0, t, dih) -> Part:
        pts = []
        for x, c, dz, dy, tt in ((0.0, c_root, 0.0, 0.0, t), (half_span, c_tip, -sw, dih, t * 0.6)):
            for zz in (z0 + dz + c / 2, z0 + dz - c / 2):
                for yy in (y0 + dy - tt / 2, y0 + dy + tt / 2):
                    pts.append((x, yy, zz))
        return hull(pts)

    w = wing(span, chord, chord * taper, sweep, wing_y, zw, th, dihedral)
    parts += _pair(w)
    # tail: stabilisers and fin
    zt = -lf * 0.3 - tail_len * 0.7
    hs = wing(
        span * _u(r, 0.25, 0.4),
        chord * 0.5,
        chord * 0.25,
        sweep * 0.3,
        rad * 0.4,
        zt,
        th * 0.7,
        0.0,
    )
    parts += _pair(hs)
    fin_h = _u(r, 0.8, 1.6) * rad * 2
    fin = hull(
        [
            (x, y, z)
            for x in (-th * 0.35, th * 0.35)
            for (y, z) in (
                (rad * 0.5, zt + chord * 0.35),
                (rad * 0.5, zt - chord * 0.3),
                (rad * 0.5 + fin_h, zt - chord * 0.45),
                (rad * 0.5 + fin_h, zt - chord * 0.2),
            )
        ]
    )
    parts.append(fin)
    engines = int(r.choice([0, 1, 2], p=[0.2, 0.55, 0.25]))
    er = rad * _u(r, 0.35, 0.6)
    el = chord * _u(r, 0.6, 1.0)

    def engine(frac: float) -> list[Part]:
        x = span * frac
        z = zw - sweep * frac + chord * (1 - (1 - taper) * frac) * 0.35
        y = wing_y + dihedral * frac - th / 2 - er * 1.1
        pod = frustum((x, y, z - el / 2), (x, y, z + el / 2), er * 0.8, er)
        pylon = box((x, y + er * 0.8, z), (er * 0.3, er * 0.8, el * 0.5))
        return [pod, pylon]

    fracs = {0: [], 1: [0.35], 2: [0.3, 0.6]}[engines]
    asym = r.random() < ASYM_P
    tags = {"variant": ("swept" if swept else "straight") + f"-{engines}eng", "asymmetric": asym}
    side = _side(r)
    eng_parts = [q for f in fracs for q in engine(f)]
    if engines == 0:
        parts.append(
            frustum((0, 0, lf * 0.4 + rad * 1.6), (0, 0, lf * 0.4 + rad * 1.7), rad * 1.3, tone=2)
        )
    if asym:
        kind = _pick(r, ["one_engine", "drop_tank", "probe"])
        if kind == "one_engine" and engines == 0:
            kind = "drop_tank"
        tags["asym"] = kind
        if kind == "one_engine":
            # one pod on one wing only (with two per wing: two on one wing, one on the other)
            parts += eng_parts
            if engines == 2:
                parts += [mirror_x(p) for p in engine(fracs[0])]
            eng_parts = []
        elif kind == "drop_tank":
            tank = engine(_u(r, 0.5, 0.8))
            tank[0].size[[0, 2]] *= 0.6
            tank[0].size[1] *= 1.4
            parts += tank
        else:
            parts.append(
                frustum(
                    (rad * 0.6, rad * 0.6, lf * 0.3),
                    (rad * 0.6, rad * 0.8, lf * 0.4 + rad * 3.5),
                    rad * 0.12,
                    tone=2,
                )
            )
        if side < 0:
            parts = [mirror_x(p) for p in parts]
    parts += [q for p in eng_parts for q in _pair(p)]
    return parts, tags


# ---------------------------------------------------------------- bench


def bench(r: Rng) -> Result:
    w, d, sh = _u(r, 1.1, 2.0), _u(r, 0.35, 0.55), _u(r, 0.38, 0.5)
    st = _u(r, 0.04, 0.08)
    parts: list[Part] = []
    if r.random() < 0.5:
        n = int(r.integers(3, 6))
        gap = d * 0.08
        sw = (d - gap * (n - 1)) / n
        for i in range(n):
            z = -d / 2 + sw / 2 + i * (sw + gap)
            parts.append(box((0, sh - st / 2, z), (w, st, sw)))
    else:
        parts.append(box((0, sh - st / 2, 0), (w, st, d)))
    base = _pick(r, ["legs", "panels", "aframe"])
    lt = _u(r, 0.04, 0.07)
    inset = _u(r, 0.05, 0.2) * w
    if base == "legs":
        parts += _legs4(r, w - 2 * inset + 2 * lt, d, sh - st, lt, lt)
        if r.random() < 0.5:
            parts.append(box((0, sh * 0.3, 0), (w - 2 * inset, lt, lt), tone=1))
    else:
        for sx in (-1, 1):
            x = sx * (w / 2 - inset)
            if base == "panels":
                parts.append(box((x, (sh - st) / 2, 0), (lt, sh - st, d * 0.9), tone=1))
            else:
                for sz in (-1, 1):
                    parts.append(frustum((x, 0, sz * d * 0.55), (x, sh - st, 0), lt / 2, tone=1))
    back = _pick(r, ["none", "slats", "solid"], [0.4, 0.3, 0.3])
    bh = _u(r, 0.3, 0.5)
    tilt = _u(r, 0.05, 0.3)
    back_parts: list[Part] = []
    if back != "none":
        if back == "slats":
            n = int(r.integers(2, 4))
            for i in range(n):
                back_parts.append(box((0, bh * (i + 0.7) / (n + 0.3), 0), (w, bh * 0.18, st)))
            for sx in (-1, 1):
                back_parts.append(box((sx * (w / 2 - inset), bh / 2, 0), (lt, bh, st), tone=1))
        else:
            back_parts.append(box((0, bh / 2, 0), (w, bh, st)))
        parts += moved(back_parts, rot_x(-tilt), (0, sh, -d / 2 + st / 2))
    arms = _pick(r, ["none", "both"], [0.5, 0.5])
    asym = r.random() < ASYM_P
    tags = {"variant": f"{base}-{back}-{arms}", "asymmetric": asym}

    def arm(sx: float) -> list[Part]:
        x = sx * (w / 2 - lt / 2)
        ah = sh + _u(r, 0.18, 0.25)
        return [
            box((x, ah, 0), (lt * 1.2, lt, d)),
            box((x, (sh + ah) / 2, d / 2 - lt), (lt, ah - sh, lt), tone=1),
        ]

    side = _side(r)
    if asym:
        kind = _pick(r, ["one_arm", "half_back", "side_table"])
        tags["asym"] = kind
        if kind == "one_arm":
            parts += arm(side)
        elif kind == "half_back":
            hb = moved(
                [box((0, bh / 2, 0), (w * 0.45, bh, st))],
                rot_x(-tilt),
                (side * w * 0.27, sh, -d / 2 + st / 2),
            )
            parts += hb if back == "none" else []
            if back != "none":
                parts.append(box((side * w * 0.3, sh + 0.04, 0), (w * 0.3, 0.08, d * 0.8), tone=3))
        else:
            tw = _u(r, 0.3, 0.45)
            x = side * (w / 2 + tw / 2)
            parts.append(box((x, sh * 0.95, 0), (tw, st, d)))
            parts += _legs4(r, tw, d, sh * 0.95 - st / 2, lt, lt * 0.8)
            parts[-4:] = moved(parts[-4:], None, (x, 0, 0))
    elif arms == "both":
        parts += arm(-1) + arm(1)
    return parts, tags


# ---------------------------------------------------------------- cabinet


def cabinet(r: Rng) -> Result:
    kind = _pick(r, ["wardrobe", "sideboard", "small", "filing"])
    w, h, d = {
        "wardrobe": (_u(r, 0.8, 1.3), _u(r, 1.6, 2.0), _u(r, 0.5, 0.65)),
        "sideboard": (_u(r, 1.2, 1.9), _u(r, 0.7, 0.95), _u(r, 0.4, 0.5)),
        "small": (_u(r, 0.4, 0.65), _u(r, 0.5, 0.9), _u(r, 0.4, 0.55)),
        "filing": (_u(r, 0.4, 0.5), _u(r, 1.0, 1.4), _u(r, 0.55, 0.7)),
    }[kind]
    foot = _pick(r, ["plinth", "feet", "none"])
    fh = 0.0 if foot == "none" else _u(r, 0.05, 0.14)
    pt = _u(r, 0.02, 0.035)
    parts: list[Part] = []
    if foot == "plinth":
        parts.append(box((0, fh / 2, -0.02), (w * 0.95, fh, d * 0.9), tone=2))
    elif foot == "feet":
        parts += _legs4(r, w, d, fh, 0.05, 0.04, tone=2)
    top_over = _u(r, 0, 0.04) if r.random() < 0.5 else 0.0
    parts.append(box((0, h - pt / 2, top_over / 2), (w + 2 * top_over, pt, d + top_over)))
    asym = r.random() < ASYM_P
    side = _side(r)
    tags: dict = {"variant": f"{kind}-{foot}", "asymmetric": asym}
    # split the width into sections; each is closed (solid + door/drawers) or open (shelves)
    nsec = 1 if kind in ("small", "filing") else int(r.integers(1, 4))
    if asym and nsec == 1:
        nsec = 2
    edges = np.linspace(-w / 2, w / 2, nsec + 1)
    open_sec: set[int] = set()
    if asym:
        a = _pick(r, ["open_side", "handle_side", "drawer_column"])
        tags["asym"] = a
        end = nsec - 1 if side > 0 else 0
        if a == "open_side":
            open_sec = {end}
    elif nsec == 3 and r.random() < 0.5:
        open_sec = {1}
    y0, y1 = fh, h - pt
    hl = _u(r, 0.08, 0.2)
    for i in range(nsec):
        x0, x1 = edges[i], edges[i + 1]
        if i in open_sec:
            parts.append(box_span((x0, y0, -d / 2), (x1, y1, -d / 2 + pt)))
            parts.append(box_span((x0, y0, -d / 2), (x1, y0 + pt, d / 2)))
            for xx in (x0, x1):
                parts.append(box_span((xx - pt / 2, y0, -d / 2), (xx + pt / 2, y1, d / 2)))
            for k in range(1, int(r.integers(1, 4)) + 1):
                ys = y0 + (y1 - y0) * k / 4
                parts.append(box_span((x0, ys, -d / 2), (x1, ys + pt, d / 2 - 0.02)))
            continue
        parts.append(box_span((x0, y0, -d / 2), (x1, y1, d / 2 - 0.015)))
        drawers = kind == "filing" or (
            asym and tags.get("asym") == "drawer_column" and i == (nsec - 1 if side > 0 else 0)
        )
        if drawers or (kind == "sideboard" and r.random() < 0.3):
            n = int(r.integers(3, 6)) if kind != "sideboard" else 3
            for k in range(n):
                ya, yb = y0 + (y1 - y0) * k / n, y0 + (y1 - y0) * (k + 1) / n
                parts.append(
                    box_span(
                        (x0 + 0.01, ya + 0.01, d / 2 - 0.015),
                        (x1 - 0.01, yb - 0.01, d / 2 + 0.005),
                        tone=1,
                    )
                )
                parts.append(
                    box(
                        ((x0 + x1) / 2, (ya + yb) / 2 + (yb - ya) * 0.2, d / 2 + 0.02),
                        ((x1 - x0) * 0.3, 0.02, 0.03),
                        tone=2,
                    )
                )
        else:
            parts.append(
                box_span(
                    (x0 + 0.01, y0 + 0.01, d / 2 - 0.015),
                    (x1 - 0.01, y1 - 0.01, d / 2 + 0.005),
                    tone=1,
                )
            )
            if asym and tags.get("asym") == "handle_side":
                hx = x1 - 0.06 if side > 0 else x0 + 0.06
            else:
                hx = x1 - 0.06 if i % 2 == 0 and nsec > 1 else x0 + 0.06
                if nsec == 1:
                    hx = 0.0 if r.random() < 0.5 else x1 - 0.06
            hy = min(y1 - hl, (y0 + y1) / 2 + 0.2 * (y1 - y0))
            parts.append(box((hx, hy, d / 2 + 0.025), (0.025, hl, 0.04), tone=2))
    if asym and tags["asym"] == "handle_side" and nsec >= 2:
        # a big side handle/bar only on one side panel
        parts.append(box((side * (w / 2 + 0.03), h * 0.6, 0), (0.05, 0.06, d * 0.6), tone=2))
    return parts, tags


# ---------------------------------------------------------------- car


def car(r: Rng) -> Result:
    kind = _pick(r, ["sedan", "hatch", "pickup", "van", "suv"])
    length, width = _u(r, 3.8, 5.0), _u(r, 1.6, 1.95)
    gc = _u(r, 0.15, 0.3) + (0.1 if kind in ("suv", "pickup") else 0.0)
    hb = _u(r, 0.45, 0.65)
    wr = _u(r, 0.28, 0.38)
    top = gc + hb
    hood = _u(r, 0.05, 0.15)
    parts: list[Part] = [
        hull(
            [
                (x, y, z)
                for x in (-width / 2, width / 2)
                for (y, z) in (
                    (gc, -length / 2 + 0.1),
                    (gc, length / 2 - 0.15),
                    (top - hood, length / 2),
                    (top, length / 2 - 0.5),
                    (top, -length / 2),
                    (gc + hb * 0.3, -length / 2),
                )
            ]
        )
    ]
    cw = width * _u(r, 0.78, 0.9)
    ch = _u(r, 0.35, 0.55) + (0.35 if kind == "van" else 0.1 if kind == "suv" else 0.0)
    zf, zr = {
        "sedan": (0.2, -0.3),
        "hatch": (0.15, -0.45),
        "pickup": (0.2, -0.05),
        "van": (0.4, -0.48),
        "suv": (0.2, -0.47),
    }[kind]
    zf, zr = zf * length, zr * length
    rake_f, rake_r = _u(r, 0.3, 0.7), _u(r, 0.05, 0.5) if kind in ("sedan",) else 0.08
    cab = [
        (x, y, z)
        for x in (-cw / 2, cw / 2)
        for (y, z) in ((top, zf), (top + ch, zf - rake_f), (top + ch, zr + rake_r), (top, zr))
    ]
    parts.append(hull(cab))
    # windscreen: a dark pane along the front slope of the cabin
    ang = np.arctan2(rake_f, ch)
    parts.append(
        box(
            (0, top + ch * 0.5, zf - rake_f * 0.5 + 0.01),
            (cw * 0.92, ch * 0.8 / np.cos(ang), 0.03),
            rot_x(-ang),
            tone=2,
        )
    )
    if kind == "pickup":
        bed_len = length / 2 + zr - 0.05
        for x in (-width / 2 + 0.04, width / 2 - 0.04):
            parts.append(box((x, top + 0.18, zr - bed_len / 2), (0.06, 0.36, bed_len)))
        parts.append(box((0, top + 0.18, -length / 2 + 0.03), (width, 0.36, 0.06)))
    axle = length / 2 - _u(r, 0.6, 0.9)
    wheels = []
    for z in (-axle, axle):
        for sx in (-1, 1):
            x = sx * (width / 2 - 0.08)
            wheels.append(frustum((x - 0.11, wr, z), (x + 0.11, wr, z), wr, tone=2))
    parts += wheels
    asym = r.random() < ASYM_P
    tags = {"variant": kind, "asymmetric": asym}
    if asym:
        a = _pick(r, ["open_door", "roof_box", "spare_wheel", "mirror"])
        tags["asym"] = a
        side = _side(r)
        if a == "open_door":
            dl = _u(r, 0.9, 1.2)
            ang = -_u(r, 0.6, 1.1) * side  # the free end swings outwards
            door = box((0, 0, -dl / 2), (0.06, hb * 0.8 + ch * 0.7, dl), tone=0)
            parts += moved(
                [door],
                rot_y(ang),
                (side * (width / 2 + 0.03), gc + (hb * 0.8 + ch * 0.7) / 2 + 0.05, zf - 0.05),
            )
        elif a == "roof_box":
            parts.append(
                box(
                    (side * cw * 0.25, top + ch + 0.12, (zf + zr) / 2),
                    (cw * 0.4, 0.22, (zf - zr) * 0.6),
                    tone=3,
                )
            )
        elif a == "spare_wheel":
            parts.append(
                frustum(
                    (side * width * 0.25, top + 0.1, -length / 2 - 0.02),
                    (side * width * 0.25, top + 0.1, -length / 2 - 0.24),
                    wr,
                    tone=2,
                )
            )
        else:
            parts.append(box((side * (cw / 2 + 0.15), top + 0.12, zf - 0.1), (0.25, 0.14, 0.08)))
            parts.append(
                box((side * (width / 2 + 0.25), top - 0.05, 0.0), (0.1, 0.25, 0.9), tone=3)
            )
    return parts, tags


# ---------------------------------------------------------------- chair


def chair(r: Rng) -> Result:
    base = _pick(r, ["legs", "pedestal", "sled", "cantilever", "bar"],
                 [0.35, 0.17, 0.12, 0.14, 0.22])
    sw, sd = _u(r, 0.4, 0.6), _u(r, 0.4, 0.55)
    sh = _u(r, 0.62, 0.8) if base == "bar" else _u(r, 0.4, 0.5)
    st = _u(r, 0.04, 0.1)
    seat = _pick(r, ["board", "cushion", "shell", "round"], [0.35, 0.3, 0.2, 0.15])
    if base == "cantilever" and seat == "round":
        seat = "cushion"
    if seat == "round":
        sd = sw
    if seat == "shell":
        st = 0.03  # the frame meets the shell's underside
    metal = r.random() < (0.8 if base in ("bar", "cantilever") else 0.3)
    lt = _u(r, 0.015, 0.03) if metal else _u(r, 0.03, 0.06)
    leg_tone = 2 if metal else 1
    parts: list[Part] = []
    if seat == "board":
        parts.append(box((0, sh - st / 2, 0), (sw, st, sd)))
    elif seat == "cushion":
        parts.append(rbox((0, sh - st / 2, 0), (sw, st, sd), st * _u(r, 0.25, 0.5)))
    elif seat == "round":
        parts.append(frustum((0, sh - st, 0), (0, sh, 0), sw / 2))
    if base == "legs":
        parts += _legs4(r, sw, sd, sh - st, lt / 2 + 0.01, lt, tone=leg_tone)
        if r.random() < 0.4:
            for sx in (-1, 1):
                parts.append(
                    box(
                        (sx * (sw / 2 - lt / 2 - 0.01), sh * 0.3, 0),
                        (lt * 0.7, lt * 0.7, sd - 0.02),
                        tone=leg_tone,
                    )
                )
    elif base == "bar":
        # tall thin legs, splayed, with a foot rest ring of four bars
        splay = _u(r, 0.0, 0.08)
        foot = sh * _u(r, 0.25, 0.4)
        corners = [(sx * (sw / 2 - lt), sz * (sd / 2 - lt)) for sx in (-1, 1) for sz in (-1, 1)]
        tops, rests = [], []
        for x, z in corners:
            bottom = (x * (1 + splay * 2), 0.0, z * (1 + splay * 2))
            top = (x, sh - st, z)
            parts.append(frustum(bottom, top, lt / 2, tone=leg_tone))
            t = foot / (sh - st)
            rests.append(np.asarray(bottom) * (1 - t) + np.asarray(top) * t)
            tops.append(top)
        for k, (i, j) in enumerate(((0, 1), (1, 3), (3, 2), (2, 0))):
            if k == 0 or r.random() < 0.7:
                parts.append(frustum(rests[i], rests[j], lt * 0.4, tone=leg_tone))
    elif base == "pedestal":
        parts.append(frustum((0, 0.07, 0), (0, sh - st, 0), _u(r, 0.025, 0.045), tone=1))
        n = int(r.choice([4, 5]))
        reach = _u(r, 0.25, 0.33)
        for k in range(n):
            a = 2 * np.pi * k / n
            parts += moved(
                [
                    box((reach / 2, 0.06, 0), (reach, 0.04, 0.05), tone=1),
                    ellipsoid((reach, 0.03, 0), (0.03, 0.03, 0.03), tone=2),
                ],
                rot_y(a),
            )
    elif base == "sled":
        for sx in (-1, 1):
            x = sx * (sw / 2 - lt / 2)
            parts.append(box((x, lt / 2, 0), (lt, lt, sd + 0.05), tone=leg_tone))
            for sz in (-1, 1):
                parts.append(box((x, (sh - st) / 2, sz * (sd / 2 - lt)), (lt, sh - st, lt),
                                 tone=leg_tone))
    bh, bt, tilt = _u(r, 0.35, 0.6), _u(r, 0.03, 0.07), _u(r, 0.0, 0.25)
    if base == "bar" and r.random() < 0.45:
        style = "none"  # a bar stool
    elif seat == "shell":
        style = "shell"
    elif base == "cantilever":
        style = _pick(r, ["solid", "padded"])
    else:
        style = _pick(r, ["solid", "padded", "vslats", "hslats", "frame"],
                      [0.25, 0.15, 0.2, 0.2, 0.2])
    if base == "cantilever":
        # two steel tubes, each one piece: floor runner, up at the front, under the seat,
        # up as a back post
        tr = _u(r, 0.009, 0.016)
        lean = np.sin(tilt) * bh
        for sx in (-1, 1):
            x = sx * (sw / 2 - tr)
            parts += _tube([(x, tr, -sd / 2 + 0.03), (x, tr, sd / 2 + _u(r, 0.0, 0.08)),
                            (x, sh - st - tr, sd / 2 - 0.04), (x, sh - st - tr, -sd / 2 + 0.02),
                            (x, sh + bh * 0.95, -sd / 2 - lean)], tr, tone=2)
        zb = -sd / 2 + 0.03
        parts.append(frustum((-(sw / 2 - tr), tr, zb), (sw / 2 - tr, tr, zb), tr, tone=2))
    if style == "shell":
        # one moulded piece: front lip, seat, a curve up into the back
        rho = _u(r, 0.06, 0.14)
        prof = [(sh - 0.05, sd / 2 + 0.01), (sh - 0.01, sd / 2 - 0.04), (sh - 0.03, 0.0)]
        for k in range(1, 5):
            a = np.pi / 2 * k / 4
            prof.append((sh - 0.02 + rho * (1 - np.cos(a)), -sd / 2 + rho - rho * np.sin(a)
                         + 0.02))
        y0, z0 = prof[-1]
        for k in (1, 2):
            prof.append((y0 + bh * k / 2 * np.cos(tilt), z0 - bh * k / 2 * np.sin(tilt)))
        widths = [sw * 0.95, sw, sw] + [sw * 1.02] * 4 + [sw * 0.98, sw * _u(r, 0.8, 1.0)]
        parts += _shell(prof, widths, _u(r, 0.012, 0.025))
    elif style != "none":
        bp: list[Part] = []
        if style == "solid":
            bp.append(box((0, bh / 2, 0), (sw, bh, bt)))
        elif style == "padded":
            bp.append(rbox((0, bh / 2, 0), (sw, bh, bt * 1.6), bt * 0.7))
        else:
            for sx in (-1, 1):
                bp.append(box((sx * (sw / 2 - lt / 2), bh / 2, 0), (lt, bh, bt)))
            bp.append(box((0, bh - 0.04, 0), (sw, 0.08, bt)))
            if style == "vslats":
                n = int(r.integers(2, 5))
                for k in range(n):
                    x = -sw / 2 + sw * (k + 1) / (n + 1)
                    bp.append(box((x, bh / 2, 0), (sw * 0.07, bh, bt * 0.7)))
            elif style == "hslats":
                for k in range(int(r.integers(1, 4))):
                    bp.append(box((0, bh * (0.25 + 0.22 * k), 0), (sw, 0.05, bt * 0.7)))
        z_back = -sd / 2 + bt / 2 + (0.0 if base != "cantilever" else -0.01)
        parts += moved(bp, rot_x(-tilt), (0, sh, z_back))
    arms = "none" if style in ("none", "shell") or base == "bar" else _pick(
        r, ["none", "both"], [0.5, 0.5])
    asym = r.random() < ASYM_P
    tags = {"variant": f"{base}-{seat}-{style}-{arms}", "asymmetric": asym}
    ah = _u(r, 0.18, 0.26)
    solid_arm = r.random() < 0.3

    def arm(sx: float) -> list[Part]:
        x = sx * (sw / 2 + 0.03)
        if solid_arm:
            return [rbox((x, (sh - st + sh + ah) / 2, 0), (0.06, ah + st, sd), 0.025)]
        return [
            box((x, sh + ah, -0.02), (0.06, 0.04, sd * 0.9)),
            box((x, sh + ah / 2, sd / 2 - 0.06), (0.035, ah, 0.035), tone=1),
        ]

    if asym:
        side = _side(r)
        a = _pick(r, ["one_arm", "tablet"])
        if style == "none":  # a stool: a bag hook or a one-sided handle instead
            a = "side_handle"
        tags["asym"] = a
        if a == "side_handle":
            x = side * (sw / 2 + 0.04)
            parts += _tube([(side * sw / 2 * 0.8, sh - st, -sd * 0.2), (x, sh - st - 0.03, 0),
                            (side * sw / 2 * 0.8, sh - st, sd * 0.2)], 0.012, tone=2)
        else:
            parts += arm(side)
        if a == "tablet":
            tw = _u(r, 0.25, 0.35)
            parts.append(
                box(
                    (side * (sw / 2 + 0.06 - tw / 2), sh + ah + 0.03, sd * 0.25),
                    (tw, 0.025, sd * 0.7),
                    tone=3,
                )
            )
    elif arms == "both":
        parts += arm(-1) + arm(1)
    return parts, tags


# ---------------------------------------------------------------- display


def display(r: Rng) -> Result:
    w = _u(r, 0.45, 0.75)
    h = w * _u(r, 0.56, 0.78)
    t = _u(r, 0.02, 0.045)
    stand = _pick(r, ["neck", "two_feet", "slab"], [0.6, 0.2, 0.2])
    sy = _u(r, 0.08, 0.2) if stand != "slab" else _u(r, 0.03, 0.06)
    crt = r.random() < 0.15
    tilt = _u(r, 0.0, 0.15)
    scr: list[Part] = [box((0, h / 2, 0), (w, h, t))]
    scr.append(box((0, h / 2, t / 2 + 0.003), (w * 0.92, h * 0.88, 0.008), tone=2))
    bd = _u(r, 0.3, 0.5) * w if crt else _u(r, 0.02, 0.08)
    back = box((0, h * 0.5, -t / 2 - bd / 2), (w * _u(r, 0.5, 0.8), h * _u(r, 0.4, 0.7), bd))
    scr.append(back)
    asym = r.random() < ASYM_P
    tags: dict = {"variant": stand + ("-crt" if crt else ""), "asymmetric": asym}
    side = _side(r)
    nx = 0.0
    a = _pick(r, ["offset_stand", "webcam", "speaker", "back_box"]) if asym else ""
    if asym:
        tags["asym"] = a
        if a == "offset_stand":
            nx = side * w * _u(r, 0.2, 0.35)
        elif a == "webcam":
            scr.append(box((side * w * 0.35, h + 0.02, 0.01), (0.07, 0.04, 0.05), tone=2))
        elif a == "speaker":
            scr.append(box((side * (w / 2 + 0.035), h * 0.45, 0), (0.07, h * 0.8, t * 2), tone=1))
        else:
            scr.append(
                box(
                    (side * w * 0.3, h * 0.35, -t / 2 - bd - 0.04),
                    (w * 0.25, h * 0.35, 0.08),
                    tone=1,
                )
            )
    parts = moved(scr, rot_x(-tilt), (0, sy, 0))
    zb = -t / 2 - bd / 2
    base_d = _u(r, 0.15, 0.25)
    if stand == "neck":
        parts.append(box((nx, (sy + h * 0.4) / 2, zb - 0.02), (0.06, sy + h * 0.4, 0.03), tone=1))
        if r.random() < 0.5:
            parts.append(box((nx, 0.01, zb), (w * _u(r, 0.3, 0.5), 0.02, base_d), tone=1))
        else:
            parts.append(frustum((nx, 0, zb), (nx, 0.02, zb), base_d / 2, tone=1))
    elif stand == "two_feet":
        for sx in (-1, 1):
            x = nx + sx * w * 0.38
            parts.append(box((x, sy / 2 + 0.01, 0), (0.03, sy + 0.02, 0.03), tone=1))
            parts.append(box((x, 0.01, 0), (0.05, 0.02, base_d), tone=1))
    else:
        parts.append(box((nx, sy / 2, 0), (w * 0.6, sy, base_d), tone=1))
    return parts, tags


# ---------------------------------------------------------------- lamp


def lamp(r: Rng) -> Result:
    floor = r.random() < 0.5
    ph = _u(r, 1.2, 1.7) if floor else _u(r, 0.3, 0.5)
    br = _u(r, 0.12, 0.2) if floor else _u(r, 0.08, 0.14)
    parts: list[Part] = []
    base = _pick(r, ["disc", "square", "dome"])
    bh = _u(r, 0.02, 0.05)
    if base == "disc":
        parts.append(frustum((0, 0, 0), (0, bh, 0), br, br * 0.9, tone=1))
    elif base == "square":
        parts.append(box((0, bh / 2, 0), (br * 1.6, bh, br * 1.6), tone=1))
    else:
        parts.append(ellipsoid((0, 0, 0), (br, bh * 2.5, br), tone=1))
        parts.append(box((0, bh / 2, 0), (br * 1.9, bh, br * 1.9), tone=1))
    pr = _u(r, 0.012, 0.02) * (1.5 if floor else 1.0)
    shade_r = _u(r, 0.18, 0.28) if floor else _u(r, 0.09, 0.15)
    shade_h = shade_r * _u(r, 0.8, 1.4)
    shape = _pick(r, ["cone", "drum", "dome"])

    def shade(center, down: bool) -> list[Part]:
        c = np.asarray(center, float)
        s = -1.0 if down else 1.0
        if shape == "dome":
            return [
                ellipsoid(c, (shade_r, shade_h * 0.55, shade_r), tone=3),
                frustum(c + (0, -shade_h * 0.3 * s, 0), c, shade_r * 0.3, tone=3),
            ]
        top_r = shade_r * (_u(r, 0.4, 0.7) if shape == "cone" else 0.95)
        lo = c - (0, shade_h / 2, 0)
        hi = c + (0, shade_h / 2, 0)
        return (
            [frustum(lo, hi, shade_r, top_r, tone=3)]
            if not down
            else [frustum(lo, hi, shade_r, top_r * 0.5, tone=3)]
        )

    asym = r.random() < ASYM_P
    tags: dict = {
        "variant": ("floor" if floor else "desk") + f"-{base}-{shape}",
        "asymmetric": asym,
    }
    side = _side(r)
    if not asym:
        parts.append(frustum((0, bh, 0), (0, ph, 0), pr, tone=1))
        parts += shade((0, ph + shade_h * 0.3, 0), down=False)
        if r.random() < 0.3:
            parts.append(ellipsoid((0, ph * 0.5, 0), (pr * 3, pr * 3, pr * 3), tone=1))
        return parts, tags
    a = _pick(r, ["arm", "arc", "offset_pole"])
    tags["asym"] = a
    if a == "arm":
        # articulated arm: up and out to one side, shade hanging down at the end
        j1 = np.array([side * ph * _u(r, 0.1, 0.4), ph, _u(r, -0.1, 0.1) * ph])
        j2 = j1 + (side * ph * _u(r, 0.5, 0.9), _u(r, -0.3, 0.1) * ph, 0)
        parts.append(frustum((0, bh, 0), j1, pr, tone=1))
        parts.append(frustum(j1, j2, pr, tone=1))
        parts.append(ellipsoid(j1, (pr * 2, pr * 2, pr * 2), tone=1))
        parts += shade(j2 - (0, shade_h * 0.4, 0), down=True)
    elif a == "arc":
        n = 5
        reach = ph * _u(r, 0.4, 0.7)
        pts = [
            np.array(
                [
                    side * reach * (1 - np.cos(np.pi / 2 * k / n)),
                    bh + ph * np.sin(np.pi / 2 * k / n) ** 0.7,
                    0.0,
                ]
            )
            for k in range(n + 1)
        ]
        pts.append(pts[-1] + (side * reach * 0.4, -ph * 0.05, 0))
        for p0, p1 in zip(pts[:-1], pts[1:], strict=True):
            parts.append(frustum(p0, p1, pr, tone=1))
            parts.append(ellipsoid(p1, (pr, pr, pr), tone=1))
        parts += shade(pts[-1] - (0, shade_h * 0.5, 0), down=True)
    else:
        x = side * br * 0.7
        parts[0] = box((0, bh / 2, 0), (br * 2.4, bh, br * 1.4), tone=1)
        parts.append(frustum((x, bh, 0), (x, ph, 0), pr, tone=1))
        parts.append(
            frustum((x, ph, 0), (x - side * shade_r * 0.8, ph + shade_h * 0.3, 0), pr, tone=1)
        )
        parts += shade((x - side * shade_r * 0.8, ph + shade_h * 0.3, 0), down=False)
    return parts, tags


# ---------------------------------------------------------------- loudspeaker


def loudspeaker(r: Rng) -> Result:
    kind = _pick(r, ["bookshelf", "tower", "cube"])
    w = _u(r, 0.2, 0.35)
    h = {"bookshelf": _u(r, 0.3, 0.45), "tower": _u(r, 0.8, 1.15), "cube": w * _u(r, 0.9, 1.1)}[
        kind
    ]
    d = _u(r, 0.2, 0.35)
    lift = 0.0
    parts: list[Part] = []
    if kind == "bookshelf" and r.random() < 0.4:
        lift = _u(r, 0.5, 0.7)
        parts.append(frustum((0, 0.02, 0), (0, lift, 0), 0.03, tone=2))
        parts.append(box((0, 0.01, 0), (w * 1.1, 0.02, d * 1.1), tone=2))
        parts.append(box((0, lift - 0.01, 0), (w * 0.9, 0.02, d * 0.9), tone=2))
    elif kind == "tower" and r.random() < 0.6:
        lift = 0.04
        parts += _legs4(r, w * 1.2, d * 1.1, lift, 0.03, 0.03, tone=2)
    parts.append(box((0, lift + h / 2, 0), (w, h, d)))
    asym = r.random() < ASYM_P
    tags: dict = {"variant": kind, "asymmetric": asym}
    side = _side(r)
    a = _pick(r, ["offset_drivers", "side_woofer", "side_port"]) if asym else ""
    if asym:
        tags["asym"] = a
    dx = side * w * 0.2 if a == "offset_drivers" else 0.0
    wr = min(w, h) * (_u(r, 0.28, 0.36) if a != "offset_drivers" else 0.26)
    n_woof = 1 if kind != "tower" else int(r.integers(2, 4))
    y = lift + wr + 0.03
    z = d / 2
    for _ in range(n_woof):
        parts.append(frustum((dx, y, z), (dx, y, z + 0.015), wr, wr * 0.95, tone=2))
        parts.append(ellipsoid((dx, y, z + 0.015), (wr * 0.3, wr * 0.3, wr * 0.15), tone=3))
        y += 2 * wr + 0.03
    tr = wr * 0.35
    parts.append(frustum((dx, y + tr - wr, z), (dx, y + tr - wr, z + 0.01), tr, tone=2))
    parts.append(ellipsoid((dx, y + tr - wr, z + 0.01), (tr * 0.5, tr * 0.5, tr * 0.4), tone=3))
    if a == "side_woofer":
        yc = lift + h * 0.5
        parts.append(
            frustum((side * w / 2, yc, 0), (side * (w / 2 + 0.015), yc, 0), wr * 0.9, tone=2)
        )
    elif a == "side_port":
        parts.append(
            frustum(
                (side * w * 0.3, lift + 0.05, z),
                (side * w * 0.3, lift + 0.05, z + 0.05),
                0.025,
                tone=2,
            )
        )
        parts.append(
            box((side * (w / 2 + 0.02), lift + h * 0.75, -d * 0.2), (0.04, 0.1, 0.12), tone=2)
        )
    return parts, tags


# ---------------------------------------------------------------- rifle


def rifle(r: Rng) -> Result:
    lr = _u(r, 0.22, 0.38)
    rh, rw = _u(r, 0.07, 0.11), _u(r, 0.045, 0.065)
    parts: list[Part] = [box((0, 0, 0), (rw, rh, lr))]
    bl = _u(r, 0.35, 0.75)
    br = _u(r, 0.011, 0.018)
    parts.append(frustum((0, rh * 0.2, lr / 2), (0, rh * 0.2, lr / 2 + bl), br, tone=2))
    if r.random() < 0.6:
        gl = bl * _u(r, 0.35, 0.6)
        parts.append(box((0, rh * 0.05, lr / 2 + gl / 2), (rw * 1.1, rh * 0.8, gl), tone=1))
    ls = _u(r, 0.28, 0.4)
    drop = _u(r, 0.02, 0.1)
    butt = _u(r, 0.11, 0.16)
    sw = rw * 0.9
    parts.append(
        hull(
            [
                (x, y, z)
                for x in (-sw / 2, sw / 2)
                for (y, z) in (
                    (rh / 2, -lr / 2 + 0.01),
                    (-rh / 2, -lr / 2 + 0.01),
                    (rh / 2 - drop, -lr / 2 - ls),
                    (rh / 2 - drop - butt, -lr / 2 - ls),
                )
            ],
            tone=1,
        )
    )
    parts.append(box((0, -rh / 2 - 0.05, -lr * 0.3), (rw * 0.8, 0.11, 0.035), rot_x(0.35), tone=1))
    mag = _pick(r, ["box", "curved", "none"], [0.45, 0.3, 0.25])
    if mag != "none":
        ml = _u(r, 0.1, 0.2)
        ang = -0.3 if mag == "curved" else -0.05
        parts += moved(
            [box((0, -ml / 2, 0), (rw * 0.7, ml, 0.05), tone=2)],
            rot_x(ang),
            (0, -rh / 2, lr * 0.25),
        )
    scope = r.random() < 0.45
    if scope:
        sl, sr = _u(r, 0.18, 0.3), _u(r, 0.015, 0.022)
        ys = rh / 2 + 0.035 + sr
        parts.append(frustum((0, ys, -sl / 2), (0, ys, sl / 2), sr, tone=2))
        parts.append(frustum((0, ys, sl / 2 - 0.02), (0, ys, sl / 2 + 0.04), sr, sr * 1.5, tone=2))
        for z in (-sl * 0.3, sl * 0.3):
            parts.append(box((0, rh / 2 + 0.02, z), (0.02, 0.04, 0.02), tone=2))
    if r.random() < 0.2:
        zb = lr / 2 + bl * 0.5
        for sx in (-1, 1):
            parts.append(frustum((0, 0, zb), (sx * 0.06, -0.2, zb + 0.03), 0.007, tone=2))
    asym = r.random() < ASYM_P
    tags: dict = {"variant": f"{mag}-{'scope' if scope else 'irons'}", "asymmetric": asym}
    if asym:
        side = _side(r)
        a = _pick(r, ["bolt", "side_light", "side_mag"])
        tags["asym"] = a
        if a == "bolt":
            p0 = (side * rw / 2, rh * 0.15, -lr * 0.25)
            p1 = (side * (rw / 2 + 0.07), rh * 0.05 - 0.03, -lr * 0.3)
            parts += [frustum(p0, p1, 0.008, tone=2), ellipsoid(p1, (0.018, 0.018, 0.018), tone=2)]
        elif a == "side_light":
            zl = lr / 2 + bl * 0.25
            parts.append(
                frustum(
                    (side * (rw / 2 + 0.03), 0, zl - 0.07),
                    (side * (rw / 2 + 0.03), 0, zl + 0.07),
                    0.022,
                    tone=2,
                )
            )
            parts.append(box((side * (rw / 2 + 0.01), 0, zl), (0.02, 0.02, 0.05), tone=2))
        else:
            parts.append(box((side * (rw / 2 + 0.07), 0, lr * 0.2), (0.14, 0.035, 0.05), tone=2))
    return parts, tags


# ---------------------------------------------------------------- sofa


def sofa(r: Rng) -> Result:
    w, d = _u(r, 1.5, 2.4), _u(r, 0.8, 1.0)
    legs = r.random() < 0.5
    lh = _u(r, 0.05, 0.15) if legs else 0.0
    sh = _u(r, 0.38, 0.48)
    ct = _u(r, 0.1, 0.18)
    bt = _u(r, 0.15, 0.25)
    top = _u(r, 0.75, 0.95)
    soft = _u(r, 0.15, 0.45)  # how rounded the upholstery is
    parts: list[Part] = []
    asym = r.random() < ASYM_P
    tags: dict = {"asymmetric": asym}
    side = _side(r)
    a = _pick(r, ["l_shape", "one_arm", "chaise"]) if asym else ""
    arms = "one" if a == "one_arm" else _pick(r, ["both", "none"], [0.8, 0.2])
    tags["variant"] = f"{'legs' if legs else 'plinth'}-{arms}"
    if a:
        tags["asym"] = a
    at = _u(r, 0.1, 0.25)
    ah = _u(r, 0.55, 0.7)
    inner = w - (2 * at if arms == "both" else at if arms == "one" else 0.0)
    xc = 0.0 if arms != "one" else -side * at / 2

    def seat_block(x0, x1, z0, z1) -> list[Part]:
        out = [box_span((x0, lh, z0), (x1, sh - ct, z1))]
        n = max(1, int(round((x1 - x0) / _u(r, 0.55, 0.8))))
        for k in range(n):
            xa = x0 + (x1 - x0) * k / n
            xb = x0 + (x1 - x0) * (k + 1) / n
            out.append(rbox_span((xa + 0.01, sh - ct, z0 + 0.02), (xb - 0.01, sh, z1),
                                 ct * soft, tone=1))
        return out

    parts += seat_block(xc - inner / 2, xc + inner / 2, -d / 2 + bt, d / 2)
    parts.append(rbox_span((-w / 2, lh, -d / 2), (w / 2, top, -d / 2 + bt), bt * soft * 0.6))
    if r.random() < 0.5:
        n = max(2, int(round(inner / 0.7)))
        for k in range(n):
            xa = xc - inner / 2 + inner * k / n
            parts.append(
                rbox_span(
                    (xa + 0.02, sh, -d / 2 + bt),
                    (xa + inner / n - 0.02, top - 0.05, -d / 2 + bt + 0.12),
                    0.05 * soft + 0.01,
                    tone=1,
                )
            )

    def arm(sx: float) -> list[Part]:
        x0 = sx * w / 2
        x1 = sx * (w / 2 - at)
        out = [rbox_span((min(x0, x1), lh, -d / 2), (max(x0, x1), ah, d / 2), at * soft)]
        if r.random() < 0.3:
            out.append(frustum(((x0 + x1) / 2, ah, -d / 2), ((x0 + x1) / 2, ah, d / 2), at * 0.6))
        return out

    if arms == "both":
        parts += arm(-1) + arm(1)
    elif arms == "one":
        parts += arm(side)
    ext_parts: list[Part] = []
    if a in ("l_shape", "chaise"):
        ew = _u(r, 0.6, 0.9) if a == "l_shape" else _u(r, 0.55, 0.75)
        el = _u(r, 0.6, 1.0)
        x0, x1 = (w / 2 - at - ew, w / 2 - at) if side > 0 else (-w / 2 + at, -w / 2 + at + ew)
        ext_parts += seat_block(x0, x1, d / 2, d / 2 + el)
        if a == "l_shape":
            xo = (w / 2 - at, w / 2) if side > 0 else (-w / 2, -w / 2 + at)
            ext_parts.append(box_span((xo[0], lh, d / 2), (xo[1], ah, d / 2 + el)))
    parts += ext_parts
    if legs:
        parts += _legs4(r, w - 0.05, d - 0.05, lh, 0.03, 0.04, tone=2)
    return parts, tags


# ---------------------------------------------------------------- table


def table(r: Rng) -> Result:
    round_top = r.random() < 0.3
    w = _u(r, 0.8, 1.9) if not round_top else _u(r, 0.7, 1.3)
    d = _u(r, 0.5, 1.0) * (1 if not round_top else 0) + (w if round_top else 0)
    if not round_top:
        d = min(d, w)
    h, t = _u(r, 0.5, 0.8), _u(r, 0.03, 0.07)
    glass = r.random() < 0.25  # a translucent top (solid in the voxels)
    top_tone = 4 if glass else 0
    if glass:
        t = _u(r, 0.015, 0.03)
    parts: list[Part] = []
    if round_top:
        parts.append(frustum((0, h - t, 0), (0, h, 0), w / 2, tone=top_tone))
        base = _pick(r, ["pedestal", "legs"])
    else:
        if not glass and r.random() < 0.4:  # bevelled / rounded edges
            parts.append(rbox((0, h - t / 2, 0), (w, t, d), t * _u(r, 0.2, 0.5)))
        else:
            parts.append(box((0, h - t / 2, 0), (w, t, d), tone=top_tone))
        base = _pick(r, ["legs", "trestle", "pedestal"], [0.65, 0.2, 0.15])
    metal = r.random() < (0.75 if glass else 0.25)
    leg_tone = 2 if metal else 1
    lt = _u(r, 0.015, 0.035) if metal else _u(r, 0.04, 0.08)
    inset = _u(r, 0.02, 0.12)
    if base == "legs":
        if round_top:
            n = int(r.choice([3, 4]))
            for k in range(n):
                a = 2 * np.pi * k / n
                parts += moved(
                    [frustum((w * 0.35, 0, 0), (w * 0.25, h - t, 0), lt / 2, tone=leg_tone)],
                    rot_y(a + 0.3),
                )
        else:
            parts += _legs4(r, w - 2 * inset, d - 2 * inset, h - t, lt / 2, lt, tone=leg_tone)
        if not round_top and r.random() < 0.5:
            parts.append(
                box((0, h - t - 0.05, d / 2 - inset - lt / 2), (w - 2 * inset, 0.08, 0.02), tone=1)
            )
            parts.append(
                box((0, h - t - 0.05, -d / 2 + inset + lt / 2), (w - 2 * inset, 0.08, 0.02), tone=1)
            )
    elif base == "pedestal":
        parts.append(frustum((0, 0, 0), (0, h - t, 0), _u(r, 0.04, 0.1), tone=1))
        if r.random() < 0.5:
            parts.append(frustum((0, 0, 0), (0, 0.04, 0), min(w, d) * 0.3, tone=1))
        else:
            for a in (0.0, np.pi / 2):
                parts += moved([box((0, 0.03, 0), (min(w, d) * 0.7, 0.06, 0.06), tone=1)], rot_y(a))
    else:
        for sx in (-1, 1):
            x = sx * (w / 2 - inset - lt)
            parts.append(box((x, (h - t) / 2, 0), (lt, h - t, 0.08), tone=1))
            parts.append(box((x, 0.03, 0), (0.08, 0.06, d * 0.8), tone=1))
        parts.append(box((0, h * 0.3, 0), (w - 2 * inset, 0.06, 0.04), tone=1))
    if not round_top and r.random() < 0.25:
        parts.append(box((0, h * 0.2, 0), (w - 2 * inset, 0.025, d - 2 * inset), tone=1))
    asym = r.random() < ASYM_P
    tags: dict = {"variant": ("round" if round_top else "rect") + f"-{base}"
                  + ("-glass" if glass else ""), "asymmetric": asym}
    if asym:
        side = _side(r)
        a = _pick(r, ["side_cabinet", "return", "shelf"]) if not round_top else "shelf"
        tags["asym"] = a
        if a == "side_cabinet":
            cw = min(_u(r, 0.3, 0.45), w * 0.4)
            x = side * (w / 2 - inset - cw / 2)
            parts.append(box((x, (h - t) / 2, 0), (cw, h - t, d - 2 * inset - 0.02), tone=1))
            for k in range(3):
                parts.append(
                    box(
                        (x, (h - t) * (k + 0.5) / 3, d / 2 - inset - 0.005),
                        (cw * 0.3, 0.02, 0.03),
                        tone=2,
                    )
                )
        elif a == "shelf":  # a hanging shelf under one side
            x = side * w * 0.3
            parts.append(frustum((x, h - t, 0), (x, h * 0.45, 0), 0.02, tone=1))
            parts.append(box((x, h * 0.45, 0), (w * 0.35, 0.03, min(w * 0.35, d * 0.8)), tone=1))
        else:
            rl = _u(r, 0.5, 0.9)
            rw = min(_u(r, 0.4, 0.6), w * 0.45)
            x = side * (w / 2 - rw / 2)
            parts.append(box((x, h - t / 2, d / 2 + rl / 2), (rw, t, rl)))
            parts.append(
                box(
                    (x + side * (rw / 2 - lt), (h - t) / 2, d / 2 + rl - lt),
                    (lt, h - t, lt),
                    tone=1,
                )
            )
    return parts, tags


# ---------------------------------------------------------------- telephone


def telephone(r: Rng) -> Result:
    if r.random() < 0.65:
        w, h, t = _u(r, 0.065, 0.08), _u(r, 0.13, 0.16), _u(r, 0.008, 0.012)
        parts: list[Part] = [box((0, h / 2, 0), (w, h, t))]
        m = _u(r, 0.002, 0.008)
        parts.append(box((0, h / 2, t / 2 + 0.0008), (w - 2 * m, h - 4 * m, 0.002), tone=2))
        asym = r.random() < ASYM_P
        tags: dict = {"variant": "smartphone", "asymmetric": asym}
        if not asym:
            parts.append(
                frustum((0, h * 0.88, -t / 2), (0, h * 0.88, -t / 2 - 0.003), 0.008, tone=2)
            )
            return parts, tags
        side = _side(r)
        a = _pick(r, ["camera_bump", "side_buttons"])
        tags["asym"] = a
        if a == "camera_bump":
            cb = _u(r, 0.025, 0.04)
            parts.append(
                box(
                    (side * (w / 2 - cb / 2 - 0.006), h - cb / 2 - 0.006, -t / 2 - 0.0025),
                    (cb, cb, 0.005),
                    tone=2,
                )
            )
        else:
            parts.append(
                box((side * (w / 2 + 0.0015), h * 0.7, 0), (0.004, 0.035, t * 0.5), tone=2)
            )
            parts.append(
                box((side * (w / 2 + 0.0015), h * 0.5, 0), (0.004, 0.015, t * 0.5), tone=2)
            )
        return parts, tags
    # desk phone: a wedge base, keypad, handset on a cradle
    w, d = _u(r, 0.18, 0.24), _u(r, 0.18, 0.24)
    hf, hb = _u(r, 0.03, 0.05), _u(r, 0.07, 0.11)
    parts = [prism([(-w / 2, -d / 2), (w / 2, -d / 2), (w / 2, d / 2), (-w / 2, d / 2)], 0, hf)]
    parts.append(
        hull(
            [
                (x, y, z)
                for x in (-w / 2, w / 2)
                for (y, z) in ((hf, d / 2), (hf, -d / 2), (hb, -d / 2), (hf + 0.001, d / 2 - 0.001))
            ]
        )
    )
    asym = r.random() < ASYM_P
    tags = {"variant": "desk", "asymmetric": asym}
    side = _side(r) if asym else 0.0
    hx = side * w * 0.3
    hl = d * _u(r, 0.9, 1.1)
    ys = (hf + hb) / 2 + 0.025
    handset = [
        frustum((0, 0, -hl / 2 + 0.02), (0, 0, hl / 2 - 0.02), 0.015, tone=1),
        ellipsoid((0, -0.01, -hl / 2 + 0.02), (0.025, 0.022, 0.035), tone=1),
        ellipsoid((0, -0.01, hl / 2 - 0.02), (0.025, 0.022, 0.035), tone=1),
    ]
    slope = np.arctan2(hb - hf, d)
    parts += moved(handset, rot_x(slope), (hx, ys, 0))
    kx = -side * w * 0.22 if asym else 0.0
    for i in range(4):
        for j in range(3):
            z = d / 2 - 0.03 - i * 0.025
            y = hf + (hb - hf) * (d / 2 - z) / d + 0.004
            if asym:
                parts.append(box((kx + (j - 1) * 0.025, y, z), (0.018, 0.01, 0.016), tone=3))
    if asym:
        tags["asym"] = "handset_side"
    return parts, tags


# ---------------------------------------------------------------- watercraft


def watercraft(r: Rng) -> Result:
    kind = _pick(r, ["motorboat", "sailboat", "ship", "canoe"])
    length = {
        "motorboat": _u(r, 6, 12),
        "sailboat": _u(r, 6, 12),
        "ship": _u(r, 30, 80),
        "canoe": _u(r, 4, 6),
    }[kind]
    beam = length * (_u(r, 0.12, 0.16) if kind == "canoe" else _u(r, 0.22, 0.32))
    depth = beam * _u(r, 0.35, 0.6)
    L = length
    if kind == "canoe":
        deck = [(0, -L / 2), (beam / 2, -L * 0.2), (beam / 2, L * 0.2), (0, L / 2)]
        keel = [(0, -L * 0.45), (beam * 0.2, -L * 0.15), (beam * 0.2, L * 0.15), (0, L * 0.45)]
    else:
        deck = [(beam / 2, -L / 2), (beam / 2, L * 0.15), (0, L / 2)]
        keel = [(beam * 0.3, -L / 2 + L * 0.05), (beam * 0.25, L * 0.2), (0, L * 0.42)]
    pts = [(s * x, 0.0, z) for (x, z) in deck for s in (-1, 1)]
    pts += [(s * x, -depth, z) for (x, z) in keel for s in (-1, 1)]
    parts: list[Part] = [hull(pts)]
    asym = r.random() < ASYM_P
    side = _side(r)
    tags: dict = {"variant": kind, "asymmetric": asym}
    a = ""
    if asym:
        options = {
            "canoe": ["outrigger"],
            "sailboat": ["boom_out", "offset_cabin"],
            "ship": ["offset_cabin", "side_boat"],
        }.get(kind, ["outrigger", "offset_cabin", "side_boat"])
        a = _pick(r, options)
        tags["asym"] = a
    cx = side * beam * 0.2 if a == "offset_cabin" else 0.0
    if kind == "motorboat":
        cl, ch = L * _u(r, 0.25, 0.4), depth * _u(r, 0.6, 1.1)
        zc = -L * _u(r, 0.05, 0.2)
        parts.append(
            hull(
                [
                    (x, y, z)
                    for x in (cx - beam * 0.35, cx + beam * 0.35)
                    for (y, z) in (
                        (0, zc + cl / 2),
                        (0, zc - cl / 2),
                        (ch, zc - cl / 2),
                        (ch, zc + cl * 0.1),
                    )
                ],
                tone=3,
            )
        )
    elif kind == "sailboat":
        mh = L * _u(r, 0.8, 1.3)
        zm = L * _u(r, 0.0, 0.15)
        parts.append(frustum((0, 0, zm), (0, mh, zm), L * 0.008, tone=2))
        st = L * 0.012
        boom_ang = side * _u(r, 0.5, 0.9) if a == "boom_out" else 0.0
        foot = L * _u(r, 0.3, 0.45)
        sail = hull(
            [
                (x, y, z)
                for x in (-st / 2, st / 2)
                for (y, z) in ((L * 0.08, 0.0), (mh * 0.95, 0.0), (L * 0.08, -foot))
            ],
            tone=3,
        )
        parts += moved([sail], rot_y(boom_ang), (0, 0, zm))
        if r.random() < 0.6:
            parts.append(
                hull(
                    [
                        (x, y, z)
                        for x in (-st / 2, st / 2)
                        for (y, z) in (
                            (L * 0.05, zm + 0.02),
                            (mh * 0.85, zm + 0.02),
                            (L * 0.05, L * 0.42),
                        )
                    ],
                    tone=3,
                )
            )
        parts.append(box((cx, depth * 0.2, -L * 0.1), (beam * 0.5, depth * 0.4, L * 0.25), tone=1))
    elif kind == "ship":
        levels = int(r.integers(1, 4))
        zc = -L * _u(r, 0.05, 0.25)
        cl = L * _u(r, 0.2, 0.35)
        y = 0.0
        lh = depth * _u(r, 0.3, 0.5)
        for k in range(levels):
            f = 1 - 0.2 * k
            parts.append(box((cx, y + lh / 2, zc), (beam * 0.7 * f, lh, cl * f), tone=3))
            y += lh
        for k in range(int(r.integers(1, 3))):
            zf = zc - cl * 0.15 - k * cl * 0.3
            parts.append(frustum((cx, y, zf), (cx, y + depth * 0.8, zf), beam * 0.1, tone=2))
    else:
        parts.append(box((0, -depth * 0.2, 0), (beam * 0.7, 0.04 * L * 0.05, L * 0.3), tone=1))
    if a == "outrigger":
        fl = L * 0.6
        fx = side * beam * _u(r, 1.2, 1.8)
        parts.append(ellipsoid((fx, -depth * 0.5, 0), (beam * 0.12, beam * 0.12, fl / 2), tone=1))
        for z in (-fl * 0.3, fl * 0.3):
            parts.append(
                box_span(
                    (min(0, fx), depth * 0.05, z - beam * 0.05),
                    (max(0, fx), depth * 0.15, z + beam * 0.05),
                    tone=2,
                )
            )
    elif a == "side_boat":
        parts.append(
            ellipsoid(
                (side * beam * 0.45, depth * 0.3, -L * 0.1),
                (beam * 0.12, beam * 0.1, L * 0.08),
                tone=3,
            )
        )
        parts.append(
            frustum(
                (side * beam * 0.3, 0, -L * 0.1),
                (side * beam * 0.45, depth * 0.7, -L * 0.1),
                beam * 0.02,
                tone=2,
            )
        )
    return parts, tags


# ---------------------------------------------------------------- registry

GENERATORS: dict[str, Callable[[Rng], Result]] = {
    "02691156": airplane,
    "02828884": bench,
    "02933112": cabinet,
    "02958343": car,
    "03001627": chair,
    "03211117": display,
    "03636649": lamp,
    "03691459": loudspeaker,
    "04090263": rifle,
    "04256520": sofa,
    "04379243": table,
    "04401088": telephone,
    "04530566": watercraft,
}
