"""Find and load a model: ``default`` (the bundled one), our ``.safetensors``, or an
official ``.npy`` weights file (converted in memory)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .models.checkpoint import CheckpointError, load_checkpoint
from .models.net import R2N2


def default_weights_path() -> Path:
    """The bundled default model (assets/default/model.safetensors)."""
    from . import assets

    return Path(assets.__file__).resolve().parent / "default" / "model.safetensors"


def resolve_weights(spec: str | os.PathLike | None) -> Path:
    """``None``/``"default"`` -> the bundled model; anything else must be an existing file."""
    if spec is None or str(spec) == "default":
        path = default_weights_path()
        if not path.is_file():
            raise CheckpointError(
                f"the bundled default model is missing ({path}); pass --weights FILE"
            )
        return path
    from .models.files import kind_of, regular_file

    path = Path(spec).expanduser()
    if not path.exists() and kind_of(path) is None:
        hint = ""
        if difflib.get_close_matches(str(spec).lower(), ["default"], n=1, cutoff=0.6):
            hint = "; did you mean 'default' (the bundled model)?"
        raise CheckpointError(f"{path}: no such weights file{hint}")
    try:
        return regular_file(path, "weights file")
    except (OSError, ValueError) as exc:  # a folder, FIFO or device is named as such
        raise CheckpointError(str(exc)) from None


def pick_device(device: str = "auto") -> torch.device:
    """``auto`` = CUDA, then Apple MPS, then CPU; otherwise the named device."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {device!r} (use auto, cpu, cuda or mps)") from exc
    if dev.type not in ("cpu", "cuda", "mps"):  # meta, xla, ...: no real computation
        raise ValueError(f"device {device!r} cannot run the network (use auto, cpu, cuda or mps)")
    if dev.type == "mps" and not getattr(torch.backends, "mps", None) \
            or dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device mps requested but Apple MPS is not available; use --device cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but no CUDA GPU is available; use --device cpu")
    return dev


def load_model(
    spec: str | os.PathLike | None,
    device: str | torch.device = "cpu",
    progress: Callable[[float], None] | None = None,
) -> tuple[R2N2, dict[str, Any]]:
    """Load a model for inference from a checkpoint, or convert an official ``.npy`` on the
    fly; subnormal weights are flushed to zero (see :meth:`R2N2.flush_subnormals`)."""
    path = resolve_weights(spec)
    if path.suffix.lower() == ".npy":
        from .models.official import convert_official

        net, meta = convert_official(path, progress=progress)
        net = net.to(device).eval()
    else:
        net, meta = load_checkpoint(path, device)
        meta.setdefault("path", str(path))
    net.flush_subnormals()
    return net, meta
