"""Shared fixtures: tiny random checkpoints so tests never need the bundled model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from r2n2_viewer.models.checkpoint import save_checkpoint
from r2n2_viewer.models.config import PRESETS
from r2n2_viewer.models.net import R2N2


@pytest.fixture(scope="session")
def tiny_net() -> R2N2:
    torch.manual_seed(0)
    return R2N2(PRESETS["tiny"]).eval()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_net) -> str:
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    save_checkpoint(path, tiny_net, preset=None, source="random init for tests", name="tiny")
    return str(path)


@pytest.fixture
def views() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.random((3, 127, 127), dtype=np.float32) for _ in range(5)]
