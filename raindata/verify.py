"""Check a dataset folder against its layout (``verify``) and list it in a manifest (``index``).

Both decode every image fully (a truncated file is caught), in a small thread pool,
and report through an optional ``progress(done, total)`` callback. ``verify`` collects
every problem (one per line, naming the file) instead of stopping at the first, and
compares the tree with the fingerprints of the dataset's canonical copies where there
are any (:mod:`raindata.fingerprints`): which version this is, and which files differ.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from raindata.errors import DataError
from raindata.fingerprints import canonical, read_table
from raindata.fingerprints.compare import SplitMatch, compare_tree
from raindata.layouts import get_layout
from raindata.layouts.scan import Problem, ScanResult, natural_key, scan
from raindata.layouts.spec import Sample, SplitLocation
from raindata.manifest import (
    ManifestEntry,
    provenance_path,
    read_checksum_columns,
    read_manifest,
    resolve_inside,
    write_manifest,
)

Progress = Callable[[int, int], None]
ROLE_ORDER = ("rainy", "clean", "streak", "labels")
LABELS_ROLE = "labels"


@dataclass(frozen=True)
class SplitSummary:
    """One split as found: folder (relative to the root), samples found and expected."""

    split: str
    folder: str
    count: int
    expected: int | None


@dataclass(frozen=True)
class FileFact:
    """What reading one file established."""

    rel: str
    role: str
    split: str
    id: str
    width: int | None
    height: int | None
    sha256: str
    #: :func:`raindata.fingerprints.pixel_sha256` of the decoded image (None: undecodable)
    pixel_sha256: str | None = None


@dataclass
class VerifyReport:
    """The outcome of :func:`verify`: every problem, plus what was found and checked."""

    dataset: str
    root: Path
    variant: str
    paired: bool
    splits: list[SplitSummary]
    problems: list[Problem] = field(default_factory=list)
    images_decoded: int = 0
    hashes_checked: int = 0
    #: Every file read (paths relative to ``root``).
    facts: list[FileFact] = field(default_factory=list)
    #: Per split, how it compares with the canonical fingerprints (empty: no table).
    fingerprints: list[SplitMatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def summary(self) -> str:
        """One line: ``OK ...`` or ``FAILED ...`` with the variant and counts per split."""
        unit = "pairs" if self.paired else "images"
        parts = []
        for s in self.splits:
            want = "" if s.expected is None else f" (expected {s.expected})"
            parts.append(f"{s.split} {s.count} {unit}{want}")
        head = "OK" if self.ok else f"FAILED ({len(self.problems)} problem(s))"
        return (
            f"{head} {self.dataset}, {self.variant} variant: {', '.join(parts)}; "
            f"{self.images_decoded} images decoded, {self.hashes_checked} sha256 checked"
        )

    def lines(self) -> list[str]:
        """The report: one line per problem, the fingerprint verdict per split with the
        files that differ, then the summary."""
        found = [line for m in self.fingerprints for line in m.lines()]
        return [str(p) for p in self.problems] + found + [self.summary()]


@dataclass(frozen=True)
class IndexResult:
    """The outcome of :func:`index`: where the manifest went and what it lists."""

    path: Path
    provenance: Path
    dataset: str
    variant: str
    entries: int
    counts: dict[str, int]


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _files(sample: Sample) -> list[tuple[str, Path]]:
    return [(role, p) for role in ("rainy", "clean", "streak") if (p := getattr(sample, role))]


def _read_sample(sample: Sample, root: Path) -> tuple[list[FileFact], list[Problem]]:
    """Read, hash and fully decode every file of ``sample``; check sizes within it."""
    from raindata.atomic import sha256_bytes
    from raindata.fingerprints import pixel_sha256
    from raindata.imageio import decode_image, read_image_bytes

    facts: list[FileFact] = []
    problems: list[Problem] = []
    sizes: dict[str, tuple[int, int]] = {}
    for role, path in _files(sample):
        rel = _rel(path, root)
        try:
            data = read_image_bytes(path)  # regular files only, size-checked
        except DataError as exc:
            problems.append(Problem(rel, str(exc).removeprefix(f"{path}: ")))
            continue
        try:
            img = decode_image(data, rel)
        except DataError as exc:
            problems.append(Problem(rel, str(exc).removeprefix(f"{rel}: ")))
            facts.append(FileFact(rel, role, sample.split, sample.id, None, None,
                                  sha256_bytes(data)))
            continue
        h, w = img.shape[:2]
        sizes[role] = (w, h)
        facts.append(FileFact(rel, role, sample.split, sample.id, w, h, sha256_bytes(data),
                              pixel_sha256(img)))
    if sample.side_by_side and "rainy" in sizes and sizes["rainy"][0] % 2:
        problems.append(Problem(
            _rel(sample.rainy, root),
            f"side-by-side image has odd width {sizes['rainy'][0]}; "
            "[rainy | clean] halves must be equal",
        ))
    if "rainy" in sizes:
        for role in ("clean", "streak"):
            if role in sizes and sizes[role] != sizes["rainy"]:
                (w, h), (rw, rh) = sizes[role], sizes["rainy"]
                problems.append(Problem(
                    _rel(getattr(sample, role), root),
                    f"size {w}x{h} differs from its rainy image "
                    f"{_rel(sample.rainy, root)} ({rw}x{rh})",
                ))
    return facts, problems


def _read_all(
    samples: list[Sample], root: Path, progress: Progress | None, workers: int
) -> tuple[list[FileFact], list[Problem]]:
    facts: list[FileFact] = []
    problems: list[Problem] = []
    total = len(samples)
    if progress:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for done, (f, p) in enumerate(pool.map(lambda s: _read_sample(s, root), samples), 1):
            facts += f
            problems += p
            if progress:
                progress(done, total)
    return facts, problems


def _label_facts(results: list[ScanResult], root: Path) -> list[FileFact]:
    from raindata.atomic import sha256_file

    facts = []
    for r in results:
        sl = r.location.layout
        if sl.labels and (r.location.path / sl.labels).is_file():
            path = r.location.path / sl.labels
            facts.append(FileFact(_rel(path, root), LABELS_ROLE, sl.split, "", None, None,
                                  sha256_file(path)))
    return facts


def _check_wide_checksums(
    loc: SplitLocation, samples: list[Sample], facts: dict[str, FileFact], root: Path
) -> tuple[list[Problem], int]:
    """Compare against the split's own ``manifest.csv`` (``<role>_sha256`` columns)."""
    sl = loc.layout
    if not sl.checksums:
        return [], 0
    path = loc.path / sl.checksums
    rel = _rel(path, root)
    if not path.is_file():
        return [Problem(rel, "checksum manifest missing")], 0
    try:
        sums = read_checksum_columns(path)
    except DataError as exc:
        return [Problem(rel, str(exc).removeprefix(f"{path}: "))], 0
    problems: list[Problem] = []
    checked = 0
    seen_ids = set()
    for sample in samples:
        seen_ids.add(sample.id)
        for role, file in _files(sample):
            fact = facts.get(_rel(file, root))
            want = sums.get((sample.id, role))
            if fact is None:
                continue
            if want is None:
                problems.append(Problem(fact.rel, f"no {role}_sha256 for id {sample.id} in {rel}"))
            elif want != fact.sha256:
                problems.append(Problem(
                    fact.rel, f"sha256 {fact.sha256[:12]}... differs from {rel} ({want[:12]}...)"
                ))
            checked += 1
    for ident in sorted({i for i, _ in sums} - seen_ids, key=natural_key):
        problems.append(Problem(rel, f"lists id {ident}, which has no rainy image"))
    return problems, checked


def _check_manifest(
    entries: list[ManifestEntry],
    manifest: Path,
    facts: dict[str, FileFact],
    root: Path,
    splits: set[str],
) -> tuple[list[Problem], int]:
    """Compare every file read against a long-form manifest, and every entry against disk."""
    from raindata.atomic import sha256_file

    problems: list[Problem] = []
    checked = 0
    listed = {e.path: e for e in entries if e.split in splits}
    for rel, fact in facts.items():
        entry = listed.get(rel)
        if entry is None:
            problems.append(Problem(rel, f"not listed in {manifest}"))
            continue
        if (entry.role, entry.split, entry.id) != (fact.role, fact.split, fact.id):
            problems.append(Problem(
                rel,
                f"{manifest} lists it as {entry.role} {entry.split} id {entry.id!r}, "
                f"the layout says {fact.role} {fact.split} id {fact.id!r}",
            ))
        if entry.sha256:
            checked += 1
            if entry.sha256 != fact.sha256:
                problems.append(Problem(
                    rel,
                    f"sha256 {fact.sha256[:12]}... differs from {manifest} "
                    f"({entry.sha256[:12]}...)",
                ))
        if entry.width is not None and fact.width is not None and (
            (entry.width, entry.height) != (fact.width, fact.height)
        ):
            problems.append(Problem(
                rel,
                f"size {fact.width}x{fact.height}, {manifest} says {entry.width}x{entry.height}",
            ))
    for rel, entry in listed.items():
        if rel in facts:
            continue
        try:
            path = resolve_inside(root, rel, f"{manifest}: {rel}")
        except DataError as exc:
            problems.append(Problem(rel, str(exc)))
            continue
        if not path.exists():
            problems.append(Problem(rel, f"listed in {manifest} but missing"))
        elif entry.sha256 and sha256_file(path) != entry.sha256:
            problems.append(Problem(rel, f"sha256 differs from {manifest}"))
        else:
            problems.append(Problem(rel, f"listed in {manifest} but not part of the layout"))
    return problems, checked


def _count_problems(results: list[ScanResult], root: Path) -> list[Problem]:
    problems = []
    for r in results:
        expected = r.location.layout.count
        if expected is not None and len(r.samples) != expected:
            problems.append(Problem(
                _rel(r.location.path, root) or ".",
                f"expected {expected} {r.location.split} samples, found {len(r.samples)}",
            ))
    return problems


def verify(
    name: str,
    root: str | os.PathLike,
    split: str | None = None,
    manifest: str | os.PathLike | None = None,
    progress: Progress | None = None,
    workers: int = 2,
    fingerprints: str | os.PathLike | None = None,
) -> VerifyReport:
    """Check ``root`` against layout ``name``: counts, naming, pairing, decoding, sizes, sha256.

    Then compares every split with the fingerprints of the dataset's canonical copies:
    the packaged table (:func:`raindata.fingerprints.canonical`), or the table file
    ``fingerprints`` when given. That comparison is reported, never a problem.
    Raises :class:`DataError` only when nothing can be checked (missing root, unknown
    layout or variant, mixed variants, unreadable manifest or fingerprint table); every
    other problem is listed in the returned report.
    """
    layout = get_layout(name)
    entries = read_manifest(manifest) if manifest is not None else None
    if fingerprints is None:
        known = canonical(layout.name)
    else:
        table = read_table(fingerprints)
        known = [r for r in table if r.dataset == layout.name]
        if not known:
            listed = ", ".join(sorted({r.dataset for r in table})) or "nothing"
            raise DataError(f"{fingerprints}: no fingerprints of {layout.name} (it lists {listed})")
    det, results = scan(layout, Path(root), split)
    top = det.root
    problems: list[Problem] = [p for r in results for p in r.problems]
    problems += [p for r in results for p in r.left_out]  # never shrink a dataset silently
    problems += _count_problems(results, top)
    samples = [s for r in results for s in r.samples]
    facts_list, read_problems = _read_all(samples, top, progress, workers)
    problems += read_problems
    facts = {f.rel: f for f in facts_list}
    images = sum(1 for f in facts_list if f.width is not None)
    for f in _label_facts(results, top):
        facts[f.rel] = f
    hashed = 0
    for r in results:
        p, n = _check_wide_checksums(r.location, r.samples, facts, top)
        problems += p
        hashed += n
    if entries is not None:
        found = {r.location.split for r in results}
        p, n = _check_manifest(entries, Path(manifest), facts, top, found)
        problems += p
        hashed += n
    summaries = [
        SplitSummary(r.location.split, _rel(r.location.path, top) or ".", len(r.samples),
                     r.location.layout.count)
        for r in results
    ]
    matches = compare_tree(facts_list, [s.split for s in summaries], known) if known else []
    return VerifyReport(layout.name, top, det.variant.name, layout.paired, summaries, problems,
                        images, hashed, facts_list, matches)


def index(
    name: str,
    root: str | os.PathLike,
    out: str | os.PathLike,
    split: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    workers: int = 2,
    argv: list[str] | None = None,
) -> IndexResult:
    """Write a manifest of ``root`` (layout ``name``) to ``out``, with provenance beside it.

    Every image is decoded and hashed first; any problem raises a one-line
    :class:`DataError` and nothing is written. An existing ``out`` is kept unless ``force``.
    """
    out_path = Path(out)
    if out_path.exists() and not force:
        raise DataError(f"{out_path}: already exists (use --force to overwrite)")
    layout = get_layout(name)
    det, results = scan(layout, Path(root), split)
    top = det.root
    problems = [p for r in results for p in [*r.problems, *r.left_out]]
    samples = [s for r in results for s in r.samples]
    if not problems:
        facts, problems = _read_all(samples, top, progress, workers)
    if problems:
        more = f" (and {len(problems) - 1} more; run `raindata verify {name} {root}`)" \
            if len(problems) > 1 else ""
        raise DataError(f"cannot index {root}: {problems[0]}{more}")
    facts += _label_facts(results, top)
    split_order = {r.location.split: i for i, r in enumerate(results)}
    facts.sort(key=lambda f: (
        split_order[f.split], f.role == LABELS_ROLE, natural_key(f.id), ROLE_ORDER.index(f.role)
    ))
    entries = [
        ManifestEntry(f.rel, f.role, f.split, f.id, f.width, f.height, f.sha256) for f in facts
    ]
    config = {
        "dataset": layout.name,
        "variant": det.variant.name,
        "root": str(top),
        "split": split,
        "counts": {r.location.split: len(r.samples) for r in results},
    }
    path = write_manifest(out_path, entries, config=config, argv=argv, force=force)
    return IndexResult(
        path=path,
        provenance=provenance_path(path),
        dataset=layout.name,
        variant=det.variant.name,
        entries=len(entries),
        counts=config["counts"],
    )
