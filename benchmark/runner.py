"""Score one method on one dataset, image by image, resumably.

A run holds its folder's lock (:mod:`raindata.lock`) while it scores: a second run with
the same settings waits for the first, then resumes from its rows (finding nothing left
to do when the first finished). Every per-image message names the image.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmark import store
from benchmark.datasets import open_dataset
from benchmark.methods import open_method
from benchmark.scoring import DEFAULT_PAIRED, DEFAULT_UNPAIRED, Scorer, check_metrics, nan_reason
from raindata.atomic import remove_stale_temps
from raindata.errors import DataError
from raindata.lock import lock_folder
from raindata.provenance import record as provenance_record


@dataclass
class RunRequest:
    """One ``benchmark run`` for a single method; see :func:`run_one`."""

    method: str
    dataset: str
    data_root: str | None = None
    split: str = "test"
    weights: str | None = None
    metrics: tuple[str, ...] | None = None
    protocol: str | None = None
    quantize: str = "official"
    device: str = "cpu"
    save_images: bool = False
    results: Path = Path("results")
    limit: int | None = None
    skip_bad: bool = False
    lpips_weights: str | None = None
    precision: str = "fp32"
    channels_last: bool = False
    tile: int | None = None
    overlap: int = 32
    argv: list[str] | None = None

    def method_options(self) -> dict:
        """Inference options for network methods that differ from the defaults (each one
        changes scores, so each is part of the run's settings)."""
        opts: dict = {}
        if self.precision != "fp32":
            opts["precision"] = self.precision
        if self.channels_last:
            opts["channels_last"] = True
        if self.tile is not None:
            opts["tile"] = self.tile
            opts["overlap"] = self.overlap
        return opts


@dataclass
class RunOutcome:
    """What a run did: its folder, record, rows and how many images it scored now."""

    folder: Path
    record: store.RunRecord
    rows: list[dict]
    newly_scored: int
    notes: list[str] = field(default_factory=list)
    attempted: int = 0
    """Images this call tried to score (0: everything was already scored)."""


Progress = Callable[[int, int], None]


def run_one(req: RunRequest, progress: Progress | None = None, log=print) -> RunOutcome:
    """Score ``req.method`` on ``req.dataset``; resume a run with the same settings."""
    from raindata.layouts import find_samples

    ds = open_dataset(req.dataset, req.data_root, req.split, req.protocol)
    samples = find_samples(ds.name, ds.root, ds.split)
    if not samples:
        raise DataError(f"{ds.root}: no {ds.split} images for dataset {ds.name!r}")
    metrics = req.metrics or (DEFAULT_PAIRED if ds.paired else DEFAULT_UNPAIRED)
    check_metrics(metrics, ds.paired, ds.name)

    method = open_method(req.method, req.weights, req.device, req.quantize, req.method_options())
    notes: list[str] = []
    model_info = getattr(getattr(method, "model", None), "info", None)
    bundled = model_info().get("bundled_weights") if model_info is not None else None
    if bundled:
        scale = "the demo set only" if "demo" in bundled else "a CPU-scale training (README)"
        log(f"note: {req.method} uses its bundled weights {bundled} (trained on {scale}); "
            "pass --weights for a model of your own")
    if hasattr(method, "check_against"):
        missing, extra = method.check_against(samples)
        if req.limit is not None:  # only the images this run may score must have a result
            wanted = {Path(s.rainy).name for s in samples[: req.limit]}
            missing = [m for m in missing if m in wanted]
        if extra:
            notes.append(f"{len(extra)} extra file(s) in {method.folder} not in the dataset: "
                         + ", ".join(extra[:10]) + (" ..." if len(extra) > 10 else ""))
        if missing and not req.skip_bad:
            raise DataError(
                f"{method.folder}: {len(missing)} result(s) missing, e.g. "
                + ", ".join(missing[:5]) + " (use --skip-bad to score the rest)"
            )

    # A metric that cannot be computed here (LPIPS without its weights) is left out of the
    # settings: the run holds exactly the columns it computed, and a later run that can
    # compute it lands in a new folder instead of mixing rows with empty cells.
    scorer = Scorer(metrics, ds.protocol, req.device, req.lpips_weights)
    for name, why in scorer.unavailable.items():
        log(f"note: {name} unavailable, column left empty: {why}")
    computed = tuple(m for m in metrics if m not in scorer.unavailable)
    settings = store.RunSettings(
        dataset=ds.name, data_root=str(ds.root), split=ds.split, method=req.method,
        protocol=ds.protocol, quantize=method.quantize, metrics=computed,
        weights_sha256=method.weights_sha256,
        method_options=tuple(sorted((k, str(v)) for k, v in req.method_options().items())),
        lpips_sha256=scorer.lpips_sha256,
        device=req.device.split(":")[0] if _runs_network(method) else "",
    )
    folder = store.run_dir(req.results, settings)

    def waiting(holder) -> None:
        log(f"note: {folder} is being scored by {holder.describe()}; waiting for it to "
            "finish, then continuing from its results")

    # One writer per run folder: a second identical run waits, then finds the work done.
    with lock_folder(folder, wait=True, on_wait=waiting):
        remove_stale_temps(folder)  # of a killed run (we hold the lock)
        remove_stale_temps(folder / "images")
        return _score_locked(req, ds, samples, method, scorer, settings, folder, notes,
                             model_info, progress, log)


def _score_locked(req, ds, samples, method, scorer, settings, folder, notes, model_info,
                  progress, log) -> RunOutcome:
    """The scoring loop of :func:`run_one`, run while holding the run folder's lock."""
    record = store.load_record(folder)
    if record is not None and record.settings != settings:
        raise DataError(f"{folder}/run.json: settings differ from this run's (hash collision?)")
    rows = store.read_scores(folder / "scores.csv")
    if req.save_images:  # images asked for now but not saved by an earlier pass: redo those
        by_id = {s.id: s for s in samples}
        rows = [r for r in rows if r["id"] not in by_id
                or (folder / "images" / f"{Path(by_id[r['id']].rainy).stem}.png").is_file()]
    done = {r["id"] for r in rows}
    skipped: list[dict[str, str]] = []  # images skipped earlier are tried again
    if record is None:
        record = store.RunRecord(settings=settings)
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(req).items() if k != "argv"}
    record.provenance = provenance_record(config, req.argv)
    record.provenance["device"] = describe_device(req.device)
    record.expected = len(samples)
    record.extra["official_quantize"] = method.official_quantize
    if model_info is not None:
        record.extra["method"] = model_info()

    todo = [(i, s) for i, s in enumerate(samples) if s.id not in done]
    if req.limit is not None:
        todo = todo[: max(0, req.limit - len(done))]
    record.unavailable = dict(scorer.unavailable)

    started = time.perf_counter()
    base_seconds = record.seconds
    newly = 0
    images_dir = folder / "images"
    from raindata.layouts import load_pair

    if progress is not None:
        progress(0, len(todo))
    for n, (index, sample) in enumerate(todo, start=1):
        try:
            rainy, clean = load_pair(sample)
            derained = method.output(sample.id, sample.rainy, rainy)
            reference = clean if clean is not None else rainy
            if derained.shape != reference.shape:
                what = "ground truth" if clean is not None else "rainy input"
                raise DataError(
                    f"{req.method}: output for {sample.rainy.name} is "
                    f"{derained.shape[1]}x{derained.shape[0]}, its {what} is "
                    f"{reference.shape[1]}x{reference.shape[0]}"
                )
            scores = scorer.score(rainy, derained, clean)
        except DataError as exc:
            message = _naming(sample.rainy, exc)
            if not req.skip_bad:
                if message == str(exc):
                    raise
                raise DataError(message) from None
            skipped.append({"id": sample.id, "file": str(sample.rainy), "reason": message})
            log(f"skipped: {message}")
        else:
            for col, value in scores.items():
                if value is not None and math.isnan(value):
                    log(f"note: {sample.rainy}: {col} is NaN, left out of the mean: "
                        f"{nan_reason(col)}")
            if req.save_images:
                from raindata.imageio import write_png

                write_png(images_dir / f"{Path(sample.rainy).stem}.png", derained)
            rows.append({"index": index, "id": sample.id, "file": rel(sample.rainy, ds.root),
                         **scores})
            newly += 1
            store.write_scores(folder / "scores.csv", rows)
        if progress is not None:
            progress(n, len(todo))
        record.skipped = skipped
        if n % 20 == 0:
            _finish(record, rows, skipped, base_seconds + time.perf_counter() - started, folder)
    final = _finish(record, rows, skipped, base_seconds + time.perf_counter() - started, folder)
    return RunOutcome(folder, final, rows, newly, notes, attempted=len(todo))


def _naming(image: Path, exc: DataError) -> str:
    """The message of ``exc``, prefixed with the image it is about unless it names it."""
    message = str(exc)
    if str(image) in message or Path(image).name in message:
        return message
    return f"{image}: {message}"


def _runs_network(method) -> bool:
    """Whether the method's output depends on the device (it runs a network)."""
    return getattr(getattr(method, "model", None), "network", None) is not None


def _finish(record, rows, skipped, seconds, folder) -> store.RunRecord:
    record.scored = len(rows)
    record.skipped = skipped
    record.seconds = round(seconds, 3)
    if len(rows) + len(skipped) < record.expected:
        record.status = "incomplete"
    else:
        record.status = "partial" if skipped else "complete"
    if not rows:
        store.write_scores(folder / "scores.csv", rows)
    store.save_record(folder, record)
    return record


def rel(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX), or its name when outside."""
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).name


def describe_device(device: str) -> str:
    """A readable device name for run records."""
    if device.startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
        raise DataError(f"--device {device}: CUDA is not available on this machine")
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return f"cpu ({line.split(':', 1)[1].strip()})"
    except OSError:
        pass
    return f"cpu ({platform.processor() or platform.machine()})"
