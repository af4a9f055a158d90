"""One writer per output: an exclusive lock file naming its owner.

Every command that writes a folder (``raindata synth``, ``udrdr train``, ``udrdr
derain``, ``benchmark run``) holds ``OUT/.lock`` while it works; ``raindata pack``, which
writes one file, holds ``.<file name>.lock`` beside it. The lock file holds one JSON line
naming the owner: ``{"pid", "host", "command", "since"}``.

Exclusion is ``fcntl.flock`` on that file, which the kernel drops when the owner's
process ends, however it ends: a lock file left behind by a killed process (kill -9, a
power cut) is stale - its flock is free - and the next writer takes it over. The owner
removes the file when it is done (also on exceptions and Ctrl-C). On a filesystem
without flock the owner's pid decides: a lock whose pid is dead on this host is
taken over, any other is respected.

A second writer is refused with :class:`LockedError`, one line naming the holder; with
``wait=True`` it waits for the holder to finish instead (``benchmark run``, whose second
identical run then finds the work done).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from raindata.atomic import naming_disk_full
from raindata.errors import DataError

LOCK_NAME = ".lock"
"""The lock file of a folder output."""
_NO_FLOCK = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL})


class LockedError(DataError):
    """The output is locked by another live process (one line naming it)."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock, as written in its lock file."""

    pid: int | None
    host: str
    command: str
    since: str

    def describe(self) -> str:
        """``pid 123 on host, since 2024-05-01T12:00:00+02:00 (udrdr train ...)``."""
        if self.pid is None:
            return "another process (its lock file names no owner yet)"
        cmd = f" ({self.command})" if self.command else ""
        return f"pid {self.pid} on {self.host}, since {self.since}{cmd}"

    def alive_here(self) -> bool:
        """Whether this owner is a running process on this host (unknown hosts: True)."""
        if self.pid is None or self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _command_line(limit: int = 200) -> str:
    argv = [Path(sys.argv[0]).name if sys.argv else "python", *sys.argv[1:]]
    text = " ".join(argv)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_holder(path: str | os.PathLike) -> Holder | None:
    """The owner written in a lock file (None when there is no such file)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError):
        text = ""
    try:
        data = json.loads(text)
        return Holder(int(data["pid"]), str(data["host"]), str(data.get("command", "")),
                      str(data.get("since", "?")))
    except (ValueError, KeyError, TypeError):
        return Holder(None, "", "", "")


class OutputLock:
    """An exclusive lock on the output ``target`` through the lock file ``path``.

    Use as a context manager (:func:`lock_folder`, :func:`lock_file`). Folders missing on
    the way to ``path`` are created, and removed again on release when still empty (a run
    that wrote nothing leaves nothing). ``stale`` is the previous owner when its lock was
    taken over, else None.
    """

    def __init__(self, path: str | os.PathLike, target: str | os.PathLike, *,
                 wait: bool = False, on_wait: Callable[[Holder], None] | None = None,
                 poll: float = 0.5) -> None:
        self.path, self.target = Path(path), Path(target)
        self.wait, self.on_wait, self.poll = wait, on_wait, poll
        self.stale: Holder | None = None
        self._fd: int | None = None
        self._created: list[Path] = []

    # -- acquiring ------------------------------------------------------------------
    def _mkdirs(self) -> None:
        missing = []
        p = self.path.parent
        while not p.exists() and p != p.parent:
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            with contextlib.suppress(FileExistsError):
                d.mkdir()
                self._created.append(d)
        if not self.path.parent.is_dir():
            raise DataError(f"{self.path.parent}: exists and is not a folder")

    def _open(self) -> int:
        with naming_disk_full(self.path):
            self._mkdirs()
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def _refuse(self, holder: Holder | None) -> LockedError:
        who = holder.describe() if holder is not None else "another process"
        if holder is not None and not holder.alive_here():
            who += ", which is gone but left a child process holding the lock"
        return LockedError(f"{self.target}: in use by {who}; wait for it to finish or choose "
                           "another output")

    def _holder_written(self) -> Holder | None:
        """The holder's details; a lock taken a moment ago may not have them yet."""
        holder = read_holder(self.path)
        for _ in range(10):
            if holder is None or holder.pid is not None:
                break
            time.sleep(0.05)
            holder = read_holder(self.path)
        return holder

    def acquire(self) -> OutputLock:
        """Take the lock (waiting with ``wait``); LockedError naming the holder otherwise."""
        said = False
        while True:
            fd = self._open()
            try:
                mode = fcntl.LOCK_EX if self.wait and said else fcntl.LOCK_EX | fcntl.LOCK_NB
                try:
                    fcntl.flock(fd, mode)
                except BlockingIOError:
                    holder = self._holder_written()
                    if not self.wait:
                        raise self._refuse(holder) from None
                    if self.on_wait is not None and holder is not None:
                        self.on_wait(holder)
                    said = True
                    os.close(fd)
                    continue
                except OSError as exc:
                    if exc.errno not in _NO_FLOCK:
                        raise
                    holder = read_holder(self.path)  # no flock here: the pid decides
                    if holder is not None and holder.pid not in (None, os.getpid()) \
                            and holder.alive_here():
                        if not self.wait:
                            raise self._refuse(holder) from None
                        if self.on_wait is not None and not said:
                            self.on_wait(holder)
                        said = True
                        os.close(fd)
                        time.sleep(self.poll)
                        continue
                # The file may have been removed (by its releasing owner) between our
                # open and our flock: then the lock we hold is on a dead inode; retry.
                try:
                    same = os.path.samestat(os.fstat(fd), os.stat(self.path))
                except FileNotFoundError:
                    same = False
                if not same:
                    os.close(fd)
                    continue
                previous = read_holder(self.path)
                if previous is not None and previous.pid is not None:
                    self.stale = previous
                self._write_owner(fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.close(fd)
                raise
            self._fd = fd
            return self

    def _write_owner(self, fd: int) -> None:
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": _command_line(),
                 "since": datetime.now().astimezone().isoformat(timespec="seconds")}
        data = (json.dumps(owner) + "\n").encode()
        with naming_disk_full(self.path):
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)

    # -- releasing ------------------------------------------------------------------
    def release(self) -> None:
        """Remove the lock file (when it is still ours) and drop the lock."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            with contextlib.suppress(OSError):
                if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                    os.unlink(self.path)
        finally:
            os.close(fd)
        for d in reversed(self._created):  # deepest first; only folders still empty
            with contextlib.suppress(OSError):
                d.rmdir()
        self._created = []

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_folder(folder: str | os.PathLike, *, wait: bool = False,
                on_wait: Callable[[Holder], None] | None = None) -> OutputLock:
    """The lock of an output folder: ``FOLDER/.lock`` (the folder is created if missing)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder}: exists and is not a folder")
    return OutputLock(folder / LOCK_NAME, folder, wait=wait, on_wait=on_wait)


def lock_file(path: str | os.PathLike, *, wait: bool = False,
              on_wait: Callable[[Holder], None] | None = None) -> OutputLock:
    """The lock of an output file: ``.<name>.lock`` beside it."""
    path = Path(path)
    return OutputLock(path.parent / f".{path.name}.lock", path, wait=wait, on_wait=on_wait)
