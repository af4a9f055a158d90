"""Compare the files of a dataset tree with a canonical copy's fingerprints.

Files are matched by the sha256 of their decoded pixels, never by name, so a copy in
another layout variant or with other file names is recognised. Per split of the tree,
the canonical group (version and split) sharing most pixels is taken, then every
difference is named:

``missing``
    a canonical file with no file of the same pixels in the tree.
``extra``
    a tree file whose pixels are in no canonical file (and which stands in for no
    missing one), or a second copy of a canonical file.
``different pixels``
    a tree file that takes the place of a canonical file (same role and sample) with
    other pixels: an edited, JPEG re-encoded, cropped or re-rendered image.
``re-encoded``
    the same pixels as its canonical file, other bytes (another PNG encoder or level).
``other role``
    a rainy file holding a canonical clean image, or the reverse.
``mispaired``
    the files of one sample come from different canonical samples.

Ids that differ from the canonical copy's while the pairs stay together (a renumbered
copy) are counted, not listed as differences.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from raindata.fingerprints import Fingerprint, describe

#: Order of the kinds in messages.
KINDS = ("missing", "extra", "different pixels", "re-encoded", "other role", "mispaired")
#: Difference lines shown per kind by :meth:`SplitMatch.lines` (all are kept).
SHOWN_PER_KIND = 20
_ROLE_ORDER = {"rainy": 0, "clean": 1, "streak": 2}


class TreeFile(Protocol):
    """What the comparison needs to know of a file of the tree (a verify ``FileFact``)."""

    rel: str
    role: str
    split: str
    id: str
    sha256: str
    pixel_sha256: str | None


@dataclass(frozen=True)
class Difference:
    """One file that differs from the canonical copy."""

    kind: str
    path: str
    detail: str
    role: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"


@dataclass
class SplitMatch:
    """How one split of a tree compares with a canonical group of files."""

    split: str
    dataset: str
    version: str
    canonical_split: str
    canonical_files: int
    files: int
    shared: int
    differences: list[Difference] = field(default_factory=list)
    renumbered: int = 0
    #: Every clean image matches by pixels while rainy images differ in pixels.
    clean_match_rainy_differ: bool = False

    @property
    def title(self) -> str:
        """E.g. ``the canonical original Rain100L test set``."""
        return describe(self.dataset, self.version, self.canonical_split)

    @property
    def matches(self) -> bool:
        """Every canonical file is there, byte for byte, and nothing else."""
        return self.shared > 0 and not self.differences

    def counts(self) -> dict[str, int]:
        """Number of differences of each kind, in :data:`KINDS` order (zeros left out)."""
        found = Counter(d.kind for d in self.differences)
        return {k: found[k] for k in KINDS if found[k]}

    def headline(self) -> str:
        """The one-line verdict."""
        head = f"{self.split}: "
        size = f"({self.canonical_files} files)"
        if self.shared == 0:
            return f"{head}shares no image with {self.title} {size}: another version or dataset"
        if self.matches:
            line = f"{head}matches {self.title} {size}"
        else:
            parts = []
            for kind, n in self.counts().items():
                parts.append(f"{n} re-encoded (same pixels, other bytes)" if kind == "re-encoded"
                             else f"{n} {kind}")
            line = (f"{head}differs from {self.title} {size} in {len(self.differences)} "
                    f"files: {', '.join(parts)}")
            if set(self.counts()) == {"re-encoded"}:
                line += "; the pixels of every file match"
            elif self.clean_match_rainy_differ:
                line += "; the clean images match, the rainy ones do not (other rain on the "\
                        "same backgrounds)"
        if self.renumbered:
            line += f"; {self.renumbered} samples carry other ids than in the canonical copy"
        if self.canonical_split != self.split:
            line += (f"; these are {self.canonical_split} images, not {self.split} "
                     f"(use --split {self.canonical_split})")
        return line

    def lines(self, shown_per_kind: int = SHOWN_PER_KIND) -> list[str]:
        """The verdict, then the differing files, up to ``shown_per_kind`` of each kind."""
        out = [self.headline()]
        if self.shared == 0:
            return out
        by_kind: dict[str, list[Difference]] = defaultdict(list)
        for d in self.differences:
            by_kind[d.kind].append(d)
        for kind in KINDS:
            items = by_kind.get(kind, [])
            out += [f"  {d}" for d in items[:shown_per_kind]]
            if len(items) > shown_per_kind:
                out.append(f"  ... and {len(items) - shown_per_kind} more {kind}")
        return out


def _groups(rows: Iterable[Fingerprint]) -> dict[tuple[str, str], list[Fingerprint]]:
    groups: dict[tuple[str, str], list[Fingerprint]] = {}
    for r in rows:
        groups.setdefault((r.version, r.split), []).append(r)
    return groups


def _best_group(
    files: Sequence[TreeFile], split: str, groups: dict[tuple[str, str], list[Fingerprint]]
) -> tuple[tuple[str, str], int] | None:
    pixels = {f.pixel_sha256 for f in files if f.pixel_sha256}
    best = None
    for order, (key, rows) in enumerate(groups.items()):
        shared = len(pixels & {r.pixel_sha256 for r in rows})
        score = (shared, key[1] == split, -order)
        if best is None or score > best[0]:
            best = (score, key)
    if best is None:
        return None
    (shared, same_split, _), key = best
    if shared == 0 and not same_split:
        same = [k for k in groups if k[1] == split]
        if not same:
            return None
        key = same[0]
    return key, shared


def compare_split(
    files: Sequence[TreeFile], split: str, rows: Sequence[Fingerprint]
) -> SplitMatch | None:
    """Compare the files of one split of a tree with the best-matching canonical group
    of ``rows`` (None when ``rows`` has no group for this split and none shares a file)."""
    groups = _groups(rows)
    chosen = _best_group(files, split, groups)
    if chosen is None:
        return None
    (version, canonical_split), shared = chosen
    canon = groups[(version, canonical_split)]
    result = SplitMatch(split, canon[0].dataset, version, canonical_split, len(canon),
                        len(files), shared)
    if shared:
        result.differences, result.renumbered = _differences(files, canon)
        kinds = {(d.role, d.kind) for d in result.differences}
        result.clean_match_rainy_differ = ("rainy", "different pixels") in kinds and not any(
            role == "clean" and kind != "re-encoded" for role, kind in kinds)
    return result


def _differences(
    files: Sequence[TreeFile], canon: Sequence[Fingerprint]
) -> tuple[list[Difference], int]:
    by_pixels: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(canon):
        by_pixels[r.pixel_sha256].append(i)
    cands = [by_pixels.get(f.pixel_sha256 or "", []) for f in files]
    claimed = [False] * len(canon)
    matched: dict[int, tuple[int, bool]] = {}  # file index -> (canonical row, first claim)
    to_canon: dict[str, str] = {}              # tree sample id -> canonical sample id

    def claim(n: int, ok: Callable[[Fingerprint], bool]) -> None:
        if n in matched:
            return
        free = [i for i in cands[n] if not claimed[i] and ok(canon[i])]
        if free:
            matched[n] = (free[0], True)
            claimed[free[0]] = True

    primary = sorted(range(len(files)), key=lambda n: _ROLE_ORDER.get(files[n].role, 9))
    for n in primary:  # same role and sample id
        f = files[n]
        claim(n, lambda r, f=f: r.role == f.role and r.id == f.id)
        if n in matched:
            to_canon.setdefault(f.id, f.id)
    for n in primary:  # same role, another id: a renumbered copy (or a mispaired file)
        f = files[n]
        claim(n, lambda r, f=f: r.role == f.role and r.id == to_canon.get(f.id, r.id))
        claim(n, lambda r, f=f: r.role == f.role)
        if n in matched:
            to_canon.setdefault(f.id, canon[matched[n][0]].id)
    for n in primary:  # another role, or a second copy of a canonical file
        claim(n, lambda r: True)
        if n not in matched and cands[n]:
            f = files[n]
            same = [i for i in cands[n] if canon[i].role == f.role]
            matched[n] = ((same or cands[n])[0], False)
    free = {(r.role, r.id): i for i, r in enumerate(canon) if not claimed[i]}
    diffs: list[Difference] = []
    for n, f in enumerate(files):
        if n in matched:
            i, first = matched[n]
            r = canon[i]
            if r.role != f.role:
                kind, detail = "other role", (f"{f.role} file holds the canonical {r.role} "
                                              f"image {r.path}")
            elif not first:
                kind, detail = "extra", f"extra: a second copy of the canonical {r.path}"
            elif r.id != to_canon.get(f.id, r.id):
                kind, detail = "mispaired", (
                    f"mispaired: holds the canonical {r.path} (sample {r.id}), the other "
                    f"files of its sample are canonical sample {to_canon[f.id]}")
            elif r.file_sha256 != f.sha256:
                kind, detail = "re-encoded", (f"re-encoded: same pixels as the canonical "
                                              f"{r.path}, other bytes")
            else:
                continue
        elif (slot := free.pop((f.role, to_canon.get(f.id, f.id)), None)) is not None:
            claimed[slot] = True
            kind, detail = "different pixels", (f"different pixels from the canonical "
                                                f"{canon[slot].path}")
        else:
            kind, detail = "extra", "extra: its pixels are in no canonical file"
        diffs.append(Difference(kind, f.rel, detail, f.role))
    for i, r in enumerate(canon):
        if not claimed[i]:
            diffs.append(Difference(
                "missing", r.path, f"missing (the canonical {r.role} image of sample {r.id})",
                r.role))
    renumbered = sum(1 for t, c in to_canon.items() if t != c)
    return diffs, renumbered


def compare_tree(
    files: Sequence[TreeFile], splits: Sequence[str], rows: Sequence[Fingerprint]
) -> list[SplitMatch]:
    """:func:`compare_split` for each split of a tree (splits without a verdict left out)."""
    out = []
    for split in splits:
        found = compare_split([f for f in files if f.split == split], split, rows)
        if found is not None:
            out.append(found)
    return out
