"""Find every pair of 63-bit codes within a Hamming distance, without comparing all pairs.

Multi-index hashing (Norouzi, Punjani and Fleet, "Fast Search in Hamming Space with
Multi-Index Hashing", CVPR 2012): the code is cut into ``bands`` bands. If two codes
differ in at most ``bands * (radius + 1) - 1`` bits, then by the pigeonhole principle
some band differs in at most ``radius`` bits; so each query looks up, per band, its own
band value and every value within ``radius`` bits of it in a table of the indexed codes,
and only those candidates are checked in full. Every pair within ``max_distance``
(default 11) bits is found, exactly.

The band width follows the number of indexed codes, so that a band bucket holds about
one unrelated code at most and the work per query stays constant (linear time overall):
4 bands of 16 bits (radius 2, 548 lookups per query) up to 2**16 codes, 3 bands of 21
bits (radius 3, 4686 lookups) above, which stays linear up to about two million codes.
Lookups go through a dense table per band (bucket start and size for every band value)
and are vectorised over a chunk of queries.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np

CODE_BITS = 63
DEFAULT_MAX_DISTANCE = 11
#: Above this many indexed codes, 3 wide bands replace 4 narrow ones.
WIDE_BANDS_ABOVE = 1 << 16
_KEYS_PER_CHUNK = 1 << 22


def popcount(x: np.ndarray) -> np.ndarray:
    """Set bits of each ``uint64`` (as ``int64``)."""
    x = np.ascontiguousarray(x, dtype=np.uint64)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    table = np.array([bin(i).count("1") for i in range(256)], np.int64)  # numpy < 2
    return table[x.view(np.uint8).reshape(*x.shape, 8)].sum(axis=-1)


def _band_edges(bands: int, bits: int = CODE_BITS) -> list[tuple[int, int]]:
    """(shift, width) of each band, widths as equal as possible (16, 16, 16, 15)."""
    base, extra = divmod(bits, bands)
    edges, shift = [], 0
    for b in range(bands):
        width = base + (1 if b < extra else 0)
        edges.append((shift, width))
        shift += width
    return edges


def _masks(width: int, radius: int) -> np.ndarray:
    """Every ``width``-bit value with at most ``radius`` bits set."""
    out = [0]
    for r in range(1, radius + 1):
        out += [sum(1 << i for i in c) for c in combinations(range(width), r)]
    return np.array(out, np.uint64)


class BandIndex:
    """A multi-index over ``codes`` (``uint64`` values of :data:`CODE_BITS` bits) that finds
    every pair within ``max_distance`` bits; ``bands`` defaults to what keeps the search
    linear for this many codes (see the module docstring)."""

    def __init__(
        self, codes: np.ndarray, max_distance: int = DEFAULT_MAX_DISTANCE,
        bands: int | None = None,
    ) -> None:
        self.codes = np.ascontiguousarray(codes, dtype=np.uint64).ravel()
        if bands is None:
            bands = 4 if self.codes.size <= WIDE_BANDS_ABOVE else 3
        if not 1 <= bands <= CODE_BITS or max_distance < 0:
            raise ValueError(f"need 1 <= bands <= {CODE_BITS} and max_distance >= 0, got "
                             f"{bands} and {max_distance}")
        self.bands = bands
        self.radius = math.ceil((max_distance + 1) / bands) - 1
        self._edges = _band_edges(bands)
        self._tables = []
        for shift, width in self._edges:
            values = ((self.codes >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(
                np.int64)
            order = np.argsort(values, kind="stable")
            sizes = np.bincount(values, minlength=1 << width).astype(np.int32)
            starts = (np.cumsum(sizes, dtype=np.int64) - sizes).astype(np.int64)
            self._tables.append((starts, sizes, order, _masks(width, self.radius)))

    @property
    def max_distance(self) -> int:
        """Every pair within this many bits is found: ``bands * (radius + 1) - 1``."""
        return self.bands * (self.radius + 1) - 1

    def _band_candidates(self, queries: np.ndarray, b: int) -> tuple[np.ndarray, np.ndarray]:
        shift, width = self._edges[b]
        starts, sizes, order, masks = self._tables[b]
        q = (queries >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        keys = (q[:, None] ^ masks[None, :]).ravel().astype(np.int64)
        counts = sizes[keys]
        hit = np.flatnonzero(counts)
        if hit.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        counts = counts[hit].astype(np.int64)
        total = int(counts.sum())
        key_of = np.repeat(np.arange(hit.size), counts)
        first = np.cumsum(counts) - counts
        pos = starts[keys[hit]][key_of] + (np.arange(total) - first[key_of])
        return hit[key_of] // masks.size, order[pos]

    def search(
        self, queries: np.ndarray, max_distance: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(query index, code index, distance)`` of every pair within ``max_distance``
        bits (default and upper limit :attr:`max_distance`), each pair once."""
        limit = self.max_distance if max_distance is None else max_distance
        if limit > self.max_distance:
            raise ValueError(
                f"max_distance {limit} is above what this index finds exactly "
                f"({self.max_distance}); build it with a larger max_distance"
            )
        queries = np.ascontiguousarray(queries, dtype=np.uint64).ravel()
        out_q, out_c, out_d = [], [], []
        n = max(1, self.codes.size)
        step = max(1, _KEYS_PER_CHUNK // self._tables[0][3].size)
        for start in range(0, queries.size, step):
            chunk = queries[start:start + step]
            parts = [self._band_candidates(chunk, b) for b in range(self.bands)]
            qi = np.concatenate([p[0] for p in parts])
            ci = np.concatenate([p[1] for p in parts])
            keep = popcount(chunk[qi] ^ self.codes[ci]) <= limit  # most candidates go here
            pair = np.unique(qi[keep] * n + ci[keep])  # a pair close in several bands: once
            qi, ci = pair // n, pair % n
            out_q.append(qi + start)
            out_c.append(ci)
            out_d.append(popcount(chunk[qi] ^ self.codes[ci]))
        if not out_q:
            empty = np.empty(0, np.int64)
            return empty, empty, empty
        return np.concatenate(out_q), np.concatenate(out_c), np.concatenate(out_d)
