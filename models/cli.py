"""``udrdr``: train UDRDR and derain images (arrives with the UDRDR issue)."""

from __future__ import annotations

import sys

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("args", nargs=-1)
def main(args: tuple[str, ...]) -> None:
    """Train and run UDRDR. Not implemented yet: `udrdr train` and `udrdr derain`
    arrive with the UDRDR issue (networks, direction regularizer, joint training)."""
    click.echo(
        "udrdr: training and inference are not implemented yet "
        "(planned: `udrdr train --config FILE`, `udrdr derain INPUT --weights W`).",
        err=True,
    )
    sys.exit(2)
