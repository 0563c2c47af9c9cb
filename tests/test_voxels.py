"""The one IoU: numpy and torch, single grids and batches, empty grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from r2n2_viewer.models.voxels import iou


def test_iou_of_two_grids():
    a = np.zeros((4, 4, 4), bool)
    assert iou(a, a) == 1.0  # both empty
    a[0, 0, 0] = True
    b = np.zeros_like(a)
    b[0, 0, :2] = True
    assert iou(a, b) == pytest.approx(0.5) and isinstance(iou(a, b), float)
    assert iou(a, np.zeros_like(a)) == 0.0
    assert iou(a.astype(np.uint8), b.astype(np.float32)) == pytest.approx(0.5)  # cast to bool


def test_batches_agree_between_numpy_and_torch():
    rng = np.random.default_rng(0)
    pred, target = rng.random((2, 5, 8, 8, 8)) < 0.3
    target[3] = pred[3] = False  # one pair empty on both sides
    want = [iou(p, t) for p, t in zip(pred, target, strict=True)]
    assert want[3] == 1.0
    np.testing.assert_allclose(iou(pred, target), want)
    got = iou(torch.from_numpy(pred), torch.from_numpy(target))
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    # one target broadcast against a batch of predictions
    np.testing.assert_allclose(iou(pred, target[0]), [iou(p, target[0]) for p in pred])
