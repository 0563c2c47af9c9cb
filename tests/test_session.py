"""ReconstructionSession: one step per view, incremental == whole sequence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from r2n2_viewer.session import ReconstructionSession


def _whole_sequence(net, views):
    seq = torch.from_numpy(np.stack(views))[:, None]
    with torch.no_grad():
        logits = net(seq, every_step=True)
    return [net.probabilities(lg)[0].numpy() for lg in logits]


def test_incremental_equals_whole_sequence(tiny_checkpoint, views):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    for i, v in enumerate(views):
        step = s.add_view(v)
        assert step.index == i + 1
        assert step.probabilities.shape == (32, 32, 32)
        assert step.probabilities.dtype == np.float32
        assert step.update_gate.shape == (4, 4, 4)
        assert step.ms > 0
    ref = _whole_sequence(s.net, views)
    for step, r in zip(s.steps, ref, strict=True):
        np.testing.assert_allclose(step.probabilities, r, atol=1e-5)


def test_edits_recompute_from_first_changed_position(tiny_checkpoint, views):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    for v in views[:4]:
        s.add_view(v)
    first = s.steps[0]
    s.move_view(3, 1)
    order = [views[0], views[3], views[1], views[2]]
    assert s.steps[0] is first  # untouched prefix is kept, not recomputed
    for step, r in zip(s.steps, _whole_sequence(s.net, order), strict=True):
        np.testing.assert_allclose(step.probabilities, r, atol=1e-5)
    s.remove_view(1)
    for step, r in zip(s.steps, _whole_sequence(s.net, views[:3]), strict=True):
        np.testing.assert_allclose(step.probabilities, r, atol=1e-5)
    s.replace_view(2, views[4])
    for step, r in zip(s.steps, _whole_sequence(s.net, [*views[:2], views[4]]), strict=True):
        np.testing.assert_allclose(step.probabilities, r, atol=1e-5)
    assert [st.index for st in s.steps] == [1, 2, 3]
    with pytest.raises(IndexError):
        s.remove_view(7)
    s.reset()
    assert s.steps == [] and len(s) == 0


def test_bad_arrays_rejected(tiny_checkpoint):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    with pytest.raises(ValueError, match="shape"):
        s.add_view(np.zeros((127, 127, 3), np.float32))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        s.add_view(np.full((3, 127, 127), 2.0, np.float32))
    assert len(s) == 0


def test_session_accepts_a_network_object(tiny_net, views):
    s = ReconstructionSession(tiny_net, device="cpu")
    s.add_view(views[0])
    assert len(s.steps) == 1
