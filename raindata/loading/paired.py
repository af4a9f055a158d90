"""Paired training data: rainy, clean, effective rain map and direction label.

An item is a dict of tensors::

    rainy, clean, rain   float32 3 x P x P (P = patch size; whole image when None)
    angle                float32 scalar, streak direction in degrees, NaN when unknown
    has_angle            bool scalar
    id                   str, the sample id (for cached patches: the source sample's id)

``rainy`` and ``clean`` are in [0, 1]. ``rain = rainy - clean`` exactly (computed on the
float tensors): the *effective* rain map ``z_gt`` of UDRDR eq. (4), i.e. what a network
can learn after the composition was clipped to [0, 255] (and, for JPEG datasets,
compressed). It is usually >= 0 but may be negative where clipping or compression
changed the clean pixels; the shipped ``streak/`` layer is not used because it is not
recoverable from the rainy image where the sum saturated.

All three images get the same crop and flips; the angle label moves with the flips
(see :mod:`raindata.loading.transforms`). Images smaller than the patch are refused
with a :class:`DataError` naming the file (no padding: padding would invent rain-free
borders that are not in the data). With ``cache=PATH`` the items are the patches of a
cache built by :func:`raindata.pack.pack`, optionally cropped further to a smaller
``patch_size``; the HDF5 file is opened lazily in each process and kept open.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Dataset

from raindata.errors import DataError
from raindata.loading._common import check_file, check_patch_fits, check_patch_size, to_tensor
from raindata.loading.seeding import EpochMixin, SharedEpoch, sample_rng
from raindata.loading.transforms import apply_window, sample_window, transform_angle

if TYPE_CHECKING:
    from raindata.layouts import Sample
    from raindata.pack import PatchCache


class PairedDataset(EpochMixin, Dataset):
    """Aligned random crops of (rainy, clean) pairs, from image files or a patch cache.

    ``samples``: the pairs (from :func:`raindata.layouts.find_samples`); may be None
    when ``cache`` is given, otherwise their ids must match the cache's sources.
    ``patch_size``: crop side in pixels, or None for whole images (use batch size 1).
    ``augment``: random transpose, horizontal and vertical flips (label transformed).
    ``seed``: the crop and flips of item ``i`` in epoch ``e`` depend only on
    ``(seed, e, i)``; call :meth:`set_epoch` once per epoch.
    """

    def __init__(
        self,
        samples: Sequence[Sample] | None,
        patch_size: int | None,
        *,
        augment: bool = True,
        seed: int = 0,
        cache: str | os.PathLike | None = None,
    ) -> None:
        check_patch_size(patch_size)
        self.patch_size = patch_size
        self.augment = bool(augment)
        self.seed = int(seed)
        self._epoch = SharedEpoch(0)
        self.cache_path = Path(cache) if cache is not None else None
        self._cache: PatchCache | None = None
        self._cache_pid: int | None = None
        if self.cache_path is None:
            if samples is None:
                raise ValueError("PairedDataset needs samples, a cache, or both")
            self.samples = list(samples)
            if not self.samples:
                raise DataError("no paired samples to load")
            for s in self.samples:
                check_file(s.rainy, "rainy", s.id)
                if not s.side_by_side:
                    check_file(s.clean, "clean", s.id)
            self._length = len(self.samples)
        else:
            self.samples = list(samples) if samples is not None else None
            self._length = self._inspect_cache()

    def _inspect_cache(self) -> int:
        from raindata.pack import PatchCache

        with PatchCache(self.cache_path) as cache:
            if self.patch_size is not None and self.patch_size > cache.patch_size:
                raise DataError(
                    f"{self.cache_path}: holds {cache.patch_size}x{cache.patch_size} patches, "
                    f"cannot crop {self.patch_size}x{self.patch_size} from them"
                )
            if self.samples is not None:
                ids = [s.id for s in self.samples]
                if ids != cache.source_ids:
                    raise DataError(
                        f"{self.cache_path}: built from {len(cache.source_ids)} other samples "
                        f"than the {len(ids)} given (rebuild it with raindata pack)"
                    )
            return len(cache)

    # -- length -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._length

    # -- items ----------------------------------------------------------------------
    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self._length:
            raise IndexError(f"index {index} out of range for {self._length} items")
        if self.cache_path is not None:
            rainy, clean, label, sid = self._read_cached(index)
            name: object = f"{self.cache_path}[{index}]"
        else:
            from raindata.pack import load_checked_pair

            sample = self.samples[index]
            rainy, clean = load_checked_pair(sample)
            label = math.nan if sample.angle is None else float(sample.angle)
            sid, name = sample.id, sample.rainy
        check_patch_fits(rainy, self.patch_size, name)
        rng = sample_rng(self.seed, self.epoch, index)
        win = sample_window(rng, rainy.shape[0], rainy.shape[1], self.patch_size, self.augment)
        rainy_t = to_tensor(apply_window(rainy, win))
        clean_t = to_tensor(apply_window(clean, win))
        angle = transform_angle(label, win)
        return {
            "rainy": rainy_t,
            "clean": clean_t,
            "rain": rainy_t - clean_t,
            "angle": torch.tensor(angle, dtype=torch.float32),
            "has_angle": torch.tensor(not math.isnan(angle)),
            "id": sid,
        }

    def _read_cached(self, index: int) -> tuple[np.ndarray, np.ndarray, float, str]:
        # h5py handles must not cross a fork: (re)open once per process, keep it open.
        if self._cache is None or self._cache_pid != os.getpid():
            from raindata.pack import PatchCache

            self._cache = PatchCache(self.cache_path)
            self._cache_pid = os.getpid()
        rainy, clean = self._cache.read(index)
        return rainy, clean, float(self._cache.angle[index]), self._cache.source_id(index)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = None
        state["_cache_pid"] = None
        return state
