"""Find a layout's variant and samples on disk; pair files by the id in their names."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from raindata.errors import DataError
from raindata.layouts.spec import (
    ROLES,
    DatasetLayout,
    Detection,
    Sample,
    SplitLayout,
    SplitLocation,
    Variant,
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset, tied to a file (path relative to the root)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class ScanResult:
    """The samples of one split location and the naming problems met on the way."""

    location: SplitLocation
    samples: list[Sample]
    problems: list[Problem] = field(default_factory=list)


def natural_key(text: str) -> tuple:
    """Sort key that orders ``2`` before ``10`` (only for display; pairing uses ids)."""
    return tuple(
        (0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text) if t
    )


def id_groups(match: re.Match[str]) -> dict[str, str | int]:
    """Named groups of a file-name match; all-digit numbers become ints (``001`` -> 1)."""
    out: dict[str, str | int] = {}
    for key, value in match.groupdict().items():
        if value is None:
            continue
        # numbers lose their zero padding; a generic file stem stays as written
        numeric = key != "stem" and value.isascii() and value.isdigit()
        out[key] = int(value) if numeric else value
    return out


def sample_id(groups: dict[str, str | int]) -> str:
    """The sample id: group values joined by ``-`` (``{"level": "Heavy", "n": 3}`` -> Heavy-3)."""
    return "-".join(str(v) for v in groups.values())


def _is_image(path: Path) -> bool:
    from raindata.imageio import IMAGE_SUFFIXES

    return path.suffix.lower() in IMAGE_SUFFIXES


def _candidates(folder: Path, glob: str) -> list[Path]:
    """Image files under ``folder`` selected by ``glob`` (hidden files skipped), sorted."""
    if not folder.is_dir():
        return []
    found = []
    inside = folder.resolve()
    for p in folder.glob(glob):
        rel = p.relative_to(folder).parts
        if any(part.startswith(".") for part in rel):
            continue
        if _is_image(p) and p.is_file() and p.resolve().is_relative_to(inside):
            found.append(p)  # a symlink leading out of the folder is not part of it
    return sorted(found, key=lambda p: natural_key(p.as_posix()))


def _first_match(folder: Path, layout: SplitLayout) -> Path | None:
    """A file of ``layout``'s primary pattern inside ``folder`` (None when there is none)."""
    pat = layout.primary
    for p in _candidates(folder, pat.glob):
        m = pat.compiled.fullmatch(p.relative_to(folder).as_posix())
        if m and layout.keeps(id_groups(m)):
            return p
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
    return "." if rel == "" else rel


def _expected(layout: DatasetLayout) -> str:
    parts = []
    for v in layout.variants:
        splits = " | ".join(f"{s.split}: {s.naming()}" for s in v.splits)
        parts.append(f"{v.name} ({splits})")
    return "; ".join(parts)


def _is_empty(folder: Path) -> bool:
    return not any(not p.name.startswith(".") for p in folder.iterdir())


def _bare_choice(
    bare: list[SplitLayout], root: Path, split: str | None
) -> SplitLayout:
    """Which split a root that directly holds one split's files is taken to be."""
    if split is not None:
        for sl in bare:
            if sl.split == split:
                return sl
    for sl in bare:
        if any(Path(d).name.lower() == root.name.lower() for d in sl.dirs if d != "."):
            return sl
    for sl in bare:
        if sl.split == root.name.lower():
            return sl
    return bare[0]


def detect(layout: DatasetLayout, root: Path, split: str | None = None) -> Detection:
    """See :meth:`DatasetLayout.detect`."""
    if not root.exists():
        raise DataError(f"{root}: no such folder")
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (expected the {layout.name} dataset root)")
    known = [s.name for s in layout.splits]
    if split is not None and split not in known:
        raise DataError(
            f"{root}: unknown split {split!r} for {layout.name} (expected one of: "
            f"{', '.join(known)})"
        )
    top = Path(os.path.abspath(root))
    found: dict[str, tuple[Variant, list[SplitLocation], Path]] = {}
    for variant in layout.variants:
        locs: list[SplitLocation] = []
        example: Path | None = None
        for sl in variant.splits:
            for d in sl.dirs:
                folder = top if d == "." else top / d
                hit = _first_match(folder, sl)
                if hit is not None:
                    locs.append(SplitLocation(sl.split, folder, sl))
                    example = example or hit
                    break
        if not locs:
            bare = [sl for sl in variant.splits if "." not in sl.dirs and _first_match(top, sl)]
            if bare:
                chosen = _bare_choice(bare, top, split)
                locs.append(SplitLocation(chosen.split, top, chosen))
                example = _first_match(top, chosen)
        if locs and example is not None:
            found[variant.name] = (variant, locs, example)
    if not found:
        what = "empty folder" if _is_empty(top) else f"no {layout.name} layout found"
        raise DataError(f"{root}: {what}; expected {_expected(layout)}")
    if len(found) > 1:
        mixed = ", ".join(f"{name} ({_rel(ex, top)})" for name, (_, _, ex) in found.items())
        raise DataError(
            f"{root}: mixes {layout.name} layout variants: {mixed}; keep one variant per root"
        )
    variant, locs, _ = next(iter(found.values()))
    if split is not None:
        picked = [loc for loc in locs if loc.split == split]
        if not picked:
            have = ", ".join(f"{loc.split} in {_rel(loc.path, top)}" for loc in locs)
            raise DataError(
                f"{root}: no {split!r} split of {layout.name} ({variant.name} variant) found; "
                f"found {have}"
            )
        locs = picked
    return Detection(layout.name, top, variant, tuple(locs))


def read_direction_labels(path: Path, root: Path) -> tuple[dict[str, float], list[Problem]]:
    """Parse ``direction.txt``: one ``N angle_degrees`` line per image.

    ``N`` may carry an image suffix (``12.png``); blank lines and ``#`` comments are
    skipped. Returns id -> angle and the problems found (one per bad line).
    """
    rel = _rel(path, root)
    angles: dict[str, float] = {}
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(rel, f"cannot read direction labels ({exc})")]
    for lineno, line in enumerate(text.splitlines(), start=1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        parts = body.replace(",", " ").split()
        key = Path(parts[0]).stem if parts else ""
        try:
            if len(parts) != 2 or not key.isdigit():
                raise ValueError
            angle = float(parts[1])
            if not math.isfinite(angle):
                raise ValueError
        except ValueError:
            problems.append(
                Problem(f"{rel} line {lineno}", f"expected 'N angle_degrees', got {line.strip()!r}")
            )
            continue
        ident = str(int(key))
        if ident in angles:
            problems.append(Problem(f"{rel} line {lineno}", f"second label for image {ident}"))
            continue
        angles[ident] = angle
    return angles, problems


def scan_location(
    layout: DatasetLayout, variant: Variant, loc: SplitLocation, root: Path
) -> ScanResult:
    """Collect the samples of one split location; naming and pairing problems are listed."""
    sl = loc.layout
    folder = loc.path
    problems: list[Problem] = []
    matched: dict[str, dict[str, tuple[Path, dict[str, str | int]]]] = {}
    candidates: set[Path] = set()
    claimed: set[Path] = set()
    for pat in sl.patterns:
        found: dict[str, tuple[Path, dict[str, str | int]]] = {}
        for p in _candidates(folder, pat.glob):
            candidates.add(p)
            m = pat.compiled.fullmatch(p.relative_to(folder).as_posix())
            if not m:
                continue
            claimed.add(p)
            groups = id_groups(m)
            if not sl.keeps(groups):
                continue
            ident = sample_id(groups)
            if ident in found:
                problems.append(Problem(
                    _rel(p, root),
                    f"same {pat.role} id {ident!r} as {_rel(found[ident][0], root)}",
                ))
                continue
            found[ident] = (p, groups)
        matched[pat.role] = found
    examples = ", ".join(p.example for p in sl.patterns)
    for p in sorted(candidates - claimed, key=lambda q: natural_key(q.as_posix())):
        problems.append(Problem(
            _rel(p, root),
            f"unexpected file name for {layout.name} {sl.split} ({variant.name} variant); "
            f"expected names like {examples}",
        ))
    primary = matched[sl.primary.role]
    for pat in sl.patterns[1:]:
        found = matched[pat.role]
        if pat.required or found:
            for ident, (p, groups) in primary.items():
                if ident not in found:
                    want = _rel(folder / pat.render(groups), root)
                    problems.append(Problem(_rel(p, root), f"no {pat.role} partner {want}"))
        if not pat.orphans_ok:
            for ident, (p, groups) in found.items():
                if ident not in primary:
                    want = _rel(folder / sl.primary.render(groups), root)
                    problems.append(
                        Problem(_rel(p, root), f"no {sl.primary.role} partner {want}")
                    )
    angles: dict[str, float] = {}
    if sl.labels:
        label_path = folder / sl.labels
        if label_path.is_file():
            angles, bad = read_direction_labels(label_path, root)
            problems += bad
            rel = _rel(label_path, root)
            for ident, (p, _) in primary.items():
                if ident not in angles:
                    problems.append(Problem(_rel(p, root), f"no direction label in {rel}"))
            for ident in angles:
                if ident not in primary:
                    problems.append(Problem(rel, f"label for image {ident}, which does not exist"))
        elif sl.labels_required:
            problems.append(Problem(_rel(label_path, root), "direction label file missing"))
    samples = []
    for ident in sorted(primary, key=natural_key):
        files = {role: matched.get(role, {}).get(ident) for role in ROLES}
        samples.append(Sample(
            id=ident,
            split=sl.split,
            rainy=files["rainy"][0] if files["rainy"] else None,
            clean=files["clean"][0] if files["clean"] else None,
            streak=files["streak"][0] if files["streak"] else None,
            angle=angles.get(ident),
            side_by_side=sl.side_by_side,
        ))
    return ScanResult(loc, samples, problems)


def scan(
    layout: DatasetLayout, root: Path, split: str | None = None
) -> tuple[Detection, list[ScanResult]]:
    """Detect the variant and scan every split found (problems collected, not raised)."""
    det = detect(layout, root, split)
    return det, [scan_location(layout, det.variant, loc, det.root) for loc in det.locations]


def find(layout: DatasetLayout, root: Path, split: str | None = None) -> list[Sample]:
    """See :meth:`DatasetLayout.samples`; raises on the first naming/pairing problems."""
    det, results = scan(layout, root, split)
    problems = [p for r in results for p in r.problems]
    if problems:
        shown = "; ".join(str(p) for p in problems[:3])
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise DataError(
            f"{root}: {len(problems)} problem(s) in {layout.name} ({det.variant.name} variant): "
            f"{shown}{more} (run `raindata verify {layout.name} {root}` for the full list)"
        )
    return [s for r in results for s in r.samples]

