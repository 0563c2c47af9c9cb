"""Checkpoints: ``.safetensors`` tensors + JSON metadata (config, provenance, metrics).

A checkpoint is self-contained: the network's full config travels in the metadata, so
loading needs no other file. safetensors never executes code from the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .atomic import atomic_write_bytes
from .config import NetConfig
from .net import R2N2

FORMAT = "r2n2-viewer-checkpoint/1"
_META_KEY = "r2n2"


class CheckpointError(ValueError):
    """A file is not a usable checkpoint of this project."""


def save_checkpoint(
    path: str | os.PathLike,
    net: R2N2,
    *,
    preset: str | None = None,
    source: str = "trained with r2n2-viewer",
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    **extra: Any,
) -> None:
    """Write ``net``'s weights and metadata to ``path`` atomically."""
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in net.state_dict().items()}
    meta = {
        "format": FORMAT,
        "preset": preset,
        "config": net.cfg.to_dict(),
        "source": source,
        "training": training or {},
        "metrics": metrics or {},
        **extra,
    }
    atomic_write_bytes(path, st_save(tensors, metadata={_META_KEY: json.dumps(meta)}))


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata of a checkpoint, without loading its tensors."""
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(_META_KEY)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a safetensors checkpoint ({exc})") from None
    if raw is None:
        raise CheckpointError(
            f"{path}: safetensors file without r2n2-viewer metadata; "
            "convert official weights with `r2n2 convert`"
        )
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(f"{path}: corrupt checkpoint metadata ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: corrupt checkpoint metadata (not a JSON object)")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {meta.get('format')!r:.80}")
    return meta


def training_stages(training: dict[str, Any]) -> list[dict[str, Any]]:
    """The training stages recorded in a checkpoint's ``training`` metadata, oldest first:
    its ``stages`` list, or the run itself as one stage (nothing for an untrained file)."""
    if not training:
        return []
    stages = training.get("stages")
    if isinstance(stages, list):
        return [s for s in stages if isinstance(s, dict)]
    return [{k: v for k, v in training.items() if k != "stages"}]


def chain_stages(before: dict[str, Any], stage: dict[str, Any]) -> dict[str, Any]:
    """``training`` metadata for a run that started from weights whose ``training`` was
    ``before``: ``stage`` with every earlier stage and ``stage`` itself under ``stages``,
    and the iterations and wall time summed over all of them."""
    stages = [*training_stages(before), {k: v for k, v in stage.items() if k != "stages"}]
    return {**stage, "stages": stages,
            "iterations": sum(int(s.get("iterations", 0)) for s in stages),
            "wall_time_s": round(sum(float(s.get("wall_time_s", 0)) for s in stages), 1)}


_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
           torch.float64: "F64", torch.int64: "I64", torch.int32: "I32"}


class _Skeleton(R2N2):
    """The network's modules without its weight initialisation (random normal draws on the
    meta device first load PyTorch's Python decompositions: seconds for nothing)."""

    def reset_parameters(self) -> None:
        pass


def expected_tensors(cfg: NetConfig) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name -> (shape, safetensors dtype) of every tensor of ``cfg``'s network, computed on
    the meta device: nothing is allocated, whatever the widths."""
    with torch.device("meta"):
        net = _Skeleton(cfg)
    return {k: (tuple(v.shape), _DTYPES.get(v.dtype, str(v.dtype)))
            for k, v in net.state_dict().items()}


def _check_headers(path: Path, cfg: NetConfig) -> None:
    """The tensors the file declares (names, shapes, dtypes; read from its header only)
    must be exactly those of ``cfg``'s network."""
    expected = expected_tensors(cfg)
    try:
        with safe_open(str(path), framework="pt") as f:
            found = {k: (tuple(f.get_slice(k).get_shape()), f.get_slice(k).get_dtype())
                     for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupt tensors ({exc})") from None
    _require_same_names(path, expected, found, f"{cfg.encoder}/{cfg.cell} network of its config")
    for k, (shape, dtype) in expected.items():
        if found[k][0] != shape:
            raise CheckpointError(f"{path}: tensor {k} has shape {found[k][0]}, "
                                  f"expected {shape}")
        if found[k][1] != dtype:
            raise CheckpointError(f"{path}: tensor {k} is {found[k][1]}, expected {dtype}")


def _require_same_names(origin: Any, expected: Any, found: Any, network: str) -> None:
    """Refuse tensors whose names differ from ``expected``'s, naming the first few missing
    and unexpected ones and the ``network`` they were checked against."""
    missing = [k for k in expected if k not in found]
    extra = [k for k in found if k not in expected]
    if missing or extra:
        raise CheckpointError(f"{origin}: tensors do not match the {network} "
                              f"(missing {missing[:3]}, unexpected {extra[:3]})")


def config_from_metadata(meta: dict[str, Any], origin: str | os.PathLike) -> NetConfig:
    """The checked network config stored in checkpoint metadata."""
    cfg = meta.get("config")
    if not isinstance(cfg, dict):
        raise CheckpointError(f"{origin}: bad network config in metadata (not a JSON object)")
    try:
        return NetConfig.from_dict(cfg)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{origin}: bad network config in metadata ({exc})") from None


def load_checkpoint(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[R2N2, dict[str, Any]]:
    """Build the network described by the checkpoint and load its weights (eval mode).

    Before anything is allocated, the config's fields are checked (types and ranges) and
    the tensors it implies are compared with the file's header; weights that are not
    finite are refused, naming the tensor.
    """
    from .files import regular_file

    try:
        path = regular_file(path, "weights file")
    except (OSError, ValueError) as exc:
        raise CheckpointError(str(exc)) from None
    meta = read_metadata(path)
    cfg = config_from_metadata(meta, path)
    _check_headers(path, cfg)
    try:
        tensors = st_load(path.read_bytes())
    except (SafetensorError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupt tensors ({exc})") from None
    check_finite(tensors, str(path))
    net = R2N2(cfg)
    load_state_strict(net, tensors, str(path))
    return net.to(device).eval(), meta


def check_finite(tensors: dict[str, torch.Tensor], origin: str) -> None:
    """Refuse weights holding NaN or infinity, naming the first such tensor."""
    for k, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{origin}: tensor {k} holds NaN or infinite values")


def load_state_strict(net: R2N2, tensors: dict[str, torch.Tensor], origin: str) -> None:
    """Load tensors into ``net``, naming the first missing, extra or mis-shaped tensor."""
    expected = net.state_dict()
    _require_same_names(origin, expected, tensors, f"{net.cfg.encoder}/{net.cfg.cell} network")
    for k, v in expected.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise CheckpointError(
                f"{origin}: tensor {k} has shape {tuple(tensors[k].shape)}, "
                f"expected {tuple(v.shape)}"
            )
    net.load_state_dict(tensors)
