"""Checked input files: regular files only, read with a size cap, names that stay inside.

Files from strangers (weights, datasets, packs) may be folders, FIFOs (opening one for
reading blocks forever), devices (``/dev/zero`` never ends) or names that climb out of
the folder they belong to. These helpers turn each case into one clear error before any
byte is read or written.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# a file or folder name from a dataset or pack: letters, digits, '_', '-', '.', not
# starting with '.' (no '..', no hidden files), no separators, at most 128 characters
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def kind_of(path: str | os.PathLike) -> str | None:
    """What ``path`` is when it is not a regular file ("a folder", "a named pipe (FIFO)",
    "a character device", ...); ``None`` for a regular file or a missing path."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else _kind(mode)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def regular_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` if it is (a link to) a regular file; else ``FileNotFoundError`` /
    ``IsADirectoryError`` / ``ValueError`` with one line saying what it is."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise OSError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    if stat.S_ISREG(mode):
        return path
    kind = _kind(mode)
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{path}: is {kind}, not a {what}")
    raise ValueError(f"{path}: is {kind}, not a {what}")


def read_bytes_capped(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The bytes of regular file ``path``, refusing files larger than ``limit`` bytes."""
    path = regular_file(path, what)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise ValueError(f"{path}: {size:,} bytes is too large for a {what} "
                             f"(at most {limit:,})")
        data = f.read(limit + 1)
    if len(data) > limit:  # grew while reading
        raise ValueError(f"{path}: too large for a {what} (at most {limit:,} bytes)")
    return data


def is_safe_name(name: object) -> bool:
    """A plain file or folder name: no separators, no '..', no leading '.', not empty."""
    return isinstance(name, str) and _SAFE_NAME.fullmatch(name) is not None


def inside(folder: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Whether ``path`` resolves (links followed) to ``folder`` or somewhere inside it."""
    root = Path(folder).resolve()
    target = Path(path).resolve()
    return target == root or root in target.parents


def read_npy_header(f) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` from a binary stream at the start of a ``.npy``
    file, reading the header only; ValueError for a format version other than 1.0 or 2.0."""
    from numpy.lib import format as npformat

    version = npformat.read_magic(f)
    if version == (1, 0):
        return npformat.read_array_header_1_0(f)
    if version == (2, 0):
        return npformat.read_array_header_2_0(f)
    raise ValueError(f"unsupported .npy format version {version}")
