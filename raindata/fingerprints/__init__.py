"""Fingerprints of canonical dataset copies: which version of a dataset is this?

A fingerprint table is a CSV file with one row per file of a known copy of a dataset:

``dataset``
    layout name (``rain100l``).
``version``
    which release (``original``; room for re-releases under other names).
``variant``
    the layout variant the copy was fingerprinted in (``rcdnet``), which ``path`` follows.
``split``, ``role``, ``id``
    as :mod:`raindata.layouts` reads them (ids without zero padding).
``path``
    relative to the split folder, POSIX separators (``small/rain/norain-1.png``).
``width``, ``height``
    image size in pixels.
``pixel_sha256``
    :func:`pixel_sha256` of the decoded image: re-encoding a file keeps it.
``file_sha256``
    sha256 of the file bytes.

The tables of the copies in ``../shared/data`` live beside this module (one file per
dataset, listed in :data:`TABLES`) and are written by ``python -m
raindata.fingerprints.build``. ``raindata verify`` compares a tree with the table of
its dataset (:mod:`raindata.fingerprints.compare`), matching files by pixel hash, so a
renamed, re-encoded or differently laid-out copy of the same images is recognised.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from raindata.atomic import atomic_write_text
from raindata.errors import DataError
from raindata.manifest import check_relative

if TYPE_CHECKING:
    import numpy as np

COLUMNS = (
    "dataset", "version", "variant", "split", "role", "id", "path", "width", "height",
    "pixel_sha256", "file_sha256",
)
_SHA = re.compile(r"[0-9a-f]{64}")
#: Where the packaged tables live.
TABLE_FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class FingerprintSet:
    """A packaged table: its dataset, file name and how messages name its splits."""

    dataset: str
    file: str
    title: str
    split_titles: dict[str, str] = field(default_factory=dict)

    def describe(self, version: str, split: str) -> str:
        """E.g. ``the canonical original Rain100L test set``."""
        what = self.split_titles.get(split, f"{self.title} {split} set")
        return f"the canonical {version} {what}"


#: The packaged tables, one per dataset (explicit; nothing is scanned).
TABLES: dict[str, FingerprintSet] = {
    s.dataset: s
    for s in (
        FingerprintSet("rain100l", "rain100l.csv", "Rain100L",
                       {"train": "Rain100L train set, RainTrainL"}),
        FingerprintSet("rain100h", "rain100h.csv", "Rain100H",
                       {"train": "Rain100H train set, RainTrainH"}),
    )
}


@dataclass(frozen=True)
class Fingerprint:
    """One file of a canonical copy (one row of a table)."""

    dataset: str
    version: str
    variant: str
    split: str
    role: str
    id: str
    path: str
    width: int
    height: int
    pixel_sha256: str
    file_sha256: str

    def row(self) -> dict[str, str]:
        """The CSV row."""
        return {c: str(getattr(self, c)) for c in COLUMNS}


def pixel_sha256(img: np.ndarray) -> str:
    """sha256 of a decoded image: the ASCII header ``"<height>x<width>x<channels>\\n"``
    followed by the ``uint8`` samples in row-major RGB order (``img.tobytes()``).

    ``img`` is what :func:`raindata.imageio.read_image` returns (``H x W x 3`` uint8),
    so lossless re-encodings (another PNG compression level, BMP or TIFF, a grey image
    stored as RGB) hash the same as the original; a JPEG re-encoding does not.
    """
    if img.dtype.name != "uint8" or img.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 H x W (x C) image, got {img.dtype} {img.shape}")
    channels = img.shape[2] if img.ndim == 3 else 1
    h = hashlib.sha256(f"{img.shape[0]}x{img.shape[1]}x{channels}\n".encode("ascii"))
    h.update(memoryview(img if img.flags.c_contiguous else img.copy()).cast("B"))
    return h.hexdigest()


def _positive(value: str, column: str, where: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise DataError(f"{where}: {column} must be a positive whole number, got {value!r}")
    return number


def parse_table(text: str, name: str = "<fingerprints>") -> list[Fingerprint]:
    """Parse a fingerprint table; every problem is a one-line DataError naming the line."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise DataError(
                f"{name}: not a fingerprint table: missing column(s) {', '.join(missing)} "
                f"(expected {','.join(COLUMNS)})"
            )
        rows = []
        seen: dict[tuple[str, ...], int] = {}
        for row in reader:
            where = f"{name} line {reader.line_num}"
            if None in row or any(row[c] is None for c in COLUMNS):
                raise DataError(f"{where}: expected {len(header)} fields")
            values = {c: row[c].strip() for c in COLUMNS}
            for c in ("dataset", "version", "split", "role", "id"):
                if not values[c]:
                    raise DataError(f"{where}: empty {c}")
            check_relative(values["path"], where)
            for c in ("pixel_sha256", "file_sha256"):
                values[c] = values[c].lower()
                if not _SHA.fullmatch(values[c]):
                    raise DataError(f"{where}: {c} must be 64 hex digits, got {row[c]!r}")
            key = (values["dataset"], values["version"], values["split"], values["path"])
            if key in seen:
                raise DataError(f"{where}: {values['path']!r} listed twice for "
                                f"{key[0]} {key[1]} {key[2]} (first on line {seen[key]})")
            seen[key] = reader.line_num
            values["width"] = _positive(values["width"], "width", where)
            values["height"] = _positive(values["height"], "height", where)
            rows.append(Fingerprint(**values))
        return rows
    except csv.Error as exc:
        raise DataError(f"{name} line {reader.line_num}: not valid CSV ({exc})") from None


def read_table(path: str | os.PathLike) -> list[Fingerprint]:
    """Read a fingerprint table (see the module docstring for its columns)."""
    from raindata.manifest import read_text_table

    return parse_table(read_text_table(path, "fingerprint table"), str(path))


def format_table(rows: Iterable[Fingerprint]) -> str:
    """CSV text of ``rows``, in the order given."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(r.row())
    return out.getvalue()


def write_table(path: str | os.PathLike, rows: Iterable[Fingerprint]) -> Path:
    """Write a table atomically."""
    p = Path(path)
    atomic_write_text(p, format_table(rows))
    return p


def table_path(dataset: str) -> Path | None:
    """The packaged table of ``dataset``, or None when there is none."""
    entry = TABLES.get(dataset)
    return None if entry is None else TABLE_FOLDER / entry.file


def canonical(dataset: str) -> list[Fingerprint]:
    """The packaged fingerprints of ``dataset`` (empty when it has no table)."""
    path = table_path(dataset)
    if path is None or not path.is_file():
        return []
    return [r for r in read_table(path) if r.dataset == dataset]


def describe(dataset: str, version: str, split: str) -> str:
    """How messages name a canonical copy: ``the canonical original Rain100L test set``."""
    entry = TABLES.get(dataset) or FingerprintSet(dataset, "", dataset)
    return entry.describe(version, split)
