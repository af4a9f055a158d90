"""Write the fingerprint tables of canonical copies (``python -m raindata.fingerprints.build``).

Each ``NAME:ROOT:SPLIT`` is verified first (every image decoded; any problem stops the
run with nothing written), then its files become rows of ``<dir>/<NAME>.csv`` under
``--version``; rows of other versions and splits already in the table are kept, those of
the same dataset, version and split are replaced. A provenance record
(``<NAME>.provenance.json``) goes beside each table. The packaged tables were made with::

    python -m raindata.fingerprints.build --version original \\
        rain100l:../shared/data/rain100l_test:test \\
        rain100l:../shared/data/raintrainl:train \\
        rain100h:../shared/data/rain100h_test:test
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path, PurePosixPath

from raindata.atomic import atomic_write_text
from raindata.errors import DataError
from raindata.fingerprints import (
    TABLE_FOLDER,
    TABLES,
    Fingerprint,
    read_table,
    write_table,
)
from raindata.layouts.scan import natural_key
from raindata.manifest import provenance_path
from raindata.provenance import record
from raindata.sources import parse_source
from raindata.verify import verify

_ROLE_ORDER = ("rainy", "clean", "streak")


def fingerprint_split(
    name: str, root: str | os.PathLike, split: str, version: str, workers: int = 2
) -> list[Fingerprint]:
    """Rows for every image of split ``split`` of ``root`` (layout ``name``).

    The tree must verify without a problem; otherwise a one-line DataError names the
    first one.
    """
    report = verify(name, root, split=split, workers=workers, fingerprints=None)
    if not report.ok:
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise DataError(f"cannot fingerprint {root}: {report.problems[0]}{more}")
    folder = next(s.folder for s in report.splits if s.split == split)
    rows = []
    for f in report.facts:
        if f.split != split or f.pixel_sha256 is None:
            continue
        rel = PurePosixPath(f.rel)
        path = rel if folder == "." else rel.relative_to(folder)
        rows.append(Fingerprint(name, version, report.variant, split, f.role, f.id,
                                path.as_posix(), f.width, f.height, f.pixel_sha256, f.sha256))
    rows.sort(key=lambda r: (natural_key(r.id), _ROLE_ORDER.index(r.role)))
    return rows


def merge(old: list[Fingerprint], new: list[Fingerprint]) -> list[Fingerprint]:
    """``old`` with the groups (dataset, version, split) of ``new`` replaced in place."""
    groups: dict[tuple[str, str, str], list[Fingerprint]] = {}
    for r in [*old, *new]:
        groups.setdefault((r.dataset, r.version, r.split), [])
    replaced = {(r.dataset, r.version, r.split) for r in new}
    for r in old:
        if (r.dataset, r.version, r.split) not in replaced:
            groups[(r.dataset, r.version, r.split)].append(r)
    for r in new:
        groups[(r.dataset, r.version, r.split)].append(r)
    return [r for rows in groups.values() for r in rows]


def build(
    sources: list[str], version: str, out_dir: str | os.PathLike = TABLE_FOLDER, workers: int = 2,
    argv: list[str] | None = None,
) -> dict[str, Path]:
    """Fingerprint every ``NAME:ROOT:SPLIT`` and update ``out_dir/<NAME>.csv``; returns
    the tables written by dataset."""
    new: dict[str, list[Fingerprint]] = {}
    config: dict[str, list[dict[str, str]]] = {}
    for text in sources:
        src = parse_source(text)
        if src.name is None or src.split is None:
            raise DataError(f"{text}: expected NAME:ROOT:SPLIT (a dataset and one split)")
        new.setdefault(src.name, []).extend(
            fingerprint_split(src.name, src.root, src.split, version, workers))
        config.setdefault(src.name, []).append(
            {"root": str(src.root), "split": src.split, "version": version})
    written = {}
    for name, rows in new.items():
        entry = TABLES.get(name)
        path = Path(out_dir) / (entry.file if entry else f"{name}.csv")
        old = read_table(path) if path.is_file() else []
        write_table(path, merge(old, rows))
        meta = record({"dataset": name, "sources": config[name]}, argv)
        atomic_write_text(provenance_path(path), json.dumps(meta, indent=2) + "\n")
        written[name] = path
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m raindata.fingerprints.build", description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="+", metavar="NAME:ROOT:SPLIT")
    parser.add_argument("--version", required=True, help="version name, e.g. original")
    parser.add_argument("--out-dir", type=Path, default=TABLE_FOLDER,
                        help="folder of the tables (default: the packaged ones)")
    parser.add_argument("--workers", type=int, default=2, help="threads decoding images")
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    try:
        written = build(args.sources, args.version, args.out_dir, args.workers,
                        argv=["raindata.fingerprints.build", *given])
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, path in written.items():
        print(f"wrote {path}: {sum(1 for r in read_table(path) if r.dataset == name)} files "
              f"of {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
