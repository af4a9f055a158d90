"""From a float estimate to the saved uint8 image: the official output conventions."""

from __future__ import annotations

import numpy as np

from models.cards import QUANTIZE_CONVENTIONS
from raindata.errors import DataError


def quantize(out: np.ndarray, how: str) -> np.ndarray:
    """Turn a float image in [0, 1] into uint8 by one of :data:`QUANTIZE_CONVENTIONS`.

    Both clip to [0, 1] first. ``'truncate'`` computes ``255 * out`` in float32 and casts
    toward zero, bit-for-bit the official PReNet ``np.uint8(255 * clamp(out, 0, 1))``.
    ``'round'`` computes ``255 * out`` in float64 and rounds half away from zero, as
    MATLAB ``uint8()`` and ``im2uint8`` do (numpy's ``round`` would round half to even).
    """
    if how not in QUANTIZE_CONVENTIONS:
        raise DataError(f"quantize: expected one of {', '.join(QUANTIZE_CONVENTIONS)}, got {how!r}")
    a = np.asarray(out)
    if not np.issubdtype(a.dtype, np.floating):
        raise DataError(f"quantize: expected a float image, got dtype {a.dtype}")
    if not np.isfinite(a).all():
        raise DataError(f"quantize: image holds {np.count_nonzero(~np.isfinite(a))} NaN/inf values")
    if how == "truncate":
        scaled = np.float32(255) * np.clip(a.astype(np.float32, copy=False), 0, 1)
        return scaled.astype(np.uint8)
    scaled = 255.0 * np.clip(a.astype(np.float64, copy=False), 0, 1)
    return np.floor(scaled + 0.5).astype(np.uint8)


def check_rainy(rainy: object, name: str = "derain") -> None:
    """DataError unless ``rainy`` is a non-empty uint8 ``H x W x 3`` array."""
    if (
        not isinstance(rainy, np.ndarray)
        or rainy.dtype != np.uint8
        or rainy.ndim != 3
        or rainy.shape[2] != 3
        or 0 in rainy.shape
    ):
        got = (
            f"{rainy.dtype} array of shape {rainy.shape}"
            if isinstance(rainy, np.ndarray)
            else type(rainy).__name__
        )
        raise DataError(f"{name}: expected a uint8 H x W x 3 RGB image, got {got}")
