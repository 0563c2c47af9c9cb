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
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: corrupt checkpoint metadata ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {meta.get('format')!r}")
    return meta


def load_checkpoint(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[R2N2, dict[str, Any]]:
    """Build the network described by the checkpoint and load its weights (eval mode)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such weights file")
    meta = read_metadata(path)
    try:
        cfg = NetConfig.from_dict(meta["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad network config in metadata ({exc})") from None
    net = R2N2(cfg)
    try:
        tensors = st_load(path.read_bytes())
    except (SafetensorError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupt tensors ({exc})") from None
    load_state_strict(net, tensors, str(path))
    return net.to(device).eval(), meta


def load_state_strict(net: R2N2, tensors: dict[str, torch.Tensor], origin: str) -> None:
    """Load tensors into ``net``, naming the first missing, extra or mis-shaped tensor."""
    expected = net.state_dict()
    missing = [k for k in expected if k not in tensors]
    extra = [k for k in tensors if k not in expected]
    if missing or extra:
        raise CheckpointError(
            f"{origin}: tensors do not match the {net.cfg.encoder}/{net.cfg.cell} network "
            f"(missing {missing[:3]}, unexpected {extra[:3]})"
        )
    for k, v in expected.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise CheckpointError(
                f"{origin}: tensor {k} has shape {tuple(tensors[k].shape)}, "
                f"expected {tuple(v.shape)}"
            )
    net.load_state_dict(tensors)
