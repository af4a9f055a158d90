"""Text for ``raindata list``: every registered layout with its splits and variants."""

from __future__ import annotations

from raindata.layouts.registry import load, names
from raindata.layouts.spec import DatasetLayout


def split_text(layout: DatasetLayout) -> str:
    """``test 100, train 1800`` (``?`` where the count is not known)."""
    return ", ".join(f"{s.name} {'?' if s.count is None else s.count}" for s in layout.splits)


def format_listing(verbose: bool = False) -> list[str]:
    """One row per layout (name, paired/no-reference, splits, variants); ``verbose`` adds
    the title, citation, sources and each variant's file naming."""
    layouts = [load(n) for n in names()]
    rows = [("NAME", "TYPE", "SPLITS (expected counts)", "VARIANTS")]
    for lay in layouts:
        paired = lay.paired_splits
        if lay.clean_only:
            kind = "clean images"
        elif len(paired) == len(lay.splits):
            kind = "paired"
        elif paired:
            kind = f"no-reference ({', '.join(paired)} paired)"
        else:
            kind = "no-reference"
        rows.append((lay.name, kind, split_text(lay), ", ".join(lay.variant_names)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:3], widths, strict=True)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
    if verbose:
        for lay in layouts:
            lines += ["", f"{lay.name}: {lay.title}"]
            if lay.citation:
                lines.append(f"  paper: {lay.citation}")
            for url in lay.urls:
                lines.append(f"  source: {url}")
            for v in lay.variants:
                lines.append(f"  variant {v.name}: {v.description}")
                for s in v.splits:
                    count = "?" if s.count is None else s.count
                    where = ", ".join(s.dirs)
                    lines.append(f"    {s.split} ({count}) in [{where}]: {s.naming()}")
            if lay.notes:
                lines.append(f"  note: {lay.notes}")
    return lines
