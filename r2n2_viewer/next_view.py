"""Next best view: which image, added next, would make the network most sure?

Each candidate is tried as one more recurrent step on a copy of the session's state
(the session itself never changes); its expected gain is the drop of the prediction's
mean Bernoulli entropy (bits per voxel, :func:`r2n2_viewer.analysis.entropy`) from the
current step to the trial step. All candidates go through the encoder, the recurrent
step and the decoder together, in batches.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .session import ReconstructionSession, ViewSource, view_input

DEFAULT_BATCH = 12
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff",
                            ".gif"})


@dataclass(frozen=True)
class ViewGain:
    """One candidate's trial step: ``index`` into the candidates given."""

    index: int
    label: str
    gain: float  # bits per voxel: mean entropy now minus after the trial step
    entropy_after: float  # mean entropy (bits per voxel) after the trial step


def mean_entropy_torch(prob: torch.Tensor) -> torch.Tensor:
    """Mean Bernoulli entropy in bits of each grid of ``prob`` (N, ...) -> (N,)."""
    p = prob.double().clamp(1e-12, 1.0 - 1e-12)
    h = -(p * torch.log2(p) + (1.0 - p) * torch.log2(1.0 - p))
    return h.flatten(1).mean(1)


@torch.inference_mode()
def current_entropy(session: ReconstructionSession, after: int | None = None) -> float:
    """Mean entropy after the first ``after`` steps (default: all; of the empty state's
    guess before any)."""
    steps = session.steps
    k = len(steps) if after is None else after
    if not 0 <= k <= len(steps):
        raise IndexError(f"no step {k}: the session has {len(steps)}")
    if k:
        prob = torch.from_numpy(np.array(steps[k - 1].probabilities))[None]
    else:
        net = session.net
        prob = net.probabilities(net.decode(session.recurrent_state(0)))
    return float(mean_entropy_torch(prob)[0])


@torch.inference_mode()
def rank_next_views(
    session: ReconstructionSession,
    candidates: Sequence[ViewSource],
    labels: Sequence[str] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH,
    after: int | None = None,
    check_cancelled: Callable[[], None] | None = None,
    progress: Callable[[float], None] | None = None,
) -> list[ViewGain]:
    """Rank ``candidates`` (paths, PIL images or (3, 127, 127) network inputs) by the
    entropy drop one more step with each would bring, best first (ties: given order).

    ``after``: try them as step ``after + 1``, on the state after the first ``after``
    views (default: after all of them; the later views are then ignored).

    ``check_cancelled`` is called between batches (it raises to stop);
    ``progress(fraction)`` after each. A candidate that cannot be read raises its
    ValueError/OSError naming it."""
    if labels is not None and len(labels) != len(candidates):
        raise ValueError(f"{len(labels)} labels for {len(candidates)} candidates")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    names = [str(lab) for lab in labels] if labels is not None else \
        [_label(c, i) for i, c in enumerate(candidates)]
    net, dev = session.net, session.torch_device
    state = session.recurrent_state(after)
    before = current_entropy(session, after)
    after: list[float] = []
    for start in range(0, len(candidates), batch_size):
        if check_cancelled is not None:
            check_cancelled()
        chunk = []
        for i in range(start, min(start + batch_size, len(candidates))):
            try:
                chunk.append(view_input(candidates[i]))
            except (OSError, ValueError) as exc:
                raise type(exc)(f"{names[i]}: {exc}") from exc
        x = torch.from_numpy(np.stack(chunk)).to(dev)
        feats = net.encode(x)
        trial, _ = net.step(feats, state.expand(len(chunk), *state.shape[1:]).contiguous())
        prob = net.probabilities(net.decode(trial))
        after.extend(float(h) for h in mean_entropy_torch(prob).cpu())
        if progress is not None:
            progress(len(after) / len(candidates))
    ranked = [ViewGain(i, names[i], before - h, h) for i, h in enumerate(after)]
    return sorted(ranked, key=lambda g: (-g.gain, g.index))


def images_in_folder(folder: str | os.PathLike) -> list[Path]:
    """The image files directly in ``folder``, sorted by name (NotADirectoryError or
    FileNotFoundError when it is not a folder; ValueError when it holds no image)."""
    root = Path(folder)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such folder")
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a folder")
    found = sorted(p for p in root.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise ValueError(f"{root}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return found


def _label(source: ViewSource, i: int) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return f"candidate {i + 1}"
