"""3D convolutional GRU and LSTM over the 4x4x4 grid of hidden cells (paper, Sec. 3.2).

Every gate is ``FC(feature)`` reshaped onto the grid + ``Conv3d(hidden, k^3)`` + a
per-channel bias, exactly the official FCConv3DLayer. The FC output is read in the
official C-order (depth, channel, row, col) and moved to PyTorch's (channel, d, r, c).
"""

from __future__ import annotations

import torch
from torch import nn

from .config import NetConfig


class GateConv3d(nn.Module):
    """gate(x, h) = conv3d(h) + reshape(x @ Wx) + b (the official FCConv3DLayer)."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        g, c, k = cfg.grid, cfg.hidden_channels, cfg.cell_kernel
        self.grid, self.channels = g, c
        self.fc = nn.Linear(cfg.fc_features, g * c * g * g, bias=False)  # official Wx
        self.conv = nn.Conv3d(c, c, k, padding=(k - 1) // 2, bias=False)  # official Wh
        self.bias = nn.Parameter(torch.zeros(c))  # official b

    def input_term(self, x: torch.Tensor) -> torch.Tensor:
        g, c = self.grid, self.channels
        fx = self.fc(x).view(-1, g, c, g, g).permute(0, 2, 1, 3, 4)
        return fx + self.bias.view(1, c, 1, 1, 1)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return self.conv(h) + self.input_term(x)


class ConvGRU3d(nn.Module):
    """The official GRU as coded: h = u*h_prev + (1-u)*tanh(gate_rs(r*h_prev)).

    ``step`` also returns the *write strength* 1 - u: how much of each hidden unit this
    view replaced (the paper's update gate u_t, whose role the official code swapped).
    """

    state_factor = 1

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.t_x_s_update = GateConv3d(cfg)
        self.t_x_s_reset = GateConv3d(cfg)
        self.t_x_rs = GateConv3d(cfg)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = torch.sigmoid(self.t_x_s_update(x, h))
        r = torch.sigmoid(self.t_x_s_reset(x, h))
        h_tilde = torch.tanh(self.t_x_rs(x, r * h))
        h_new = u * h + (1 - u) * h_tilde
        return h_new, 1 - u

    @staticmethod
    def hidden(state: torch.Tensor) -> torch.Tensor:
        return state


class ConvLSTM3d(nn.Module):
    """3D-LSTM of the paper: c = f*c + i*tanh(s), h = o*tanh(c); state = cat(h, c).

    ``step`` returns the input gate i: how much of each memory unit this view wrote.
    """

    state_factor = 2

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.c = cfg.hidden_channels
        self.t_x_s_forget = GateConv3d(cfg)
        self.t_x_s_input = GateConv3d(cfg)
        self.t_x_s_output = GateConv3d(cfg)
        self.t_x_s_cell = GateConv3d(cfg)

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, cell = state[:, : self.c], state[:, self.c :]
        f = torch.sigmoid(self.t_x_s_forget(x, h))
        i = torch.sigmoid(self.t_x_s_input(x, h))
        o = torch.sigmoid(self.t_x_s_output(x, h))
        cell = f * cell + i * torch.tanh(self.t_x_s_cell(x, h))
        h = o * torch.tanh(cell)
        return torch.cat([h, cell], 1), i

    def hidden(self, state: torch.Tensor) -> torch.Tensor:
        return state[:, : self.c]


def make_cell(cfg: NetConfig) -> nn.Module:
    return ConvGRU3d(cfg) if cfg.cell == "gru" else ConvLSTM3d(cfg)
