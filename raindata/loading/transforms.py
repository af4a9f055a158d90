"""Aligned random crops and dihedral flips on ``H x W x C`` numpy arrays, with labels.

One :class:`Window` describes a crop plus up to three flips; the same window is
applied to every array of a sample (rainy, clean, rain map) so they stay aligned,
and :func:`transform_angle` moves a streak direction label with it.

Order of operations: crop, then transpose (swap rows and columns), then horizontal
flip (mirror the columns), then vertical flip (mirror the rows). Together the three
flips reach all eight symmetries of the square (rotations by 90 deg included).

Angle convention (RainDirection): 0 deg points right, angles grow counter-clockwise
as displayed; image rows grow downward, so direction ``t`` is the vector
``(cos t, -sin t)`` in (column, row) coordinates. Streaks are undirected: labels are
taken modulo 180. Then

* horizontal flip (column -> W-1-column): ``t -> 180 - t``
* vertical flip (row -> H-1-row):         ``t -> 180 - t``  (i.e. ``-t``)
* transpose (column <-> row):             ``t -> 90 - t``   (i.e. ``270 - t``)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """Where to crop and how to flip: rows ``top:top+height``, columns ``left:left+width``."""

    top: int
    left: int
    height: int
    width: int
    transpose: bool = False
    hflip: bool = False
    vflip: bool = False


def sample_window(
    rng: np.random.Generator,
    height: int,
    width: int,
    patch_size: int | None,
    augment: bool,
) -> Window:
    """Draw a crop position (uniform) and, when ``augment``, three fair coin flips.

    ``patch_size=None`` keeps the whole image. The caller checks beforehand that the
    image is at least ``patch_size`` in both directions.
    """
    if patch_size is None:
        top = left = 0
        h, w = height, width
    else:
        if patch_size > height or patch_size > width:
            raise ValueError(
                f"patch {patch_size} larger than image {height}x{width} (H x W)"
            )
        top = int(rng.integers(0, height - patch_size + 1))
        left = int(rng.integers(0, width - patch_size + 1))
        h = w = patch_size
    if augment:
        transpose, hflip, vflip = (bool(b) for b in rng.integers(0, 2, size=3))
    else:
        transpose = hflip = vflip = False
    return Window(top, left, h, w, transpose, hflip, vflip)


def apply_window(arr: np.ndarray, win: Window) -> np.ndarray:
    """Crop and flip an ``H x W [x C]`` array; returns a (possibly strided) view."""
    out = arr[win.top : win.top + win.height, win.left : win.left + win.width]
    if out.shape[0] != win.height or out.shape[1] != win.width:
        raise ValueError(
            f"window {win.height}x{win.width} at ({win.top}, {win.left}) "
            f"does not fit array of shape {arr.shape}"
        )
    if win.transpose:
        out = out.swapaxes(0, 1)
    if win.hflip:
        out = out[:, ::-1]
    if win.vflip:
        out = out[::-1, :]
    return out


def transform_angle(angle: float, win: Window) -> float:
    """The streak angle (degrees, modulo 180) after the flips of ``win``; NaN stays NaN."""
    if angle is None or math.isnan(angle):
        return math.nan
    t = float(angle)
    if win.transpose:
        t = 90.0 - t
    if win.hflip:
        t = 180.0 - t
    if win.vflip:
        t = 180.0 - t
    t = t % 180.0
    return 0.0 if t == 180.0 else t
