"""``udrdr``: train UDRDR, derain images with it or any registered method, list methods."""

from __future__ import annotations

import importlib.util

import click

from raindata.clitools import LazyGroup, max_pixels_option

COMMANDS = {
    "derain": "models.commands.derain:derain",
    "methods": "models.commands.methods:methods",
    "train": "models.commands.train:train",
}

HELP = {"help_option_names": ["-h", "--help"]}


class UdrdrGroup(LazyGroup):
    """A :class:`LazyGroup` that hides subcommands whose module is not installed yet."""

    def _available(self, name: str) -> bool:
        target = self.lazy_commands.get(name)
        if target is None:
            return True
        try:
            return importlib.util.find_spec(target.split(":")[0]) is not None
        except ModuleNotFoundError:
            return False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [n for n in super().list_commands(ctx) if self._available(n)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if not self._available(name):
            return None
        return super().get_command(ctx, name)


@click.group(cls=UdrdrGroup, lazy_commands=COMMANDS, context_settings=HELP)
@click.version_option(package_name="derain-toolkit")
@max_pixels_option
def main() -> None:
    """UDRDR (ICCV 2021): train the networks; derain images with any registered method."""
