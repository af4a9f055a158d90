"""``raindata``: synthesize, list, verify, index, label and pack rain datasets."""

from __future__ import annotations

import click

from raindata.clitools import LazyGroup, max_pixels_option

COMMANDS = {
    "synth": "raindata.commands.synth:synth",
    "label": "raindata.commands.label:label",
    "list": "raindata.commands.layouts:list_cmd",
    "verify": "raindata.commands.layouts:verify",
    "index": "raindata.commands.layouts:index",
    "pack": "raindata.commands.pack:pack",
    "overlap": "raindata.commands.overlap:overlap",
}


HELP = {"help_option_names": ["-h", "--help"]}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings=HELP)
@click.version_option(package_name="derain-toolkit")
@max_pixels_option
def main() -> None:
    """Rain datasets done right: synthesis, layouts, manifests, loaders."""
