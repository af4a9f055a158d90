"""The results folder: one sub-folder per (dataset, method, settings), written atomically.

Layout::

    results/<dataset>/<method>/<key>/scores.csv   per-image scores, one row per image
    results/<dataset>/<method>/<key>/run.json     run record (settings, provenance, status)
    results/<dataset>/<method>/<key>/images/      derained images (with --save-images)

``<key>`` is a short hash of every setting that changes a score, so a rerun with other
settings lands in another folder and never mixes rows with an earlier run.

While a run is being scored its writer appends each finished row to
``<scores file>.journal`` (one CSV line, flushed: a process killed at any moment keeps
every row it finished) and rewrites the sorted CSV atomically at checkpoints and at the
end, so that the time spent writing stays linear in the number of images. A run split
into shards (``benchmark run --shard I/N``, :mod:`benchmark.shards`) keeps one part per
shard beside the whole run's files until the parts are merged::

    scores.shard-I-of-N.csv (+ .journal)   rows this shard scored
    run.shard-I-of-N.json                  this shard's record (status of its share)

:func:`load_run` reads a folder as one run whatever state it is in: ``scores.csv``, its
journal and every shard part (merged or not), so tables are right while shards run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from raindata.atomic import atomic_write_text, naming_disk_full
from raindata.errors import DataError

SCORE_COLUMNS = ("psnr", "ssim", "rainmap_psnr", "rainmap_ssim", "lpips", "niqe")
SCORES = "scores.csv"
RECORD = "run.json"
JOURNAL_SUFFIX = ".journal"
_SHARD_FILE = re.compile(r"(?:scores|run)\.shard-(\d+)-of-(\d+)\.(?:csv|csv\.journal|json)")


@dataclass(frozen=True)
class RunSettings:
    """Everything that changes a per-image score; hashed into the run folder name."""

    dataset: str
    data_root: str
    split: str
    method: str
    protocol: str
    quantize: str
    metrics: tuple[str, ...]
    weights_sha256: str | None = None
    method_options: tuple[tuple[str, str], ...] = ()
    lpips_sha256: str | None = None  # the AlexNet backbone LPIPS used, when it ran
    device: str = ""  # cpu / cuda for methods that run a network ("" otherwise)

    def key(self) -> str:
        """A short stable hash of the settings."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:10]


@dataclass
class RunRecord:
    """What ``run.json`` holds."""

    settings: RunSettings
    status: str = "incomplete"  # incomplete | complete | partial
    expected: int = 0
    scored: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    provenance: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, path: Path) -> RunRecord:
        try:
            data = json.loads(text)
            s = data.pop("settings")
            s["metrics"] = tuple(s["metrics"])
            s["method_options"] = tuple(tuple(p) for p in s.get("method_options", ()))
            return cls(settings=RunSettings(**s), **data)
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{path}: not a valid run record ({exc})") from None


def method_dirname(method: str) -> str:
    """Folder name for a method spec (``results:DIR`` -> ``results-<DIR name>``)."""
    if method.startswith("results:"):
        return "results-" + Path(method.split(":", 1)[1]).name
    return method


def run_dir(results: Path, settings: RunSettings) -> Path:
    """The folder that holds the run with these settings."""
    return Path(results) / settings.dataset / method_dirname(settings.method) / settings.key()


def mean_score(values: list[float]) -> float | None:
    """Mean of the finite-or-inf scores (NaN, e.g. NIQE of a flat image, is left out);
    ``inf`` when any image is identical to its reference; None without values."""
    kept = [v for v in values if not math.isnan(v)]
    if not kept:
        return None
    return math.inf if any(math.isinf(v) for v in kept) else float(sum(kept) / len(kept))


def format_value(value: float | None) -> str:
    """CSV text of a score: full precision, ``inf`` for identical images, empty if absent."""
    if value is None:
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(float(value))


def parse_value(text: str) -> float | None:
    return None if text == "" else float(text)


def _cells(row: dict[str, Any]) -> tuple:
    """The CSV cells of one row (the same text in ``scores.csv`` and in a journal)."""
    return (row["index"], row["id"], row["file"],
            *(format_value(row.get(c)) for c in SCORE_COLUMNS))


def write_scores(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write the per-image rows (sorted by their order in the dataset) atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("index", "id", "file", *SCORE_COLUMNS))
    for row in sorted(rows, key=lambda r: r["index"]):
        writer.writerow(_cells(row))
    atomic_write_text(path, buf.getvalue())


def _parse_row(raw: dict[str, str], where: str) -> dict[str, Any]:
    try:
        row: dict[str, Any] = {"index": int(raw["index"]), "id": raw["id"], "file": raw["file"]}
        for col in SCORE_COLUMNS:
            row[col] = parse_value(raw.get(col) or "")
    except (ValueError, TypeError, KeyError) as exc:
        raise DataError(f"{where}: malformed row ({exc})") from None
    return row


def read_scores(path: Path) -> list[dict[str, Any]]:
    """Rows of a ``scores.csv`` (none when it is absent, or was merged away while being
    looked for); a malformed file is an error naming it."""
    try:
        fh = open(path, newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return []
    with fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or tuple(reader.fieldnames[:3]) != ("index", "id", "file"):
            raise DataError(f"{path}: not a scores file (header {reader.fieldnames})")
        return [_parse_row(raw, f"{path}:{line}") for line, raw in enumerate(reader, start=2)]


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Rows appended to a journal; a last line cut short (the writer was killed in the
    middle of it, or the machine lost power) is left out, as if never written."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    text = text[: text.rfind("\n") + 1]  # complete lines only
    header = ("index", "id", "file", *SCORE_COLUMNS)
    rows = []
    for line, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if len(cells) != len(header):
            raise DataError(f"{path}:{line}: malformed row ({len(cells)} cells, "
                            f"expected {len(header)})")
        rows.append(_parse_row(dict(zip(header, cells, strict=True)), f"{path}:{line}"))
    return rows


def merge_rows(*groups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of several sources, one per image (a later source's row wins), by index."""
    by_index: dict[int, dict[str, Any]] = {}
    for rows in groups:
        for row in rows:
            by_index[row["index"]] = row
    return [by_index[i] for i in sorted(by_index)]


class ScoresFile:
    """A scores CSV and its journal, kept by the one process that holds its lock.

    :meth:`recover` reads both (after a kill) and leaves one sorted CSV; :meth:`append`
    adds a finished row to the journal (one line, flushed, so a kill -9 loses no finished
    row); :meth:`checkpoint` rewrites the sorted CSV atomically and empties the journal.
    The CSV is the same bytes whatever order the rows came in and however often it was
    checkpointed.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.journal = self.path.with_name(self.path.name + JOURNAL_SUFFIX)
        self.pending = 0
        """Rows appended since the last checkpoint."""
        self._fh = None

    def read(self) -> list[dict[str, Any]]:
        """The CSV's rows and the journal's, one per image, by index. The journal is read
        first: a checkpoint that lands between the two reads moves its rows into the CSV
        read second, so a reader beside a live writer never misses a finished row."""
        journalled = read_journal(self.journal)
        return merge_rows(read_scores(self.path), journalled)

    def recover(self) -> list[dict[str, Any]]:
        """:meth:`read`, folding a journal left by a killed writer into the CSV."""
        rows = self.read()
        if self.journal.exists():
            if rows:
                write_scores(self.path, rows)
            self.journal.unlink()
        return rows

    def append(self, row: dict[str, Any]) -> None:
        """Add one finished row to the journal."""
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(_cells(row))
        with naming_disk_full(self.journal):
            if self._fh is None:
                self._fh = open(self.journal, "a", encoding="utf-8", newline="")  # noqa: SIM115
            self._fh.write(buf.getvalue())
            self._fh.flush()
        self.pending += 1

    def checkpoint(self, rows: Iterable[dict[str, Any]]) -> None:
        """Write every row to the CSV (atomically), then empty the journal."""
        self.close()
        write_scores(self.path, rows)
        if self.journal.exists():
            self.journal.unlink()
        self.pending = 0

    def close(self) -> None:
        """Close the journal (it stays on disk until the next checkpoint)."""
        if self._fh is not None:
            fh, self._fh = self._fh, None
            fh.close()


def load_record(folder: Path, name: str = RECORD) -> RunRecord | None:
    """The run record ``name`` in ``folder``, or None when there is none (yet)."""
    path = folder / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return RunRecord.from_json(text, path)


def save_record(folder: Path, record: RunRecord, name: str = RECORD) -> None:
    """Write the run record ``name`` in ``folder`` atomically."""
    atomic_write_text(folder / name, record.to_json())


def run_status(scored: int, skipped: int, expected: int) -> str:
    """``complete`` (every image scored), ``partial`` (the rest skipped) or ``incomplete``."""
    if scored + skipped < expected:
        return "incomplete"
    return "partial" if skipped else "complete"


# --- shards -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` of a run: every ``count``-th block of images in dataset
    order, starting at block ``index`` (a block is one image, or ``batch`` images when a
    network batches them, so that every image meets the same batch whichever process
    scores it)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"I/N"`` (0 <= I < N) -> a Shard; a one-line DataError otherwise."""
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if m is None:
            raise DataError(f"--shard {text!r}: expected I/N, e.g. 0/4")
        index, count = int(m.group(1)), int(m.group(2))
        if count < 1 or index >= count:
            hint = " (shards count from 0: a SLURM array is --array=0-N-1)" \
                if index == count else ""
            raise DataError(f"--shard {text}: expected 0 <= I < N{hint}")
        return cls(index, count)

    @property
    def label(self) -> str:
        """``I/N``, as given to ``--shard``."""
        return f"{self.index}/{self.count}"

    @property
    def tag(self) -> str:
        """``shard-I-of-N``, in the names of this shard's files."""
        return f"shard-{self.index}-of-{self.count}"

    @property
    def scores_name(self) -> str:
        """The file of this shard's rows."""
        return f"scores.{self.tag}.csv"

    @property
    def record_name(self) -> str:
        """The file of this shard's record."""
        return f"run.{self.tag}.json"

    def file_names(self) -> tuple[str, ...]:
        """Every file of this shard's part."""
        return (self.scores_name, self.scores_name + JOURNAL_SUFFIX, self.record_name)

    def takes(self, image_index: int, block: int = 1) -> bool:
        """Whether image ``image_index`` (in dataset order) is this shard's."""
        return (image_index // block) % self.count == self.index


def shards_in(folder: Path) -> list[Shard]:
    """The shards with a part (any of its files) in ``folder``, in (count, index) order."""
    found = set()
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    for name in names:
        m = _SHARD_FILE.fullmatch(name)
        if m is not None and int(m.group(1)) < int(m.group(2)):
            found.add(Shard(int(m.group(1)), int(m.group(2))))
    return sorted(found, key=lambda s: (s.count, s.index))


def combine(base: RunRecord | None, parts: list[RunRecord],
            rows: list[dict[str, Any]]) -> RunRecord | None:
    """The whole run's record from ``run.json`` (``base``) and the records of shard parts
    merged into it, given every row of the run. Skipped images that have a row now are
    dropped; seconds add up; provenance is the last part's; ``extra["shards"]`` lists
    the parts merged (shard, status, images scored, seconds, device)."""
    if base is None and not parts:
        return None
    first = base if base is not None else parts[0]
    for part in parts:
        if part.settings != first.settings:
            raise DataError(f"shard {part.extra.get('shard')}: settings differ from the "
                            "run's (hash collision?)")
    out = RunRecord(settings=first.settings, expected=first.expected,
                    unavailable=dict(first.unavailable), seconds=first.seconds,
                    provenance=dict(first.provenance),
                    extra={k: v for k, v in first.extra.items() if k not in ("shard", "images")},
                    skipped=list(first.skipped))
    if base is None:
        out.seconds = 0.0
        out.skipped = []
    merged = list(out.extra.get("shards", []))
    for part in parts:
        out.expected = part.extra.get("images", out.expected)
        out.seconds += part.seconds
        out.skipped += part.skipped
        out.unavailable.update(part.unavailable)
        out.provenance = dict(part.provenance)
        out.extra.update({k: v for k, v in part.extra.items() if k not in ("shard", "images")})
        merged.append({"shard": part.extra.get("shard"), "status": part.status,
                       "scored": part.scored, "seconds": part.seconds,
                       "device": part.provenance.get("device")})
    if merged:
        out.extra["shards"] = merged
    scored_ids = {r["id"] for r in rows}
    skipped: dict[str, dict[str, str]] = {}
    for entry in out.skipped:
        if entry.get("id") not in scored_ids:
            skipped[entry.get("id")] = entry
    out.skipped = list(skipped.values())
    out.scored = len(rows)
    out.seconds = round(out.seconds, 3)
    out.status = run_status(len(rows), len(out.skipped), out.expected)
    return out


def load_run(folder: Path) -> tuple[RunRecord | None, list[dict[str, Any]]]:
    """The run in ``folder`` as one record and its rows (by index): ``run.json`` and
    ``scores.csv`` with its journal, and every shard part not yet merged (read first,
    so that a part merged meanwhile is found in ``scores.csv``)."""
    parts, part_rows = [], []
    for shard in shards_in(folder):
        record = load_record(folder, shard.record_name)
        if record is not None:
            parts.append(record)
        part_rows.append(ScoresFile(folder / shard.scores_name).read())
    rows = merge_rows(ScoresFile(folder / SCORES).read(), *part_rows)
    return combine(load_record(folder), parts, rows), rows


def iter_runs(results: Path):
    """Yield ``(folder, record, rows)`` for every run under ``results`` (:func:`load_run`)."""
    results = Path(results)
    if not results.is_dir():
        raise DataError(f"{results}: results folder not found")
    folders = {p.parent for p in results.glob(f"*/*/*/{RECORD}")}
    folders |= {p.parent for p in results.glob("*/*/*/run.shard-*-of-*.json")}
    for folder in sorted(folders):
        record, rows = load_run(folder)
        if record is not None:
            yield folder, record, rows
