"""Layout spec files for ``manifests/``, generated from the registry so they cannot drift.

Each public dataset gets ``manifests/<name>.layout.json``: splits with expected counts,
variants with their folders and file naming, sources. No checksums: the public
releases publish none, and none are invented here (``raindata index`` writes real
ones for a copy you hold). Regenerate with ``python -m raindata.layouts.export``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from raindata.layouts.registry import load, names
from raindata.layouts.spec import DatasetLayout, SplitLayout

#: The repository's ``manifests/`` folder (for an editable install / source checkout).
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "manifests"
SUFFIX = ".layout.json"


def _split(s: SplitLayout) -> dict[str, Any]:
    out: dict[str, Any] = {
        "split": s.split,
        "count": s.count,
        "folders": list(s.dirs),
        "files": [
            {"role": p.role, "example": p.example, "regex": p.regex, "required": p.required,
             **({"shared": "one file serves every sample with these id groups"}
                if p.shared else {})}
            for p in s.patterns
        ],
    }
    if s.labels:
        out["direction_labels"] = {"file": s.labels, "required": s.labels_required}
    if s.id_range:
        out["ids"] = {"range": list(s.id_range), "inside": not s.outside_range}
    if s.side_by_side:
        out["side_by_side"] = (
            "left half clean, right half rainy" if s.clean_left
            else "left half rainy, right half clean"
        )
    if s.checksums:
        out["checksums"] = s.checksums
    if s.note:
        out["note"] = s.note
    return out


def layout_spec(layout: DatasetLayout) -> dict[str, Any]:
    """The JSON-ready description of ``layout``."""
    return {
        "name": layout.name,
        "title": layout.title,
        "citation": layout.citation,
        "paired": layout.paired,
        "paired_splits": list(layout.paired_splits),
        "urls": list(layout.urls),
        "splits": [
            {"name": s.name, "count": s.count, **({"note": s.note} if s.note else {})}
            for s in layout.splits
        ],
        "variants": [
            {
                "name": v.name,
                "description": v.description,
                "source": v.source,
                "splits": [_split(s) for s in v.splits],
            }
            for v in layout.variants
        ],
        "folders_note": (
            "folders are relative to the dataset root; a folder holding one split's files "
            "directly may also be given as the root"
        ),
        "notes": layout.notes,
        "checksums": None,
    }


def render(layout: DatasetLayout) -> str:
    """The file text of ``layout``'s spec (stable key order, trailing newline)."""
    return json.dumps(layout_spec(layout), indent=2, ensure_ascii=False) + "\n"


def public_layouts() -> list[DatasetLayout]:
    """Registered layouts that describe a public dataset."""
    return [lay for lay in (load(n) for n in names()) if lay.public]


def write_specs(directory: str | os.PathLike = DEFAULT_DIR) -> list[Path]:
    """Write (atomically) one spec file per public layout into ``directory``."""
    from raindata.atomic import atomic_write_text

    written = []
    for layout in public_layouts():
        path = Path(directory) / f"{layout.name}{SUFFIX}"
        atomic_write_text(path, render(layout))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """``python -m raindata.layouts.export [DIR]``: regenerate the shipped spec files."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m raindata.layouts.export",
        description="Write one <name>.layout.json per public dataset layout.")
    parser.add_argument("directory", nargs="?", default=str(DEFAULT_DIR),
                        help=f"output folder (default: {DEFAULT_DIR})")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    for path in write_specs(args.directory):
        print(path)


if __name__ == "__main__":
    main()
