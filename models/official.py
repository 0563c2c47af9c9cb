"""Read the official 3D-R2N2 Theano weight files (``ResidualGRUNet.npy``, ``GRUNet.npy``).

Such a file is ``np.save`` of a Python list of arrays: a pickled object array holding
the layers' weights by position only. It is read with a restricted unpickler that can
build nothing but ndarrays (never ``allow_pickle=True``); the count and every shape are
checked against the layout expected for the network, then each array is moved to
PyTorch's conventions (see docs/architecture.md, "Official weights"):

* 2D conv ``W (out, in, kh, kw)``: Theano convolves, PyTorch correlates -> flip kh, kw.
* 3D conv / gate ``Wh (out, kD, in, kH, kW)`` -> ``(out, in, kD, kH, kW)``, flip all three.
* ``fc7.W`` and gate ``Wx`` are ``(in, out)`` -> transpose (the gate's ``Linear`` reads its
  output in the official C-order ``(D, C, H, W)``, so no column permutation).
* biases are copied.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from .checkpoint import FORMAT, save_checkpoint
from .config import NetConfig, preset
from .net import R2N2

ARCHS: dict[str, tuple[str, str, int]] = {
    # arch -> (official class name, preset, number of arrays in its file)
    "residual": ("ResidualGRUNet", "res_gru3", 63),
    "gru": ("GRUNet", "gru3", 33),
}

Progress = Callable[[float], None]


class OfficialWeightsError(ValueError):
    """A file is not a usable official 3D-R2N2 weights file (one-line message)."""


# --- restricted unpickling -------------------------------------------------------------


class _NdarrayType:
    """Stands in for ``numpy.ndarray`` inside the pickle: usable only as the subtype
    argument of ``_reconstruct``, never callable."""


_NDARRAY = _NdarrayType()
_REAL_RECONSTRUCT = np.empty(0).__reduce__()[0]
_REAL_FROMBUFFER = np.ones(1).__reduce_ex__(5)[0]


def _reconstruct(subtype: object, shape: object, dtype: object) -> np.ndarray:
    if subtype is not _NDARRAY:
        raise pickle.UnpicklingError("only plain ndarrays may be rebuilt")
    return _REAL_RECONSTRUCT(np.ndarray, shape, dtype)


def _frombuffer(buf: object, dtype: object, shape: object, order: object) -> np.ndarray:
    if not isinstance(buf, (bytes, bytearray, pickle.PickleBuffer)):
        raise pickle.UnpicklingError("array data must be bytes")
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise pickle.UnpicklingError("array data must be numeric")
    return _REAL_FROMBUFFER(buf, dtype, shape, order)


def _latin1_encode(text: object, encoding: object = "latin1") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for ``bytes``; latin-1 only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("only latin-1 byte strings may be decoded")
    return text.encode("latin1")


_ALLOWED: dict[tuple[str, str], object] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # written by numpy 1.x
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # written by numpy 2.x
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,  # protocol 5
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("_codecs", "encode"): _latin1_encode,  # protocol 2 (how old numpy wrote bytes)
}


class _ArrayUnpickler(pickle.Unpickler):
    """Rebuilds ndarrays and lists of them; any other global is refused."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"forbidden global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


class _ProgressReader(io.RawIOBase):
    """A read-only file wrapper that reports the fraction read."""

    def __init__(self, f: BinaryIO, size: int, progress: Progress | None, scale: float):
        self._f, self._size, self._progress, self._scale = f, max(size, 1), progress, scale
        self._last = -1.0

    def readable(self) -> bool:
        return True

    def _report(self) -> None:
        if self._progress is not None:
            frac = self._scale * min(1.0, self._f.tell() / self._size)
            if frac - self._last >= 0.01:
                self._last = frac
                self._progress(frac)

    def readinto(self, b: Any) -> int:
        n = self._f.readinto(b)
        self._report()
        return n or 0


def read_official_arrays(
    path: str | os.PathLike, progress: Progress | None = None, _scale: float = 1.0
) -> list[np.ndarray]:
    """The list of arrays in an official weights file, read without executing any code."""
    from .files import kind_of, read_npy_header

    path = Path(path)
    name = path.name
    kind = kind_of(path)  # a FIFO would block and a device never end: refuse by name
    if kind is not None:
        raise OfficialWeightsError(f"{name}: is {kind}, not a weights file")
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            try:
                shape, _, dtype = read_npy_header(f)
            except (ValueError, EOFError, SyntaxError) as exc:
                if "EOF" in str(exc) and f.tell() >= 6:  # the magic string was there
                    raise OfficialWeightsError(f"{name}: file is truncated (header)") from None
                raise OfficialWeightsError(f"{name}: not a .npy file ({_one_line(exc)})") from None
            if not dtype.hasobject:
                raise OfficialWeightsError(
                    f"{name}: holds a plain {dtype} array of shape {tuple(shape)}, not the "
                    "pickled list of arrays of an official ResidualGRUNet/GRUNet file"
                )
            if len(shape) != 1:
                raise OfficialWeightsError(
                    f"{name}: holds an object array of shape {tuple(shape)}, "
                    "expected a 1-D list of weight arrays"
                )
            reader = io.BufferedReader(_ProgressReader(f, size, progress, _scale))
            try:
                obj = _ArrayUnpickler(reader, encoding="latin1").load()
            except EOFError:
                raise OfficialWeightsError(f"{name}: file is truncated") from None
            except pickle.UnpicklingError as exc:
                if "truncated" not in str(exc):
                    raise OfficialWeightsError(f"{name}: unreadable weights ({exc})") from None
                raise OfficialWeightsError(f"{name}: file is truncated") from None
            except MemoryError:
                raise OfficialWeightsError(f"{name}: corrupt array sizes") from None
            except Exception as exc:  # anything the pickle stream provokes
                raise OfficialWeightsError(
                    f"{name}: unreadable weights ({type(exc).__name__}: {_one_line(exc)})"
                ) from None
    except OSError as exc:
        raise OfficialWeightsError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if isinstance(obj, np.ndarray) and obj.dtype.hasobject and obj.ndim == 1:
        items = list(obj)
    elif isinstance(obj, list):
        items = obj
    else:
        raise OfficialWeightsError(f"{name}: the pickle does not hold a list of arrays")
    if len(items) != shape[0]:
        raise OfficialWeightsError(
            f"{name}: header announces {shape[0]} arrays, the data holds {len(items)}"
        )
    for i, a in enumerate(items):
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
            kind = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
            raise OfficialWeightsError(f"{name}: item {i} is not a numeric array ({kind})")
    return items


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def save_official_layout(path: str | os.PathLike, arrays: list[np.ndarray]) -> None:
    """Write ``arrays`` as the official code did: ``np.save`` of a list of arrays."""
    obj = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        obj[i] = np.asarray(a)
    with open(path, "wb") as f:
        np.save(f, obj, allow_pickle=True)


# --- the expected layout ------------------------------------------------------------------

# (official name, state_dict key, kind); kinds: conv2d, conv3d, fc, bias
Entry = tuple[str, str, str]

_ENC_SHORTCUT = (False, True, True, False, True, False)  # blocks with a 1x1 projection


def official_arch(cfg: NetConfig) -> str:
    """``residual`` or ``gru`` for a config with an official topology (any widths)."""
    c7, c8 = cfg.dec_channels[:2]
    problems = []
    if cfg.cell != "gru" or cfg.batchnorm or cfg.leaky_slope != 0.01:
        problems.append("a GRU cell, no BatchNorm and LeakyReLU slope 0.01")
    if cfg.encoder != cfg.decoder:
        problems.append("encoder and decoder of the same kind")
    if cfg.encoder == "residual" and cfg.enc_channels[4] != cfg.enc_channels[5]:
        problems.append("an identity shortcut in block 6 (enc_channels[4] == [5])")
    if cfg.decoder == "residual" and not cfg.hidden_channels == c7 == c8:
        problems.append("identity shortcuts in res7/res8 (hidden == dec[0] == dec[1])")
    if problems:
        raise ValueError("not an official 3D-R2N2 topology; it needs " + "; ".join(problems))
    return "residual" if cfg.encoder == "residual" else "gru"


def official_entries(cfg: NetConfig) -> list[Entry]:
    """The arrays of an official file for ``cfg``, in file order."""
    arch = official_arch(cfg)
    out: list[Entry] = []

    def layer(name: str, key: str, kind: str) -> None:
        out.append((f"{name}.W", f"{key}.weight", kind))
        out.append((f"{name}.b", f"{key}.bias", "bias"))

    for i, proj in enumerate(_ENC_SHORTCUT):
        pre = f"encoder.blocks.{i}"
        if arch == "residual":
            layer(f"conv{i + 1}a", f"{pre}.a.conv", "conv2d")
            layer(f"conv{i + 1}b", f"{pre}.b.conv", "conv2d")
            if proj:
                layer(f"conv{i + 1}c", f"{pre}.c", "conv2d")
        else:
            layer(f"conv{i + 1}", f"{pre}.conv", "conv2d")
    layer("fc7", "encoder.fc7", "fc")
    for gate in ("t_x_s_update", "t_x_s_reset", "t_x_rs"):
        out.append((f"{gate}.Wh", f"cell.{gate}.conv.weight", "conv3d"))
        out.append((f"{gate}.Wx", f"cell.{gate}.fc.weight", "fc"))
        out.append((f"{gate}.b", f"cell.{gate}.bias", "bias"))
    if arch == "residual":
        names = ["7a", "7b", "8a", "8b", "9a", "9b", "9c", "10a", "10b", "10c", "11"]
    else:
        names = ["7", "8", "9", "10", "11"]
    for n in names:
        layer(f"conv{n}", f"decoder.conv{n}", "conv3d")
    return out


def _official_shape(kind: str, ours: tuple[int, ...]) -> tuple[int, ...]:
    if kind == "conv3d":  # (out, in, kD, kH, kW) -> (out, kD, in, kH, kW)
        o, i, d, h, w = ours
        return (o, d, i, h, w)
    if kind == "fc":
        return ours[::-1]
    return ours


def _to_ours(kind: str, a: np.ndarray) -> np.ndarray:
    if kind == "conv2d":
        a = a[:, :, ::-1, ::-1]
    elif kind == "conv3d":
        a = a.transpose(0, 2, 1, 3, 4)[:, :, ::-1, ::-1, ::-1]
    elif kind == "fc":
        a = a.T
    with np.errstate(over="ignore"):  # out-of-range values become inf, refused by the caller
        return np.array(a, dtype=np.float32, order="C")  # always a fresh, writable copy


def _empty_net(cfg: NetConfig) -> R2N2:
    """The network with uninitialised weights (skips the costly random init)."""
    with torch.device("meta"):
        net = R2N2(cfg)
    return net.to_empty(device="cpu")


def official_layout(cfg: NetConfig) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every array an official file for ``cfg`` holds, in order."""
    shapes = {k: tuple(v.shape) for k, v in _empty_net(cfg).state_dict().items()}
    return [(name, _official_shape(kind, shapes[key])) for name, key, kind in official_entries(cfg)]


# --- conversion -----------------------------------------------------------------------------


def _resolve_arch(arch: str | None, count: int, name: str) -> str:
    if arch is not None:
        if arch not in ARCHS:
            raise OfficialWeightsError(f"unknown arch {arch!r}; choose residual or gru")
        cls, _, n = ARCHS[arch]
        if count != n:
            other = next((a for a, (_, _, m) in ARCHS.items() if m == count), None)
            hint = f" (it looks like a {ARCHS[other][0]} file)" if other else ""
            raise OfficialWeightsError(
                f"{name}: file holds {count} arrays; an official {cls} file holds {n}{hint}"
            )
        return arch
    for a, (_, _, n) in ARCHS.items():
        if count == n:
            return a
    raise OfficialWeightsError(
        f"{name}: file holds {count} arrays; an official ResidualGRUNet file holds 63 and GRUNet 33"
    )


def convert_official(
    path: str | os.PathLike,
    arch: str | None = None,
    progress: Progress | None = None,
    *,
    cfg: NetConfig | None = None,
) -> tuple[R2N2, dict[str, Any]]:
    """Load an official weights file into an :class:`R2N2` (eval mode) + metadata.

    ``arch`` (``residual``/``gru``) forces the network; by default it is detected from
    the number of arrays. ``cfg`` converts a file of an official topology with other
    widths (tests). ``progress`` receives fractions 0..1.
    """
    path = Path(path)
    name = path.name
    arrays = read_official_arrays(path, progress, _scale=0.8)
    if cfg is not None:
        try:
            cfg_arch = official_arch(cfg)
        except ValueError as exc:
            raise OfficialWeightsError(str(exc)) from None
        if arch is not None and arch != cfg_arch:
            raise OfficialWeightsError(f"arch {arch!r} contradicts the given {cfg_arch} config")
        arch = cfg_arch
    arch = _resolve_arch(arch, len(arrays), name)
    cls, official_preset, _ = ARCHS[arch]
    if cfg is None:
        cfg = preset(official_preset)
    preset_name = official_preset if cfg == preset(official_preset) else None
    net = _empty_net(cfg)  # every tensor is overwritten below (strict load)
    target = net.state_dict()
    state: dict[str, torch.Tensor] = {}
    for i, ((oname, key, kind), a) in enumerate(zip(official_entries(cfg), arrays, strict=True)):
        expected = _official_shape(kind, tuple(target[key].shape))
        if a.shape != expected:
            raise OfficialWeightsError(
                f"{name}: array {i} ({oname}) has shape {a.shape}, expected {expected} for {cls}"
            )
        ours = _to_ours(kind, a)  # float32: checked after the cast (1e300 becomes inf)
        if not np.isfinite(ours).all():
            raise OfficialWeightsError(f"{name}: array {i} ({oname}) holds NaN or inf values "
                                       "(as float32)")
        state[key] = torch.from_numpy(ours)
    net.load_state_dict(state, strict=True)
    net.eval()
    meta: dict[str, Any] = {
        "format": FORMAT,
        "preset": preset_name,
        "config": cfg.to_dict(),
        "source": f"converted from official {name}",
        "training": {"data": "ShapeNet, 13 categories (official 3D-R2N2 release)"},
        "metrics": {},
        "name": preset_name or cls,
        "official_arch": cls,
        "path": str(path),
        "num_parameters": net.num_parameters(),
    }
    if progress is not None:
        progress(1.0)
    return net, meta


def write_official_checkpoint(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    arch: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Convert an official ``.npy`` into one of our ``.safetensors`` checkpoints."""
    net, meta = convert_official(src, arch=arch, progress=progress)
    save_checkpoint(
        dst,
        net,
        preset=meta["preset"],
        source=meta["source"],
        training=meta["training"],
        name=meta["name"],
        official_arch=meta["official_arch"],
    )
    return meta
