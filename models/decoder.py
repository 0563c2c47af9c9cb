"""3D deconvolutional decoders: hidden grid (N, C, 4, 4, 4) -> logits (N, 2, 32, 32, 32).

Unpooling is the official zero insertion; convolutions that read an unpooled tensor
are computed by ``layers.unpool_conv3d`` (an eighth of the work, same numbers).
Module names follow the official layers (conv7a ... conv11).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import NetConfig
from .layers import Conv3d, unpool3d


class _Act(nn.Module):
    def __init__(self, cout: int, cfg: NetConfig):
        super().__init__()
        self.bn = nn.BatchNorm3d(cout) if cfg.batchnorm else nn.Identity()
        self.slope = cfg.leaky_slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.bn(x), self.slope)


class ResidualDecoder(nn.Module):
    """res7 = U(h) + L(C7b(L(C7a(U h)))), res8 likewise,
    res9 = C9c(U) + L(C9b(L(C9a(U)))), a10 = L(C10a(res9)),
    res10 = C10c(a10) + L(C10b(a10)), logits = C11(res10).
    Shortcuts of res7/res8 become 1x1 projections when widths differ."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        c0 = cfg.hidden_channels
        c7, c8, c9, c10 = cfg.dec_channels
        self.conv7a, self.act7a = Conv3d(c0, c7, 3, unpooled=True), _Act(c7, cfg)
        self.conv7b, self.act7b = Conv3d(c7, c7, 3), _Act(c7, cfg)
        self.proj7 = Conv3d(c0, c7, 1, unpooled=True) if c0 != c7 else None
        self.conv8a, self.act8a = Conv3d(c7, c8, 3, unpooled=True), _Act(c8, cfg)
        self.conv8b, self.act8b = Conv3d(c8, c8, 3), _Act(c8, cfg)
        self.proj8 = Conv3d(c7, c8, 1, unpooled=True) if c7 != c8 else None
        self.conv9a, self.act9a = Conv3d(c8, c9, 3, unpooled=True), _Act(c9, cfg)
        self.conv9b, self.act9b = Conv3d(c9, c9, 3), _Act(c9, cfg)
        self.conv9c = Conv3d(c8, c9, 1, unpooled=True)
        self.conv10a, self.act10a = Conv3d(c9, c10, 3), _Act(c10, cfg)
        self.conv10b, self.act10b = Conv3d(c10, c10, 3), _Act(c10, cfg)
        self.conv10c = Conv3d(c10, c10, 3)
        self.conv11 = Conv3d(c10, 2, 3)

    @staticmethod
    def _short(x: torch.Tensor, proj: nn.Module | None) -> torch.Tensor:
        return unpool3d(x) if proj is None else proj(x)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        r7 = self._short(h, self.proj7) + self.act7b(self.conv7b(self.act7a(self.conv7a(h))))
        r8 = self._short(r7, self.proj8) + self.act8b(self.conv8b(self.act8a(self.conv8a(r7))))
        r9 = self.conv9c(r8) + self.act9b(self.conv9b(self.act9a(self.conv9a(r8))))
        a10 = self.act10a(self.conv10a(r9))
        r10 = self.conv10c(a10) + self.act10b(self.conv10b(a10))
        return self.conv11(r10)


class ShallowDecoder(nn.Module):
    """GRUNet: (unpool, conv, LReLU) x3, conv10, LReLU, conv11."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        c0 = cfg.hidden_channels
        c7, c8, c9, c10 = cfg.dec_channels
        self.conv7, self.act7 = Conv3d(c0, c7, 3, unpooled=True), _Act(c7, cfg)
        self.conv8, self.act8 = Conv3d(c7, c8, 3, unpooled=True), _Act(c8, cfg)
        self.conv9, self.act9 = Conv3d(c8, c9, 3, unpooled=True), _Act(c9, cfg)
        self.conv10, self.act10 = Conv3d(c9, c10, 3), _Act(c10, cfg)
        self.conv11 = Conv3d(c10, 2, 3)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        y = self.act7(self.conv7(h))
        y = self.act8(self.conv8(y))
        y = self.act9(self.conv9(y))
        y = self.act10(self.conv10(y))
        return self.conv11(y)


def make_decoder(cfg: NetConfig) -> nn.Module:
    return ResidualDecoder(cfg) if cfg.decoder == "residual" else ShallowDecoder(cfg)
