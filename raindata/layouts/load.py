"""Read a sample's images: uint8 RGB, with side-by-side files split in two (DID-Data's
``[rainy | clean]``, Rain800's ``[clean | rainy]``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from raindata.errors import DataError
from raindata.imageio import read_image
from raindata.layouts.spec import Sample


def split_side_by_side(
    img: np.ndarray, name: str | Path, clean_left: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(rainy, clean)`` from ``[rainy | clean]`` (or ``[clean | rainy]`` with ``clean_left``).

    An odd width cannot be split into equal halves and is refused, naming the file.
    """
    width = img.shape[1]
    order = "[clean | rainy]" if clean_left else "[rainy | clean]"
    if width % 2:
        raise DataError(
            f"{name}: side-by-side image has odd width {width}; expected {order} "
            "halves of equal width"
        )
    half = width // 2
    left, right = np.ascontiguousarray(img[:, :half]), np.ascontiguousarray(img[:, half:])
    return (right, left) if clean_left else (left, right)


def load_pair(sample: Sample) -> tuple[np.ndarray, np.ndarray | None]:
    """The rainy image and its ground truth (None for no-reference data), uint8 RGB.

    Sizes must agree; a mismatch raises :class:`DataError` naming both files.
    """
    if sample.rainy is None:
        raise DataError(f"sample {sample.id!r} ({sample.split}): no rainy image")
    rainy = read_image(sample.rainy)
    if sample.side_by_side:
        return split_side_by_side(rainy, sample.rainy, sample.clean_left)
    if sample.clean is None:
        return rainy, None
    clean = read_image(sample.clean)
    if clean.shape != rainy.shape:
        raise DataError(
            f"{sample.clean}: size {clean.shape[1]}x{clean.shape[0]} differs from its rainy "
            f"image {sample.rainy} ({rainy.shape[1]}x{rainy.shape[0]})"
        )
    return rainy, clean
