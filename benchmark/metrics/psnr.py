"""PSNR under a named protocol (see :mod:`benchmark.metrics.protocols`)."""

from __future__ import annotations

import math

import numpy as np

from benchmark.metrics.cards import CARDS, MetricCard, with_protocol
from benchmark.metrics.protocols import DEFAULT_PROTOCOL, get_protocol, prepare_pair


def psnr_planes(x: np.ndarray, y: np.ndarray, peak: float) -> float:
    """PSNR of two prepared float64 arrays: ``10 log10(peak^2 / mean((x - y)^2))``.

    Identical inputs give ``inf`` (MSE 0); the table layer decides how to show it.
    """
    mse = float(np.mean(np.square(x - y)))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(peak * peak / mse)


def psnr(a: np.ndarray, b: np.ndarray, protocol: str = DEFAULT_PROTOCOL) -> float:
    """PSNR in dB between ``a`` and ``b`` (same shape; uint8 [0, 255] or float [0, 1]).

    ``protocol``: ``y-matlab`` (default), ``y-double``, ``rgb`` or ``gray``.
    Identical images give ``inf``.
    """
    x, y, proto = prepare_pair(a, b, protocol)
    return psnr_planes(x, y, proto.peak)


class PSNR:
    """Callable PSNR bound to a protocol; ``.card`` describes it."""

    def __init__(self, protocol: str = DEFAULT_PROTOCOL) -> None:
        self.protocol = get_protocol(protocol).name
        self.card: MetricCard = with_protocol(CARDS["psnr"], self.protocol)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        return psnr(a, b, self.protocol)

    def __repr__(self) -> str:
        return f"PSNR(protocol={self.protocol!r})"
