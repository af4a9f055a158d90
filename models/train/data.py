"""Training input: which synthetic and real items each step uses, derived from the step.

An epoch is one pass over the synthetic set: ``steps_per_epoch = len(synthetic) //
batch_size`` (the incomplete last batch is dropped). Step ``s`` belongs to epoch
``e = s // steps_per_epoch`` and is batch ``b = s % steps_per_epoch`` of it:

- synthetic indices: a permutation of ``range(len(synthetic))`` drawn from
  ``SeedSequence([seed, 1, e])``, batch ``b`` = entries ``b*B .. (b+1)*B - 1``;
- real indices: the real set is oversampled to a multiple of its size,
  ``len(real_dataset) = ceil(steps_per_epoch * B / n_real) * n_real`` (item ``i``
  shows image ``i % n_real``, each repeat with its own crop), and permuted with
  ``SeedSequence([seed, 2, e])``; batch ``b`` takes the same slice. Every real image
  is drawn about equally often, independently of the synthetic pairing (unpaired).
- crops and flips of item ``i`` in epoch ``e`` come from the datasets' own
  ``(dataset seed, e, i)`` generators (:mod:`raindata.loading.seeding`); the real
  dataset's seed is derived from the run seed so its crops are independent.

Nothing depends on how many steps ran before in this process, on ``num_workers`` or
on the world size, so a resumed run sees exactly the batches an uninterrupted run would.
Under DDP rank ``r`` of ``W`` takes the ``r``-th of ``W`` equal slices of each global
batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from models.train.config import DataConfig, DatasetRef, ValConfig, id_range
from models.train.ddp import DistInfo, shard
from raindata.errors import DataError

SYNTHETIC_STREAM = 1
REAL_STREAM = 2


def derived_seed(seed: int, stream: int) -> int:
    """A 32-bit seed for a named stream of the run (independent of the others)."""
    return int(np.random.SeedSequence([int(seed), 1000 + int(stream)]).generate_state(1)[0])


def epoch_order(n_items: int, seed: int, stream: int, epoch: int) -> np.ndarray:
    """The permutation of ``range(n_items)`` used by ``stream`` in ``epoch``."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(stream), int(epoch)]))
    return rng.permutation(n_items)


@dataclass
class TrainData:
    """The two datasets and the step geometry."""

    synthetic: Dataset
    real: Dataset
    n_real_images: int
    batch_size: int
    steps_per_epoch: int
    seed: int

    def batch_indices(self, step: int) -> tuple[list[int], list[int]]:
        """Global (all ranks) synthetic and real indices of ``step``."""
        epoch, b = divmod(step, self.steps_per_epoch)
        lo, hi = b * self.batch_size, (b + 1) * self.batch_size
        syn = epoch_order(len(self.synthetic), self.seed, SYNTHETIC_STREAM, epoch)[lo:hi]
        real = epoch_order(len(self.real), self.seed, REAL_STREAM, epoch)[lo:hi]
        return [int(i) for i in syn], [int(i) for i in real]

    def batches(
        self, start: int, stop: int, info: DistInfo, *, workers: int = 0, pin: bool = False
    ) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]]]:
        """``(step, synthetic batch, real batch)`` for steps ``start .. stop - 1``, this rank.

        One DataLoader pair per epoch (the datasets' epoch is set before it starts).
        """
        step = start
        while step < stop:
            epoch = step // self.steps_per_epoch
            end = min(stop, (epoch + 1) * self.steps_per_epoch)
            self.synthetic.set_epoch(epoch)
            self.real.set_epoch(epoch)
            syn_order = epoch_order(len(self.synthetic), self.seed, SYNTHETIC_STREAM, epoch)
            real_order = epoch_order(len(self.real), self.seed, REAL_STREAM, epoch)
            syn_b, real_b = [], []
            for s in range(step, end):
                b = s % self.steps_per_epoch
                lo, hi = b * self.batch_size, (b + 1) * self.batch_size
                syn_b.append(shard([int(i) for i in syn_order[lo:hi]], info))
                real_b.append(shard([int(i) for i in real_order[lo:hi]], info))
            syn_loader = _loader(self.synthetic, syn_b, workers, pin)
            real_loader = _loader(self.real, real_b, workers, pin)
            for s, syn, real in zip(range(step, end), syn_loader, real_loader, strict=True):
                yield s, syn, real
            step = end


def _loader(ds: Dataset, batches: list[list[int]], workers: int, pin: bool) -> DataLoader:
    from raindata.loading import worker_init_fn

    return DataLoader(ds, batch_sampler=batches, num_workers=workers, pin_memory=pin,
                      worker_init_fn=worker_init_fn if workers else None)


def find_samples(ref: DatasetRef | ValConfig, what: str) -> list:
    """The samples of ``ref`` (its ``ids`` range applied); DataError when there are none."""
    from raindata.layouts import find_samples as find

    samples = find(ref.name, ref.root, ref.split or None)
    if ref.ids:
        low, high = id_range(ref.ids, "ids")
        samples = [s for s in samples if s.id.isdigit() and low <= int(s.id) <= high]
    if not samples:
        ids = f" with ids {ref.ids}" if ref.ids else ""
        raise DataError(f"{ref.root}: no {what} images found for dataset {ref.name!r} "
                        f"split {ref.split or '(any)'!r}{ids}")
    return samples


def build_data(cfg: DataConfig, batch_size: int, seed: int) -> TrainData:
    """Find the files, build both datasets and the epoch geometry (DataError on problems)."""
    from raindata.loading import PairedDataset, UnpairedDataset

    ref = cfg.synthetic
    if ref.cache:
        samples = find_samples(ref, "synthetic") if ref.root else None
        synthetic = PairedDataset(samples, cfg.patch_size, augment=cfg.augment, seed=seed,
                                  cache=ref.cache)
    else:
        synthetic = PairedDataset(find_samples(ref, "synthetic"), cfg.patch_size,
                                  augment=cfg.augment, seed=seed)
    steps = len(synthetic) // batch_size
    if steps < 1:
        raise DataError(f"{ref.root}: {len(synthetic)} synthetic samples, fewer than one batch "
                        f"of {batch_size} (lower optim.batch_size)")
    real_items = find_samples(cfg.real, "real")
    need = steps * batch_size
    length = math.ceil(need / len(real_items)) * len(real_items)
    real = UnpairedDataset(real_items, cfg.patch_size, seed=derived_seed(seed, REAL_STREAM),
                           augment=cfg.augment, length=length)
    return TrainData(synthetic, real, len(real_items), batch_size, steps, seed)


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Move the tensors of a collated batch to ``device`` (non-blocking)."""
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v
            for k, v in batch.items()}
