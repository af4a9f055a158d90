"""Helpers shared by the three click command lines (no work at import time)."""

from __future__ import annotations

import os
import sys

import click

from raindata.errors import DataError


class ToolGroup(click.Group):
    """A click group that turns :class:`DataError` into one line and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DataError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


def parse_range(text: str, name: str) -> tuple[float, float]:
    """Parse ``"A"`` or ``"A:B"`` into a (low, high) float pair for option ``name``."""
    parts = text.split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise click.BadParameter(
            f"expected a number or LOW:HIGH, got {text!r}", param_hint=name
        ) from None
    if len(values) == 1:
        return values[0], values[0]
    if len(values) != 2 or values[0] > values[1]:
        raise click.BadParameter(
            f"expected LOW:HIGH with LOW <= HIGH, got {text!r}", param_hint=name
        )
    return values[0], values[1]


class LazyGroup(ToolGroup):
    """A :class:`ToolGroup` whose subcommands are imported only when used.

    ``commands`` maps a subcommand name to ``"module:attribute"``; nothing is
    imported until that subcommand runs or its help is shown.
    """

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            import importlib

            module, attr = self.lazy_commands[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            import difflib

            name = args[0] if args else ""
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=3)
            hint = f" (did you mean: {', '.join(close)}?)" if close else ""
            raise click.UsageError(f"no such command {name!r}{hint}", ctx) from None


def _set_max_pixels(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    if value is not None:
        from raindata.imageio import MAX_PIXELS_ENV

        os.environ[MAX_PIXELS_ENV] = str(value)


def max_pixels_option(func):
    """``--max-pixels N`` on a command group: the image size limit of every reader in this
    process (sets ``$RAINDATA_MAX_PIXELS``; default 67,108,864 = 8192 x 8192)."""
    return click.option(
        "--max-pixels", type=click.IntRange(min=1), expose_value=False, is_eager=True,
        callback=_set_max_pixels,
        help="Refuse images with more pixels than this (default 67108864 = 8192x8192; "
             "also $RAINDATA_MAX_PIXELS).")(func)
