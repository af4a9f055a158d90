"""Overlapped scoring for ``benchmark run``: reading, the network and the metrics at once.

Design. A run's work per image is: decode the files, make the output (a network, or a file
of ``results:DIR``), compute the metrics, keep the row. :class:`Pipeline` spreads it over

- **worker processes** (``--workers N``, spawned, one thread each) for the metrics:
  PSNR/SSIM/NIQE are numpy and OpenCV code that holds the GIL for much of its time, so
  threads would not add cores; processes run the same functions on the same float
  operations, so their scores are bit-identical to the main process's. A method without
  a network (``input``, ``results:DIR``) is read and scored entirely in the workers, so a
  metric-only run uses every core. LPIPS, a network, stays in the main process on
  ``--device``, where a one-process run computes it too (a worker's one-thread CPU
  convolutions need not round as the main process's do);
- **one decoding thread** in the main process for runs with a network: it reads the next
  images (file reading and PNG/JPEG decoding release the GIL) while the main thread runs
  the network, which therefore waits for neither decoding nor metrics when it is the
  slowest part; its outputs go to the workers with their images;
- **bounded queues**: at most ``2 * batch`` decoded images wait for the network and at
  most ``2 * workers + batch`` images are being scored, so memory does not grow with the
  number of images.

Results come back in the order of the items, whatever order the workers finish in: the
caller commits rows, messages and progress in dataset order, exactly as one process does
(so the first bad image stops the run with the same message, and ``--skip-bad`` lists the
same images). With one worker, or fewer than ``_IN_PROCESS_BELOW`` images, everything runs
in this process, one image after the other: the single-process path, same objects.

Workers ignore Ctrl-C (the main process stops them) and leave when the main process dies,
even by kill -9: they check every second that it is still their parent.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from benchmark.scoring import ImageScorer, ImageSpec, Scored, Scorer, check_output, naming
from raindata.errors import DataError

#: Below this many images a run stays in one process (workers take about a second to start).
_IN_PROCESS_BELOW = 8

Derain = Callable[[list[tuple[Any, np.ndarray]]], list["np.ndarray | DataError"]]
"""The network step: ``(sample, rainy)`` pairs of one batch block -> an output (uint8) or
the DataError of each."""


def default_workers() -> int:
    """Worker processes by default: the cores this process may use, shared among the
    processes torchrun started on this node (``LOCAL_WORLD_SIZE``)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    except ValueError:
        local = 1
    return max(1, cores // local)


@dataclass(frozen=True)
class WorkItem:
    """Image ``index`` of the dataset; ``commit`` False: it only fills its batch (its row
    exists), so that every image meets the same batch in every run."""

    index: int
    sample: Any
    commit: bool = True


class _Done:
    """A result computed at once (the single-process path, or an image that failed early)."""

    def __init__(self, value: Scored) -> None:
        self.value = value

    def done(self) -> bool:
        return True

    def result(self) -> Scored:
        return self.value


class Pipeline:
    """Scores :class:`WorkItem` s with ``workers`` processes; see the module for the design.

    ``scorer`` is the run's :class:`Scorer` (used in this process); ``derain`` runs the
    network on one block of ``block`` consecutive images (None: the method has no network
    and ``spec.method`` makes the outputs); ``on_device`` are the metrics computed here,
    on the device, when there are workers. Use as a context manager.
    """

    def __init__(self, spec: ImageSpec, scorer: Scorer, *, workers: int = 1,
                 derain: Derain | None = None, block: int = 1,
                 on_device: tuple[str, ...] = ()) -> None:
        self.spec, self.scorer, self.workers = spec, scorer, max(1, workers)
        self.derain, self.block = derain, max(1, block)
        self.on_device = tuple(m for m in on_device
                               if m in scorer.metrics and m not in scorer.unavailable)
        self.local = ImageScorer(spec, scorer)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

    def _start(self, n: int) -> int:
        """Start worker processes for ``n`` images when they pay off; their number (0: the
        work stays in this process)."""
        workers = min(self.workers, n)
        if workers <= 1 or n < _IN_PROCESS_BELOW:
            return 0
        metrics = tuple(m for m in self.scorer.metrics
                        if m not in self.scorer.unavailable and m not in self.on_device)
        spec = replace(self.spec, metrics=metrics, lpips_weights=self.scorer.lpips_path)
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(spec, os.getpid()))
        return workers

    def results(self, items: list[WorkItem]) -> Iterator[Scored]:
        """The result of every item with ``commit``, in the order of ``items``."""
        workers = self._start(sum(it.commit for it in items))
        depth = 2 * workers + self.block if workers else 0
        pending: deque = deque()
        try:
            for future in self._submitted(items, workers > 0):
                pending.append(future)
                while pending and (len(pending) > depth or pending[0].done()):
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BrokenProcessPool:
            raise DataError("a worker process of this run ended abruptly (killed, or out of "
                            "memory?); the rows finished are kept: run the command again to "
                            "continue, with --workers 1 to stay in one process") from None

    def _submitted(self, items: list[WorkItem], pooled: bool) -> Iterator:
        """A future (or :class:`_Done`) per committed item, in order."""
        if self.derain is None and not (pooled and self.on_device):
            for it in items:  # read and scored in one go, in a worker when there are workers
                yield (self._pool.submit(_run, it.index, it.sample) if pooled
                       else _Done(self.local.run(it.index, it.sample)))
            return
        decoded = _prefetch(self._load, items, 2 * self.block) if pooled \
            else ((it, self._load(it)) for it in items)
        for block in _blocks(decoded, self.block):
            yield from self._block_submitted(block, pooled)

    def _load(self, it: WorkItem):
        try:
            return self.local.load(it.sample)
        except DataError as exc:
            return exc

    def _block_submitted(self, block, pooled: bool) -> Iterator:
        readable = [(it, v) for it, v in block if not isinstance(v, DataError)]
        if self.derain is not None:
            outputs = self.derain([(it.sample, v[0]) for it, v in readable])
            made = {id(it): out for (it, _), out in zip(readable, outputs, strict=True)}
        else:
            made = {id(it): v[1] for it, v in readable}
        for it, value in block:
            if not it.commit:
                continue
            failed = value if isinstance(value, DataError) else made[id(it)]
            if isinstance(failed, DataError):
                yield _Done(Scored(it.index, it.sample, error=naming(it.sample.rainy, failed)))
                continue
            rainy, _, clean = value
            derained = made[id(it)]
            if not pooled:
                yield _Done(self.local.score(it.index, it.sample, rainy, derained, clean))
                continue
            try:  # device metrics here, the rest in a worker
                check_output(self.spec.method_name, it.sample, rainy, derained, clean)
                extra = self.scorer.score(rainy, derained, clean, only=self.on_device) \
                    if self.on_device else {}
            except DataError as exc:
                yield _Done(Scored(it.index, it.sample, error=naming(it.sample.rainy, exc)))
                continue
            yield self._pool.submit(_score, it.index, it.sample, rainy, derained, clean, extra)


def _blocks(decoded: Iterable, block: int) -> Iterator[list]:
    """Consecutive ``(item, value)`` pairs grouped by batch block (``index // block``)."""
    current: list = []
    for it, value in decoded:
        if current and current[0][0].index // block != it.index // block:
            yield current
            current = []
        current.append((it, value))
    if current:
        yield current


_END = object()


def _prefetch(load: Callable, items: list[WorkItem], depth: int) -> Iterator:
    """``(item, load(item))`` in order, loaded by a thread at most ``depth`` items ahead."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(value) -> bool:
        while not stop.is_set():
            try:
                q.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for it in items:
                if not put((it, load(it))):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put((_END, exc))
            return
        put((_END, None))

    thread = threading.Thread(target=work, name="benchmark-decode", daemon=True)
    thread.start()
    try:
        while True:
            it, value = q.get()
            if it is _END:
                if value is not None:
                    raise value
                return
            yield it, value
    finally:
        stop.set()
        thread.join(timeout=10)


# --- worker processes ----------------------------------------------------------------------

_WORKER: dict[str, Any] = {}
"""The worker process's spec and :class:`ImageScorer` (built at its first image)."""


def _start_worker(spec: ImageSpec, parent: int) -> None:
    import cv2

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the main process stops the pool
    cv2.setNumThreads(1)
    if "lpips" in spec.metrics:
        import torch

        torch.set_num_threads(1)
    _WORKER["spec"] = spec
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _scorer() -> ImageScorer:
    if "scorer" not in _WORKER:  # a DataError here reaches the main process as such
        _WORKER["scorer"] = ImageScorer(_WORKER["spec"])
    return _WORKER["scorer"]


def _run(index: int, sample) -> Scored:
    return _scorer().run(index, sample)


def _score(index: int, sample, rainy, derained, clean, extra) -> Scored:
    return _scorer().score(index, sample, rainy, derained, clean, extra)
