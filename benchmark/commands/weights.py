"""``benchmark weights``: the released weights methods and metrics know; fetching them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click


@click.group("weights")
def weights() -> None:
    """Released weights: where they are (list) and downloading them when asked (fetch).

    Nothing else downloads: `benchmark run` and `udrdr derain` look for a released file
    on the weights search path ($DERAIN_WEIGHTS_DIR, then the cache
    ~/.cache/derain-toolkit/weights or $DERAIN_WEIGHTS_CACHE, then torch's hub cache,
    then the weights bundled with the toolkit) and, when none is there, name the fetch
    command in one line.
    """


@weights.command("list")
@click.option("--dir", "dirs", multiple=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Look in DIR first (repeatable; e.g. ../shared/data).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
def list_cmd(dirs: tuple[Path, ...], as_json: bool) -> None:
    """Every weights file a registered method or metric knows: name, method, training
    data, size, sha256, official URL, licence, and where it is found (only a copy with
    the released sha256 counts; others are shown and never used)."""
    from models.io.store import catalogue, copies, search_path

    folders = search_path(dirs)
    files = catalogue()
    rows = [_row(w, copies(w, folders), files) for w in files]
    own = _bring_your_own()
    if as_json:
        doc = {"weights": rows, "bring_your_own": own,
               "search_path": [{"path": str(f.path), "origin": f.origin} for f in folders]}
        click.echo(json.dumps(doc, indent=2))
        return
    for row in rows:
        _echo_row(row)
    if own:
        click.echo("No released file known (bring your own, --weights PATH): "
                   + "; ".join(f"{o['method']} ({o['page']})" for o in own))
    click.echo("Search path, in order:")
    for i, f in enumerate(folders, 1):
        click.echo(f"  {i}. {f.describe()}")


def _row(w, found, files) -> dict:
    from models.io.store import fetch_name
    from models.registry import METHODS, get_card

    ok = next((c for c in found if c.ok), None)
    card_licence = get_card(w.method).licence if w.method in METHODS else ""
    return {
        "name": fetch_name(w, files), "key": w.key, "method": w.method,
        "trained_on": w.trained_on,
        "size": w.size or (ok.path.stat().st_size if ok and ok.path.is_file() else 0),
        "sha256": w.sha256,
        "urls": list(w.urls), "members": [f.member for f in w.files if f.member],
        "page": w.page, "licence": w.licence or card_licence, "source": w.source,
        "present": ok is not None, "path": str(ok.path) if ok else None,
        "differs": [{"path": str(c.path), "sha256": c.digest} for c in found if not c.ok],
    }


def _echo_row(row: dict) -> None:
    from raindata.atomic import human_bytes

    where = f"present: {row['path']}" if row["present"] else (
        f"missing (benchmark weights fetch {row['name']})" if row["urls"] else "missing")
    click.echo(f"{row['name']}  [{row['method']}]  {where}")
    size = human_bytes(row["size"]) if row["size"] else "size unknown"
    prefix = " (prefix, as torchvision checks it)" if len(row["sha256"]) < 64 else ""
    click.echo(f"    trained on: {row['trained_on']}")
    click.echo(f"    {size}; sha256 {row['sha256']}{prefix}")
    if not row["urls"]:
        click.echo(f"    not downloadable: {row['source']}")
    for url in row["urls"]:
        click.echo(f"    url: {url}")
    if row["members"]:
        click.echo(f"    inside that zip: {', '.join(row['members'])}; page: {row['page']}")
    click.echo(f"    licence: {row['licence'] or 'not stated'}")
    for bad in row["differs"]:
        click.echo(f"    differs, not used: {bad['path']} (sha256 {bad['sha256'][:16]}...)")


def _bring_your_own() -> list[dict]:
    """Methods that need weights but know no released file (users bring their own)."""
    from models.registry import get_card, list_methods

    cards = [get_card(n) for n in list_methods()]
    return [{"method": c.name, "page": c.url} for c in cards
            if c.weights_required and not c.weights]


@weights.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--all", "fetch_all", is_flag=True, help="Every downloadable weights file.")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Download into DIR/<method>/ (default: the cache, "
                   "$DERAIN_WEIGHTS_CACHE or ~/.cache/derain-toolkit/weights).")
@click.option("--base-url", help="Mirror: fetch BASE_URL/<method>/<file> instead of the "
              "official URLs (also $DERAIN_WEIGHTS_BASE_URL).")
def fetch(names: tuple[str, ...], fetch_all: bool, folder: Path | None,
          base_url: str | None) -> None:
    """Download the weights NAMES (a file name, METHOD/FILE, or a method for all its
    files) from their official URLs, resuming partial downloads; each file is checked
    against its sha256 before it is moved into place. A file that does not match is
    kept aside as <file>.sha256-mismatch and never used.
    """
    from models.io.fetch import base_url as mirror
    from models.io.fetch import fetch_weights, missing_files
    from models.io.store import cache_dir, catalogue, select
    from raindata.errors import DataError

    if bool(names) == fetch_all:
        raise click.UsageError("give weights NAMES or --all (see `benchmark weights list`)")
    files = catalogue()
    chosen = [w for w in files if w.files] if fetch_all else select(names, files)
    root = folder or cache_dir()
    base = mirror(base_url)
    failures: list[DataError] = []
    for w in chosen:
        target = root / w.method / w.name
        if not missing_files(w, root):
            click.echo(f"{w.key}: already present at {target}")
            continue
        source = f"{base}/{w.method}/" if base else ", ".join(w.urls)
        click.echo(f"{w.key}: fetching from {source}", err=True)
        bar = _Bar()
        try:
            path = fetch_weights(w, root, base=base, progress=bar)
        except DataError as exc:
            bar.close()
            if len(chosen) == 1:
                raise
            click.echo(f"error: {exc}", err=True)
            failures.append(exc)
            continue
        bar.close()
        click.echo(f"{w.key}: fetched to {path}")
    if failures:
        raise DataError(f"{len(failures)} of {len(chosen)} weights file(s) not fetched "
                        "(see above); run the same command again to resume")


class _Bar:
    """Progress of one download on stderr: redrawn on a terminal, silent otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.drawn = False

    def __call__(self, label: str, done: int, total: int | None) -> None:
        from raindata.atomic import human_bytes

        now = time.monotonic()
        if not self.tty or (now - self.last < 0.2 and done != total):
            return
        self.last = now
        of = f" / {human_bytes(total)} ({100 * done // max(total, 1)}%)" if total else ""
        click.echo(f"\r  {label}: {human_bytes(done)}{of}\033[K", err=True, nl=False)
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            click.echo("", err=True)
