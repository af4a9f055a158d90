"""Score one method on one dataset, image by image, resumably.

A run holds its folder's lock (:mod:`raindata.lock`) while it scores: a second run with
the same settings waits for the first, then resumes from its rows (finding nothing left
to do when the first finished). A shard of a run (``--shard I/N``, torchrun ranks) holds
only the lock of its part of the folder (:mod:`benchmark.shards`). Every per-image message
names the image.

Rows are journalled as they finish and the sorted CSV is rewritten at checkpoints
(:class:`benchmark.store.ScoresFile`); decoding, the network and the metrics overlap in
:class:`benchmark.parallel.Pipeline`, which hands results back in dataset order, so the
CSV is the same bytes however the work was spread.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmark import shards, store
from benchmark.datasets import open_dataset
from benchmark.methods import open_method
from benchmark.scoring import (
    DEFAULT_PAIRED,
    DEFAULT_UNPAIRED,
    ON_DEVICE,
    ImageSpec,
    Scorer,
    check_metrics,
    nan_reason,
)
from raindata.atomic import remove_stale_temps
from raindata.errors import DataError
from raindata.lock import lock_folder
from raindata.provenance import record as provenance_record

CHECKPOINT_EVERY = 20
"""Images between two rewrites of the sorted CSV and the record (rows are journalled as
they finish, so a kill loses none)."""


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
    workers: int | None = None
    """Processes for decoding and metrics (None: every core; 1: all in this process)."""
    shard: str | None = None
    """``"I/N"``: score only this share of the images (None: all, or the torchrun rank's)."""
    batch_size: int = 1
    """Consecutive images of equal size per forward pass, where the method's card allows
    batching (a speed option like ``workers``: recorded, not part of the run's key)."""
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
    """What a run did: its folder, the whole run's record and rows, and how many images
    this call scored (for a shard: of its share)."""

    folder: Path
    record: store.RunRecord
    rows: list[dict]
    newly_scored: int
    notes: list[str] = field(default_factory=list)
    attempted: int = 0
    """Images this call tried to score (0: everything was already scored)."""
    shard: str | None = None
    """``"I/N"`` when this call scored one shard."""


Progress = Callable[[int, int], None]


def run_one(req: RunRequest, progress: Progress | None = None, log=print) -> RunOutcome:
    """Score ``req.method`` on ``req.dataset``; resume a run with the same settings."""
    from raindata.layouts import find_samples

    _refuse_in_starting_worker()
    if req.shard is not None:
        shard, device, torchrun = store.Shard.parse(req.shard), req.device, False
    else:  # under torchrun each rank is a shard (and cuda is cuda:LOCAL_RANK)
        shard, device = shards.from_environment(req.device)
        torchrun = shard is not None
    ds = open_dataset(req.dataset, req.data_root, req.split, req.protocol)
    samples = find_samples(ds.name, ds.root, ds.split)
    if not samples:
        raise DataError(f"{ds.root}: no {ds.split} images for dataset {ds.name!r}")
    metrics = req.metrics or (DEFAULT_PAIRED if ds.paired else DEFAULT_UNPAIRED)
    check_metrics(metrics, ds.paired, ds.name)

    method = open_method(req.method, req.weights, device, req.quantize, req.method_options(),
                         batch_size=req.batch_size)
    notes: list[str] = []
    model_info = getattr(getattr(method, "model", None), "info", None)
    bundled = model_info().get("bundled_weights") if model_info is not None else None
    if bundled:  # what it was trained on comes from the card, not from the file name
        model = method.model
        released = model.card.known_weights(model.weights_sha256)
        trained = released.trained_on if released else "data its card does not name"
        log(f"note: {req.method} uses its bundled weights {bundled} (trained on {trained}); "
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
    scorer = Scorer(metrics, ds.protocol, device, req.lpips_weights)
    for name, why in scorer.unavailable.items():
        log(f"note: {name} unavailable, column left empty: {why}")
    computed = tuple(m for m in metrics if m not in scorer.unavailable)
    settings = store.RunSettings(
        dataset=ds.name, data_root=str(ds.root), split=ds.split, method=req.method,
        protocol=ds.protocol, quantize=method.quantize, metrics=computed,
        weights_sha256=method.weights_sha256,
        method_options=tuple(sorted((k, str(v)) for k, v in req.method_options().items())),
        lpips_sha256=scorer.lpips_sha256,
        device=device.split(":")[0] if _runs_network(method) else "",
    )
    folder = store.run_dir(req.results, settings)

    def waiting(holder) -> None:
        log(f"note: {folder} is being scored by {holder.describe()}; waiting for it to "
            "finish, then continuing from its results")

    job = _Job(req, ds, samples, method, scorer, settings, folder, model_info, device)
    if shard is None:
        # One writer per run folder: a second identical run waits, then finds the work done.
        with lock_folder(folder, wait=True, on_wait=waiting):
            remove_stale_temps(folder, (store.SCORES, store.RECORD))  # a killed run's
            shards.fold_locked(folder)  # parts of shards no longer running
            if not store.shards_in(folder):  # no shard is writing images either
                remove_stale_temps(folder / "images")
            newly, tried = _score_locked(job, None, progress, log)
            shards.fold_locked(folder)
    else:
        group = shards.RankGroup() if torchrun else None
        with shards.part_lock(folder, shard, wait=True, on_wait=waiting):
            remove_stale_temps(folder, shard.file_names())
            remove_stale_temps(folder / "images", {f"{Path(s.rainy).stem}.png"
                                                  for i, s in enumerate(samples)
                                                  if shard.takes(i, job.block)})
            newly, tried = _score_locked(job, shard, progress, log)
        shards.fold(folder, on_wait=waiting)  # the last shard to finish merges them all
        if group is not None:
            group.wait_for_all()  # rank 0 merges once every rank has finished
            if group.rank == 0:
                shards.fold(folder, on_wait=waiting)
            group.wait_for_all()  # and the others return once it has
    record, rows = store.load_run(folder)
    return RunOutcome(folder, record, rows, newly, notes, attempted=tried,
                      shard=None if shard is None else shard.label)


@dataclass
class _Job:
    """What :func:`run_one` resolved, handed to the scoring loop."""

    req: RunRequest
    ds: object
    samples: list
    method: object
    scorer: Scorer
    settings: store.RunSettings
    folder: Path
    model_info: Callable | None
    device: str

    @property
    def block(self) -> int:
        """Images per forward pass of the network (``--batch-size`` where the card allows
        it; 1 without a network): shards take whole blocks, so batches stay full."""
        if not _runs_network(self.method):
            return 1
        return getattr(getattr(self.method, "model", None), "batch_size", 1)


def _score_locked(job: _Job, shard: store.Shard | None, progress: Progress | None,
                  log) -> tuple[int, int]:
    """The scoring loop of :func:`run_one`, run while holding the lock of what it writes:
    the run folder, or with ``shard`` its part of it. Returns (images scored now, images
    tried now)."""
    from benchmark.parallel import Pipeline, WorkItem, default_workers

    req, folder, method, scorer = job.req, job.folder, job.method, job.scorer
    record_name = store.RECORD if shard is None else shard.record_name
    target = store.ScoresFile(folder / (store.SCORES if shard is None else shard.scores_name))
    record = store.load_record(folder, record_name)
    if record is not None and record.settings != job.settings:
        raise DataError(f"{folder / record_name}: settings differ from this run's "
                        "(hash collision?)")
    share = [(i, s) for i, s in enumerate(job.samples)
             if shard is None or shard.takes(i, job.block)]
    rows = target.recover()  # ours: this process holds their lock
    others = _rows_elsewhere(folder, shard)
    images_dir = folder / "images"
    if req.save_images:  # images asked for now but not saved by an earlier pass: redo those
        mine = {s.id for _, s in share}
        have = {s.id for _, s in share if (images_dir / f"{Path(s.rainy).stem}.png").is_file()}
        rows = [r for r in rows if r["id"] not in mine or r["id"] in have]
        others = [r for r in others if r["id"] not in mine or r["id"] in have]
    done = {r["id"] for r in rows} | {r["id"] for r in others}
    skipped: list[dict[str, str]] = []  # images skipped earlier are tried again
    if record is None:
        record = store.RunRecord(settings=job.settings)
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(req).items()
              if k != "argv"}
    record.provenance = provenance_record(config, req.argv)
    record.provenance["device"] = describe_device(job.device)
    record.expected = len(share)
    record.extra["official_quantize"] = method.official_quantize
    if shard is not None:
        record.extra["shard"] = shard.label
        record.extra["images"] = len(job.samples)
    if job.model_info is not None:
        record.extra["method"] = job.model_info()
    record.unavailable = dict(scorer.unavailable)

    share_done = sum(s.id in done for _, s in share)
    todo = [(i, s) for i, s in share if s.id not in done]
    if req.limit is not None:
        todo = todo[: max(0, req.limit - (len(done) if shard is None else share_done))]

    started = time.perf_counter()
    base_seconds = record.seconds
    newly = 0

    def save() -> None:
        record.skipped = skipped
        record.seconds = round(base_seconds + time.perf_counter() - started, 3)
        record.scored = share_done + newly
        record.status = store.run_status(record.scored, len(skipped), record.expected)
        target.checkpoint(rows)
        store.save_record(folder, record, record_name)

    networked = _runs_network(method)
    workers = default_workers() if req.workers is None else max(1, req.workers)
    spec = ImageSpec(method_name=req.method, metrics=scorer.metrics, protocol=job.ds.protocol,
                     root=Path(job.ds.root), images_dir=images_dir if req.save_images else None,
                     method=None if networked else method)
    block = job.block
    record.extra["batch_size"] = block
    pipeline = Pipeline(spec, scorer, workers=workers, on_device=ON_DEVICE,
                        derain=_network_step(method) if networked else None, block=block)
    if progress is not None:
        progress(0, len(todo))
    try:
        items = [WorkItem(i, s) for i, s in todo]
        with pipeline, contextlib.closing(pipeline.results(items)) as results:
            for n, result in enumerate(results, start=1):
                if result.error is not None:
                    if not req.skip_bad:
                        raise DataError(result.error)
                    skipped.append({"id": result.sample.id, "file": str(result.sample.rainy),
                                    "reason": result.error})
                    log(f"skipped: {result.error}")
                else:
                    for col in store.SCORE_COLUMNS:
                        value = result.row.get(col)
                        if value is not None and math.isnan(value):
                            log(f"note: {result.sample.rainy}: {col} is NaN, left out of the "
                                f"mean: {nan_reason(col)}")
                    rows.append(result.row)
                    target.append(result.row)
                    newly += 1
                if progress is not None:
                    progress(n, len(todo))
                if n % CHECKPOINT_EVERY == 0:
                    save()
    except BaseException:  # errors and Ctrl-C too: the rows finished now go to the CSV
        if newly:  # (a run stopped before its first row leaves nothing behind)
            save()
        raise
    save()
    return newly, len(todo)


def _rows_elsewhere(folder: Path, shard: store.Shard | None) -> list[dict]:
    """Rows of the run kept outside what this process writes, read only: every other
    shard's part, and ``scores.csv`` when this process is a shard."""
    groups = [store.ScoresFile(folder / other.scores_name).read()
              for other in store.shards_in(folder) if other != shard]
    if shard is not None:
        groups.append(store.ScoresFile(folder / store.SCORES).read())
    return store.merge_rows(*groups)


def _network_step(method):
    """The pipeline's network step: each image's output, or the DataError it raised. A
    block of several images goes through :meth:`outputs` (equal sizes share forward
    passes); if that fails, image by image, so that the error names its own image."""
    def one(sample, rainy):
        try:
            return method.output(sample.id, sample.rainy, rainy)
        except DataError as exc:
            return exc

    def derain(block):
        if len(block) > 1 and hasattr(method, "outputs"):
            try:
                return method.outputs([rainy for _, rainy in block])
            except DataError:
                pass
        return [one(sample, rainy) for sample, rainy in block]
    return derain


def _refuse_in_starting_worker() -> None:
    """A worker process re-runs the main script as it starts (Python's ``spawn``): a script
    calling :func:`run_one` without ``if __name__ == "__main__":`` would start the run again
    in every worker, and wait for its own lock. Stop there, saying why."""
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError("benchmark run_one() called while a worker process starts: put "
                           "the script's code under `if __name__ == '__main__':`")


def _runs_network(method) -> bool:
    """Whether the method's output depends on the device (it runs a network)."""
    return getattr(getattr(method, "model", None), "network", None) is not None


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
