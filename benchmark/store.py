"""The results folder: one sub-folder per (dataset, method, settings), written atomically.

Layout::

    results/<dataset>/<method>/<key>/scores.csv   per-image scores, one row per image
    results/<dataset>/<method>/<key>/run.json     run record (settings, provenance, status)
    results/<dataset>/<method>/<key>/images/      derained images (with --save-images)

``<key>`` is a short hash of every setting that changes a score, so a rerun with other
settings lands in another folder and never mixes rows with an earlier run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from raindata.atomic import atomic_write_text
from raindata.errors import DataError

SCORE_COLUMNS = ("psnr", "ssim", "rainmap_psnr", "rainmap_ssim", "lpips", "niqe")


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


def write_scores(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write the per-image rows (sorted by their order in the dataset) atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("index", "id", "file", *SCORE_COLUMNS))
    for row in sorted(rows, key=lambda r: r["index"]):
        writer.writerow(
            (row["index"], row["id"], row["file"],
             *(format_value(row.get(c)) for c in SCORE_COLUMNS))
        )
    atomic_write_text(path, buf.getvalue())


def read_scores(path: Path) -> list[dict[str, Any]]:
    """Rows of a ``scores.csv``; a malformed file is an error naming it."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or tuple(reader.fieldnames[:3]) != ("index", "id", "file"):
            raise DataError(f"{path}: not a scores file (header {reader.fieldnames})")
        rows = []
        for line, raw in enumerate(reader, start=2):
            try:
                row: dict[str, Any] = {
                    "index": int(raw["index"]), "id": raw["id"], "file": raw["file"]
                }
                for col in SCORE_COLUMNS:
                    row[col] = parse_value(raw.get(col) or "")
            except (ValueError, TypeError) as exc:
                raise DataError(f"{path}:{line}: malformed row ({exc})") from None
            rows.append(row)
    return rows


def load_record(folder: Path) -> RunRecord | None:
    """The run record in ``folder``, or None when there is none yet."""
    path = folder / "run.json"
    if not path.exists():
        return None
    return RunRecord.from_json(path.read_text(encoding="utf-8"), path)


def save_record(folder: Path, record: RunRecord) -> None:
    atomic_write_text(folder / "run.json", record.to_json())


def iter_runs(results: Path):
    """Yield ``(folder, record, rows)`` for every run under ``results``."""
    results = Path(results)
    if not results.is_dir():
        raise DataError(f"{results}: results folder not found")
    for record_path in sorted(results.glob("*/*/*/run.json")):
        folder = record_path.parent
        record = load_record(folder)
        yield folder, record, read_scores(folder / "scores.csv")
