"""RainDirection-style synthesis: rainy / latent / streak PNGs, direction labels, manifest.

Output layout of one run (the released RainDirection layout plus provenance)::

    OUT/rainy/N.png        clip(latent + streak, 0, 255), uint8 RGB
    OUT/latent/N.png       the clean image as read (uint8 RGB)
    OUT/streak/N.png       the rain layer that was added (uint8, one grey channel)
    OUT/direction/direction.txt   "N LABEL" per line, sorted by N (whole degrees)
    OUT/manifest.csv       one row per sample (see MANIFEST_COLUMNS)
    OUT/synth.json         resolved config + provenance record (+ summary, resumes)

``N = 1..count``. The resolved config (synth.json) includes the clean folder's
resolved path and its file names, so a resume against another folder is refused.
Sample ``N`` uses clean image ``(N - 1) mod n`` (``--count``) or
``(N - 1) // K`` (``--per-image K``), clean images taken in natural name order
(``img2`` before ``img10``). Every sample draws from its own generator
``numpy.random.default_rng(sample_seed)`` with
``sample_seed = SeedSequence([seed, split_code, N]).generate_state(1, uint64)``
(train = 0, test = 1: a train and a test set made with the same ``--seed`` never
share rain), in this order: the grid label (uniform), the jitter (uniform in
``[-jitter, +jitter]``), then per layer density, length, drop width, intensity
(uniform in their ranges), then each layer's drops. Files therefore do not depend
on ``--workers`` or on scheduling.

Composition is equation (1) in uint8: the streak layer is rounded and saturated to
uint8, and ``rainy = clip(latent + streak, 0, 255)`` is computed from the very uint8
arrays that are written, so the stored files satisfy it pixel for pixel. After
clipping, ``rainy - latent`` is the effective rain map a model can learn; ``streak``
is the layer that was added (larger where the sum saturated).

Extra layers (``layers > 0``) are independent drop fields with their own density,
length, width and intensity drawn from the same ranges, all at the sample's exact
angle (one wind direction), so the label describes every layer.

Runs are restartable: PNGs are written atomically (temp + rename), each finished
sample is appended to ``OUT/.synth-journal.jsonl`` with its sha256s, and ``resume``
regenerates exactly the samples whose files are missing or do not match their
recorded hashes, after checking that the stored config equals the new one. Because
every reused file is checked against its hash, the PNGs skip the per-file fsync
(``durable=False``, still temp + rename): after a power loss, ``--resume`` (or
``raindata verify``) finds any PNG whose bytes did not reach the disk by its hash
and regenerates it identically. synth.json, manifest.csv and direction.txt are
fsynced.

A run holds ``OUT/.lock`` (:mod:`raindata.lock`) from its first check of ``OUT`` to its
last write: a second run into the same ``OUT`` is refused, naming the first. A resume
removes the temporary files a killed run left. A full disk stops the run with one line
naming the file and the free space; the samples already written are kept for ``--resume``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from raindata.angles import DEFAULT_ANGLES, grid_step, normalize_angle, parse_angles
from raindata.atomic import (
    DiskFullError,
    atomic_write_text,
    naming_disk_full,
    remove_stale_temps,
    sha256_bytes,
    sha256_file,
)
from raindata.direction import label_histogram, write_direction_txt
from raindata.errors import DataError
from raindata.imageio import is_image_file
from raindata.lock import LOCK_NAME, lock_folder

FORMAT = "raindata-synth/1"
SPLITS = ("train", "test")
SPLIT_CODE = {"train": 0, "test": 1}
PNG_COMPRESSION = 1
"""zlib level of every written PNG. On a DIV2K-sized rainy image level 1 encodes about
1.6x faster than level 3 and 3.5x faster than level 6 for files 3-5 % larger, while
level 0 (stored) is 2.6x faster but 60 % larger (bench/results/synth.md)."""
MAX_JITTER = 3.0
"""Default jitter (degrees), capped at half the grid step."""
JOURNAL = ".synth-journal.jsonl"
ROLES = ("rainy", "latent", "streak")
LAYER_KEYS = ("density", "length", "drop_width", "intensity")
Progress = Callable[[int], None]


@dataclass(frozen=True)
class SynthConfig:
    """What to synthesize. Ranges are ``(low, high)``, drawn uniformly per sample.

    ``count`` and ``per_image`` are exclusive; with neither, ``per_image = 1``.
    ``jitter=None`` means ``min(3, step / 2)``. ``width`` is the drop-blur sigma
    (``drop_width`` in the manifest). See :mod:`raindata.rain` for the units.
    """

    angles: str = DEFAULT_ANGLES
    count: int | None = None
    per_image: int | None = None
    split: str = "train"
    seed: int = 0
    density: tuple[float, float] = (0.002, 0.006)
    length: tuple[float, float] = (15.0, 40.0)
    width: tuple[float, float] = (0.4, 1.0)
    intensity: tuple[float, float] = (100.0, 200.0)
    jitter: float | None = None
    layers: int = 0
    png_compression: int = PNG_COMPRESSION

    def resolve(self, clean_files: Sequence[str], clean_label: str) -> dict[str, Any]:
        """Check every value and return the resolved config (JSON-ready, fully explicit)."""
        grid = parse_angles(self.angles)
        step = grid_step(grid)
        if self.count is not None and self.per_image is not None:
            raise DataError("--count and --per-image are exclusive, got both")
        n = len(clean_files)
        if self.count is not None:
            if self.count < 1:
                raise DataError(f"--count: expected >= 1, got {self.count}")
            total, mode = self.count, "count"
        else:
            k = 1 if self.per_image is None else self.per_image
            if k < 1:
                raise DataError(f"--per-image: expected >= 1, got {k}")
            total, mode = n * k, "per_image"
        if self.split not in SPLITS:
            raise DataError(f"--split: expected one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.seed < 0:
            raise DataError(f"--seed: expected >= 0, got {self.seed}")
        _check_range("--density", self.density, 0.0, 1.0)
        _check_range("--length", self.length, 0.0, None, open_low=True)
        _check_range("--width", self.width, 0.0, None)
        _check_range("--intensity", self.intensity, 0.0, 255.0, open_low=True)
        jitter = min(MAX_JITTER, step / 2) if self.jitter is None else float(self.jitter)
        if not 0 <= jitter <= step / 2:
            raise DataError(
                f"--jitter: expected 0..{step / 2:g} (half the grid step, so the label stays "
                f"the nearest grid angle), got {jitter:g}"
            )
        if self.layers < 0:
            raise DataError(f"--layers: expected >= 0, got {self.layers}")
        if not 0 <= self.png_compression <= 9:
            raise DataError(f"png compression: expected 0..9, got {self.png_compression}")
        from raindata.rain import AMPLITUDE, GAUSS_TRUNCATE

        return {
            "format": FORMAT,
            "clean": clean_label,
            "clean_files": list(clean_files),
            "angles": list(grid),
            "mode": mode,
            "count": total,
            "per_image": None if mode == "count" else total // n,
            "split": self.split,
            "seed": int(self.seed),
            "density": [float(v) for v in self.density],
            "length": [float(v) for v in self.length],
            "width": [float(v) for v in self.width],
            "intensity": [float(v) for v in self.intensity],
            "jitter": jitter,
            "layers": int(self.layers),
            "amplitude": list(AMPLITUDE),
            "gauss_truncate": GAUSS_TRUNCATE,
            "png_compression": int(self.png_compression),
        }


def _check_range(name, rng, low, high, open_low=False):
    lo, hi = rng
    bad_low = lo <= low if open_low else lo < low
    if bad_low or hi < lo or (high is not None and hi > high):
        bound = f"({low:g}" if open_low else f"[{low:g}"
        bound += f", {high:g}]" if high is not None else ", inf)"
        raise DataError(f"{name}: expected LOW:HIGH within {bound}, got {lo:g}:{hi:g}")


@dataclass
class SynthSummary:
    """What a run did."""

    out: Path
    split: str
    count: int
    generated: int
    reused: int
    seconds: float
    histogram: dict[int, int] = field(default_factory=dict)

    def describe(self) -> str:
        """Human-readable multi-line summary."""
        hist = " ".join(f"{a}:{c}" for a, c in self.histogram.items())
        return (
            f"{self.split}: {self.count} samples in {self.out} "
            f"({self.generated} generated, {self.reused} reused, {self.seconds:.1f} s)\n"
            f"  labels (deg:count) {hist}"
        )


# --- clean inputs ---------------------------------------------------------------------


def natural_key(name: str) -> tuple:
    """Sort key putting ``img2`` before ``img10`` (case-insensitive, then exact name)."""
    parts = re.split(r"(\d+)", name)
    return (tuple(int(p) if p.isdigit() else p.lower() for p in parts), name)


def list_clean_images(folder: str | os.PathLike) -> list[str]:
    """Image file names directly inside ``folder``, natural order; DataError if none."""
    root = Path(folder)
    if not root.exists():
        raise DataError(f"{root}: no such folder")
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    names = [
        p.name for p in root.iterdir()
        if p.is_file() and not p.name.startswith(".") and is_image_file(p)
    ]
    if not names:
        raise DataError(f"{root}: no images found (expected .png, .jpg, .bmp, ... files)")
    return sorted(names, key=natural_key)


def select_by_number(names: Sequence[str], low: int, high: int) -> list[str]:
    """The names whose number (the last digit run of the file stem) lies in ``[low, high]``.

    ``norain-12.png`` -> 12, ``0801.png`` -> 801; names without a number are left out.
    DataError when nothing is left.
    """
    kept = []
    for name in names:
        digits = re.findall(r"\d+", Path(name).stem)
        if digits and low <= int(digits[-1]) <= high:
            kept.append(name)
    if not kept:
        raise DataError(f"no clean image is numbered {low}..{high} (by the last number in "
                        "its file name)")
    return kept


def sample_seed(seed: int, split: str, sample_id: int) -> int:
    """The per-sample seed: ``SeedSequence([seed, split_code, id])`` as one uint64."""
    state = np.random.SeedSequence([seed, SPLIT_CODE[split], sample_id]).generate_state(
        1, np.uint64
    )
    return int(state[0])


def source_index(sample_id: int, cfg: dict[str, Any]) -> int:
    """Index (in natural order) of the clean image that sample ``sample_id`` uses."""
    n = len(cfg["clean_files"])
    if cfg["mode"] == "count":
        return (sample_id - 1) % n
    return (sample_id - 1) // cfg["per_image"]


# --- one sample -----------------------------------------------------------------------


def draw_sample(rng: np.random.Generator, cfg: dict[str, Any]):
    """Draw ``(label, angle, [LayerParams, ...])`` for one sample from its generator."""
    from raindata.rain import LayerParams

    grid = cfg["angles"]
    label = int(grid[int(rng.integers(len(grid)))])
    jitter = float(rng.uniform(-cfg["jitter"], cfg["jitter"])) if cfg["jitter"] > 0 else 0.0
    angle = normalize_angle(label + jitter)
    layers = []
    for _ in range(1 + cfg["layers"]):
        layers.append(
            LayerParams(
                density=float(rng.uniform(*cfg["density"])),
                length=float(rng.uniform(*cfg["length"])),
                width=float(rng.uniform(*cfg["width"])),
                intensity=float(rng.uniform(*cfg["intensity"])),
                angle=angle,
            )
        )
    return label, angle, layers


_STATE: dict[str, Any] = {}
_CACHE: dict[str, Any] = {"path": None}


def _init_worker(cfg: dict[str, Any], clean_root: str, out: str) -> None:
    import cv2

    cv2.setNumThreads(1)
    _STATE.update(cfg=cfg, clean_root=Path(clean_root), out=Path(out))
    _CACHE["path"] = None


def _clean_image(path: Path, compression: int):
    """Decoded clean image and its latent PNG bytes (cached: per-image runs reuse them)."""
    from raindata.imageio import encode_png, read_image

    if _CACHE["path"] != path:
        rgb = read_image(path)
        _CACHE.update(path=path, rgb=rgb, png=encode_png(rgb, compression))
    return _CACHE["rgb"], _CACHE["png"]


def _render_task(sample_id: int) -> dict[str, str]:
    """Make, write and describe one sample (runs in a worker or in-process)."""
    from raindata.atomic import atomic_write_bytes
    from raindata.imageio import encode_png
    from raindata.rain import compose, render_rain, to_uint8

    cfg, out = _STATE["cfg"], _STATE["out"]
    source = cfg["clean_files"][source_index(sample_id, cfg)]
    comp = cfg["png_compression"]
    rgb, latent_png = _clean_image(_STATE["clean_root"] / source, comp)
    s_seed = sample_seed(cfg["seed"], cfg["split"], sample_id)
    rng = np.random.default_rng(s_seed)
    label, angle, layers = draw_sample(rng, cfg)
    streak = to_uint8(render_rain(rgb.shape[:2], layers, rng))
    rainy = compose(rgb, streak)
    blobs = {"latent": latent_png, "streak": encode_png(streak, comp),
             "rainy": encode_png(rainy, comp)}
    row: dict[str, str] = {
        "id": str(sample_id), "source": source, "split": cfg["split"], "label": str(label),
        "angle": repr(angle), "sample_seed": str(s_seed), "layers": str(len(layers)),
    }
    for i, p in enumerate(layers):
        suffix = "" if i == 0 else f"_{i + 1}"
        values = (p.density, p.length, p.width, p.intensity)
        row.update({f"{k}{suffix}": repr(v) for k, v in zip(LAYER_KEYS, values, strict=True)})
    row.update(width=str(rgb.shape[1]), height=str(rgb.shape[0]))
    for role in ROLES:
        row[role] = f"{role}/{sample_id}.png"
    for role in ROLES:
        atomic_write_bytes(out / row[role], blobs[role], durable=False)
        row[f"sha256_{role}"] = sha256_bytes(blobs[role])
    return row


def manifest_columns(layers: int) -> list[str]:
    """Column order of ``manifest.csv`` for a run with ``layers`` extra layers."""
    cols = ["id", "source", "split", "label", "angle", "sample_seed", "layers", *LAYER_KEYS]
    for i in range(layers):
        cols += [f"{k}_{i + 2}" for k in LAYER_KEYS]
    cols += ["width", "height", *ROLES, *(f"sha256_{r}" for r in ROLES)]
    return cols


# --- the output folder ----------------------------------------------------------------


def _load_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable ({exc})") from None


def _known_rows(out: Path) -> dict[int, dict[str, str]]:
    """Rows recorded by an earlier run: manifest.csv, then the journal (last wins)."""
    rows: dict[int, dict[str, str]] = {}
    manifest = out / "manifest.csv"
    if manifest.is_file():
        with open(manifest, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                with contextlib.suppress(KeyError, ValueError, TypeError):
                    rows[int(row["id"])] = dict(row)
    journal = out / JOURNAL
    if journal.is_file():
        for line in journal.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(KeyError, ValueError, TypeError):
                row = json.loads(line)
                rows[int(row["id"])] = row
    return rows


def _row_is_valid(out: Path, row: dict[str, str], expected_source: str) -> bool:
    if row.get("source") != expected_source:
        return False
    for role in ROLES:
        path = out / str(row.get(role, ""))
        if not path.is_file() or sha256_file(path) != row.get(f"sha256_{role}"):
            return False
    return True


def _config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    new = json.loads(json.dumps(new))
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _entries(out: Path) -> list[Path]:
    """What ``out`` holds besides its lock file (empty when ``out`` does not exist)."""
    return [p for p in out.iterdir() if p.name != LOCK_NAME] if out.is_dir() else []


def _clear(out: Path) -> None:
    """Remove everything in ``out`` but its lock file (a failed fresh run's files)."""
    for p in _entries(out):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def _prepare_out(out: Path, cfg: dict[str, Any], resume: bool, argv) -> dict[str, Any]:
    """Refuse, resume or start; returns the synth.json record to keep updating."""
    from raindata.provenance import record

    meta_path = out / "synth.json"
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    entries = _entries(out)
    if entries and not resume:
        raise DataError(
            f"{out}: folder is not empty; use --resume to continue the same run, "
            f"or choose a new --out"
        )
    if entries:
        if not meta_path.is_file():
            raise DataError(f"{out}: not empty and has no synth.json; refusing to mix datasets")
        meta = _load_json(meta_path)
        diff = _config_diff(meta.get("config", {}), cfg)
        if diff:
            raise DataError(
                f"{meta_path}: stored config differs in {', '.join(diff)}; "
                f"rerun with the same options or choose a new --out"
            )
        meta.setdefault("resumed", []).append(record(None, argv))
        for sub in (out, *(out / d for d in (*ROLES, "direction"))):
            remove_stale_temps(sub)  # of an interrupted run's atomic writes (we hold the lock)
        return meta
    meta = record(cfg, argv)
    atomic_write_text(meta_path, json.dumps(meta, indent=2) + "\n")
    return meta


def _run_tasks(ids, cfg, clean_root: Path, out: Path, workers: int, on_row) -> None:
    if not ids:
        return
    chunk = 1 if cfg["mode"] == "count" else max(1, min(cfg["per_image"], 8))
    if workers <= 1 or len(ids) == 1:
        _init_worker(cfg, str(clean_root), str(out))
        for i in ids:
            on_row(_render_task(i))
        return
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(
        min(workers, len(ids)), initializer=_init_worker,
        initargs=(cfg, str(clean_root), str(out)),
    ) as pool:
        for row in pool.imap_unordered(_render_task, ids, chunksize=chunk):
            on_row(row)


def synthesize(
    clean: str | os.PathLike,
    out: str | os.PathLike,
    config: SynthConfig | None = None,
    *,
    files: Sequence[str] | None = None,
    clean_label: str | None = None,
    workers: int = 1,
    resume: bool = False,
    progress: Progress | None = None,
    argv: list[str] | None = None,
) -> SynthSummary:
    """Synthesize one split from the images in ``clean`` into ``out`` (layout above).

    ``files`` restricts the clean images to these names (natural order applies);
    ``clean_label`` is what synth.json records as the source (default: the resolved
    folder path). ``progress(k)`` is called as samples complete (also for reused
    ones). Raises :class:`DataError` for bad input; nothing half-written is left.
    """
    t0 = time.perf_counter()
    config = config or SynthConfig()
    clean_root = Path(clean)
    names = list_clean_images(clean_root)
    if files is not None:
        missing = sorted(set(files) - set(names))
        if len(set(files)) != len(files):
            raise DataError(f"{clean_root}: the clean file list names an image twice")
        if missing:
            raise DataError(f"{clean_root / missing[0]}: no such image")
        names = sorted(files, key=natural_key)
    label = clean_label or str(clean_root.resolve())
    cfg = config.resolve(names, label)
    if workers < 1:
        raise DataError(f"--workers: expected >= 1, got {workers}")
    out = Path(out)
    with lock_folder(out):  # one writer: a second run into OUT is refused, naming this one
        fresh = not _entries(out)
        meta = _prepare_out(out, cfg, resume, argv)
        try:
            return _synthesize_into(out, cfg, meta, names, clean_root, workers, progress, t0)
        except DiskFullError as exc:
            # Every file on disk is whole (atomic writes) and in the journal: keep them.
            raise DiskFullError(f"{exc}; free some space and rerun with --resume") from None
        except DataError:
            # A bad clean image found mid-run: a folder this run started from nothing is
            # emptied again, so nothing half-written stays behind (a resumed run keeps its
            # earlier samples, which --resume can continue from).
            if fresh and not resume:
                _clear(out)
            raise


def _synthesize_into(out: Path, cfg: dict[str, Any], meta: dict[str, Any], names: list[str],
                     clean_root: Path, workers: int, progress: Progress | None,
                     t0: float) -> SynthSummary:
    """The body of :func:`synthesize` once the output folder is prepared."""
    for sub in (*ROLES, "direction"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    ids = list(range(1, cfg["count"] + 1))
    rows: dict[int, dict[str, str]] = {}
    for i, row in _known_rows(out).items():
        if 1 <= i <= cfg["count"] and _row_is_valid(
            out, row, names[source_index(i, cfg)]
        ):
            rows[i] = row
    reused = len(rows)
    if progress is not None and reused:
        progress(reused)
    todo = [i for i in ids if i not in rows]

    with open(out / JOURNAL, "a", encoding="utf-8") as journal:

        def on_row(row: dict[str, str]) -> None:
            rows[int(row["id"])] = row
            with naming_disk_full(out / JOURNAL):
                journal.write(json.dumps(row) + "\n")
                journal.flush()
            if progress is not None:
                progress(1)

        _run_tasks(todo, cfg, clean_root, out, workers, on_row)

    columns = manifest_columns(cfg["layers"])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for i in ids:
        writer.writerow({c: rows[i].get(c, "") for c in columns})
    atomic_write_text(out / "manifest.csv", buf.getvalue())
    labels = {i: int(rows[i]["label"]) for i in ids}
    write_direction_txt(out / "direction" / "direction.txt", labels)
    summary = SynthSummary(
        out=out, split=cfg["split"], count=len(ids), generated=len(todo), reused=reused,
        seconds=time.perf_counter() - t0, histogram=label_histogram(labels.values()),
    )
    meta["summary"] = {
        "count": summary.count, "generated": summary.generated, "reused": summary.reused,
        "seconds": round(summary.seconds, 3),
        "histogram": {str(k): v for k, v in summary.histogram.items()},
    }
    atomic_write_text(out / "synth.json", json.dumps(meta, indent=2) + "\n")
    (out / JOURNAL).unlink(missing_ok=True)
    return summary


# --- the bundled demo set -------------------------------------------------------------

DEMO_SPLITS: dict[str, tuple[str, ...]] = {
    "train": ("astronaut.png", "coffee.png", "rocket.png"),
    "test": ("chelsea.png",),
    "real": ("astronaut.png", "coffee.png", "rocket.png"),
}
"""Clean images per demo part; the test image is held out from training. ``real`` is the
stand-in for real rainy photographs in UDRDR's unpaired branch: the training photographs
under another rain style (only its ``rainy/`` folder is used, as an unpaired folder)."""
DEMO_SEED = 2021
DEMO_PER_IMAGE = {"train": 40, "test": 30, "real": 40}
DEMO_RAIN = {"length": (10.0, 30.0)}
"""Demo images are small (long side 384 px), so the streaks are a little shorter."""
DEMO_REAL_RAIN = {"seed": 7, "length": (20.0, 45.0), "width": (0.6, 1.4),
                  "intensity": (90.0, 200.0)}
"""The ``real`` part's rain style: another seed, longer, wider and fainter-to-brighter drops."""


def demo_configs() -> dict[str, SynthConfig]:
    """The fixed configs of the demo parts (train: 120 samples, test: 30, real: 120)."""
    configs = {
        split: SynthConfig(
            per_image=DEMO_PER_IMAGE[split], split=split, seed=DEMO_SEED, **DEMO_RAIN
        )
        for split in ("train", "test")
    }
    configs["real"] = SynthConfig(per_image=DEMO_PER_IMAGE["real"], split="train",
                                  **DEMO_REAL_RAIN)
    return configs


def demo_total() -> int:
    """Number of samples :func:`synthesize_demo` makes over both splits."""
    return sum(DEMO_PER_IMAGE[s] * len(f) for s, f in DEMO_SPLITS.items())


@contextlib.contextmanager
def demo_images_dir():
    """Path of the bundled clean demo images (package data, see LICENSES.md there)."""
    from importlib.resources import as_file, files

    with as_file(files("raindata").joinpath("demo_images")) as path:
        yield Path(path)


def synthesize_demo(
    out: str | os.PathLike,
    *,
    workers: int = 1,
    resume: bool = False,
    progress: Progress | None = None,
    argv: list[str] | None = None,
) -> dict[str, SynthSummary]:
    """Build ``out/train``, ``out/test`` and ``out/real`` (each in the layout above) from the
    bundled demo images; see :data:`DEMO_SPLITS`."""
    out = Path(out)
    summaries = {}
    with demo_images_dir() as clean:
        for split, config in demo_configs().items():
            summaries[split] = synthesize(
                clean, out / split, config, files=DEMO_SPLITS[split],
                clean_label="raindata:demo_images", workers=workers, resume=resume,
                progress=progress, argv=argv,
            )
    return summaries
