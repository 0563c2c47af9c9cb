"""Next best view: trial steps on a copy of the state, ranked by the entropy drop."""

from __future__ import annotations

import numpy as np
import pytest

from r2n2_viewer.analysis import mean_entropy
from r2n2_viewer.next_view import current_entropy, images_in_folder, rank_next_views
from r2n2_viewer.session import ReconstructionSession
from tests.factories import save_png


def _entropy_after(checkpoint, done, candidate) -> float:
    s = ReconstructionSession(checkpoint, device="cpu")
    for v in [*done, candidate]:
        s.add_view(v)
    return mean_entropy(s.steps[-1].probabilities)


def test_ranking_equals_one_real_step_per_candidate(tiny_checkpoint, views):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    for v in views[:2]:
        s.add_view(v)
    before_steps = s.steps
    ranked = rank_next_views(s, views[2:], ["a", "b", "c"], batch_size=2)
    assert s.steps == before_steps and len(s) == 2  # the session is untouched
    now = mean_entropy(before_steps[-1].probabilities)
    assert current_entropy(s) == pytest.approx(now, abs=1e-6)
    expect = {i: now - _entropy_after(tiny_checkpoint, views[:2], v)
              for i, v in enumerate(views[2:])}
    assert sorted(g.index for g in ranked) == [0, 1, 2]
    for g in ranked:
        assert g.label == "abc"[g.index]
        assert g.gain == pytest.approx(expect[g.index], abs=1e-5)
        assert g.entropy_after == pytest.approx(now - expect[g.index], abs=1e-6)
    gains = [g.gain for g in ranked]
    assert gains == sorted(gains, reverse=True)
    # one batch or one candidate at a time: the same answer
    single = rank_next_views(s, views[2:], batch_size=1)
    assert [g.index for g in single] == [g.index for g in ranked]
    np.testing.assert_allclose([g.gain for g in single], gains, atol=1e-6)


def test_ranking_from_an_earlier_step_continues_that_steps_state(tiny_checkpoint, views):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    for v in views[:4]:
        s.add_view(v)
    two = ReconstructionSession(tiny_checkpoint, device="cpu")
    for v in views[:2]:
        two.add_view(v)
    cands = [views[2], views[3], views[4]]
    ranked = rank_next_views(s, cands, ["a", "b", "c"], after=2)
    want = rank_next_views(two, cands, ["a", "b", "c"])
    assert [g.index for g in ranked] == [g.index for g in want]
    np.testing.assert_allclose([g.gain for g in ranked], [g.gain for g in want], atol=1e-6)
    assert current_entropy(s, 2) == pytest.approx(current_entropy(two), abs=1e-9)
    assert len(s) == 4  # untouched
    last = rank_next_views(s, cands)  # default: after all four views
    assert [g.gain for g in last] != [g.gain for g in ranked]
    with pytest.raises(IndexError):
        rank_next_views(s, cands, after=5)


def test_ranking_before_any_view_starts_from_the_empty_state(tiny_checkpoint, views):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    ranked = rank_next_views(s, views[:2])
    for g in ranked:
        assert g.entropy_after == pytest.approx(
            _entropy_after(tiny_checkpoint, [], views[g.index]), abs=1e-6)
    assert len(s) == 0


def test_candidates_from_files_and_bad_candidates(tiny_checkpoint, views, tmp_path):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    s.add_view(views[0])
    rng = np.random.default_rng(1)
    paths = [save_png(tmp_path / f"c{i}.png", rng.integers(0, 255, (137, 137, 3), np.uint8))
             for i in range(2)]
    (tmp_path / "notes.txt").write_text("not an image")
    assert [p.name for p in images_in_folder(tmp_path)] == ["c0.png", "c1.png"]
    ranked = rank_next_views(s, paths)
    assert {g.label for g in ranked} == {"c0.png", "c1.png"}
    with pytest.raises((OSError, ValueError), match="notes.txt"):
        rank_next_views(s, [paths[0], str(tmp_path / "notes.txt")])
    with pytest.raises(ValueError, match="2 labels for 1"):
        rank_next_views(s, views[:1], ["a", "b"])
    with pytest.raises(ValueError, match="no images"):
        images_in_folder(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else "")
    with pytest.raises(NotADirectoryError):
        images_in_folder(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError):
        images_in_folder(tmp_path / "missing")


def test_ranking_stops_when_cancelled(tiny_checkpoint, views):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    calls = []

    def cancel() -> None:
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt

    fractions: list[float] = []
    with pytest.raises(KeyboardInterrupt):
        rank_next_views(s, views, batch_size=2, check_cancelled=cancel,
                        progress=fractions.append)
    assert fractions == [pytest.approx(0.4)]
