"""2D CNN encoders: a 127x127 RGB view -> a feature vector (paper, Fig. 6).

Module names follow the official layers (conv1a, conv2c, fc7, ...) so that the
official weights map onto them one to one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import NetConfig
from .layers import ConvAct, conv2d, pool2d

# per block: (first kernel, shortcut) -- "proj": 1x1 projection, "id": identity, None: none
_RESIDUAL_BLOCKS = [(7, None), (3, "proj"), (3, "proj"), (3, None), (3, "proj"), (3, "id")]


class ResidualBlock2d(nn.Module):
    """a -> LReLU -> b -> LReLU (+ shortcut) -> pool, as blocks 1..6 of ResidualGRUNet."""

    def __init__(self, cin: int, cout: int, k: int, shortcut: str | None, cfg: NetConfig):
        super().__init__()
        bn, s = cfg.batchnorm, cfg.leaky_slope
        self.a = ConvAct(conv2d(cin, cout, k), cout, 2, bn, s)
        self.b = ConvAct(conv2d(cout, cout, 3), cout, 2, bn, s)
        if shortcut == "id" and cin != cout:
            shortcut = "proj"
        self.shortcut = shortcut
        self.c = conv2d(cin, cout, 1) if shortcut == "proj" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.b(self.a(x))
        if self.shortcut == "proj":
            y = self.c(x) + y
        elif self.shortcut == "id":
            y = x + y
        return pool2d(y)


class ShallowBlock2d(nn.Module):
    """conv -> pool -> LReLU, as GRUNet (pooling before the activation)."""

    def __init__(self, cin: int, cout: int, k: int, cfg: NetConfig):
        super().__init__()
        self.conv = conv2d(cin, cout, k)
        self.bn = nn.BatchNorm2d(cout) if cfg.batchnorm else nn.Identity()
        self.slope = cfg.leaky_slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(pool2d(self.bn(self.conv(x))), self.slope)


class Encoder(nn.Module):
    """(N, 3, 127, 127) in [0, 1] -> (N, fc_features) after LeakyReLU."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        chans = (3, *cfg.enc_channels)
        blocks: list[nn.Module] = []
        for i, (k, shortcut) in enumerate(_RESIDUAL_BLOCKS):
            if cfg.encoder == "residual":
                blocks.append(ResidualBlock2d(chans[i], chans[i + 1], k, shortcut, cfg))
            else:
                blocks.append(ShallowBlock2d(chans[i], chans[i + 1], k, cfg))
        self.blocks = nn.Sequential(*blocks)
        # 127 -> 64 -> 33 -> 17 -> 9 -> 5 -> 3 after six poolings
        self.fc7 = nn.Linear(cfg.enc_channels[-1] * 3 * 3, cfg.fc_features)
        self.slope = cfg.leaky_slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)  # faster oneDNN/cuDNN kernels
        y = self.blocks(x).flatten(1)  # (c, h, w) C-order, as the official FlattenLayer
        return F.leaky_relu(self.fc7(y), self.slope)
