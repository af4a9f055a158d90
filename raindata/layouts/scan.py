"""Find a layout's variant and samples on disk; pair files by the id in their names."""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from raindata.errors import DataError, printable
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
        return printable(f"{self.path}: {self.message}")


@dataclass
class ScanResult:
    """The samples of one split location and the naming problems met on the way."""

    location: SplitLocation
    samples: list[Sample]
    problems: list[Problem] = field(default_factory=list)
    #: Image-named entries not taken (links leading out of the root, broken links,
    #: FIFOs, devices): listed by ``verify``, skipped by :func:`find`.
    left_out: list[Problem] = field(default_factory=list)


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


def _candidates(folder: Path, glob: str, root: Path | None = None) -> list[Path]:
    """Image files under ``folder`` selected by ``glob`` (hidden files skipped), sorted.

    Regular files only; a link is followed when it stays inside ``root`` (default:
    ``folder``). :func:`_select` also says what it left out and why.
    """
    return _select(folder, glob, root)[0]


def _select(folder: Path, glob: str, root: Path | None = None) -> tuple[list[Path], list[Problem]]:
    """(image files kept, image-named entries left out as problems, paths relative to root)."""
    if not folder.is_dir():
        return [], []
    found: list[Path] = []
    left_out: list[Problem] = []
    boundary = (root or folder).resolve()
    for p in folder.glob(glob):
        rel = p.relative_to(folder).parts
        if any(part.startswith(".") for part in rel) or not _is_image(p):
            continue
        why = _left_out(p, boundary)
        if why is None:
            found.append(p)
        else:
            left_out.append(Problem(_rel(p, root or folder), why))
    found.sort(key=lambda p: natural_key(p.as_posix()))
    left_out.sort(key=lambda q: natural_key(q.path))
    return found, left_out


def _left_out(path: Path, boundary: Path) -> str | None:
    """Why an image-named entry is not part of the dataset (None: it is)."""
    try:
        st = path.stat()
    except OSError:
        return "broken link; left out" if path.is_symlink() else "cannot be read; left out"
    if not stat.S_ISREG(st.st_mode):
        kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                 (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                 (stat.S_ISSOCK, "a socket"))
        kind = next((what for test, what in kinds if test(st.st_mode)), "not a regular file")
        via = f" (link to {path.resolve()})" if path.is_symlink() else ""
        return f"{kind}{via}, not an image file; left out"
    target = path.resolve()
    if not target.is_relative_to(boundary):
        return f"leads outside the dataset root (to {target}); left out"
    return None


def _first_match(folder: Path, layout: SplitLayout, root: Path | None = None) -> Path | None:
    """A file of ``layout``'s primary pattern inside ``folder`` (None when there is none)."""
    pat = layout.primary
    for p in _candidates(folder, pat.glob, root):
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


def _where(path: Path, top: Path) -> str:
    """A split folder for messages; the root itself is said in words, with its name."""
    rel = _rel(path, top)
    return f"the root itself ({top.name})" if rel == "." else rel


def _expected(layout: DatasetLayout) -> str:
    parts = []
    for v in layout.variants:
        splits = " | ".join(f"{s.split}: {s.naming()}" for s in v.splits)
        parts.append(f"{v.name} ({splits})")
    return "; ".join(parts)


def _is_empty(folder: Path) -> bool:
    return not any(not p.name.startswith(".") for p in folder.iterdir())


_SPLIT_WORDS = {"train": ("train", "training"), "test": ("test", "testing"),
                "val": ("val", "valid", "validation")}


def _split_words(name: str) -> set[str]:
    """The words of a folder name, lower case (``rain100l_test`` -> rain, 100, l, test)."""
    return {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)}


def _named_after(root: Path, sl: SplitLayout) -> int:
    """How clearly the root's name says it holds split ``sl``: 2 = it is one of the split's
    folder names, 1 = a word of it names the split (``rain100l_test``), 0 = no sign."""
    name = root.name.lower()
    if any(Path(d).name.lower() == name for d in sl.dirs if d != "."):
        return 2
    words = _split_words(root.name)
    return 1 if words & set(_SPLIT_WORDS.get(sl.split, (sl.split,))) else 0


def _bare_choice(
    bare: list[SplitLayout], root: Path, split: str | None
) -> SplitLayout:
    """Which split a root that directly holds one split's files is taken to be.

    The root's name decides when it names one of the candidate splits (``test``,
    ``Rain100L``, ``rain100l_test``); ``split`` picks only when the name says nothing,
    so ``--split train`` on a folder named for its test split is not read as train.
    """
    scores = [_named_after(root, sl) for sl in bare]
    best = max(scores)
    named = [sl for sl, score in zip(bare, scores, strict=True) if best and score == best]
    if split is not None:
        if named and all(sl.split != split for sl in named):
            return named[0]  # detect() then reports the split as missing
        for sl in bare:
            if sl.split == split:
                return sl
    return named[0] if named else bare[0]


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
                hit = _first_match(folder, sl, top)
                if hit is not None:
                    locs.append(SplitLocation(sl.split, folder, sl))
                    example = example or hit
                    break
        if not locs:
            bare = [
                sl for sl in variant.splits if "." not in sl.dirs and _first_match(top, sl, top)
            ]
            if bare:
                chosen = _bare_choice(bare, top, split)
                locs.append(SplitLocation(chosen.split, top, chosen))
                example = _first_match(top, chosen, top)
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
            have = ", ".join(f"{loc.split} in {_where(loc.path, top)}" for loc in locs)
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
    left_out: dict[str, Problem] = {}
    for pat in sl.patterns:
        found: dict[str, tuple[Path, dict[str, str | int]]] = {}
        kept, dropped = _select(folder, pat.glob, root)
        left_out.update((q.path, q) for q in dropped)
        for p in kept:
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
    # role -> sample id -> the id of its partner file of that role (shared files: many to one)
    partner: dict[str, dict[str, str]] = {
        pat.role: {ident: sample_id(pat.partner_groups(groups))
                   for ident, (_, groups) in primary.items()}
        for pat in sl.patterns[1:]
    }
    for pat in sl.patterns[1:]:
        found = matched[pat.role]
        wanted = partner[pat.role]
        if pat.required or found:
            for ident, (p, groups) in primary.items():
                if wanted[ident] not in found:
                    want = _rel(folder / pat.render(groups), root)
                    problems.append(Problem(_rel(p, root), f"no {pat.role} partner {want}"))
        if not pat.orphans_ok:
            used = set(wanted.values())
            for ident, (p, groups) in found.items():
                if ident not in used:
                    # a shared file lacks some of the primary's groups: show the first one
                    full = {**dict.fromkeys(sl.primary.groups, 1), **groups}
                    want = _rel(folder / sl.primary.render(full), root)
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
        files = {role: matched.get(role, {}).get(partner.get(role, {}).get(ident, ident))
                 for role in ROLES}
        samples.append(Sample(
            id=ident,
            split=sl.split,
            rainy=files["rainy"][0] if files["rainy"] else None,
            clean=files["clean"][0] if files["clean"] else None,
            streak=files["streak"][0] if files["streak"] else None,
            angle=angles.get(ident),
            side_by_side=sl.side_by_side,
            clean_left=sl.clean_left,
        ))
    return ScanResult(loc, samples, problems, list(left_out.values()))


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

