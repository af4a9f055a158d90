"""Exceptions of the metric layer."""

from __future__ import annotations

from raindata.errors import DataError


class MetricInputError(DataError, ValueError):
    """Images handed to a metric do not fit it (shape, dtype, range, size).

    One line, expected vs got. It is a :class:`DataError` (the command line prints it
    as ``error: ...``) and a :class:`ValueError` (what array code expects).
    """


class MetricUnavailable(RuntimeError):
    """A metric cannot run on this machine (e.g. LPIPS backbone weights are missing).

    The message is one line naming what is missing and where it was looked for. The run
    harness catches it, says so once and leaves the column empty, marked unavailable.
    """
