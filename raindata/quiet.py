"""Keep image decoders from writing to stderr while the toolkit reads a file.

libpng prints ``libpng warning: ...`` / ``libpng error: ...`` straight to file
descriptor 2, and OpenCV logs ``[ WARN:0@...]`` lines there, beside the one-line
``error:`` the command prints for a bad file. :func:`quiet_decoders` wraps a decode:
while one or more decodes run, fd 2 is a pipe read by a thread that forwards every
byte that is not decoder chatter to the real stderr at once (so other output, such as
a progress bar, is neither lost nor delayed) and drops the chatter lines. The
redirection is undone when the last decode ends, and in a child forked meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator

#: Lines that image decoders write on their own (dropped while a decode runs).
CHATTER = re.compile(
    rb"^(?:libpng (?:warning|error)|\[ ?(?:WARN|ERROR|INFO|DEBUG|VERBOSE)[:\]]|"
    rb"Corrupt JPEG data|Premature end of JPEG file|Invalid SOS parameters|"
    rb"Unsupported marker type|Bogus marker length|TIFF[A-Za-z]*: )"
)
_PREFIXES = (b"libpng ", b"[ WARN", b"[WARN", b"[ERROR", b"[ INFO", b"[ DEBUG", b"Corrupt JPEG",
             b"Premature end", b"Invalid SOS", b"Unsupported marker", b"Bogus marker", b"TIFF")


def _may_be_chatter(partial: bytes) -> bool:
    """Whether an unfinished line could still turn out to be chatter (keep it for now)."""
    return any(p.startswith(partial[: len(p)]) for p in _PREFIXES)


def _forward(read_fd: int, out_fd: int) -> None:
    """Copy ``read_fd`` to ``out_fd`` until end of file, leaving out chatter lines."""
    pending = b""
    dropped = False  # the last complete line was chatter
    try:
        while chunk := os.read(read_fd, 65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            keep = b""
            for line in lines:
                # decoders in two threads can interleave a message and its newline: an
                # empty line right after chatter is part of it
                if CHATTER.match(line) or (dropped and not line):
                    dropped = True
                    continue
                dropped = False
                keep += line + b"\n"
            if pending and not _may_be_chatter(pending):
                keep, pending = keep + pending, b""
                dropped = False  # its newline, when it comes, belongs to this text
            if keep:
                _write_all(out_fd, keep)
        if pending and not CHATTER.match(pending):
            _write_all(out_fd, pending)
    except OSError:
        pass
    finally:
        os.close(read_fd)
        os.close(out_fd)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def _flush_python_stderr() -> None:
    for stream in (sys.stderr, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()


class _Filter:
    """Reference-counted redirection of fd 2 through a filtering pipe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved: int | None = None  # the real stderr while redirected
        self.thread: threading.Thread | None = None
        self.read_fd: int | None = None
        self.log = None  # cv2.utils.logging while silenced, and its previous level
        self.level = None

    def enter(self, log=None) -> None:
        with self.lock:
            if self.depth == 0:
                self._start()
                self._silence(log)
            self.depth += 1

    def exit(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                if self.log is not None:
                    with contextlib.suppress(Exception):
                        self.log.setLogLevel(self.level)
                self.log = self.level = None
                self._stop()

    def _silence(self, log) -> None:
        """Silence OpenCV's logger (``cv2.utils.logging``) until the last decode ends."""
        if log is None:
            return
        with contextlib.suppress(Exception):
            self.level = log.getLogLevel()
            log.setLogLevel(log.LOG_LEVEL_SILENT)
            self.log = log

    def _start(self) -> None:
        global _FORK_HOOKED
        if not _FORK_HOOKED and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=lambda: _FILTER.after_fork_in_child())
            _FORK_HOOKED = True
        try:
            saved = os.dup(2)
        except OSError:  # no stderr to protect
            return
        _flush_python_stderr()
        read_fd, write_fd = os.pipe()
        out_fd = os.dup(saved)  # the thread's own copy; it closes it at the end
        os.dup2(write_fd, 2)
        os.close(write_fd)
        thread = threading.Thread(target=_forward, args=(read_fd, out_fd),
                                  name="raindata-stderr-filter", daemon=True)
        thread.start()
        self.saved, self.thread, self.read_fd = saved, thread, read_fd

    def _stop(self) -> None:
        if self.saved is None:
            return
        _flush_python_stderr()
        os.dup2(self.saved, 2)  # closes the pipe's last write end: the thread drains and ends
        os.close(self.saved)
        if self.thread is not None:
            self.thread.join(timeout=1)
        self.saved = self.thread = self.read_fd = None

    def after_fork_in_child(self) -> None:
        """A child forked during a decode gets the real stderr back and no shared state."""
        if self.log is not None:
            with contextlib.suppress(Exception):
                self.log.setLogLevel(self.level)
        if self.saved is not None:
            with contextlib.suppress(OSError):
                os.dup2(self.saved, 2)
            for fd in (self.saved, self.read_fd):
                with contextlib.suppress(OSError, TypeError):
                    os.close(fd)
        self.__init__()


_FILTER = _Filter()
_FORK_HOOKED = False


_DECODE_LOCK = threading.RLock()
"""Decodes run one at a time per process: a C decoder writes each message in several
pieces (text, then newline), and two decoders in two threads would interleave them
beyond any filter's repair."""


@contextlib.contextmanager
def quiet_decoders(cv2=None) -> Iterator[None]:
    """Drop decoder chatter from stderr (and silence OpenCV's log) inside the block.

    The blocks of all threads are serialized (:data:`_DECODE_LOCK`), so decoder messages
    never interleave with each other; everything else written to stderr meanwhile is
    forwarded unchanged (only text that another thread writes in the instant between a
    decoder's message and its newline could be taken for part of that message).
    Re-entrant.
    """
    with _DECODE_LOCK:
        _FILTER.enter(getattr(getattr(cv2, "utils", None), "logging", None))
        try:
            yield
        finally:
            _FILTER.exit()
