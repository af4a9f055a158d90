"""The explicit registry of dataset layouts: name -> ``"module:attr"``, loaded lazily."""

from __future__ import annotations

import difflib
import importlib

from raindata.errors import DataError
from raindata.layouts.spec import DatasetLayout

#: Every layout the toolkit knows, in the order ``raindata list`` shows them.
ENTRIES: tuple[tuple[str, str], ...] = (
    ("rain100h", "raindata.layouts.rain100:RAIN100H"),
    ("rain100l", "raindata.layouts.rain100:RAIN100L"),
    ("did-data", "raindata.layouts.did:DID_DATA"),
    ("raindirection", "raindata.layouts.raindirection:RAINDIRECTION"),
    ("real3000", "raindata.layouts.real:REAL3000"),
    ("sirr", "raindata.layouts.real:SIRR"),
    ("real200", "raindata.layouts.real:REAL200"),
    ("demo", "raindata.layouts.demo:DEMO"),
    ("paired", "raindata.layouts.generic:PAIRED"),
    ("unpaired", "raindata.layouts.generic:UNPAIRED"),
)


def build(entries: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """A name -> target mapping; a name given twice is an error."""
    table: dict[str, str] = {}
    for name, target in entries:
        if name in table:
            raise ValueError(f"dataset layout {name!r} registered twice ({table[name]}, {target})")
        if target.count(":") != 1:
            raise ValueError(f"layout target must be 'module:attr', got {target!r}")
        table[name] = target
    return table


_TABLE: dict[str, str] | None = None


def table() -> dict[str, str]:
    """The registry (built on first use)."""
    global _TABLE
    if _TABLE is None:
        _TABLE = build(ENTRIES)
    return _TABLE


def register(name: str, target: str) -> None:
    """Add a layout (``"module:attr"``) under a new name; existing names are refused."""
    current = table()
    merged = build((*current.items(), (name, target)))
    current.clear()
    current.update(merged)


def names() -> list[str]:
    """Registered layout names, in registration order."""
    return list(table())


def load(name: str) -> DatasetLayout:
    """Import and return the layout registered as ``name``.

    An unknown name raises :class:`DataError` with the closest registered names.
    """
    targets = table()
    if name not in targets:
        close = difflib.get_close_matches(name.lower(), list(targets), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise DataError(
            f"unknown dataset {name!r}{hint} (known: {', '.join(targets)})"
        )
    module, attr = targets[name].split(":")
    layout = getattr(importlib.import_module(module), attr)
    if not isinstance(layout, DatasetLayout):
        raise TypeError(f"{targets[name]} is not a DatasetLayout")
    if layout.name != name:
        raise ValueError(f"{targets[name]} is named {layout.name!r}, registered as {name!r}")
    return layout
