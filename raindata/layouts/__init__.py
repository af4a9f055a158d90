"""Public dataset layouts: which files make a sample, paired by name, never by sort order.

>>> from raindata.layouts import list_datasets, find_samples, load_pair
>>> samples = find_samples("rain100l", "../shared/data/rain100l_test")  # doctest: +SKIP
>>> rainy, clean = load_pair(samples[0])                                 # doctest: +SKIP

Importing this package is cheap (no numpy, no OpenCV); images are read on use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from raindata.layouts.registry import load as _load
from raindata.layouts.registry import names as _names
from raindata.layouts.spec import (
    DatasetLayout,
    Detection,
    Pattern,
    Sample,
    SplitLayout,
    SplitLocation,
    SplitSpec,
    Variant,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DatasetLayout",
    "Detection",
    "Pattern",
    "Sample",
    "SplitLayout",
    "SplitLocation",
    "SplitSpec",
    "Variant",
    "detect",
    "find_samples",
    "get_layout",
    "list_datasets",
    "load_pair",
]


def list_datasets() -> list[str]:
    """Names of every registered layout, in the order ``raindata list`` shows them."""
    return _names()


def get_layout(name: str) -> DatasetLayout:
    """The layout called ``name``; an unknown name raises DataError with close matches."""
    return _load(name)


def detect(name: str, root: str | os.PathLike, split: str | None = None) -> Detection:
    """Which variant of dataset ``name`` the folder ``root`` holds, and where its splits are."""
    return get_layout(name).detect(root, split)


def find_samples(name: str, root: str | Path, split: str | None = None) -> list[Sample]:
    """Every sample of ``name`` under ``root`` (one split, or all splits found).

    Files are paired by the id in their names, never by sort order. Missing partners,
    extra or misnamed files raise :class:`~raindata.errors.DataError` naming them.
    """
    return get_layout(name).samples(root, split)


def load_pair(sample: Sample) -> tuple[np.ndarray, np.ndarray | None]:
    """uint8 RGB ``(rainy, clean)``; clean is None without reference; DID files are split."""
    from raindata.layouts.load import load_pair as _load_pair

    return _load_pair(sample)
