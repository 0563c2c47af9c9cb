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
    s = ReconstructionSession(net=tiny_net, device="cpu")
    s.add_view(views[0])
    assert len(s.steps) == 1


def test_a_session_copies_its_inputs_and_hands_out_read_only_arrays(tiny_checkpoint, views):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    x = views[0].copy()
    step = s.add_view(x)
    before = step.probabilities.copy()
    x[:] = 0.0  # the caller reuses its buffer
    assert np.array_equal(s.views[0], views[0])  # the stored view is unchanged
    s.add_view(views[1])
    s.move_view(1, 0)
    s.move_view(1, 0)  # recomputed from the cached features of the original images
    np.testing.assert_allclose(s.steps[0].probabilities, before, atol=1e-6)
    for arr in (s.views[0], s.steps[0].probabilities, s.steps[0].update_gate):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 1


def test_complex_and_non_numeric_views_are_refused(tiny_checkpoint):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    with pytest.raises(ValueError, match="complex"):
        s.add_view(np.full((3, 127, 127), 0.5 + 0.5j))
    with pytest.raises(ValueError, match="numbers"):
        s.add_view(np.full((3, 127, 127), "0.5"))
    assert len(s) == 0


def test_threads_adding_views_each_get_their_own_step(tiny_checkpoint, views):
    import threading

    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    results: dict[int, object] = {}

    def add(i: int) -> None:
        results[i] = s.add_view(views[i], f"v{i}")

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(step.index for step in results.values()) == [1, 2, 3, 4]
    order = [int(label[1:]) for label in s.labels]
    ref = _whole_sequence(s.net, [views[i] for i in order])
    for step, r in zip(s.steps, ref, strict=True):  # as if added one after another
        np.testing.assert_allclose(step.probabilities, r, atol=1e-5)
    for i, step in results.items():  # each caller got the step of its own view
        assert s.labels[step.index - 1] == f"v{i}"


def test_weights_and_net_are_not_mixed(tiny_net):
    with pytest.raises(TypeError, match="net="):
        ReconstructionSession(tiny_net, device="cpu")
    s = ReconstructionSession(net=tiny_net, device="cpu", name="mine")
    assert s.model_name == "mine"


def test_from_weights_is_the_loader(tiny_checkpoint):
    s = ReconstructionSession.from_weights(tiny_checkpoint, "cpu")
    assert s.model_name == "tiny" and str(s.torch_device) == "cpu"
