"""Small helpers shared by the paired and unpaired datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from raindata.errors import DataError


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 ``H x W x 3`` (any strides) -> float32 ``3 x H x W`` in [0, 1]."""
    chw = np.ascontiguousarray(img.transpose(2, 0, 1))
    return torch.from_numpy(chw).to(torch.float32).div_(255.0)


def check_patch_fits(img: np.ndarray, patch_size: int | None, name: object) -> None:
    """DataError naming ``name`` when ``img`` is smaller than the patch in either direction."""
    if patch_size is None:
        return
    h, w = img.shape[:2]
    if h < patch_size or w < patch_size:
        raise DataError(
            f"{name}: image is {w}x{h} (W x H), smaller than the {patch_size}x{patch_size} patch"
        )


def check_patch_size(patch_size: int | None) -> None:
    """ValueError unless ``patch_size`` is None or a positive integer."""
    if patch_size is not None and (int(patch_size) != patch_size or patch_size < 1):
        raise ValueError(f"patch_size must be None or a positive integer, got {patch_size!r}")


def check_file(path: Path | None, what: str, sample_id: str) -> None:
    """DataError unless ``path`` names an existing file."""
    if path is None:
        raise DataError(f"sample {sample_id!r}: no {what} image")
    if not Path(path).is_file():
        raise DataError(f"{path}: no such file ({what} image of sample {sample_id!r})")
