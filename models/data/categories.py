"""The 13 ShapeNet categories of 3D-R2N2 and the category JSON (as ``shapenet_1000.json``)."""

from __future__ import annotations

import json
import os

from ..atomic import atomic_write_text

#: synset id -> category name, the 13 categories of the paper
CATEGORIES: dict[str, str] = {
    "02691156": "airplane",
    "02828884": "bench",
    "02933112": "cabinet",
    "02958343": "car",
    "03001627": "chair",
    "03211117": "display",
    "03636649": "lamp",
    "03691459": "loudspeaker",
    "04090263": "rifle",
    "04256520": "sofa",
    "04379243": "table",
    "04401088": "telephone",
    "04530566": "watercraft",
}
NAME_TO_SYNSET: dict[str, str] = {v: k for k, v in CATEGORIES.items()}


def synsets_for(categories: list[str] | None) -> list[str]:
    """Synset ids for names or ids (``None``: all 13, in synset order).

    Raises ``ValueError`` naming the first unknown category.
    """
    if not categories:
        return sorted(CATEGORIES)
    out = []
    for c in categories:
        c = c.strip()
        syn = c if c in CATEGORIES else NAME_TO_SYNSET.get(c.lower())
        if syn is None:
            known = ", ".join(sorted(NAME_TO_SYNSET))
            raise ValueError(f"unknown category {c!r} (known: {known})")
        if syn not in out:
            out.append(syn)
    return out


def categories_json(synsets: list[str] | None = None) -> dict:
    """The category JSON object: ``{synset: {"id": synset, "name": name}}``."""
    return {s: {"id": s, "name": CATEGORIES[s]} for s in synsets_for(synsets)}


def write_categories(path: str | os.PathLike, synsets: list[str] | None = None) -> None:
    """Write a category JSON file (atomically)."""
    atomic_write_text(path, json.dumps(categories_json(synsets), indent=2) + "\n")


def load_categories(path: str | os.PathLike) -> dict[str, str]:
    """Read a category JSON file -> ``{synset: name}`` (in file order).

    Accepts the official format, entries lacking ``name`` (then the known name or the
    synset) and keys that differ from ``id`` (``id`` wins).
    """
    from ..files import is_safe_name, read_bytes_capped

    try:
        data = json.loads(read_bytes_capped(path, 2**24, "category file").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{path}: not a JSON category file ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of categories")
    out: dict[str, str] = {}
    for key, entry in data.items():
        entry = entry if isinstance(entry, dict) else {}
        syn = str(entry.get("id", key))
        if not is_safe_name(syn):  # a synset id names a folder of the dataset
            raise ValueError(f"{path}: category id {syn[:80]!r} is not a plain folder name")
        out[syn] = str(entry.get("name", CATEGORIES.get(syn, syn)))
    return out
