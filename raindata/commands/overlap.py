"""``raindata overlap``: the leakage check (a thin wrapper of :mod:`raindata.overlap`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from raindata.commands.layouts import progress_bar
from raindata.phash import DEFAULT_THRESHOLD


@click.command()
@click.argument("a")
@click.argument("b", required=False)
@click.option("--out", type=click.Path(path_type=Path),
              help="Write the pairs to this CSV file (default: the CSV goes to stdout and "
                   "the summary to stderr).")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--threshold", type=float, default=DEFAULT_THRESHOLD, show_default=True,
              help="Least similarity of a near-duplicate, in (0, 1] (1.0: the same low "
                   "frequencies).")
@click.option("--workers", type=int, default=2, show_default=True,
              help="Processes reading and hashing images.")
@click.option("--check", is_flag=True, help="Exit with status 1 when any pair is found.")
def overlap(a: str, b: str | None, out: Path | None, force: bool, threshold: float,
            workers: int, check: bool) -> None:
    """Find images shared by A and B, or by the splits of A: train/test leakage.

    A and B are each NAME:ROOT[:SPLIT] (a dataset, see `raindata list`; every split
    found, or one) or a plain folder (every image under it). With A alone, pairs
    between its splits are reported, or duplicates within it when it has one split.

    Exact duplicates have the same decoded pixels (any file, rainy or clean). Near-
    duplicates are samples whose clean images (rainy or plain images where there is
    no clean one) share their low frequencies: the same photograph re-encoded,
    resized or with rain streaks added. They are found through a hash index (never
    all pairs) and reported with a similarity score from 0 to 1.

    One CSV row per pair: kind (exact or near), score, hamming (bits of 63 that
    differ), then source, split, id, role and path of each side.
    """
    from raindata.atomic import atomic_write_text
    from raindata.errors import DataError
    from raindata.overlap import format_csv
    from raindata.overlap import overlap as run

    if out is not None and out.exists() and not force:
        raise DataError(f"{out}: already exists (use --force to overwrite)")
    with progress_bar("hashing") as progress:
        report = run(a, b, threshold=threshold, workers=workers, progress=progress)
    text = format_csv(report)
    if out is None:
        click.echo(text, nl=False)
        for line in report.summary():
            click.echo(line, err=True)
    else:
        atomic_write_text(out, text)
        for line in report.summary():
            click.echo(line)
        click.echo(f"wrote {out}: {len(report.pairs)} pair(s)")
    if check and report.pairs:
        sys.exit(1)
