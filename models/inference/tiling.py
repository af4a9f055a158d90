"""Tiled inference: overlapping tiles of an image, blended back without seams.

Tiling (``tile=T``): the image is cut into ``T x T`` tiles whose starts step by
``T - overlap``; the last tile of a row/column is shifted back so that it ends at the
image border, so every tile lies inside the image and nothing is padded. An image side
not longer than ``T`` is processed whole along that side (no padding either). Tile
outputs are blended with a separable window: on each tile edge that lies inside the image,
the outer quarter of the overlap (``overlap // 4`` pixels, where the network's padding
at the tile border shows) weighs 0, the next half rises as a raised cosine
``0.5 - 0.5 cos(pi (i + 0.5) / n)`` and the rest weighs 1; edges at the image border keep
weight 1. The weighted tiles are summed and divided by the summed weights. Hence:

- a tile covering the whole image is exactly whole-image inference;
- a network whose receptive field reaches ``r`` pixels from its centre gives the
  whole-image result (up to float rounding) whenever ``overlap // 4 >= r``; with a smaller
  overlap the seams differ slightly (tests and ``bench/results/inference.md`` report it).
  The scale-1 EDSR has ``r = 2 * n_blocks + 3`` (3x3 convolutions), i.e. 35 for the paper
  config, although a trained net's effective reach is usually far smaller.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import torch

from raindata.errors import DataError


def check_tiling(tile: int | None, overlap: int) -> None:
    """DataError unless ``tile`` is None or an int >= 1 and ``0 <= overlap < tile``."""
    if tile is None:
        return
    if isinstance(tile, bool) or not isinstance(tile, int) or tile < 1:
        raise DataError(f"tile: expected an integer >= 1 or None, got {tile!r}")
    if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap < tile:
        raise DataError(f"overlap: expected an integer in [0, tile={tile}), got {overlap!r}")



# --------------------------------------------------------------------------- tiling


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``min(tile, length)`` covering ``[0, length)``.

    Steps of ``tile - overlap``; the last start is ``length - tile`` so the last tile ends
    at the border. A side not longer than ``tile`` gives ``[0]``.
    """
    check_tiling(tile, overlap)
    if length <= tile:
        return [0]
    return [*range(0, length - tile, tile - overlap), length - tile]


def ramp(length: int) -> np.ndarray:
    """Raised-cosine ramp of ``length`` weights rising from near 0 to near 1 (all > 0)."""
    i = np.arange(length, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(math.pi * (i + 0.5) / max(length, 1))


def edge_profile(overlap: int) -> np.ndarray:
    """Weights of the ``overlap - overlap // 4`` pixels next to an inner tile edge.

    The first ``overlap // 4`` (the margin, where the network saw the tile border instead
    of image content) weigh 0, the next ``overlap - 2 * (overlap // 4)`` follow
    :func:`ramp`; further in, the weight is 1.
    """
    margin = overlap // 4
    return np.concatenate([np.zeros(margin), ramp(overlap - 2 * margin)])


def blend_window(size: int, overlap: int, ramp_start: bool, ramp_end: bool) -> np.ndarray:
    """1-D blending weights of one tile side: 1, with :func:`edge_profile` at inner edges."""
    w = np.ones(size, dtype=np.float64)
    prof = edge_profile(overlap)[:size]
    n = prof.size
    if n > 0:
        if ramp_start:
            w[:n] *= prof
        if ramp_end:
            w[size - n :] *= prof[::-1]
    return w


def tiles(height: int, width: int, tile: int, overlap: int) -> Iterator[tuple[slice, slice]]:
    """(rows, cols) slices of every tile of an ``height x width`` image, row by row."""
    for y in tile_starts(height, tile, overlap):
        for x in tile_starts(width, tile, overlap):
            yield slice(y, y + min(tile, height)), slice(x, x + min(tile, width))



def tiled_forward(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, tile: int, overlap: int
) -> torch.Tensor:
    """Blend ``fn`` of overlapping tiles of ``x`` [N, C, H, W] (module docstring).

    ``fn`` maps a tile [N, C, h, w] to an output [N, C', h, w] of the same size.
    """
    n, _, height, width = x.shape
    acc: torch.Tensor | None = None
    wsum = torch.zeros(1, 1, height, width, dtype=torch.float32, device=x.device)
    for rows, cols in tiles(height, width, tile, overlap):
        out = fn(x[:, :, rows, cols]).float()
        if acc is None:
            acc = torch.zeros(n, out.shape[1], height, width, dtype=torch.float32,
                              device=x.device)
        wy = blend_window(rows.stop - rows.start, overlap, rows.start > 0, rows.stop < height)
        wx = blend_window(cols.stop - cols.start, overlap, cols.start > 0, cols.stop < width)
        w = torch.from_numpy(np.outer(wy, wx).astype(np.float32)).to(x.device)[None, None]
        acc[:, :, rows, cols] += out * w
        wsum[:, :, rows, cols] += w
    assert acc is not None
    return acc / wsum
