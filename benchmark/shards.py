"""Runs split across processes: ``benchmark run --shard I/N``, torchrun ranks, SLURM arrays.

Shard I of N scores every N-th block of images in dataset order (:class:`Shard`; a block is
one image, or one batch of ``--batch-size`` images for a network that batches) into its
own part of the run folder: ``scores.shard-I-of-N.csv`` (with its journal) and
``run.shard-I-of-N.json``. It holds only its part's lock (``.scores.shard-I-of-N.csv.lock``),
so the shards of one run work at the same time, while a second process given the same
shard waits for the first and then resumes from its rows, as two identical unsharded runs
do. Killed, a shard resumes from its part (and from ``scores.csv``) when rerun.

**Merging.** :func:`fold` takes the run folder's lock (``.lock``, which an unsharded run
holds while it scores) and then, without waiting, the lock of every part: each part no
process is writing - a finished shard, or a killed one - is added to ``scores.csv`` and
``run.json`` (rewritten atomically: the rows sorted by dataset index, so the same bytes as
one process writes) and its files are removed; a part being written is left alone. A shard
folds after it finishes and has released its own lock, so the last shard to finish leaves
the whole run in ``scores.csv``; ``benchmark table`` folds what it finds (without waiting);
an unsharded run folds before and after it scores. A crash during a fold leaves rows in
both places, which the next fold merges again (one row per image).

**torchrun and SLURM.** Without ``--shard``, a process started by ``torchrun`` with more
than one rank (``WORLD_SIZE`` > 1) is shard RANK/WORLD_SIZE and ``--device cuda`` means
``cuda:LOCAL_RANK`` (:func:`from_environment`). The ranks share nothing but the results
folder, and a CPU-side ``gloo`` process group used for one thing (:class:`RankGroup`):
rank 0 waits at a barrier until every rank has finished its part, then merges, so that
the run is whole when ``torchrun`` returns. A SLURM array gives each task ``--shard
$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT``; no group is formed, and the last task to
finish merges.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
from collections.abc import Callable
from pathlib import Path

from benchmark.store import (
    RECORD,
    SCORES,
    ScoresFile,
    Shard,
    combine,
    load_record,
    merge_rows,
    save_record,
    shards_in,
)
from raindata.atomic import remove_stale_temps
from raindata.errors import DataError
from raindata.lock import Holder, LockedError, lock_file, lock_folder

__all__ = ["RankGroup", "Shard", "fold", "fold_all", "fold_locked", "from_environment",
           "part_lock"]

BARRIER_TIMEOUT = datetime.timedelta(days=7)
"""How long rank 0 waits for the slowest rank (a long network run on a slow device)."""


def part_lock(folder: Path, shard: Shard, *, wait: bool = False,
              on_wait: Callable[[Holder], None] | None = None):
    """The lock of one shard's part of the run in ``folder``."""
    return lock_file(folder / shard.scores_name, wait=wait, on_wait=on_wait)


def from_environment(device: str) -> tuple[Shard | None, str]:
    """(this process's shard, its device) under torchrun with several ranks; otherwise
    (None, ``device``). ``cuda`` becomes ``cuda:LOCAL_RANK``."""
    world = os.environ.get("WORLD_SIZE", "")
    if world in ("", "1"):
        return None, device
    from models.train.ddp import env_info, local_device  # torch: only under torchrun

    try:
        info = env_info()
    except ValueError as exc:
        raise DataError(str(exc)) from None
    if not info.enabled:
        return None, device
    return Shard(info.rank, info.world_size), str(local_device(device, info))


class RankGroup:
    """The torchrun ranks of this job, joined in a ``gloo`` group (CPU, whatever the device)
    that only waits: :meth:`wait_for_all` returns once every rank has called it. Joined
    once per process, at first use, and left when the process exits."""

    _joined = False

    def __init__(self) -> None:
        import torch.distributed as dist

        from models.train.ddp import env_info

        self.rank = env_info().rank
        if not RankGroup._joined and not dist.is_initialized():
            try:
                dist.init_process_group("gloo", timeout=BARRIER_TIMEOUT)
            except (RuntimeError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise DataError(f"torchrun: cannot join the ranks' process group ({first})") \
                    from None
            atexit.register(_leave)
        RankGroup._joined = True

    def wait_for_all(self) -> None:
        """Return once every rank has reached this call."""
        import torch.distributed as dist

        dist.barrier()


def _leave() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def fold_locked(folder: Path) -> list[Shard]:
    """:func:`fold` for a caller holding the run folder's lock; the shards merged."""
    held = []
    try:
        for shard in shards_in(folder):
            lock = part_lock(folder, shard)
            try:
                lock.acquire()
            except LockedError:
                continue  # being written: its shard folds it when it finishes
            held.append((shard, lock))
        if not held:
            return []
        for shard, _ in held:
            remove_stale_temps(folder, shard.file_names())
        whole = ScoresFile(folder / SCORES)
        rows = merge_rows(whole.read(),
                          *(ScoresFile(folder / s.scores_name).read() for s, _ in held))
        parts = [load_record(folder, s.record_name) for s, _ in held]
        record = combine(load_record(folder), [p for p in parts if p is not None], rows)
        whole.checkpoint(rows)
        if record is not None:
            save_record(folder, record)
        for shard, _ in held:
            for name in shard.file_names():
                with contextlib.suppress(FileNotFoundError):
                    (folder / name).unlink()
        return [s for s, _ in held]
    finally:
        for _, lock in held:
            lock.release()


def fold(folder: Path, *, wait: bool = True,
         on_wait: Callable[[Holder], None] | None = None) -> list[Shard] | None:
    """Merge the parts of the run in ``folder`` that no process is writing into its
    ``scores.csv`` and ``run.json``; the shards merged, or None when ``wait`` is False and
    another process holds the run folder's lock."""
    lock = lock_folder(folder, wait=wait, on_wait=on_wait)
    try:
        lock.acquire()
    except LockedError:
        return None
    try:
        remove_stale_temps(folder, (SCORES, RECORD))
        return fold_locked(folder)
    finally:
        lock.release()


def fold_all(results: Path) -> list[Path]:
    """:func:`fold` (without waiting) every run under ``results`` that has shard parts;
    the folders merged. A folder that cannot be written (read-only results) is skipped:
    readers merge parts as they read (:func:`benchmark.store.load_run`)."""
    done = []
    folders = {p.parent for p in Path(results).glob("*/*/*/scores.shard-*-of-*.csv*")}
    folders |= {p.parent for p in Path(results).glob("*/*/*/run.shard-*-of-*.json")}
    for folder in sorted(folders):
        try:
            if fold(folder, wait=False):
                done.append(folder)
        except (OSError, DataError):
            continue
    return done
