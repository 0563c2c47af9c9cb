"""Read Sweet Home 3D furniture catalogs: ``.sh3f`` libraries and ``sweethome3d.jar``.

A ``.sh3f`` file is a zip holding ``PluginFurnitureCatalog.properties`` plus the pieces'
OBJ/MTL/texture files; the program's own catalog lives in ``sweethome3d.jar`` as
``com/eteks/sweethome3d/io/DefaultFurnitureCatalog.properties`` with its models under
``com/eteks/sweethome3d/io/resources/``. Each piece is a group of ``key#N`` properties
(``id#N``, ``name#N``, ``category#N``, ``model#N``, ``modelRotation#N``, ``width#N``...).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

PLUGIN_CATALOG = "PluginFurnitureCatalog.properties"
DEFAULT_CATALOG = "com/eteks/sweethome3d/io/DefaultFurnitureCatalog.properties"
OBJ_LOADER_CLASS = "com/eteks/sweethome3d/j3d/OBJLoader.class"


class LibraryError(ValueError):
    """A path that is not a readable Sweet Home 3D furniture library."""


def parse_properties(text: str) -> dict[str, str]:
    """A Java ``.properties`` text as a dict (comments, continuations, ``\\uXXXX`` escapes)."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].lstrip()
        i += 1
        if not line or line[0] in "#!":
            continue
        while _continues(line) and i < len(lines):
            line = line[:-1] + lines[i].lstrip()
            i += 1
        m = re.match(r"((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)$", line)
        if m:
            out[_unescape(m.group(1))] = _unescape(m.group(2))
    return out


def _continues(line: str) -> bool:
    n = len(line) - len(line.rstrip("\\"))
    return n % 2 == 1


def _unescape(s: str) -> str:
    def rep(m: re.Match) -> str:
        c = m.group(1)
        if c.startswith("u"):
            return chr(int(c[1:], 16))
        return {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(c, c)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", rep, s)


@dataclass
class Piece:
    """One catalog piece of furniture."""

    library: str  # library file name, e.g. "BlendSwap-CC-0.sh3f"
    index: int  # N of the key#N group
    piece_id: str
    name: str
    category: str
    model: str  # path of the OBJ inside the archive (no leading slash)
    rotation: tuple[float, ...] | None  # modelRotation, row-major 3x3
    width: float
    depth: float
    height: float
    creator: str
    license: str
    tags: str = ""
    door_or_window: bool = False
    properties: dict = field(default_factory=dict, repr=False)


@dataclass
class Library:
    """A furniture library: its archive path, catalog-level fields and pieces."""

    path: Path
    name: str
    license: str
    pieces: list[Piece]
    is_default_catalog: bool

    def open(self) -> zipfile.ZipFile:
        return zipfile.ZipFile(self.path)

    def default_mtl(self) -> str:
        """The material library Sweet Home 3D's OBJ loader falls back on (``usemtl white``
        with no ``mtllib``), read from the jar's ``OBJLoader.class``; "" for a ``.sh3f``."""
        if not self.is_default_catalog:
            return ""
        with self.open() as z:
            try:
                data = z.read(OBJ_LOADER_CLASS)
            except KeyError:
                return ""
        return class_string_constant(data, b"newmtl ")


def class_string_constant(data: bytes, start: bytes) -> str:
    """The longest UTF-8 constant of a Java class file that starts with ``start``."""
    best = ""
    pos = 0
    while True:
        i = data.find(start, pos)
        if i < 3:
            return best
        pos = i + 1
        if data[i - 3] != 1:  # CONSTANT_Utf8 tag, then a big-endian u2 length
            continue
        n = int.from_bytes(data[i - 2 : i], "big")
        s = data[i : i + n].decode("utf-8", "replace")
        if len(s) > len(best):
            best = s


def _float(props: dict[str, str], key: str, default: float = 0.0) -> float:
    try:
        return float(props.get(key, default))
    except ValueError:
        return default


def load_library(path: str | Path) -> Library:
    """Read a library's catalog; raises :class:`LibraryError` with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise LibraryError(
            f"{path}: no such file; get the libraries with `apt-get download "
            "sweethome3d-furniture sweethome3d` and `dpkg-deb -x PKG.deb DIR`"
        )
    if not zipfile.is_zipfile(path):
        raise LibraryError(f"{path}: not a Sweet Home 3D library (.sh3f zip or sweethome3d.jar)")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        if PLUGIN_CATALOG in names:
            raw, default = z.read(PLUGIN_CATALOG), False
        elif DEFAULT_CATALOG in names:
            raw, default = z.read(DEFAULT_CATALOG), True
        else:
            raise LibraryError(
                f"{path}: a zip without {PLUGIN_CATALOG} or {DEFAULT_CATALOG}, "
                "so not a Sweet Home 3D furniture library"
            )
    props = parse_properties(raw.decode("iso-8859-1"))
    lib_license = props.get("license", "")
    indices = sorted(int(k[3:]) for k in props if re.fullmatch(r"id#\d+", k))
    pieces = []
    for n in indices:
        g = {k.split("#")[0]: v for k, v in props.items() if k.endswith(f"#{n}")
             and k.split("#")[1] == str(n)}
        model = g.get("model", "").lstrip("/")
        if not model:
            continue
        rot = None
        if g.get("modelRotation"):
            vals = tuple(float(v) for v in g["modelRotation"].split())
            rot = vals if len(vals) == 9 else None
        pieces.append(Piece(
            library=path.name, index=n, piece_id=g["id"], name=g.get("name", g["id"]),
            category=g.get("category", ""), model=model, rotation=rot,
            width=_float(g, "width"), depth=_float(g, "depth"), height=_float(g, "height"),
            creator=g.get("creator", ""), license=g.get("license", lib_license),
            tags=g.get("tags", ""), door_or_window=g.get("doorOrWindow", "") == "true",
            properties=g,
        ))
    return Library(path, props.get("name", path.stem), lib_license, pieces, default)


def resolve(base: str, ref: str) -> str:
    """An archive path ``ref`` relative to the folder of archive path ``base``."""
    ref = ref.replace("\\", "/").strip()
    if ref.startswith("/"):
        return ref.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), ref))
