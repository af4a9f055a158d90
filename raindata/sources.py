"""Image sources named on the command line: ``NAME:ROOT[:SPLIT]`` or a plain folder.

``NAME:ROOT[:SPLIT]`` is a dataset read through its layout (:mod:`raindata.layouts`):
one split, or every split found under ``ROOT``. Anything that is an existing folder
is a plain folder: every image file under it, at any depth (links to folders are not
followed). :func:`list_items` turns either into :class:`Item` s, one per sample, with
the file whose content stands for the sample (its clean image where there is one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from raindata.errors import DataError
from raindata.imageio import is_image_file
from raindata.layouts import find_samples, get_layout
from raindata.layouts.scan import natural_key

SPLITS = ("train", "test", "val")
#: Role of the files of a plain folder.
FOLDER_ROLE = "image"


@dataclass(frozen=True)
class Source:
    """A dataset (``name`` set) or a plain folder (``name`` None), as the user named it."""

    text: str
    root: Path
    name: str | None = None
    split: str | None = None

    @property
    def label(self) -> str:
        """How reports name it: the text as given."""
        return self.text


@dataclass(frozen=True)
class Item:
    """One sample of a source: its files (role, path) and which role stands for it.

    ``key`` is the role whose image is compared for near-duplicates: ``clean`` where
    there is a clean image, else the rainy (or plain) image; ``side_by_side`` marks
    DID-Data files whose right half is the clean image.
    """

    split: str
    id: str
    files: tuple[tuple[str, Path], ...]
    key: str
    side_by_side: bool = False

    def path(self, role: str) -> Path:
        """The file of ``role``."""
        return dict(self.files)[role]


def parse_source(text: str) -> Source:
    """Parse ``NAME:ROOT[:SPLIT]`` or a plain folder; a bad one is a one-line DataError."""
    if not text:
        raise DataError("empty source: expected NAME:ROOT[:SPLIT] or a folder")
    if Path(text).is_dir():
        return Source(text, Path(text))
    name, sep, rest = text.partition(":")
    if not sep:
        if Path(text).exists():
            raise DataError(f"{text}: not a folder (expected NAME:ROOT[:SPLIT] or a folder)")
        raise DataError(f"{text}: no such folder (expected NAME:ROOT[:SPLIT] or a folder)")
    layout = get_layout(name)  # unknown names: DataError with the close matches
    root, split = rest, None
    head, sep2, tail = rest.rpartition(":")
    if sep2 and tail in SPLITS and not Path(rest).exists():
        root, split = head, tail
    elif sep2 and not Path(rest).exists():
        raise DataError(f"{text}: unknown split {tail!r} (expected one of: {', '.join(SPLITS)})")
    if not root:
        raise DataError(f"{text}: no ROOT folder after {name}:")
    return Source(text, Path(root), layout.name, split)


def _folder_items(root: Path) -> list[Item]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for n in names:
            p = Path(folder) / n
            if is_image_file(p) and not n.startswith("."):
                found.append(p)
    found.sort(key=lambda p: natural_key(p.relative_to(root).as_posix()))
    return [Item("", p.relative_to(root).as_posix(), ((FOLDER_ROLE, p),), FOLDER_ROLE)
            for p in found]


def list_items(source: Source) -> list[Item]:
    """Every sample of ``source`` (see :class:`Item`); an empty source is a DataError."""
    if source.name is None:
        items = _folder_items(source.root)
        if not items:
            raise DataError(f"{source.root}: no image files in this folder")
        return items
    items = []
    for s in find_samples(source.name, source.root, source.split):
        files = tuple((role, p) for role in ("rainy", "clean") if (p := getattr(s, role)))
        key = "clean" if s.clean is not None or s.side_by_side else "rainy"
        items.append(Item(s.split, s.id, files, key, s.side_by_side))
    if not items:
        raise DataError(f"{source.text}: no samples found")
    return items
