"""Materials, procedural textures and lighting for procedural objects (generator version 3).

Every object gets a *look*: one :class:`Material` per palette slot (``Part.tone``: 0 main,
1 secondary, 2 dark accent, 3 light accent, 4 glass) and a set of lights, all drawn from
the object's rng, so renders stay deterministic for a seed. Textures are small RGB images
computed here with numpy (no image files, nothing to license):

- ``wood``: grain stripes along the texture's u axis, warped by low-frequency noise;
- ``fabric``: a fine woven grid with fibre noise;
- ``leather``: blotchy pebbled grain;
- ``metal``: brushed streaks along u, strongly specular;
- ``plastic`` / ``paint``: near-uniform with faint noise, moderately to very glossy;
- ``glass``: a pale tint, translucent (opacity 0.25-0.45), very glossy. Glass parts are
  translucent in the images but solid in the voxels, as a glass table top is in
  ShapeNetVox32.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

TEX = 128  # texture side, pixels
SLOTS = 5  # palette slots: main, secondary, dark accent, light accent, glass

Rng = np.random.Generator


@dataclass
class Material:
    """Surface appearance of one palette slot."""

    kind: str
    rgb: np.ndarray  # base colour (3,) in [0, 1]
    texture_seed: int  # the colour map is texture(kind, rgb, default_rng(texture_seed))
    ambient: float
    diffuse: float
    specular: float
    specular_power: float
    opacity: float = 1.0

    def texture(self) -> np.ndarray:
        """The (TEX, TEX, 3) uint8 diffuse colour map (base colour times the pattern)."""
        return texture(self.kind, self.rgb, np.random.default_rng(self.texture_seed))


@dataclass
class Light:
    """A directional light; ``camera`` lights move with the camera (direction in its frame)."""

    direction: np.ndarray  # from the light towards the scene, unit (3,)
    rgb: np.ndarray  # (3,) in [0, 1]
    intensity: float
    camera: bool = False


@dataclass
class Look:
    """Everything about an object's appearance besides its shape and the cameras."""

    materials: list[Material]
    lights: list[Light]
    uv_scale: float  # texture repeats per unit of the normalised frame (diagonal 1)


# ---------------------------------------------------------------- noise and textures


def _noise(rng: Rng, cells: int, size: int = TEX) -> np.ndarray:
    """Smooth value noise in [0, 1], tileable: ``cells`` random lattice values per side,
    interpolated with a smoothstep between neighbours."""
    g = rng.random((cells, cells))
    t = np.arange(size) * cells / size
    i0 = t.astype(int)
    f = t - i0
    f = f * f * (3 - 2 * f)
    i1 = (i0 + 1) % cells
    rows = g[i0] * (1 - f)[:, None] + g[i1] * f[:, None]
    big = rows[:, i0] * (1 - f)[None] + rows[:, i1] * f[None]
    lo, hi = big.min(), big.max()
    return (big - lo) / max(hi - lo, 1e-9)


def _wood(rng: Rng) -> np.ndarray:
    v = np.arange(TEX)[:, None] / TEX
    warp = _noise(rng, 3) * _u(rng, 0.15, 0.6) + _noise(rng, 12) * 0.08
    rings = np.sin(2 * np.pi * (v * rng.integers(5, 14) + warp)) * 0.5 + 0.5
    rings = rings ** _u(rng, 1.5, 4.0)
    fibre = np.repeat(rng.random((TEX, 8)), TEX // 8, axis=1)
    return 1.0 - _u(rng, 0.2, 0.4) * rings - 0.08 * fibre


def _fabric(rng: Rng) -> np.ndarray:
    period = int(rng.choice([4, 8]))
    y, x = np.mgrid[0:TEX, 0:TEX]
    weave = ((x // (period // 2) + y // (period // 2)) % 2).astype(float)
    fibre = rng.random((TEX, TEX))
    return 1.0 - 0.1 * weave - 0.12 * fibre - 0.12 * _noise(rng, 8)


def _leather(rng: Rng) -> np.ndarray:
    pebble = ndimage.gaussian_filter(rng.random((TEX, TEX)), 1.2, mode="wrap")
    pebble = (pebble - pebble.min()) / max(np.ptp(pebble), 1e-9)
    return 1.0 - 0.25 * pebble - 0.15 * _noise(rng, 6)


def _metal(rng: Rng) -> np.ndarray:
    streak = ndimage.gaussian_filter1d(rng.random((TEX, TEX // 8)), 2.5, axis=0, mode="wrap")
    streak = np.repeat(streak, 8, axis=1)
    streak = (streak - streak.min()) / max(np.ptp(streak), 1e-9)
    return 1.0 - 0.12 * streak - 0.05 * _noise(rng, 4)


def _plain(rng: Rng) -> np.ndarray:
    return 1.0 - 0.04 * _noise(rng, 8) - 0.02 * rng.random((TEX, TEX))


_PATTERN = {"wood": _wood, "fabric": _fabric, "leather": _leather, "metal": _metal,
            "plastic": _plain, "paint": _plain, "glass": _plain}


def texture(kind: str, rgb: np.ndarray, rng: Rng) -> np.ndarray:
    """A (TEX, TEX, 3) uint8 colour map of a material of this kind and base colour."""
    shade = np.clip(_PATTERN[kind](rng), 0, 1.2)
    if kind == "wood":  # dark grain takes a deeper, more saturated tone
        deep = np.asarray(rgb) * np.array([0.75, 0.6, 0.5])
        t = np.clip((1.0 - shade) * 2.5, 0, 1)[..., None]
        img = np.asarray(rgb) * (1 - t) + deep * t
    else:
        img = shade[..., None] * np.asarray(rgb)
    return np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- materials


def _u(rng: Rng, a: float, b: float) -> float:
    return float(rng.uniform(a, b))


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v))


def base_colour(kind: str, rng: Rng) -> np.ndarray:
    """A plausible base colour for a material kind."""
    if kind == "wood":
        if rng.random() < 0.15:  # stained in a colour
            return _hsv(rng.random(), _u(rng, 0.1, 0.35), _u(rng, 0.3, 0.8))
        return _hsv(_u(rng, 0.04, 0.11), _u(rng, 0.35, 0.75), _u(rng, 0.25, 0.85))
    if kind == "metal":
        tone = rng.random()
        if tone < 0.55:  # steel, chrome, aluminium
            v = _u(rng, 0.55, 0.9)
            return _hsv(0.6, _u(rng, 0.0, 0.06), v)
        if tone < 0.85:  # black / graphite
            return np.full(3, _u(rng, 0.08, 0.25))
        return _hsv(_u(rng, 0.08, 0.13), _u(rng, 0.4, 0.7), _u(rng, 0.55, 0.85))  # brass
    if kind == "leather":
        tone = rng.random()
        if tone < 0.45:
            return _hsv(_u(rng, 0.03, 0.09), _u(rng, 0.4, 0.8), _u(rng, 0.2, 0.65))
        if tone < 0.7:
            return np.full(3, _u(rng, 0.05, 0.18))
        return _hsv(rng.random(), _u(rng, 0.05, 0.5), _u(rng, 0.5, 0.95))
    if kind == "fabric":
        return _hsv(rng.random(), _u(rng, 0.0, 0.6) ** 1.3, _u(rng, 0.2, 0.9))
    if kind == "glass":
        return _hsv(_u(rng, 0.35, 0.6), _u(rng, 0.02, 0.2), _u(rng, 0.75, 0.95))
    # plastic / paint: any colour, often white, grey or black
    if rng.random() < 0.35:
        return np.full(3, float(rng.choice([_u(rng, 0.05, 0.2), _u(rng, 0.4, 0.6),
                                            _u(rng, 0.85, 0.97)])))
    return _hsv(rng.random(), _u(rng, 0.3, 0.9), _u(rng, 0.35, 0.95))


# (ambient, diffuse, specular range, specular power range) per kind
_FINISH = {
    "wood": (0.25, 0.8, (0.05, 0.3), (8, 30)),
    "fabric": (0.3, 0.85, (0.0, 0.05), (4, 8)),
    "leather": (0.25, 0.8, (0.15, 0.4), (10, 25)),
    "metal": (0.2, 0.6, (0.5, 0.9), (30, 90)),
    "plastic": (0.25, 0.75, (0.2, 0.5), (15, 40)),
    "paint": (0.25, 0.7, (0.4, 0.8), (30, 80)),
    "glass": (0.2, 0.5, (0.7, 1.0), (50, 100)),
}


def material(kind: str, rng: Rng, rgb: np.ndarray | None = None) -> Material:
    """A material of ``kind``: colour (unless given), texture and finish from ``rng``."""
    colour = base_colour(kind, rng) if rgb is None else np.asarray(rgb, float)
    amb, dif, spec, power = _FINISH[kind]
    opacity = _u(rng, 0.25, 0.45) if kind == "glass" else 1.0
    return Material(kind, colour, int(rng.integers(2**63)), amb, dif,
                    _u(rng, *spec), _u(rng, *power), opacity)


# material kinds of the main and secondary slots per category, with weights
_MAIN = {
    "airplane": {"paint": 0.8, "metal": 0.2},
    "bench": {"wood": 0.6, "metal": 0.2, "plastic": 0.2},
    "cabinet": {"wood": 0.7, "plastic": 0.3},
    "car": {"paint": 1.0},
    "chair": {"wood": 0.3, "fabric": 0.25, "leather": 0.15, "plastic": 0.2, "metal": 0.1},
    "display": {"plastic": 0.7, "metal": 0.3},
    "lamp": {"metal": 0.5, "plastic": 0.3, "wood": 0.2},
    "loudspeaker": {"wood": 0.5, "plastic": 0.5},
    "rifle": {"wood": 0.4, "metal": 0.6},
    "sofa": {"fabric": 0.6, "leather": 0.4},
    "table": {"wood": 0.75, "plastic": 0.15, "metal": 0.1},
    "telephone": {"plastic": 0.6, "metal": 0.4},
    "watercraft": {"paint": 0.7, "wood": 0.3},
}
_SECOND = {
    "chair": {"same": 0.3, "wood": 0.3, "metal": 0.4},
    "sofa": {"same": 0.5, "fabric": 0.3, "leather": 0.2},
    "table": {"same": 0.5, "metal": 0.35, "wood": 0.15},
    "bench": {"same": 0.4, "metal": 0.45, "wood": 0.15},
    "lamp": {"same": 0.3, "metal": 0.6, "wood": 0.1},
    "rifle": {"metal": 0.7, "plastic": 0.3},
}
_LIGHT_ACCENT = {"lamp": {"fabric": 0.6, "plastic": 0.25, "metal": 0.15}}


def _choose(rng: Rng, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def draw_look(category: str, rng: Rng) -> Look:
    """Materials for the five slots and lighting of one object of ``category`` (a name)."""
    main_kind = _choose(rng, _MAIN.get(category, {"plastic": 1.0}))
    main = material(main_kind, rng)
    second_kind = _choose(rng, _SECOND.get(category, {"same": 0.6, "plastic": 0.4}))
    if second_kind == "same":
        second = material(main_kind, rng, main.rgb * _u(rng, 0.6, 1.0))
    else:
        second = material(second_kind, rng)
    dark = material(_choose(rng, {"metal": 0.5, "plastic": 0.5}), rng,
                    np.full(3, _u(rng, 0.06, 0.25)))
    light_kind = _choose(rng, _LIGHT_ACCENT.get(category, {"plastic": 0.6, "fabric": 0.4}))
    light = material(light_kind, rng, _hsv(rng.random(), _u(rng, 0.0, 0.3), _u(rng, 0.8, 1.0)))
    glass = material("glass", rng)
    return Look([main, second, dark, light, glass], draw_lights(rng), _u(rng, 1.5, 4.0))


def draw_lights(rng: Rng) -> list[Light]:
    """A key light from a random direction above, a camera fill light, sometimes a rim light."""

    def warmth() -> np.ndarray:
        return _hsv(_u(rng, 0.05, 0.6), _u(rng, 0.0, 0.15), 1.0)

    az, el = _u(rng, 0, 2 * np.pi), _u(rng, 0.35, 1.3)
    key_dir = -np.array([np.cos(el) * np.cos(az), np.sin(el), np.cos(el) * np.sin(az)])
    lights = [
        Light(key_dir, warmth(), _u(rng, 0.6, 1.0)),
        Light(np.array([_u(rng, -0.4, 0.4), _u(rng, -0.4, 0.0), -1.0]), warmth(),
              _u(rng, 0.25, 0.55), camera=True),
    ]
    if rng.random() < 0.5:
        az2 = az + np.pi + _u(rng, -0.8, 0.8)
        rim = -np.array([np.cos(az2), _u(rng, 0.1, 0.8), np.sin(az2)])
        lights.append(Light(rim / np.linalg.norm(rim), warmth(), _u(rng, 0.2, 0.5)))
    for li in lights:
        li.direction = li.direction / np.linalg.norm(li.direction)
    return lights
