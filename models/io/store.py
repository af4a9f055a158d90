"""Where released weights are looked for: the weights search path and the catalogue.

The **search path** (:func:`search_path`), in order:

1. folders given explicitly (``benchmark weights list --dir DIR``);
2. ``$DERAIN_WEIGHTS_DIR``: one or several folders, separated by ``os.pathsep`` (``:``);
3. the toolkit's cache, where ``benchmark weights fetch`` puts files:
   ``$DERAIN_WEIGHTS_CACHE``, else ``$XDG_CACHE_HOME/derain-toolkit/weights``, else
   ``~/.cache/derain-toolkit/weights``;
4. torch's hub cache, ``torch.hub.get_dir()/checkpoints`` (``$TORCH_HOME/hub/checkpoints``),
   where torchvision keeps its files (LPIPS's AlexNet);
5. the folder of weights bundled with the package (``models/weights/``: UDRDR's demo F3).

In each folder a weights file ``<method>/<name>`` is looked for as ``<method>/<name>``
(the layout ``fetch`` writes), as ``<name>`` (a flat folder such as torch's cache), and in
the layout of this project's test data (``<folder>/<name>`` and ``<last part of
folder>/<name>``, so that ``$DERAIN_WEIGHTS_DIR`` may point at ``../shared/data`` or at
one of its sub-folders). For a TensorFlow checkpoint ``<name>`` is the prefix and every
file of it must be there. A copy counts only when its sha256 is the released one (hashes
are cached by path, size and modification time); one that differs is reported, never used.

Nothing here downloads (:mod:`models.io.fetch` does, when asked). Importing this module is
light; :func:`hub_checkpoints` imports torch.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from models.cards import MethodCard, WeightsFile, sha256_matches
from raindata.errors import DataError

WEIGHTS_DIR_ENV = "DERAIN_WEIGHTS_DIR"
"""Folders searched before the cache (``os.pathsep``-separated)."""
CACHE_ENV = "DERAIN_WEIGHTS_CACHE"
"""The cache folder ``benchmark weights fetch`` writes to by default."""

METRIC_WEIGHTS: tuple[str, ...] = ("benchmark.metrics.lpips_metric:ALEXNET_WEIGHTS",)
"""Weights files of metrics (``"module:attr"``, loaded lazily), after the methods' own."""


@dataclass(frozen=True)
class Folder:
    """One entry of the search path and why it is there."""

    path: Path
    origin: str
    """``--dir``, ``$DERAIN_WEIGHTS_DIR``, ``cache``, ``torch hub`` or ``bundled``."""

    def describe(self) -> str:
        return f"{self.path} ({self.origin}{'' if self.path.is_dir() else ', absent'})"


@dataclass(frozen=True)
class Found:
    """A copy of a weights file on the search path."""

    path: Path
    """What to give as ``weights``: the file, or a TensorFlow checkpoint's prefix."""
    digest: str
    """sha256 of the file that identifies it (TensorFlow: the data shard)."""
    ok: bool
    """Whether ``digest`` is the released one (a copy that is not is never used)."""


# -- the search path -------------------------------------------------------------------
def cache_dir() -> Path:
    """The toolkit's weights cache (``$DERAIN_WEIGHTS_CACHE`` or the XDG cache folder)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "derain-toolkit" / "weights"


def hub_checkpoints() -> Path:
    """torch's hub cache of downloaded checkpoints (where torchvision looks)."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def bundled_dir() -> Path:
    """The weights shipped inside the package (``models/weights/``)."""
    return Path(str(resources.files("models") / "weights"))


def env_dirs() -> list[Path]:
    """The folders named by ``$DERAIN_WEIGHTS_DIR`` (empty entries ignored)."""
    text = os.environ.get(WEIGHTS_DIR_ENV, "")
    return [Path(p).expanduser() for p in text.split(os.pathsep) if p.strip()]


def search_path(explicit: Iterable[str | os.PathLike] = ()) -> list[Folder]:
    """The folders searched, in order (see the module docstring); duplicates dropped."""
    entries = [(Path(p).expanduser(), "--dir") for p in explicit]
    entries += [(p, f"${WEIGHTS_DIR_ENV}") for p in env_dirs()]
    entries += [(cache_dir(), "cache"), (hub_checkpoints(), "torch hub"),
                (bundled_dir(), "bundled")]
    out: list[Folder] = []
    for path, origin in entries:
        path = path.absolute()
        if all(f.path != path for f in out):
            out.append(Folder(path, origin))
    return out


def describe_path(folders: Sequence[Folder]) -> str:
    """The search path in one line."""
    return "; ".join(f.describe() for f in folders)


# -- looking for one file --------------------------------------------------------------
def candidates(w: WeightsFile, folder: Path) -> list[Path]:
    """Where ``w`` may be in ``folder`` (file, or TensorFlow prefix), in order."""
    subs = [w.method, ""]
    if w.folder:
        subs += [w.folder, Path(w.folder).name]
    out: list[Path] = []
    for sub in subs:
        p = folder / sub / w.name if sub else folder / w.name
        if p not in out:
            out.append(p)
    return out


def _identifying_name(w: WeightsFile) -> str:
    """The file whose sha256 identifies ``w`` (TensorFlow: the data shard)."""
    for f in w.files:
        if f.sha256 == w.sha256:
            return f.name
    return w.name


@lru_cache(maxsize=256)
def _cached_digest(path: str, size: int, mtime_ns: int) -> str:
    from raindata.atomic import sha256_file

    return sha256_file(path)


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file, cached by path, size and modification time."""
    st = os.stat(path)
    return _cached_digest(str(Path(path).absolute()), st.st_size, st.st_mtime_ns)


def copies(w: WeightsFile, folders: Sequence[Folder]) -> list[Found]:
    """Every copy of ``w`` on the search path, in search order (matching or not)."""
    names = [f.name for f in w.files] or [w.name]
    ident = _identifying_name(w)
    out: list[Found] = []
    for folder in folders:
        if not folder.path.is_dir():
            continue
        for p in candidates(w, folder.path):
            parent = p.parent
            if not all((parent / n).is_file() for n in names):
                continue
            digest = file_digest(parent / ident)
            if all(c.path != p for c in out):
                out.append(Found(p, digest, sha256_matches(w.sha256, digest)))
    return out


def locate(w: WeightsFile, folders: Sequence[Folder] | None = None) -> Found | None:
    """The first copy of ``w`` with the released sha256 on the search path, or None."""
    for found in copies(w, search_path() if folders is None else folders):
        if found.ok:
            return found
    return None


def find_released(card: MethodCard, folders: Sequence[Folder] | None = None) -> Found | None:
    """The weights ``create_model(card.name)`` uses when none are given: the first of the
    card's released files, in card order, found on the search path (None: none is)."""
    folders = search_path() if folders is None else folders
    for w in card.weights:
        found = locate(w, folders)
        if found is not None:
            return found
    return None


# -- the catalogue ---------------------------------------------------------------------
def catalogue() -> list[WeightsFile]:
    """Every weights file a registered method (registry order) or metric knows."""
    from models.registry import get_card, list_methods, load_target

    files = [w for name in list_methods() for w in get_card(name).weights]
    files += [load_target(target) for target in METRIC_WEIGHTS]
    keys = [w.key for w in files]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ValueError(f"weights registered twice: {', '.join(dup)}")
    return files


def fetch_name(w: WeightsFile, files: Sequence[WeightsFile] | None = None) -> str:
    """The shortest name ``benchmark weights fetch`` takes for ``w``: its file name when
    no other weights file has it, else ``<method>/<name>``."""
    files = catalogue() if files is None else files
    return w.name if sum(f.name == w.name for f in files) == 1 else w.key


def fetch_command(w: WeightsFile) -> str:
    """The command that downloads ``w``."""
    return f"benchmark weights fetch {fetch_name(w)}"


def select(names: Iterable[str], files: Sequence[WeightsFile] | None = None) -> list[WeightsFile]:
    """The weights files named: ``<method>/<name>``, a file name no other file has, or a
    method (or metric) name for all of its files. DataError for an unknown or ambiguous
    name (with the close matches)."""
    files = catalogue() if files is None else files
    chosen: list[WeightsFile] = []
    for name in names:
        hits = [w for w in files if name in (w.key, w.name)] or \
            [w for w in files if w.method == name]
        if not hits:
            known = sorted({fetch_name(w, files) for w in files} | {w.method for w in files})
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise DataError(f"no released weights named {name!r}{hint} (see `benchmark "
                            "weights list`)")
        if name not in {w.method for w in hits} and len(hits) > 1:
            raise DataError(f"{name!r} names several weights files: "
                            f"{', '.join(w.key for w in hits)}; give one of these")
        chosen += [w for w in hits if w not in chosen]
    return chosen


def missing_message(card: MethodCard, folders: Sequence[Folder] | None = None) -> str:
    """The one line for ``card`` needing weights that are not on the search path."""
    fetchable = [w for w in card.weights if w.files]
    if not fetchable:
        files = ", ".join(card.weights_file_names) or "none released"
        return f"method {card.name!r} needs weights: pass --weights PATH (official files: {files})"
    folders = search_path() if folders is None else folders
    names = ", ".join(w.name for w in fetchable)
    return (f"method {card.name!r} needs weights: none of its released files ({names}) is "
            f"on the weights search path; fetch one with `{fetch_command(fetchable[0])}` "
            f"or pass --weights PATH (searched: "
            f"{', '.join(str(f.path) for f in folders)})")
