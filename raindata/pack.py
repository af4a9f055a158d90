"""The HDF5 patch cache: cut paired images into fixed-size patches once, read them fast.

File layout (``format = "raindata-patch-cache"``, ``format_version = 1``)::

    rainy          uint8   N x P x P x 3   RGB patches, chunked per ``chunk`` patches
    clean          uint8   N x P x P x 3   same windows of the clean images
    angle          float32 N               streak direction label (deg), NaN = unknown
    sample_index   int64   N               row of ``source_ids`` the patch came from
    origin         int32   N x 2           (top, left) of the patch in its source image
    source_ids     str     S               ids of the packed samples, in input order
    attrs: format, format_version, patch_size, stride, compression, num_sources,
           provenance (JSON of :func:`raindata.provenance.record`)

Patches sit on a grid with step ``stride`` from the top-left corner; when the grid
does not reach the right or bottom edge, one more row/column of patches is placed
flush with that edge, so every pixel is covered. Images smaller than the patch are
refused (:class:`DataError` naming the file). The rain map is not stored: it is
``rainy - clean`` exactly, computed by the reader.

The file is written to a temporary ``.h5`` beside the target and renamed onto it
only when complete, so a failed run leaves nothing behind. A run holds the lock
``.<name>.lock`` beside the target (:mod:`raindata.lock`): a second run writing the same
file is refused, naming the first; and it removes the temporary file a killed run
(kill -9) left for the same target.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from raindata.atomic import atomic_path, remove_stale_temps
from raindata.errors import DataError
from raindata.lock import lock_file

if TYPE_CHECKING:
    import h5py

    from raindata.layouts import Sample

FORMAT = "raindata-patch-cache"
FORMAT_VERSION = 1
COMPRESSIONS = (None, "gzip", "lzf")
_DATASETS = ("rainy", "clean", "angle", "sample_index", "origin", "source_ids")


@dataclass(frozen=True)
class PackInfo:
    """What :func:`pack` wrote."""

    path: Path
    patches: int
    sources: int
    patch_size: int
    stride: int
    compression: str | None
    bytes: int
    seconds: float


def patch_origins(height: int, width: int, patch_size: int, stride: int) -> list[tuple[int, int]]:
    """(top, left) of every patch of an ``height x width`` image, row by row.

    A grid with step ``stride``, plus a last row/column flush with the bottom/right
    edge when the grid stops short of it. Empty when the image is smaller than a patch.
    """
    if patch_size < 1 or stride < 1:
        raise ValueError(f"patch_size and stride must be >= 1, got {patch_size}, {stride}")

    def starts(extent: int) -> list[int]:
        if extent < patch_size:
            return []
        pos = list(range(0, extent - patch_size + 1, stride))
        if pos[-1] != extent - patch_size:
            pos.append(extent - patch_size)
        return pos

    return [(t, left) for t in starts(height) for left in starts(width)]


def load_checked_pair(sample: Sample) -> tuple[np.ndarray, np.ndarray]:
    """Rainy and clean uint8 RGB arrays of ``sample``; DataError naming the file otherwise."""
    from raindata.layouts import load_pair

    rainy, clean = load_pair(sample)
    name = sample.rainy if sample.rainy is not None else sample.id
    if clean is None:
        raise DataError(f"{name}: sample {sample.id!r} has no clean image (paired data needed)")
    if rainy.shape != clean.shape:
        raise DataError(
            f"{name}: rainy image is {rainy.shape[1]}x{rainy.shape[0]} but clean image "
            f"{sample.clean} is {clean.shape[1]}x{clean.shape[0]} (W x H)"
        )
    return rainy, clean


def _check_options(patch_size: int, stride: int, compression: str | None, chunk: int) -> None:
    if patch_size < 1:
        raise DataError(f"patch size must be >= 1, got {patch_size}")
    if stride < 1:
        raise DataError(f"stride must be >= 1, got {stride}")
    if compression not in COMPRESSIONS:
        raise DataError(f"compression must be one of none, gzip, lzf; got {compression!r}")
    if chunk < 1:
        raise DataError(f"chunk must be >= 1 patch, got {chunk}")


def pack(
    samples: Sequence[Sample],
    out_path: str | os.PathLike,
    patch_size: int = 64,
    stride: int | None = None,
    compression: str | None = None,
    chunk: int = 1,
    progress: Callable[[int], None] | None = None,
    *,
    overwrite: bool = False,
    argv: list[str] | None = None,
) -> PackInfo:
    """Cut every pair of ``samples`` into patches and write them to an HDF5 cache.

    ``stride`` defaults to ``patch_size`` (no overlap); ``compression`` is None,
    ``"gzip"`` (level 4) or ``"lzf"``; ``chunk`` is the number of patches per HDF5
    chunk. ``progress`` is called with 1 after each sample. An existing ``out_path``
    is refused unless ``overwrite``. Bad input raises :class:`DataError` naming the
    file, and nothing is left at ``out_path`` (nor any temporary file).
    """
    stride = patch_size if stride is None else stride
    _check_options(patch_size, stride, compression, chunk)
    samples = list(samples)
    if not samples:
        raise DataError(f"{out_path}: no samples to pack")
    ids = [s.id for s in samples]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:3]
        raise DataError(f"{out_path}: duplicate sample ids {dup}")
    target = Path(out_path)
    if target.is_dir():
        raise DataError(f"{target}: is a folder, expected an .h5 file path")
    with lock_file(target):  # one writer per file; a second is refused, naming the first
        remove_stale_temps(target.parent, [target.name])  # a killed run's (we hold the lock)
        if target.exists() and not overwrite:
            raise DataError(f"{target}: already exists (use --force to replace it)")
        return _pack_locked(samples, target, patch_size, stride, compression, chunk,
                            progress, argv)


def _pack_locked(samples: list[Sample], target: Path, patch_size: int, stride: int,
                 compression: str | None, chunk: int,
                 progress: Callable[[int], None] | None, argv: list[str] | None) -> PackInfo:
    """The body of :func:`pack` once it holds the lock of ``target``."""
    import h5py

    from raindata.provenance import record

    start = time.perf_counter()
    with atomic_path(target, suffix=".tmp.h5") as tmp, h5py.File(tmp, "w") as f:
        total = _write(f, samples, patch_size, stride, compression, chunk, progress)
        config = {
            "patch_size": patch_size, "stride": stride,
            "compression": compression or "none", "chunk": chunk,
            "sources": len(samples), "patches": total,
        }
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["patch_size"] = patch_size
        f.attrs["stride"] = stride
        f.attrs["compression"] = compression or "none"
        f.attrs["num_sources"] = len(samples)
        f.attrs["provenance"] = json.dumps(record(config, argv))
    return PackInfo(
        path=target, patches=total, sources=len(samples), patch_size=patch_size,
        stride=stride, compression=compression, bytes=target.stat().st_size,
        seconds=time.perf_counter() - start,
    )


def _write(
    f: h5py.File,
    samples: list[Sample],
    p: int,
    stride: int,
    compression: str | None,
    chunk: int,
    progress: Callable[[int], None] | None,
) -> int:
    import h5py

    opts: dict[str, Any] = {"compression": compression}
    if compression == "gzip":
        opts["compression_opts"] = 4
    images = {
        key: f.create_dataset(
            key, shape=(0, p, p, 3), maxshape=(None, p, p, 3), dtype=np.uint8,
            chunks=(chunk, p, p, 3), **opts,
        )
        for key in ("rainy", "clean")
    }
    angle: list[float] = []
    index: list[int] = []
    origin: list[tuple[int, int]] = []
    total = 0
    for k, sample in enumerate(samples):
        rainy, clean = load_checked_pair(sample)
        h, w = rainy.shape[:2]
        where = patch_origins(h, w, p, stride)
        if not where:
            raise DataError(
                f"{sample.rainy}: image is {w}x{h} (W x H), smaller than the {p}x{p} patch"
            )
        n = len(where)
        for key, img in (("rainy", rainy), ("clean", clean)):
            ds = images[key]
            ds.resize(total + n, axis=0)
            ds[total : total + n] = np.stack([img[t : t + p, c : c + p] for t, c in where])
        label = math.nan if sample.angle is None else float(sample.angle)
        angle += [label] * n
        index += [k] * n
        origin += where
        total += n
        if progress is not None:
            progress(1)
    f.create_dataset("angle", data=np.asarray(angle, dtype=np.float32))
    f.create_dataset("sample_index", data=np.asarray(index, dtype=np.int64))
    f.create_dataset("origin", data=np.asarray(origin, dtype=np.int32).reshape(-1, 2))
    f.create_dataset(
        "source_ids", data=[s.id for s in samples], dtype=h5py.string_dtype("utf-8")
    )
    return total


class PatchCache:
    """Read access to a patch cache written by :func:`pack`.

    Opening checks the format and that all datasets agree in length; a bad file
    raises :class:`DataError` naming it. Small metadata (angles, indices, origins,
    source ids) is read into memory; patches are read one at a time on demand.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        import h5py

        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(f"{self.path}: no such patch cache file")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as exc:
            raise DataError(f"{self.path}: not a readable HDF5 file ({exc})") from None
        try:
            self._check()
        except BaseException:
            self._file.close()
            raise
        f = self._file
        self.patch_size = int(f.attrs["patch_size"])
        self.stride = int(f.attrs["stride"])
        self.compression = str(f.attrs["compression"])
        self.angle = f["angle"][()]
        self.sample_index = f["sample_index"][()]
        self.origin = f["origin"][()]
        self.source_ids = [s.decode() if isinstance(s, bytes) else s for s in f["source_ids"][()]]
        self._rainy = f["rainy"]
        self._clean = f["clean"]

    def _check(self) -> None:
        f = self._file
        if f.attrs.get("format") != FORMAT:
            raise DataError(f"{self.path}: not a raindata patch cache (format attribute missing)")
        version = int(f.attrs.get("format_version", -1))
        if version != FORMAT_VERSION:
            raise DataError(
                f"{self.path}: patch cache format version {version}, expected {FORMAT_VERSION}"
            )
        missing = [k for k in _DATASETS if k not in f]
        if missing:
            raise DataError(f"{self.path}: patch cache lacks datasets {missing}")
        n = f["rainy"].shape[0]
        lengths = {k: f[k].shape[0] for k in ("rainy", "clean", "angle", "sample_index", "origin")}
        if any(v != n for v in lengths.values()) or f["clean"].shape != f["rainy"].shape:
            raise DataError(f"{self.path}: patch cache datasets disagree in shape: {lengths}")

    def __len__(self) -> int:
        return int(self._rainy.shape[0])

    def read(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The rainy and clean uint8 ``P x P x 3`` patches number ``i``."""
        return self._rainy[i], self._clean[i]

    def source_id(self, i: int) -> str:
        """Id of the sample patch ``i`` was cut from."""
        return self.source_ids[int(self.sample_index[i])]

    @property
    def provenance(self) -> dict[str, Any]:
        """The provenance record stored when the cache was built."""
        return json.loads(self._file.attrs["provenance"])

    def close(self) -> None:
        """Close the HDF5 file."""
        self._file.close()

    def __enter__(self) -> PatchCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
