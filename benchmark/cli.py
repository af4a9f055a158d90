"""``benchmark``: score methods on datasets and export tables (arrives with the benchmark issue)."""

from __future__ import annotations

import sys

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("args", nargs=-1)
def main(args: tuple[str, ...]) -> None:
    """Score deraining methods. Not implemented yet: `benchmark run`, `table` and `time`
    arrive with the benchmark issue."""
    click.echo(
        "benchmark: scoring is not implemented yet "
        "(planned: `benchmark run --method M --dataset D`, `benchmark table`).",
        err=True,
    )
    sys.exit(2)
