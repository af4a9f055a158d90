"""Leakage check: images shared by two datasets (or by the splits of one), exact or near.

Two kinds of pair are reported:

``exact``
    two files with the same decoded pixels (:func:`raindata.fingerprints.pixel_sha256`),
    whatever their names, formats or roles (rainy and clean files are all compared).
``near``
    two samples whose key images (the clean image where there is one, else the rainy
    or plain image) have similar low frequencies (:mod:`raindata.phash`): the same
    photograph re-encoded, resized or with rain added. Found through a band index of
    the 63-bit hashes (:mod:`raindata.hashindex`, every pair within 11 bits), kept when
    the similarity is at least the threshold (default 0.80). Sample pairs already
    linked by an exact pair are not repeated.

Every image is read once, in worker processes (``workers``, default 2); searching is
linear in the number of images. With one source, pairs between its splits are
reported (train/test leakage); a source with a single split (or a plain folder) is
checked for duplicates within itself.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from raindata.errors import DataError
from raindata.fingerprints import pixel_sha256
from raindata.hashindex import BandIndex
from raindata.imageio import read_image
from raindata.layouts.load import split_side_by_side
from raindata.phash import BITS, DEFAULT_THRESHOLD, hash_bits, low_frequency_vector
from raindata.sources import Item, Source, list_items, parse_source

Progress = Callable[[int, int], None]

COLUMNS = (
    "kind", "score", "hamming",
    "a_source", "a_split", "a_id", "a_role", "a_path",
    "b_source", "b_split", "b_id", "b_role", "b_path",
)
#: Below this many images the hashing runs in this process (workers cost ~0.5 s to start).
_IN_PROCESS_BELOW = 24


@dataclass(frozen=True)
class ItemHash:
    """What reading one :class:`~raindata.sources.Item` gave: the pixel sha256 of each of
    its files (by role), the low-frequency vector of its key image, or the error."""

    pixels: dict[str, str]
    vector: np.ndarray | None
    error: str | None = None


@dataclass(frozen=True)
class Pair:
    """One reported pair: sample ``a_index`` of A and ``b_index`` of B."""

    kind: str
    score: float
    hamming: int
    a_index: int
    a_role: str
    b_index: int
    b_role: str


@dataclass
class SideReport:
    """One side of the comparison: the source, its items and what could not be read."""

    source: Source
    items: list[Item]
    hashes: list[ItemHash]

    @property
    def skipped(self) -> list[tuple[Item, str]]:
        """Items that could not be read, with the reason."""
        return [(it, h.error) for it, h in zip(self.items, self.hashes, strict=True) if h.error]

    def describe(self) -> str:
        """E.g. ``rain100l:ROOT (test 100)``."""
        counts = Counter(it.split for it in self.items)
        parts = ", ".join(f"{s} {n} samples" if s else f"{n} images" for s, n in counts.items())
        return f"{self.source.label} ({parts})"


@dataclass
class OverlapReport:
    """The outcome of :func:`overlap`."""

    a: SideReport
    b: SideReport | None
    threshold: float
    pairs: list[Pair] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def other(self) -> SideReport:
        """Side B, or side A again when one source is checked within itself."""
        return self.b if self.b is not None else self.a

    def rows(self) -> list[dict[str, str]]:
        """The CSV rows (see :data:`COLUMNS`), strongest pairs first."""
        out = []
        for p in self.pairs:
            row = {"kind": p.kind, "score": f"{p.score:.4f}", "hamming": str(p.hamming)}
            for side, report, index, role in (("a", self.a, p.a_index, p.a_role),
                                              ("b", self.other, p.b_index, p.b_role)):
                item = report.items[index]
                path = _item_path(item, role)
                row.update({f"{side}_source": report.source.label, f"{side}_split": item.split,
                            f"{side}_id": item.id, f"{side}_role": role,
                            f"{side}_path": path.as_posix()})
            out.append(row)
        return out

    def summary(self) -> list[str]:
        """What was compared and what was found, a few lines."""
        kinds = Counter(p.kind for p in self.pairs)
        what = (f"{self.a.describe()} vs {self.b.describe()}" if self.b is not None
                else f"{self.a.describe()}, {self._within()}")
        lines = [
            f"{what}: {kinds['exact']} exact duplicate(s) (same pixels), {kinds['near']} "
            f"near-duplicate(s) (similarity >= {self.threshold:.2f})"
        ]
        if self.pairs:
            a_items = {p.a_index for p in self.pairs}
            b_items = {p.b_index for p in self.pairs}
            if self.b is None:
                lines.append(f"{len(a_items | b_items)} of {len(self.a.items)} samples involved")
            else:
                lines.append(f"{len(a_items)} of {len(self.a.items)} samples of A and "
                             f"{len(b_items)} of {len(self.b.items)} of B involved")
            by_splits = Counter((self.a.items[p.a_index].split, self.other.items[p.b_index].split,
                                 p.kind) for p in self.pairs)
            if len({(a, b) for a, b, _ in by_splits}) > 1 or self.b is None:
                for (sa, sb, kind), n in sorted(by_splits.items()):
                    lines.append(f"  {sa or '-'} / {sb or '-'}: {n} {kind}")
        for side in (self.a, self.b):
            if side is not None and side.skipped:
                first = side.skipped[0][1]
                lines.append(f"{len(side.skipped)} image(s) of {side.source.label} could not be "
                             f"read and were left out, e.g. {first}")
        return lines

    def _within(self) -> str:
        splits = {it.split for it in self.a.items}
        return "between its splits" if len(splits) > 1 else "within itself"


def _item_path(item: Item, role: str) -> Path:
    if item.side_by_side:
        return item.files[0][1]
    return item.path(role)


# --- hashing ----------------------------------------------------------------------------


def hash_item(item: Item) -> ItemHash:
    """Read every file of ``item`` once: its pixel sha256 and, for the key image, the
    low-frequency vector. A file that cannot be read gives an ItemHash with ``error``."""
    pixels: dict[str, str] = {}
    vector = None
    try:
        for role, path in item.files:
            img = read_image(path)
            pixels[role] = pixel_sha256(img)
            if item.side_by_side:
                rainy, clean = split_side_by_side(img, path)
                vector = low_frequency_vector(clean if item.key == "clean" else rainy)
            elif role == item.key:
                vector = low_frequency_vector(img)
    except DataError as exc:
        return ItemHash({}, None, str(exc))
    return ItemHash(pixels, vector)


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)


def hash_items(
    items: Sequence[Item], workers: int = 2, progress: Progress | None = None
) -> list[ItemHash]:
    """:func:`hash_item` of every item, in ``workers`` processes, in order."""
    total = len(items)
    if progress:
        progress(0, total)
    if workers <= 1 or total < _IN_PROCESS_BELOW:
        out = []
        for done, it in enumerate(items, 1):
            out.append(hash_item(it))
            if progress:
                progress(done, total)
        return out
    ctx = multiprocessing.get_context("spawn")
    chunk = max(1, min(32, total // (workers * 8)))
    out = []
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker) as pool:
        for done, h in enumerate(pool.map(hash_item, items, chunksize=chunk), 1):
            out.append(h)
            if progress and (done % chunk == 0 or done == total):
                progress(done, total)
    return out


# --- searching --------------------------------------------------------------------------


def _exact_pairs(
    a: SideReport, a_idx: Sequence[int], b: SideReport, b_idx: Sequence[int], within: bool
) -> list[Pair]:
    index: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for j in b_idx:
        for role, sha in b.hashes[j].pixels.items():
            index[sha].append((j, role))
    pairs = []
    for i in a_idx:
        for role, sha in a.hashes[i].pixels.items():
            for j, b_role in index.get(sha, ()):
                if not (within and j <= i):
                    pairs.append(Pair("exact", 1.0, 0, i, role, j, b_role))
    return pairs


def _vectors(side: SideReport, idx: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    keep = [i for i in idx if (v := side.hashes[i].vector) is not None and v.any()]
    vectors = np.zeros((len(keep), BITS), np.float32)
    for row, i in enumerate(keep):
        vectors[row] = side.hashes[i].vector
    return np.array(keep, np.int64), vectors


def _near_pairs(
    a: SideReport, a_idx: Sequence[int], b: SideReport, b_idx: Sequence[int], within: bool,
    threshold: float, linked: set[tuple[int, int]],
) -> list[Pair]:
    """Near pairs; the larger side is indexed and the smaller one queries it."""
    a_keep, a_vec = _vectors(a, a_idx)
    b_keep, b_vec = _vectors(b, b_idx)
    if not a_keep.size or not b_keep.size:
        return []
    if a_keep.size > b_keep.size:
        ci, qi, dist = BandIndex(hash_bits(a_vec)).search(hash_bits(b_vec))
    else:
        qi, ci, dist = BandIndex(hash_bits(b_vec)).search(hash_bits(a_vec))
    scores = np.einsum("ij,ij->i", a_vec[qi], b_vec[ci]) if qi.size else np.empty(0)
    pairs = []
    for q, c, d, s in zip(qi.tolist(), ci.tolist(), dist.tolist(), scores.tolist(), strict=True):
        i, j = int(a_keep[q]), int(b_keep[c])
        if s < threshold or (within and j <= i) or (i, j) in linked:
            continue
        pairs.append(Pair("near", min(1.0, s), d, i, a.items[i].key, j, b.items[j].key))
    return pairs


def _pairs(
    a: SideReport, a_idx: Sequence[int], b: SideReport, b_idx: Sequence[int], within: bool,
    threshold: float,
) -> list[Pair]:
    pairs = _exact_pairs(a, a_idx, b, b_idx, within)
    linked = {(p.a_index, p.b_index) for p in pairs}
    return pairs + _near_pairs(a, a_idx, b, b_idx, within, threshold, linked)


def find_pairs(
    a: SideReport, b: SideReport | None, threshold: float = DEFAULT_THRESHOLD
) -> list[Pair]:
    """Exact and near pairs between ``a`` and ``b``; with ``b`` None, between the splits
    of ``a`` (in the order they come), or within ``a`` when it has one split. Sorted:
    exact first, then by score."""
    if b is not None:
        pairs = _pairs(a, range(len(a.items)), b, range(len(b.items)), False, threshold)
    else:
        by_split: dict[str, list[int]] = defaultdict(list)
        for i, it in enumerate(a.items):
            by_split[it.split].append(i)
        groups = list(by_split.values())
        if len(groups) == 1:
            pairs = _pairs(a, groups[0], a, groups[0], True, threshold)
        else:
            pairs = []
            for g, first in enumerate(groups):
                for second in groups[g + 1:]:
                    pairs += _pairs(a, first, a, second, False, threshold)
    pairs.sort(key=lambda p: (p.kind != "exact", -p.score, p.a_index, p.b_index,
                              p.a_role, p.b_role))
    return pairs


def overlap(
    a: str | Source,
    b: str | Source | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    workers: int = 2,
    progress: Progress | None = None,
) -> OverlapReport:
    """Compare sources ``a`` and ``b`` (``NAME:ROOT[:SPLIT]`` or a folder), or ``a``
    within itself. Unreadable images are left out and counted; a missing source, an
    unknown dataset or an empty folder is a one-line :class:`DataError`.

    With ``workers`` > 1 the images are read in spawned processes: a script calling this
    needs the usual ``if __name__ == "__main__":`` guard."""
    if not 0.0 < threshold <= 1.0:
        raise DataError(f"threshold must be in (0, 1], got {threshold}")
    if workers < 1:
        raise DataError(f"workers must be at least 1, got {workers}")
    started = time.perf_counter()
    src_a = a if isinstance(a, Source) else parse_source(a)
    src_b = None if b is None else (b if isinstance(b, Source) else parse_source(b))
    if src_b is not None and _same(src_a, src_b):
        src_b = None
    items_a = list_items(src_a)
    items_b = list_items(src_b) if src_b is not None else []
    listed = time.perf_counter()
    hashes = hash_items([*items_a, *items_b], workers, progress)
    hashed = time.perf_counter()
    side_a = SideReport(src_a, items_a, hashes[:len(items_a)])
    side_b = None if src_b is None else SideReport(src_b, items_b, hashes[len(items_a):])
    report = OverlapReport(side_a, side_b, threshold, find_pairs(side_a, side_b, threshold))
    report.seconds = {"list": listed - started, "hash": hashed - listed,
                      "search": time.perf_counter() - hashed}
    return report


def _same(a: Source, b: Source) -> bool:
    def key(s: Source) -> tuple:
        return s.name, s.split, os.path.realpath(s.root)

    return key(a) == key(b)


def format_csv(report: OverlapReport) -> str:
    """The pairs as CSV text (header :data:`COLUMNS`)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(report.rows())
    return out.getvalue()
