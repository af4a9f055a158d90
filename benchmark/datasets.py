"""Benchmark view of the dataset layouts: where a dataset lives and how it is scored."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from raindata.errors import DataError

#: Protocol the paper reports per dataset (Sec. 4.3: Y channel, except RGB for DID-Data).
DEFAULT_PROTOCOL = {"did-data": "rgb"}
FALLBACK_PROTOCOL = "y-matlab"


@dataclass(frozen=True)
class BenchDataset:
    """A dataset as the benchmark sees it."""

    name: str
    root: Path
    split: str
    paired: bool
    protocol: str


def resolve_root(name: str, data_root: str | os.PathLike | None) -> Path:
    """``--data-root`` if given, else ``$RAINDATA_ROOT/<name>``, else ``./data/<name>``."""
    if data_root is not None:
        root = Path(data_root)
    elif os.environ.get("RAINDATA_ROOT"):
        root = Path(os.environ["RAINDATA_ROOT"]) / name
    else:
        root = Path("data") / name
    if not root.is_dir():
        raise DataError(
            f"{root}: dataset folder for {name!r} not found "
            "(pass --data-root DIR or set RAINDATA_ROOT)"
        )
    return root


def open_dataset(
    name: str,
    data_root: str | os.PathLike | None = None,
    split: str = "test",
    protocol: str | None = None,
) -> BenchDataset:
    """Look ``name`` up in the layout registry and settle its root, split and protocol."""
    from raindata.layouts import get_layout

    layout = get_layout(name)
    root = resolve_root(name, data_root)
    return BenchDataset(
        name=name,
        root=root.resolve(),
        split=split,
        paired=layout.split_paired(split),
        protocol=protocol or DEFAULT_PROTOCOL.get(name, FALLBACK_PROTOCOL),
    )
