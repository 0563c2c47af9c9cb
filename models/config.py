"""Network configuration (one dataclass) and the named presets of the 3D-R2N2 family."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

# image sizes, defined here once
VIEW_SIZE = 127  # the network's input: VIEW_SIZE x VIEW_SIZE RGB
RENDER_SIZE = 137  # a ShapeNetRendering view: RENDER_SIZE x RENDER_SIZE RGBA
CROP_OFFSET = (RENDER_SIZE - VIEW_SIZE) // 2  # 5: where the test-time centre crop starts

# Upper bounds of a config read from a file (the widest official network uses 256
# channels and 1024 features): far above any real network, far below what exhausts memory.
MAX_CHANNELS = 4096
MAX_FC_FEATURES = 65536
_TUPLES = ("enc_channels", "dec_channels")


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_types(cfg: NetConfig) -> None:
    """Every field of the type its default has (configs arrive from files as JSON)."""
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if f.name in _TUPLES:
            ok = isinstance(v, tuple) and all(_is_int(w) for w in v)
            want = "a list of integers"
        elif f.type == "bool":
            ok, want = isinstance(v, bool), "true or false"
        elif f.type == "int":
            ok, want = _is_int(v), "an integer"
        elif f.type == "float":
            ok = (_is_int(v) or isinstance(v, float)) and math.isfinite(v)
            want = "a finite number"
        else:
            ok, want = isinstance(v, str), "a string"
        if not ok:
            raise ValueError(f"config field {f.name} must be {want}, not {v!r:.60}")


@dataclass(frozen=True)
class NetConfig:
    """Everything that fixes a network's shape; stored in every checkpoint.

    The defaults are the official Res3D-GRU-3 (ResidualGRUNet) of the paper.
    """

    encoder: str = "residual"  # "residual" | "shallow"
    decoder: str = "residual"  # "residual" | "shallow"
    cell: str = "gru"  # "gru" | "lstm"
    cell_kernel: int = 3  # 3: cells see their neighbours; 1: independent cells
    enc_channels: tuple[int, ...] = (96, 128, 256, 256, 256, 256)
    fc_features: int = 1024
    hidden_channels: int = 128
    grid: int = 4
    # output channels of conv7, conv8, conv9, conv10 (conv11 always gives 2 classes)
    dec_channels: tuple[int, ...] = (128, 128, 64, 32)
    batchnorm: bool = False
    leaky_slope: float = 0.01
    image_size: int = VIEW_SIZE
    voxel_size: int = 32

    def __post_init__(self) -> None:
        _check_types(self)
        if self.encoder not in ("residual", "shallow"):
            raise ValueError(f"encoder must be 'residual' or 'shallow', not {self.encoder!r}")
        if self.decoder not in ("residual", "shallow"):
            raise ValueError(f"decoder must be 'residual' or 'shallow', not {self.decoder!r}")
        if self.cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm', not {self.cell!r}")
        if self.cell_kernel not in (1, 3):
            raise ValueError(f"cell_kernel must be 1 or 3, not {self.cell_kernel}")
        if len(self.enc_channels) != 6 or len(self.dec_channels) != 4:
            raise ValueError("enc_channels needs 6 widths and dec_channels 4")
        if self.image_size != VIEW_SIZE or self.grid * 8 != self.voxel_size:
            raise ValueError("the family is defined for 127x127 images and 32^3 = 4^3 x 8 voxels")
        if self.voxel_size != 32:
            raise ValueError(f"voxel_size must be 32, not {self.voxel_size}")
        widths = (*self.enc_channels, self.hidden_channels, *self.dec_channels)
        if not all(1 <= w <= MAX_CHANNELS for w in widths):
            raise ValueError(f"channel widths must lie in 1..{MAX_CHANNELS}")
        if not 1 <= self.fc_features <= MAX_FC_FEATURES:
            raise ValueError(f"fc_features must lie in 1..{MAX_FC_FEATURES}, "
                             f"not {self.fc_features}")
        if not 0.0 <= self.leaky_slope < 1.0:
            raise ValueError(f"leaky_slope must lie in [0, 1), not {self.leaky_slope}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> NetConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown network config fields: {sorted(unknown)}")
        kw = {k: tuple(v) if k in _TUPLES and isinstance(v, list) else v for k, v in d.items()}
        return cls(**kw)


_SHALLOW = dict(encoder="shallow", decoder="shallow")

PRESETS: dict[str, NetConfig] = {
    # paper, Table 1 (rows) -- official GRUNet / ResidualGRUNet where released
    "res_gru3": NetConfig(),
    "gru3": NetConfig(**_SHALLOW, cell="gru", cell_kernel=3),
    "gru1": NetConfig(**_SHALLOW, cell="gru", cell_kernel=1),
    "lstm3": NetConfig(**_SHALLOW, cell="lstm", cell_kernel=3),
    "lstm1": NetConfig(**_SHALLOW, cell="lstm", cell_kernel=1),
    # same residual topology, narrower, with BatchNorm: trainable on a laptop CPU
    "small": NetConfig(
        enc_channels=(16, 32, 64, 64, 96, 96),
        fc_features=256,
        hidden_channels=64,
        dec_channels=(32, 16, 8, 8),
        batchnorm=True,
    ),
    # the same topology at toy widths: smoke tests of training and tools, never accuracy
    "tiny": NetConfig(
        enc_channels=(8, 8, 8, 8, 8, 8),
        fc_features=32,
        hidden_channels=8,
        dec_channels=(8, 8, 8, 8),
    ),
}

def preset(name: str) -> NetConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
