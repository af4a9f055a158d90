"""Unpaired real rainy images with their own random crops (the ``x_real`` of UDRDR).

An item is ``{"rainy": float32 3 x P x P in [0, 1], "id": str}``. ``length`` sets the
number of items per epoch; item ``i`` shows image ``i % len(images)``, so a small real
set can be oversampled with a different crop for each repeat. Seeding is the same as
for :class:`~raindata.loading.paired.PairedDataset`: item ``i`` in epoch ``e`` depends
only on ``(seed, e, i)``. Images smaller than the patch raise :class:`DataError`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from torch.utils.data import Dataset

from raindata.errors import DataError
from raindata.loading._common import check_file, check_patch_fits, check_patch_size, to_tensor
from raindata.loading.seeding import EpochMixin, SharedEpoch, sample_rng
from raindata.loading.transforms import apply_window, sample_window

if TYPE_CHECKING:
    from raindata.layouts import Sample


class UnpairedDataset(EpochMixin, Dataset):
    """Random crops (and, with ``augment``, flips) of single rainy images.

    ``items``: image paths or :class:`~raindata.layouts.Sample` objects (their rainy
    image is used). ``patch_size`` None gives whole images (batch size 1).
    """

    def __init__(
        self,
        items: Sequence[str | os.PathLike | Sample],
        patch_size: int | None,
        *,
        seed: int = 0,
        augment: bool = True,
        length: int | None = None,
    ) -> None:
        check_patch_size(patch_size)
        self.items = list(items)
        if not self.items:
            raise DataError("no rainy images to load")
        for item in self.items:
            if isinstance(item, (str, os.PathLike)):
                check_file(Path(item), "rainy", Path(item).stem)
            else:
                check_file(item.rainy, "rainy", item.id)
        if length is not None and (int(length) != length or length < 1):
            raise ValueError(f"length must be a positive integer, got {length!r}")
        self.patch_size = patch_size
        self.seed = int(seed)
        self.augment = bool(augment)
        self.length = len(self.items) if length is None else int(length)
        self._epoch = SharedEpoch(0)

    def __len__(self) -> int:
        return self.length

    def _load(self, item: str | os.PathLike | Sample) -> tuple[np.ndarray, str, object]:
        if isinstance(item, (str, os.PathLike)):
            from raindata.imageio import read_image

            return read_image(item), Path(item).stem, item
        from raindata.layouts import load_pair

        return load_pair(item)[0], item.id, item.rainy

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} items")
        img, item_id, name = self._load(self.items[index % len(self.items)])
        check_patch_fits(img, self.patch_size, name)
        rng = sample_rng(self.seed, self.epoch, index)
        win = sample_window(rng, img.shape[0], img.shape[1], self.patch_size, self.augment)
        return {"rainy": to_tensor(apply_window(img, win)), "id": item_id}
