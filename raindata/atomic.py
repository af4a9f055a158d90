"""Atomic file writes: write to a temporary file beside the target, then rename.

A temporary file is named ``.<target name>.<8 random characters><suffix>`` (suffix
``.tmp`` or ``.tmp.h5``) in the target's folder; a process killed mid-write leaves one
behind, which :func:`remove_stale_temps` deletes on the next run of the same command
(under that command's output lock, :mod:`raindata.lock`, so never a live writer's).
A full disk (``ENOSPC``/``EDQUOT``, also when wrapped by torch's zip writer as
``RuntimeError ... unexpected pos``) becomes :class:`DiskFullError`: one line naming the
file being written and the free space left on its filesystem.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from raindata.errors import DataError

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
TEMP_PATTERN = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp(?:\.h5)?")
"""Names of the temporary files :func:`atomic_path` makes (mkstemp's 8 random characters)."""


class DiskFullError(DataError):
    """No space left (or quota exceeded) while writing a file; nothing half-written kept."""


def disk_full_cause(exc: BaseException) -> OSError | None:
    """The ENOSPC/EDQUOT ``OSError`` behind ``exc`` (itself, its cause or context), if any."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in DISK_FULL_ERRNOS:
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


def human_bytes(n: float) -> str:
    """``n`` bytes as ``"512 B"``, ``"1.5 KiB"`` ... ``"3.0 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def free_space(path: str | os.PathLike) -> str:
    """Free space of the filesystem holding ``path`` (its nearest existing folder), as
    ``"1.2 MiB free on /mount"`` (``"free space unknown"`` when it cannot be read)."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        free = shutil.disk_usage(p).free
    except OSError:
        return "free space unknown"
    mount = p if p.is_dir() else p.parent
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    return f"{human_bytes(free)} free on {mount}"


def disk_full_error(path: str | os.PathLike, exc: OSError | None = None) -> DiskFullError:
    """The one-line error for a write of ``path`` that found the disk full."""
    why = "quota exceeded" if exc is not None and exc.errno == errno.EDQUOT else \
        "no space left on device"
    return DiskFullError(f"{path}: {why} while writing it ({free_space(path)}); "
                         "nothing half-written was kept")


@contextlib.contextmanager
def naming_disk_full(path: str | os.PathLike) -> Iterator[None]:
    """Turn a full-disk failure inside the block into :class:`DiskFullError` naming ``path``
    (for writes that do not go through :func:`atomic_path`, e.g. appends to a log)."""
    try:
        yield
    except DataError:
        raise
    except BaseException as exc:
        cause = disk_full_cause(exc)
        if cause is None:
            raise
        raise disk_full_error(path, cause) from None


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike, *, durable: bool = True, suffix: str = ".tmp"
) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that needs a file name (h5py, ...).

    On clean exit the file is fsynced (unless ``durable=False``) and renamed onto
    ``path``; on an exception it is removed and ``path`` is left untouched. A full disk
    raises :class:`DiskFullError` naming ``path`` (after the temporary file is removed).
    """
    target = Path(path)
    with naming_disk_full(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
        os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        yield Path(tmp)
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        cause = None if isinstance(exc, DataError) else disk_full_cause(exc)
        if cause is not None:
            raise disk_full_error(target, cause) from None
        raise


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike, mode: str = "w", *, durable: bool = True, **kwargs
) -> Iterator[IO]:
    """Open a temporary file next to ``path``; on clean exit, rename it onto ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched,
    so readers never see a half-written file. ``durable=False`` skips the fsync
    before the rename (still atomic for readers and after a crash of the process,
    but not guaranteed after a power loss): for bulk outputs whose content is
    verified by hash before reuse.
    """
    with atomic_path(path, durable=False) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh
        fh.flush()
        if durable:
            os.fsync(fh.fileno())


@functools.cache
def _umask() -> int:
    """The process umask (read once: reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open` for ``durable``)."""
    with atomic_open(path, "wb", durable=durable) as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def remove_stale_temps(folder: str | os.PathLike, names: Iterable[str] | None = None) -> list[Path]:
    """Delete the temporary files :func:`atomic_path` left in ``folder`` (a killed run's).

    Only files named like ours (``.<name>.<8 random>.tmp[.h5]``), and with ``names`` only
    those of these target names. Call it only while holding the lock of the output they
    belong to (:mod:`raindata.lock`), so that no live writer's file is removed. Returns
    the paths removed.
    """
    wanted = None if names is None else set(names)
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for p in entries:
        m = TEMP_PATTERN.fullmatch(p.name)
        if m is None or (wanted is not None and m.group("name") not in wanted):
            continue
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            if not p.is_symlink() and p.is_file():
                p.unlink()
                removed.append(p)
    return removed


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of a byte string."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
