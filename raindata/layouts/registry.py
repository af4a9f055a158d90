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
    ("rain200h", "raindata.layouts.rain200:RAIN200H"),
    ("rain200l", "raindata.layouts.rain200:RAIN200L"),
    ("rain800", "raindata.layouts.rain800:RAIN800"),
    ("rain1400", "raindata.layouts.rain1400:RAIN1400"),
    ("rain12", "raindata.layouts.rain12:RAIN12"),
    ("rain13k", "raindata.layouts.rain13k:RAIN13K"),
    ("did-data", "raindata.layouts.did:DID_DATA"),
    ("test1200", "raindata.layouts.test1200:TEST1200"),
    ("spa-data", "raindata.layouts.spa:SPA_DATA"),
    ("raindirection", "raindata.layouts.raindirection:RAINDIRECTION"),
    ("real3000", "raindata.layouts.real:REAL3000"),
    ("sirr", "raindata.layouts.real:SIRR"),
    ("real200", "raindata.layouts.real:REAL200"),
    ("div2k", "raindata.layouts.clean_sources:DIV2K"),
    ("flickr2k", "raindata.layouts.clean_sources:FLICKR2K"),
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


def close_names(name: str, known: list[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``known`` close to ``name``, closest first; on equal similarity the
    longer shared prefix wins (``rain100x``: rain100l before rain1400)."""
    word = name.lower()
    close = difflib.get_close_matches(word, known, n=len(known), cutoff=0.5)

    def rank(candidate: str) -> tuple[float, int]:
        ratio = difflib.SequenceMatcher(None, candidate, word).ratio()
        shared = next((i for i, (a, b) in enumerate(zip(candidate, word, strict=False))
                       if a != b), min(len(candidate), len(word)))
        return -ratio, -shared

    return sorted(close, key=rank)[:n]


def load(name: str) -> DatasetLayout:
    """Import and return the layout registered as ``name``.

    An unknown name raises :class:`DataError` with the closest registered names.
    """
    targets = table()
    if name not in targets:
        close = close_names(name, list(targets))
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
