"""``udrdr methods``: the registered methods, their cards and released weights."""

from __future__ import annotations

import click


@click.command("methods")
@click.argument("names", nargs=-1)
@click.option("-v", "--verbose", is_flag=True, help="Whole cards: paper, weights, notes.")
def methods(names: tuple[str, ...], verbose: bool) -> None:
    """List the registered methods (or the cards of NAMES): parameters, I/O, weights."""
    from models.registry import get_card, list_methods

    for name in names or tuple(list_methods()):
        card = get_card(name)
        params = f"{card.params:,} params" if card.params else "no network"
        weights = ", ".join(card.weights_file_names) or (
            "bring your own file" if card.weights_required else "none needed")
        click.echo(f"{name:16s} {card.title}")
        click.echo(f"{'':16s} {params}; {card.io_summary()}; weights: {weights}")
        if verbose:
            click.echo(f"{'':16s} paper: {card.paper}")
            if card.url:
                click.echo(f"{'':16s} code: {card.url}")
            if card.licence:
                click.echo(f"{'':16s} licence: {card.licence}")
            for w in card.weights:
                click.echo(f"{'':16s} - {w.name}: {w.trained_on}; sha256 {w.sha256}; "
                           f"{w.source}")
            for note in card.notes:
                click.echo(f"{'':16s} * {note}")
