"""An independent, slow float64 re-implementation of the official Theano 3D-R2N2 forward
pass, written from docs/architecture.md ("Official weights") only. It consumes the raw list of
official arrays in file order and never imports the project's network code.

Layouts are Theano's: images (N, C, H, W); 3D tensors (N, depth, channel, row, col);
2D weights (out, in, kh, kw); 3D weights (out, kD, in, kH, kW); fc weights (in, out).
Convolutions are true convolutions (scipy.signal.fftconvolve, float64).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

SLOPE = 0.01


@dataclass(frozen=True)
class Widths:
    enc: tuple[int, ...] = (96, 128, 256, 256, 256, 256)
    fc: int = 1024
    hidden: int = 128
    dec: tuple[int, ...] = (128, 128, 64, 32)  # conv7, conv8, conv9, conv10 outputs


def layout(arch: str, w: Widths) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of the official file's arrays, in file order."""
    out: list[tuple[str, tuple[int, ...]]] = []

    def conv2(name: str, o: int, i: int, k: int) -> None:
        out.extend([(f"{name}.W", (o, i, k, k)), (f"{name}.b", (o,))])

    def conv3(name: str, o: int, i: int, k: int) -> None:
        out.extend([(f"{name}.W", (o, k, i, k, k)), (f"{name}.b", (o,))])

    e = (3, *w.enc)
    for n in range(6):
        k = 7 if n == 0 else 3
        if arch == "residual":
            conv2(f"conv{n + 1}a", e[n + 1], e[n], k)
            conv2(f"conv{n + 1}b", e[n + 1], e[n + 1], 3)
            if n + 1 in (2, 3, 5):
                conv2(f"conv{n + 1}c", e[n + 1], e[n], 1)
        else:
            conv2(f"conv{n + 1}", e[n + 1], e[n], k)
    out.extend([("fc7.W", (w.enc[5] * 9, w.fc)), ("fc7.b", (w.fc,))])
    h = w.hidden
    for g in ("t_x_s_update", "t_x_s_reset", "t_x_rs"):
        out.append((f"{g}.Wh", (h, 3, h, 3, 3)))
        out.append((f"{g}.Wx", (w.fc, 4 * h * 16)))  # reshaped to (N, D=4, C=h, H=4, W=4)
        out.append((f"{g}.b", (h,)))
    c7, c8, c9, c10 = w.dec
    if arch == "residual":
        conv3("conv7a", c7, h, 3)
        conv3("conv7b", c7, c7, 3)
        conv3("conv8a", c8, c7, 3)
        conv3("conv8b", c8, c8, 3)
        conv3("conv9a", c9, c8, 3)
        conv3("conv9b", c9, c9, 3)
        conv3("conv9c", c9, c8, 1)
        conv3("conv10a", c10, c9, 3)
        conv3("conv10b", c10, c10, 3)
        conv3("conv10c", c10, c10, 3)
        conv3("conv11", 2, c10, 3)
    else:
        for name, o, i in (("conv7", c7, h), ("conv8", c8, c7), ("conv9", c9, c8)):
            conv3(name, o, i, 3)
        conv3("conv10", c10, c9, 3)
        conv3("conv11", 2, c10, 3)
    return out


def random_arrays(arch: str, w: Widths, seed: int) -> list[np.ndarray]:
    """Random float32 weights in the official layout, He-scaled, random biases."""
    rng = np.random.default_rng(seed)
    arrays = []
    for name, shape in layout(arch, w):
        if name.endswith(".b"):
            a = rng.normal(0.0, 0.1, shape)
        else:
            if name.endswith(".Wx") or name == "fc7.W":
                fan_in = shape[0]
            elif len(shape) == 5:
                fan_in = shape[1] * shape[2] * shape[3] * shape[4]
            else:
                fan_in = int(np.prod(shape[1:]))
            # He for LeakyReLU layers; gates kept mostly out of sigmoid saturation
            gain = 0.25 if name.endswith(".Wx") else 1.0 if "_x_" in name else 2.0
            a = rng.normal(0.0, np.sqrt(gain / fan_in), shape)
            if name == "conv11.W":
                a *= 6  # spread the logits: P(occupied) well away from a constant 0.5
        arrays.append(a.astype(np.float32))
    return arrays


# --- layers --------------------------------------------------------------------------------


def leaky(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + SLOPE) * x + 0.5 * (1 - SLOPE) * np.abs(x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def conv2d(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, C, H, W) true 2D convolution, zero padding (k-1)//2, + bias."""
    p = (W.shape[2] - 1) // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    # broadcast (N, 1, C, H, W) against (1, O, C, kh, kw), convolve rows/cols, sum over C
    y = signal.fftconvolve(xp[:, None], W[None], mode="valid", axes=(3, 4)).sum(axis=2)
    return y + b[None, :, None, None]


def pool(x: np.ndarray) -> np.ndarray:
    """2x2 max, stride 2, padding 1 on each side that never wins, ignore_border."""
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2, w + 2), -np.inf)
    xp[:, :, 1 : h + 1, 1 : w + 1] = x
    oh, ow = h // 2 + 1, w // 2 + 1
    xp = xp[:, :, : 2 * oh, : 2 * ow].reshape(n, c, oh, 2, ow, 2)
    return xp.max(axis=(3, 5))


def conv3d(x: np.ndarray, W: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """(N, D, C, H, W) true 3D convolution with W (out, kD, in, kH, kW), same padding."""
    p = (W.shape[1] - 1) // 2
    xp = np.pad(x, ((0, 0), (p, p), (0, 0), (p, p), (p, p)))
    # (N, 1, D, C, H, W) against (1, O, kD, C, kH, kW) over depth/rows/cols, sum over C
    y = signal.fftconvolve(xp[:, None], W[None], mode="valid", axes=(2, 4, 5)).sum(axis=3)
    y = y.transpose(0, 2, 1, 3, 4)  # (N, D, O, H, W)
    return y if b is None else y + b[None, None, :, None, None]


def unpool(x: np.ndarray) -> np.ndarray:
    n, d, c, h, w = x.shape
    out = np.zeros((n, 2 * d, c, 2 * h, 2 * w))
    out[:, ::2, :, ::2, ::2] = x
    return out


# --- the two networks ------------------------------------------------------------------------


class Reference:
    """The official forward pass over a list of arrays (float64)."""

    def __init__(self, arch: str, w: Widths, arrays: list[np.ndarray]):
        names = [name for name, _ in layout(arch, w)]
        assert len(names) == len(arrays)
        self.arch, self.w = arch, w
        self.p = {n: np.asarray(a, dtype=np.float64) for n, a in zip(names, arrays, strict=True)}

    def _c2(self, x: np.ndarray, name: str) -> np.ndarray:
        return conv2d(x, self.p[f"{name}.W"], self.p[f"{name}.b"])

    def _c3(self, x: np.ndarray, name: str) -> np.ndarray:
        return conv3d(x, self.p[f"{name}.W"], self.p[f"{name}.b"])

    def encode(self, img: np.ndarray) -> np.ndarray:
        """(N, 3, 127, 127) -> rect7 (N, fc)."""
        x = np.asarray(img, dtype=np.float64)
        if self.arch == "residual":
            for n in range(1, 7):
                y = leaky(self._c2(leaky(self._c2(x, f"conv{n}a")), f"conv{n}b"))
                if n in (2, 3, 5):
                    y = self._c2(x, f"conv{n}c") + y
                elif n == 6:
                    y = x + y
                x = pool(y)
        else:
            for n in range(1, 7):
                x = leaky(pool(self._c2(x, f"conv{n}")))
        flat = x.reshape(x.shape[0], -1)
        return leaky(flat @ self.p["fc7.W"] + self.p["fc7.b"])

    def _gate(self, g: str, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        fx = (x @ self.p[f"{g}.Wx"]).reshape(n, 4, self.w.hidden, 4, 4)
        bias = self.p[f"{g}.b"][None, None, :, None, None]
        return conv3d(h, self.p[f"{g}.Wh"], None) + fx + bias

    def initial_state(self, n: int) -> np.ndarray:
        return np.zeros((n, 4, self.w.hidden, 4, 4))

    def step(self, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """GRU as coded; returns (new state, update gate u), both (N, D, C, H, W)."""
        u = sigmoid(self._gate("t_x_s_update", x, h))
        r = sigmoid(self._gate("t_x_s_reset", x, h))
        h_tilde = np.tanh(self._gate("t_x_rs", x, r * h))
        return u * h + (1 - u) * h_tilde, u

    def decode(self, h: np.ndarray) -> np.ndarray:
        """State -> P(occupied), (N, 32, 32, 32) axes (d, row, col)."""
        if self.arch == "residual":
            x = h
            for n in ("7", "8"):
                up = unpool(x)
                x = up + leaky(self._c3(leaky(self._c3(up, f"conv{n}a")), f"conv{n}b"))
            up = unpool(x)
            res9 = self._c3(up, "conv9c") + leaky(self._c3(leaky(self._c3(up, "conv9a")), "conv9b"))
            rect10a = leaky(self._c3(res9, "conv10a"))
            res10 = self._c3(rect10a, "conv10c") + leaky(self._c3(rect10a, "conv10b"))
            logits = self._c3(res10, "conv11")
        else:
            x = h
            for n in ("7", "8", "9"):
                x = leaky(self._c3(unpool(x), f"conv{n}"))
            logits = self._c3(leaky(self._c3(x, "conv10")), "conv11")
        e = np.exp(logits - logits.max(axis=2, keepdims=True))
        return (e / e.sum(axis=2, keepdims=True))[:, :, 1]
