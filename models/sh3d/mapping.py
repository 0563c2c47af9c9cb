"""Map catalog pieces to the 13 ShapeNet categories, and the committed manifest.

:func:`classify` applies keyword rules to a piece's name (then its catalog category and
tags); ``OVERRIDES`` records decisions taken after looking at the renders. The committed
``manifest.csv`` (one row per piece of the training libraries: library, piece id, name,
catalog category, category or ``excluded``, reason) is what the importer follows; pieces
of other libraries fall back on the rules and are marked unreviewed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_write_text
from .catalog import Piece

MANIFEST = Path(__file__).with_name("manifest.csv")
EXCLUDED = "excluded"
FIELDS = ["library", "piece_id", "name", "catalog_category", "category", "reason", "creator",
          "license"]
#: the libraries the committed manifest covers (training data)
TRAINING_LIBRARIES = ("BlendSwap-CC-0.sh3f", "BlendSwap-CC-BY.sh3f", "KatorLegaz.sh3f",
                      "sweethome3d.jar")

# (pattern on the lower-case name, category or None, reason); first match wins.
# Exclusions that would otherwise hit a category keyword come first.
NAME_RULES: list[tuple[str, str | None, str]] = [
    (r"light source", None, "invisible light source box"),
    (r"^(?!.*cabinet).*\bdoors?\b", None, "door"),
    (r"flower box|plant box", None, "planter"),
    (r"mailbox", None, "mailbox"),
    (r"table tennis|pool table|football table|chessboard", None, "game equipment, not a table"),
    (r"table fan|ceiling fan|rigged fan", None, "fan"),
    (r"rocking horse|toy|teddy|puzzle|rubik|xylophone|card game|wood toy", None, "toy"),
    (r"wheelchair", None, "wheelchair: not a ShapeNet chair"),
    (r"abdominal bench|fitness|treadmill", None, "fitness equipment"),
    (r"\bbed\b|bunk|crib|futon bed|cradle", None, "bed: no bed category"),
    (r"laptop|ibook", None, "laptop: no laptop category"),
    (r"keyboard", None, "keyboard: no matching category"),
    (r"stone lantern", None, "garden stone decoration"),
    (r"flashlight", None, "flashlight: hand-held, not a lamp"),
    (r"fluorescent strip", None, "bare tube, not a lamp shape"),
    (r"radio|headphones", None, "audio device, not a loudspeaker"),
    (r"truck|fork lift|scooter|motorbike|bike|wheelbarrow", None,
     "vehicle outside ShapeNet's car category"),
    (r"trash|dustbin|recycling|bin\b", None, "bin: no matching category"),
    (r"fridge|refrigerator|freezer|oven|stove|cooker|cooktop|dishwasher|washer|"
     r"washing machine|microwave|hood|boiler|blender|mixer|coffee (maker|brewer|press)", None,
     "kitchen appliance: no matching category"),
    (r"safe\b|trunck|trunk|box|crate|barrel|container|suitcase|briefcase|backpack|"
     r"handbag", None, "storage box, not a cabinet"),
    (r"sliding doors", None, "closet doors only"),
    # categories
    (r"sofa|couch|settee", "sofa", "sofa or couch"),
    (r"workbench", "table", "work table"),
    (r"bench", "bench", "bench"),
    (r"chair|stool|armchair|seat|pool lounge|ottoman", "chair", "seat for one"),
    (r"lamp|light|lantern|chandelier|uplight|spotlight", "lamp", "lamp"),
    (r"bedside table|nightstand", "cabinet", "bedside table with drawers: a cabinet"),
    (r"table|desk", "table", "table or desk"),
    (r"cabinet|wardrobe|bookcase|shelves|chest|dresser|cupboard|drawer|locker|vanity|"
     r"tv stand|tv unit|island|sink", "cabinet", "cabinet, wardrobe, shelves or chest"),
    (r"\btv\b|television|monitor|imac|display|screen\b", "display", "screen"),
    (r"speaker|mp3 station", "loudspeaker", "loudspeaker"),
    (r"phone", "telephone", "telephone"),
    (r"sedan|beetle|ford focus|car model|\bcar\b", "car", "car"),
    (r"boat|ship|canoe|kayak|yacht", "watercraft", "boat"),
    (r"plane|aircraft|jet\b", "airplane", "aircraft"),
    (r"rifle|gun\b", "rifle", "rifle"),
]

CATEGORY_REASONS = {
    "Doors and windows": "door or window",
    "Characters": "person or animal",
    "Staircases": "staircase",
    "Bathroom": "bathroom fixture or item",
    "Kitchen": "kitchenware or appliance",
    "Exterior": "outdoor item",
    "Lights": "light fitting without a lamp shape",
}
EXCLUDED_WORDS = [
    (r"\b(plant|flowers?|tree|cactus|orchids|bamboo|yucca|tulips|lily|spathiphyllum)\b",
     "plant"),
    (r"radiator", "radiator"),
    (r"piano|guitar", "musical instrument"),
    (r"rug|carpet|mat\b|tatami", "rug or mat"),
]

# (library, piece id) -> (category or "excluded", reason): decisions from the renders.
OVERRIDES: dict[tuple[str, str], tuple[str, str]] = {
    ("sweethome3d.jar", "eTeks#bedsideTable"): ("table", "open bedside table on legs"),
    ("sweethome3d.jar", "eTeks#tvUnit"): (EXCLUDED, "a TV on a stand: display and cabinet"),
    ("BlendSwap-CC-0.sh3f", "Blend Swap CC-0#islandExtension"):
        (EXCLUDED, "worktop extension, no cabinet"),
    ("KatorLegaz.sh3f", "Kator Legaz#fluorescent"): (EXCLUDED, "light bar, no lamp shape"),
    ("KatorLegaz.sh3f", "Kator Legaz#wall-lamp-artwork"):
        (EXCLUDED, "light bar, no lamp shape"),
}


@dataclass
class Decision:
    """Where a piece goes: a category name or None (excluded), why, and whether a person
    reviewed it (listed in the committed manifest)."""

    category: str | None
    reason: str
    reviewed: bool


def classify(piece: Piece) -> tuple[str | None, str]:
    """(category name or None, reason) from the keyword rules and the overrides."""
    ov = OVERRIDES.get((piece.library, piece.piece_id))
    if ov is not None:
        return (None if ov[0] == EXCLUDED else ov[0]), ov[1]
    name = piece.name.lower()
    if piece.door_or_window:
        return None, "door or window"
    for pattern, cat, reason in NAME_RULES:
        if re.search(pattern, name):
            return cat, reason
    for pattern, reason in EXCLUDED_WORDS:
        if re.search(pattern, name):
            return None, reason
    reason = CATEGORY_REASONS.get(piece.category, "object outside the 13 categories")
    return None, f"{reason} ({piece.category or 'no catalog category'})"


def manifest_rows(pieces: list[Piece]) -> list[dict[str, str]]:
    """Manifest rows for pieces, by the rules and overrides."""
    rows = []
    for p in pieces:
        cat, reason = classify(p)
        rows.append({"library": p.library, "piece_id": p.piece_id, "name": p.name,
                     "catalog_category": p.category, "category": cat or EXCLUDED,
                     "reason": reason, "creator": p.creator, "license": p.license})
    return rows


def write_manifest(path: str | Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def read_manifest(path: str | Path = MANIFEST) -> dict[tuple[str, str], dict[str, str]]:
    """``{(library, piece id): row}`` of a manifest CSV (empty if the file is absent)."""
    path = Path(path)
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {(r["library"], r["piece_id"]): r for r in csv.DictReader(f)}


def decide(piece: Piece, manifest: dict[tuple[str, str], dict[str, str]]) -> Decision:
    """The manifest's decision for a piece it lists, else the rules' (unreviewed)."""
    row = manifest.get((piece.library, piece.piece_id))
    if row is not None:
        cat = row["category"]
        return Decision(None if cat == EXCLUDED else cat, row["reason"], True)
    cat, reason = classify(piece)
    return Decision(cat, reason, False)


def main(argv: list[str] | None = None) -> None:
    """Rewrite the manifest from the rules and overrides for the given libraries."""
    import argparse

    from .catalog import load_library

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("libraries", nargs="+")
    ap.add_argument("--out", default=str(MANIFEST))
    args = ap.parse_args(argv)
    rows = [r for lib in args.libraries for r in manifest_rows(load_library(lib).pieces)]
    write_manifest(args.out, rows)
    kept = sum(r["category"] != EXCLUDED for r in rows)
    print(f"wrote {args.out}: {len(rows)} pieces, {kept} kept")


if __name__ == "__main__":
    main()
