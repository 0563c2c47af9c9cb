"""A second model follows the first session's views with as few steps as possible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from r2n2_viewer.compare import first_difference, mirror_views, step_ious
from r2n2_viewer.models.config import PRESETS
from r2n2_viewer.models.net import R2N2
from r2n2_viewer.session import ReconstructionSession


@pytest.fixture
def other_net():
    torch.manual_seed(7)
    return R2N2(PRESETS["tiny"]).eval()


def test_mirror_follows_every_edit(tiny_checkpoint, other_net, views):
    a = ReconstructionSession(tiny_checkpoint, device="cpu")
    b = ReconstructionSession(net=other_net, device="cpu")
    for v in views[:2]:
        a.add_view(v)
    assert mirror_views(b, a.views, a.labels) == 2
    first = b.steps[0]
    a.add_view(views[2])
    assert mirror_views(b, a.views, a.labels) == 1  # one new view: one step
    assert b.steps[0] is first
    a.move_view(2, 1)
    assert mirror_views(b, a.views) == 2
    a.remove_view(0)
    assert mirror_views(b, a.views) == 2
    ref = ReconstructionSession(net=other_net, device="cpu")
    for v in a.views:
        ref.add_view(v)
    for got, want in zip(b.steps, ref.steps, strict=True):
        np.testing.assert_allclose(got.probabilities, want.probabilities, atol=1e-6)
    assert len(b) == 2
    assert mirror_views(b, []) == 0 and len(b) == 0
    with pytest.raises(ValueError, match="labels"):
        mirror_views(b, a.views, ["x"])


def test_first_difference_and_step_ious(tiny_checkpoint, views):
    assert first_difference(views[:3], views[:5]) == 3
    assert first_difference(views[:3], [views[0], views[2]]) == 1
    assert first_difference(views[:2], [views[0], views[1].copy()]) == 2
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    for v in views[:2]:
        s.add_view(v)
    truth = s.steps[0].probabilities >= 0.5
    ious = step_ious(s, truth, 0.5)
    assert ious[0] == 1.0 and len(ious) == 2
