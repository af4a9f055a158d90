"""Dataclasses that describe a dataset layout declaratively.

A :class:`DatasetLayout` (one public dataset) has one or more :class:`Variant` s (the
same images as released by different code bases); a variant lists its splits as
:class:`SplitLayout` s, and a split names its files with :class:`Pattern` s, one per
role (rainy, clean, streak). Files are paired by the id the patterns extract from
their names, never by sort order. The scanning itself lives in
:mod:`raindata.layouts.scan`; this module holds metadata only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Image suffixes accepted by patterns that take "any image" (case-insensitive).
ANY_IMAGE = r"(?i:png|jpe?g|bmp|tiff?|webp)"

#: The file roles a :class:`Sample` carries.
ROLES = ("rainy", "clean", "streak")


@dataclass(frozen=True)
class Sample:
    """One item of a dataset split: a rainy image and what belongs with it."""

    id: str
    split: str
    rainy: Path | None
    clean: Path | None
    streak: Path | None = None
    angle: float | None = None
    side_by_side: bool = False
    #: Side-by-side files hold ``[clean | rainy]`` (Rain800) instead of ``[rainy | clean]``.
    clean_left: bool = False


@dataclass(frozen=True)
class Pattern:
    """How the files of one role are named inside a split folder.

    ``glob`` selects the candidate files (relative to the split folder), ``regex``
    must match a candidate's relative POSIX path in full; its named groups, joined by
    ``-`` in order (all-digit values without leading zeros), make the sample id.
    ``template`` renders the expected name from those groups (for messages).

    ``shared``: one file of this (partner) role serves every sample whose id groups agree
    with its own groups, which must be a subset of the primary's: Rain1400's ground truth
    ``901.jpg`` (group ``n``) belongs to ``901_1.jpg`` .. ``901_14.jpg`` (groups ``n``,
    ``k``). Still pairing by name, never by order.
    """

    role: str
    glob: str
    regex: str
    template: str
    required: bool = True
    orphans_ok: bool = False
    shared: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"pattern role must be one of {ROLES}, got {self.role!r}")
        compiled = re.compile(self.regex)
        if not compiled.groupindex:
            raise ValueError(f"pattern {self.regex!r} has no named group to build an id")

    @property
    def groups(self) -> tuple[str, ...]:
        """The named groups of ``regex``, in order (they make the id)."""
        index = self.compiled.groupindex
        return tuple(sorted(index, key=index.__getitem__))

    def partner_groups(self, groups: dict[str, str | int]) -> dict[str, str | int]:
        """The id groups a file of this role must have to partner the sample with
        ``groups``: all of them, or for a ``shared`` role only this pattern's own."""
        if not self.shared:
            return groups
        return {g: groups[g] for g in self.groups if g in groups}

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled regular expression."""
        return _compile(self.regex)

    def render(self, groups: dict[str, str | int]) -> str:
        """The file name this pattern expects for ``groups`` (for messages)."""
        try:
            return self.template.format(**groups)
        except (KeyError, ValueError, IndexError):
            return self.template

    @property
    def example(self) -> str:
        """An example file name, e.g. ``rainy/rain-001.png`` (every number group is 1)."""
        values: dict[str, str | int] = dict.fromkeys(self.groups, 1)
        return self.template.format(**{**values, "stem": "1", "level": "Heavy"})


@dataclass(frozen=True)
class SplitLayout:
    """One split of one variant: where it lives and how its files are named.

    ``dirs`` are the folders (relative to the dataset root) that hold the split;
    ``"."`` claims the root itself. Any split may also be given directly as the root
    (see :meth:`DatasetLayout.detect`). ``patterns[0]`` is the primary role: every file
    of it is one sample.
    """

    split: str
    dirs: tuple[str, ...]
    patterns: tuple[Pattern, ...]
    count: int | None = None
    id_range: tuple[int, int] | None = None
    outside_range: bool = False
    labels: str | None = None
    labels_required: bool = False
    checksums: str | None = None
    side_by_side: bool = False
    clean_left: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if self.clean_left and not self.side_by_side:
            raise ValueError("clean_left describes side-by-side files; set side_by_side too")
        if self.primary.shared:
            raise ValueError("the primary pattern defines the samples; it cannot be shared")
        have = set(self.primary.groups)
        for p in self.patterns[1:]:
            if p.shared and not set(p.groups) <= have:
                raise ValueError(
                    f"shared pattern {p.regex!r} uses groups the primary "
                    f"{self.primary.regex!r} lacks"
                )

    @property
    def primary(self) -> Pattern:
        """The pattern that defines the samples (the rainy images)."""
        return self.patterns[0]

    def naming(self) -> str:
        """Example names joined with ``+``, e.g. ``rainy/rain-001.png + norain-001.png``."""
        parts = [p.example if p.required else f"[{p.example}]" for p in self.patterns]
        if self.labels:
            parts.append(self.labels if self.labels_required else f"[{self.labels}]")
        return " + ".join(parts)

    def keeps(self, groups: dict[str, str | int]) -> bool:
        """Whether a sample with these id groups belongs to this split (``id_range``)."""
        if self.id_range is None:
            return True
        n = groups.get("n")
        if not isinstance(n, int):
            return False
        inside = self.id_range[0] <= n <= self.id_range[1]
        return inside != self.outside_range


@dataclass(frozen=True)
class Variant:
    """One release layout of a dataset (e.g. PReNet's, RCDNet's, Restormer's copy)."""

    name: str
    description: str
    splits: tuple[SplitLayout, ...]
    source: str = ""

    def split(self, name: str) -> SplitLayout | None:
        """The layout of split ``name``, or None."""
        return next((s for s in self.splits if s.split == name), None)


@dataclass(frozen=True)
class SplitSpec:
    """A split as published: its name and expected number of samples (None: unknown)."""

    name: str
    count: int | None
    note: str = ""


@dataclass(frozen=True)
class SplitLocation:
    """A split found on disk: which split, its folder and the layout that applies."""

    split: str
    path: Path
    layout: SplitLayout


@dataclass(frozen=True)
class Detection:
    """What :meth:`DatasetLayout.detect` found under a root."""

    dataset: str
    root: Path
    variant: Variant
    locations: tuple[SplitLocation, ...]

    @property
    def splits(self) -> dict[str, Path]:
        """Split name -> folder."""
        return {loc.split: loc.path for loc in self.locations}

    def describe(self) -> str:
        """One line, e.g. ``rain100l: rcdnet variant (test in small/...)``."""
        where = ", ".join(f"{loc.split} in {_rel(loc.path, self.root)}" for loc in self.locations)
        return f"{self.dataset}: {self.variant.name} variant ({where})"


@dataclass(frozen=True)
class DatasetLayout:
    """A public (or generic) dataset: metadata plus how to find its samples on disk."""

    name: str
    title: str
    citation: str
    paired: bool
    variants: tuple[Variant, ...]
    urls: tuple[str, ...] = ()
    notes: str = ""
    public: bool = True
    published_splits: tuple[SplitSpec, ...] = field(default=())

    @property
    def splits(self) -> tuple[SplitSpec, ...]:
        """Splits with expected counts: the published figures, else what the variants agree on."""
        if self.published_splits:
            return self.published_splits
        names: list[str] = []
        for v in self.variants:
            names += [s.split for s in v.splits if s.split not in names]
        specs = []
        for name in names:
            counts = {s.count for v in self.variants if (s := v.split(name)) is not None}
            specs.append(SplitSpec(name, counts.pop() if len(counts) == 1 else None))
        return tuple(specs)

    def split_paired(self, split: str) -> bool:
        """Whether ``split`` has ground truth: a rainy image has a clean partner (or is one
        half of a side-by-side pair) in some variant; a set of clean images alone (DIV2K)
        is not paired. Pairing belongs to the split: SIRR-Data's
        real test images have no reference, its ``val`` pairs do."""
        layouts = [sl for v in self.variants if (sl := v.split(split)) is not None]
        if not layouts:
            return self.paired
        return any(sl.side_by_side
                   or any(p.role == "clean" and p.required for p in sl.patterns[1:])
                   for sl in layouts)

    @property
    def clean_only(self) -> bool:
        """Whether every split holds clean images alone (a source for synthesis: DIV2K)."""
        return all(sl.primary.role == "clean" for v in self.variants for sl in v.splits)

    @property
    def paired_splits(self) -> tuple[str, ...]:
        """Names of the splits with ground truth."""
        return tuple(s.name for s in self.splits if self.split_paired(s.name))

    @property
    def variant_names(self) -> tuple[str, ...]:
        """Names of the variants, in detection order."""
        return tuple(v.name for v in self.variants)

    def variant(self, name: str) -> Variant:
        """The variant called ``name`` (KeyError when there is none)."""
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)

    def detect(self, root: str | os.PathLike, split: str | None = None) -> Detection:
        """Which variant ``root`` holds and where its splits are.

        Raises :class:`~raindata.errors.DataError` when the root is missing, holds no
        known variant, or mixes variants (naming an example file of each).
        """
        from raindata.layouts.scan import detect

        return detect(self, Path(root), split)

    def samples(self, root: str | os.PathLike, split: str | None = None) -> list:
        """Every :class:`Sample` under ``root`` (one split, or all found), paired by name.

        Raises :class:`~raindata.errors.DataError` naming missing, extra or
        misnamed files.
        """
        from raindata.layouts.scan import find

        return find(self, Path(root), split)


def _rel(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
    return rel if rel != "." else "the root"


_COMPILED: dict[str, re.Pattern[str]] = {}


def _compile(regex: str) -> re.Pattern[str]:
    found = _COMPILED.get(regex)
    if found is None:
        found = _COMPILED[regex] = re.compile(regex)
    return found
