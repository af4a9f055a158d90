"""``raindata list``, ``raindata verify`` and ``raindata index`` (thin wrappers)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a click progress bar on a terminal (None otherwise)."""
    stream = sys.stderr
    if not stream.isatty():
        yield None
        return
    bar = None
    try:
        def update(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = click.progressbar(length=total, label=label, file=stream)
                bar.__enter__()
            bar.update(done - bar.pos)

        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


@click.command("list")
@click.option("--verbose", "-v", is_flag=True, help="Also show papers, sources and file naming.")
def list_cmd(verbose: bool) -> None:
    """List the dataset layouts: paired or no-reference, splits with expected counts, and
    the layout variants each one is recognised in."""
    from raindata.layouts.listing import format_listing

    for line in format_listing(verbose):
        click.echo(line)


@click.command()
@click.argument("name")
@click.argument("root", type=click.Path(path_type=Path))
@click.option("--split", help="Check only this split (train, test or val).")
@click.option("--manifest", type=click.Path(path_type=Path),
              help="A manifest (from `raindata index`) whose sizes and sha256 must match.")
@click.option("--workers", default=2, show_default=True, help="Threads decoding images.")
@click.option("--fingerprints", type=click.Path(path_type=Path),
              help="Compare with this fingerprint table instead of the packaged one.")
def verify(name: str, root: Path, split: str | None, manifest: Path | None, workers: int,
           fingerprints: Path | None) -> None:
    """Check the dataset folder ROOT against layout NAME (see `raindata list`).

    Detects which layout variant ROOT holds, then checks counts, file naming, pairing
    by name, that every image decodes, that sizes match within a pair, and sha256
    where a manifest has it. Prints one line per problem, naming the file, and exits
    with status 1 if there is any; prints an OK summary otherwise.

    Where the dataset has fingerprints of a canonical copy (Rain100L, Rain100H), each
    split is also compared with them by the sha256 of its decoded pixels, whatever the
    file names or layout variant: "matches the canonical original Rain100L test set
    (200 files)", or "differs from it in N files" followed by the files that are
    missing, extra, have different pixels, or are re-encoded (same pixels, other
    bytes). This comparison does not change the exit status.
    """
    from raindata.verify import verify as run

    with progress_bar("verifying") as progress:
        report = run(name, root, split=split, manifest=manifest, progress=progress,
                     workers=workers, fingerprints=fingerprints)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@click.command()
@click.argument("name")
@click.argument("root", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Manifest CSV to write (e.g. manifests/rain100l_test.csv).")
@click.option("--split", help="Index only this split.")
@click.option("--force", is_flag=True, help="Overwrite an existing manifest.")
@click.option("--workers", default=2, show_default=True, help="Threads decoding images.")
def index(name: str, root: Path, out: Path, split: str | None, force: bool, workers: int) -> None:
    """Write a manifest of dataset ROOT (layout NAME) to --out.

    One CSV row per file: path relative to ROOT, role, split, id, width, height and
    sha256; every image is decoded first and any problem stops the command with
    nothing written. A provenance record (<name>.provenance.json) goes beside it.
    """
    from raindata.verify import index as run

    with progress_bar("indexing") as progress:
        result = run(name, root, out, split=split, force=force, progress=progress,
                     workers=workers, argv=sys.argv)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    click.echo(
        f"wrote {result.path}: {result.entries} files ({counts}), {result.dataset} "
        f"{result.variant} variant; provenance in {result.provenance}"
    )
