"""Atomic file writes: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike, *, durable: bool = True, suffix: str = ".tmp"
) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that needs a file name (h5py, ...).

    On clean exit the file is fsynced (unless ``durable=False``) and renamed onto
    ``path``; on an exception it is removed and ``path`` is left untouched.
    """
    target = Path(path)
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
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
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
