"""Per-step CSV training log: step, epoch, learning rates, every weighted loss term, time.

Columns (:data:`COLUMNS`): ``step`` (1-based, the step just taken), ``epoch`` (0-based),
``lr_teacher``, ``lr_student``, the six weighted terms of :data:`models.losses.TERM_NAMES`
(weight x term; empty when the term is disabled by a zero weight), ``teacher`` (sum of
the teacher terms), ``student`` (the weighted distillation term), ``total`` (their sum,
the paper's overall objective), ``seconds`` (wall time of the step) and ``elapsed``
(seconds since the session started). Under DDP the loss values are the mean over ranks.

Each row is appended as one complete line with a single write and flushed, so a crash
leaves at most the rows written so far; on ``--resume`` rows after the checkpoint's
step are dropped (the file is rewritten atomically) before training continues.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping
from pathlib import Path

from models.losses import TERM_NAMES
from raindata.atomic import atomic_write_text
from raindata.errors import DataError

LOG_NAME = "train_log.csv"
COLUMNS: tuple[str, ...] = ("step", "epoch", "lr_teacher", "lr_student", *TERM_NAMES,
                            "teacher", "student", "total", "seconds", "elapsed")


def _format(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


class StepLog:
    """Append-only CSV log with a fixed header (default: the step columns above)."""

    def __init__(self, path: str | os.PathLike, columns: tuple[str, ...] = COLUMNS) -> None:
        self.path = Path(path)
        self.columns = columns
        header = ",".join(columns)
        if self.path.exists():
            with open(self.path, encoding="utf-8", newline="") as fh:
                first = fh.readline().rstrip("\r\n")
            if first != header:
                raise DataError(f"{self.path}: log header differs from this toolkit's "
                                f"({first[:60]!r}...); move the file away")
        else:
            atomic_write_text(self.path, header + "\n")

    def append(self, row: Mapping[str, object]) -> None:
        """Write one row (missing columns stay empty); unknown columns raise ValueError."""
        extra = set(row) - set(self.columns)
        if extra:
            raise ValueError(f"unknown log columns {sorted(extra)}; known: {list(self.columns)}")
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(
            [_format(row.get(c)) for c in self.columns])
        with open(self.path, "a", encoding="utf-8", newline="") as fh:
            fh.write(buf.getvalue())
            fh.flush()

    def truncate_after(self, step: int) -> int:
        """Drop rows whose step is > ``step`` (rewritten atomically); returns rows dropped."""
        rows = read_log(self.path)
        keep = [r for r in rows if int(r["step"]) <= step]
        if len(keep) == len(rows):
            return 0
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(keep)
        atomic_write_text(self.path, buf.getvalue())
        return len(rows) - len(keep)


def read_log(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a training log as dicts of strings (a truncated last line is skipped)."""
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    return list(csv.DictReader(io.StringIO(text)))
