"""Dataset manifests: one CSV row per file, with its role, split, size and sha256.

Columns: ``path`` (relative to the dataset root, POSIX separators), ``role``
(rainy/clean/streak/labels), ``split``, ``id``, ``width``, ``height``, ``sha256``
(empty where unknown). Paths must stay inside the root: absolute paths, ``..``
components and symlinks that lead outside are refused with a one-line
:class:`DataError` naming the manifest line. Manifests are written atomically, with
a provenance record (``<name>.provenance.json``) beside them.

A second, wide form is read too: the per-split ``manifest.csv`` that ``raindata synth``
writes, one row per sample with an ``id`` column and ``sha256_<role>`` (or ``<role>_sha256``)
columns (``latent`` is the clean role); see :func:`read_checksum_columns`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from raindata.atomic import atomic_write_text
from raindata.errors import DataError

COLUMNS = ("path", "role", "split", "id", "width", "height", "sha256")
_SHA = re.compile(r"[0-9a-f]{64}")
#: Column-name prefixes of the wide form and the role each stands for.
WIDE_ROLES = {"rainy": "rainy", "latent": "clean", "clean": "clean", "streak": "streak"}


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a dataset as a manifest lists it."""

    path: str
    role: str
    split: str
    id: str
    width: int | None = None
    height: int | None = None
    sha256: str | None = None

    def row(self) -> dict[str, str]:
        """The CSV row (empty strings for unknown values)."""
        return {
            "path": self.path,
            "role": self.role,
            "split": self.split,
            "id": self.id,
            "width": "" if self.width is None else str(self.width),
            "height": "" if self.height is None else str(self.height),
            "sha256": self.sha256 or "",
        }


def check_relative(path: str, where: str) -> str:
    """Return ``path`` if it is a safe relative POSIX path; else DataError naming ``where``."""
    if not path:
        raise DataError(f"{where}: empty path")
    if "\\" in path or PureWindowsPath(path).drive:
        raise DataError(f"{where}: path {path!r} must use '/' separators and no drive")
    posix = PurePosixPath(path)
    if posix.is_absolute():
        raise DataError(f"{where}: absolute path {path!r} refused (paths are relative to the root)")
    if ".." in posix.parts:
        raise DataError(f"{where}: path {path!r} refused: '..' leaves the dataset root")
    return path


def resolve_inside(root: str | os.PathLike, path: str, where: str) -> Path:
    """``root/path``, refusing anything (``..``, absolute, symlinks) that ends up outside root."""
    check_relative(path, where)
    base = Path(root).resolve()
    target = (base / path).resolve()
    if not target.is_relative_to(base):
        raise DataError(f"{where}: path {path!r} resolves to {target}, outside the root {base}")
    return Path(root) / path


def _int(value: str, column: str, where: str) -> int | None:
    if value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise DataError(f"{where}: {column} must be a whole number, got {value!r}") from None
    if number < 1:
        raise DataError(f"{where}: {column} must be positive, got {number}")
    return number


def parse_manifest(text: str, name: str = "<manifest>") -> list[ManifestEntry]:
    """Parse manifest CSV text; every problem is a one-line DataError naming the line."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _parse_rows(reader, name)
    except csv.Error as exc:  # a stray carriage return, a field over the csv size limit
        raise DataError(f"{name} line {reader.line_num}: not valid CSV ({exc})") from None


def _parse_rows(reader: csv.DictReader, name: str) -> list[ManifestEntry]:
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{name}: not a dataset manifest: missing column(s) {', '.join(missing)} "
            f"(expected {','.join(COLUMNS)})"
        )
    entries = []
    seen: dict[str, int] = {}
    for row in reader:
        where = f"{name} line {reader.line_num}"
        if None in row or any(row[c] is None for c in COLUMNS):
            raise DataError(f"{where}: expected {len(header)} fields")
        path = check_relative(row["path"].strip(), where)
        if path in seen:
            raise DataError(f"{where}: {path!r} listed twice (first on line {seen[path]})")
        seen[path] = reader.line_num
        sha = row["sha256"].strip().lower()
        if sha and not _SHA.fullmatch(sha):
            raise DataError(f"{where}: sha256 must be 64 hex digits, got {row['sha256']!r}")
        entries.append(ManifestEntry(
            path=path,
            role=row["role"].strip(),
            split=row["split"].strip(),
            id=row["id"].strip(),
            width=_int(row["width"].strip(), "width", where),
            height=_int(row["height"].strip(), "height", where),
            sha256=sha or None,
        ))
    return entries


def read_text_table(path: str | os.PathLike, what: str) -> str:
    """The UTF-8 text of a table file; DataError naming the file (and ``what`` it is)."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{p}: no such {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: cannot read {what} ({exc})") from None


def read_manifest(path: str | os.PathLike) -> list[ManifestEntry]:
    """Read a manifest CSV (see the module docstring for its columns and checks)."""
    return parse_manifest(read_text_table(path, "manifest"), str(path))


def format_manifest(entries: Iterable[ManifestEntry]) -> str:
    """Manifest CSV text for ``entries`` (in the order given)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for e in entries:
        check_relative(e.path, f"entry {e.path!r}")
        writer.writerow(e.row())
    return out.getvalue()


def provenance_path(path: str | os.PathLike) -> Path:
    """Where the provenance record of manifest ``path`` goes: ``<stem>.provenance.json``."""
    p = Path(path)
    return p.with_name(f"{p.stem}.provenance.json")


def write_manifest(
    path: str | os.PathLike,
    entries: Iterable[ManifestEntry],
    config: dict | None = None,
    argv: list[str] | None = None,
    force: bool = False,
) -> Path:
    """Write ``entries`` to ``path`` atomically, with its provenance JSON beside it.

    An existing file is refused unless ``force``.
    """
    from raindata.provenance import record

    p = Path(path)
    if p.exists() and not force:
        raise DataError(f"{p}: already exists (use --force to overwrite)")
    text = format_manifest(entries)
    atomic_write_text(provenance_path(p), json.dumps(record(config, argv), indent=2) + "\n")
    atomic_write_text(p, text)
    return p


def read_checksum_columns(path: str | os.PathLike) -> dict[tuple[str, str], str]:
    """``(id, role) -> sha256`` from a wide per-split manifest: ``id`` plus ``sha256_<role>``
    (what ``raindata synth`` writes) or ``<role>_sha256`` columns.

    Roles are named as in :class:`~raindata.layouts.Sample` (``latent`` -> ``clean``);
    other ``*_sha256`` columns are ignored. Ids are compared without zero padding.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: cannot read manifest ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _checksum_rows(reader, p)
    except csv.Error as exc:
        raise DataError(f"{p} line {reader.line_num}: not valid CSV ({exc})") from None


def _checksum_rows(reader: csv.DictReader, p: Path) -> dict[tuple[str, str], str]:
    header = reader.fieldnames or []
    if "id" not in header:
        raise DataError(f"{p}: manifest has no 'id' column (columns: {', '.join(header)})")
    columns = {}
    for c in header:
        prefix, _, suffix = c.partition("_")
        role = prefix if suffix == "sha256" else suffix if prefix == "sha256" else None
        if role in WIDE_ROLES:
            columns[c] = WIDE_ROLES[role]
    sums: dict[tuple[str, str], str] = {}
    for row in reader:
        where = f"{p} line {reader.line_num}"
        ident = (row.get("id") or "").strip()
        if not ident:
            raise DataError(f"{where}: empty id")
        if ident.isascii() and ident.isdigit():
            ident = str(int(ident))
        for column, role in columns.items():
            sha = (row.get(column) or "").strip().lower()
            if not sha:
                continue
            if not _SHA.fullmatch(sha):
                raise DataError(f"{where}: {column} must be 64 hex digits, got {sha!r}")
            sums[(ident, role)] = sha
    return sums
