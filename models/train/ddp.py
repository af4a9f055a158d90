"""DistributedDataParallel helpers: one process per device, started by ``torchrun``.

``torchrun --nproc_per_node N $(which udrdr) train --config C.toml`` sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``; without them (or
with ``WORLD_SIZE=1``) training runs in one plain process. The backend is ``nccl`` for
CUDA devices and ``gloo`` for CPU. Under DDP:

- every rank builds the nets from the same seed and DDP broadcasts rank 0's weights;
- data is split by slicing each global batch (see :mod:`models.train.data`), so the
  union of the ranks' batches is exactly the single-process batch;
- ranks seed their global RNGs with :func:`rank_seed` (``(seed, rank)``);
- only rank 0 writes logs, checkpoints and exports (:attr:`DistInfo.is_main`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in the job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether a process group is in use."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes files."""
        return self.rank == 0


def env_info() -> DistInfo:
    """Rank, world size and local rank from the torchrun environment (defaults 0, 1, 0)."""
    def read(name: str, default: int) -> int:
        text = os.environ.get(name)
        if text is None or text == "":
            return default
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"environment {name}: expected an integer, got {text!r}") from None

    world = read("WORLD_SIZE", 1)
    rank = read("RANK", 0)
    local = read("LOCAL_RANK", rank)
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"environment: RANK={rank} WORLD_SIZE={world} is not a valid pair")
    return DistInfo(rank=rank, world_size=world, local_rank=local)


def local_device(device: str, info: DistInfo) -> torch.device:
    """The device of this rank: ``cuda`` becomes ``cuda:LOCAL_RANK`` under DDP."""
    if device == "cuda" and info.enabled:
        return torch.device("cuda", info.local_rank)
    return torch.device(device)


def init(device: torch.device) -> DistInfo:
    """Join the process group when the environment asks for more than one process."""
    info = env_info()
    if not info.enabled:
        return info
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, init_method="env://",
                                rank=info.rank, world_size=info.world_size)
    return DistInfo(info.rank, info.world_size, info.local_rank, backend)


def cleanup(info: DistInfo) -> None:
    """Leave the process group (no-op when not distributed)."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """``DistributedDataParallel(module)`` under DDP, else the module itself."""
    if not info.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def rank_seed(seed: int, rank: int) -> int:
    """A 32-bit seed for the global RNGs of ``rank`` (independent streams per rank)."""
    return int(np.random.SeedSequence([int(seed), int(rank)]).generate_state(1)[0])


def shard(batch: list[int], info: DistInfo) -> list[int]:
    """This rank's contiguous share of a global batch (the batch size must divide)."""
    if len(batch) % info.world_size:
        raise ValueError(f"batch of {len(batch)} does not split over {info.world_size} ranks")
    n = len(batch) // info.world_size
    return batch[info.rank * n:(info.rank + 1) * n]


def mean_over_ranks(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Average a tensor over ranks (identity when not distributed)."""
    if not info.enabled:
        return values
    out = values.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / info.world_size


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op when not distributed)."""
    if info.enabled:
        dist.barrier()
