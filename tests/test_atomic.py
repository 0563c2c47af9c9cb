"""Atomic writes: all or nothing, usual permissions."""

from __future__ import annotations

import os
import stat

import pytest

from r2n2_viewer.models.atomic import atomic_write, atomic_write_bytes


def test_written_file_has_usual_permissions(tmp_path):
    p = tmp_path / "a.bin"
    atomic_write_bytes(p, b"abc")
    assert p.read_bytes() == b"abc"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask


def test_failure_keeps_old_file_and_leaves_no_temp(tmp_path):
    p = tmp_path / "a.bin"
    p.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(p) as f:
        f.write(b"partial")
        raise RuntimeError("disk full")
    assert p.read_bytes() == b"old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.bin"]
