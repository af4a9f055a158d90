"""Seeds that do not depend on how DataLoader work was scheduled.

Every random choice a dataset makes for item ``i`` in epoch ``e`` comes from
``sample_rng(seed, e, i)``: a fresh :class:`numpy.random.Generator` derived from
``SeedSequence([seed, e, i])``. The same item gets the same crop and flips whichever
worker process fetches it, with any ``num_workers`` and any batch size.

:func:`worker_init_fn` additionally seeds the global ``random``, ``numpy.random`` and
``torch`` generators of each worker (for randomness outside this package, e.g. a
user transform). Those seeds come from ``torch.initial_seed()``, which DataLoader sets
to ``base_seed + worker_id``; pass ``generator=torch.Generator().manual_seed(s)`` to
the DataLoader to make ``base_seed`` itself reproducible.

The current epoch lives in :class:`SharedEpoch`, a one-element tensor in shared
memory, so ``dataset.set_epoch(e)`` reaches worker processes that already exist
(``persistent_workers=True``) as well as freshly started ones. Call it before
iterating the loader for that epoch, as with ``DistributedSampler.set_epoch``.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator for item ``index`` in ``epoch`` of a dataset seeded with ``seed``."""
    for name, value in (("seed", seed), ("epoch", epoch), ("index", index)):
        if int(value) < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(epoch), int(index)]))


def worker_init_fn(worker_id: int) -> None:
    """Seed ``random``, ``numpy.random`` and ``torch`` in a DataLoader worker.

    Pass as ``DataLoader(..., worker_init_fn=worker_init_fn)``. The datasets of this
    package do not need it (they use :func:`sample_rng`); it keeps any other
    randomness in the worker from repeating across workers.
    """
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class SharedEpoch:
    """An epoch number shared between a dataset and its DataLoader workers."""

    def __init__(self, epoch: int = 0) -> None:
        self._value = torch.zeros((), dtype=torch.int64).share_memory_()
        self.set(epoch)

    def set(self, epoch: int) -> None:
        """Set the epoch (a non-negative integer)."""
        if int(epoch) != epoch or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        self._value.fill_(int(epoch))

    def get(self) -> int:
        """The current epoch."""
        return int(self._value.item())


class EpochMixin:
    """``set_epoch``/``epoch`` for a Dataset holding a :class:`SharedEpoch` in ``_epoch``."""

    _epoch: SharedEpoch

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose crops and flips the next iteration draws."""
        self._epoch.set(epoch)

    @property
    def epoch(self) -> int:
        """The current epoch."""
        return self._epoch.get()
