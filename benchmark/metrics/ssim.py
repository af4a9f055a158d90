"""SSIM of Wang et al. (2004 paper, 2003 ``ssim_index.m``) under a named protocol.

Window: 11x11 Gaussian, sigma 1.5 (``fspecial('gaussian', 11, 1.5)``), normalised;
K1 = 0.01, K2 = 0.03, L = 255; statistics by ``filter2(w, x, 'valid')``; the mean of
the SSIM map. Implemented with the separable form of the window in float64
(``cv2.sepFilter2D``, 'valid' by cropping 5 pixels per side), means and variances by
the standard formula ``E[x^2] - E[x]^2`` as MATLAB does. Unlike pyiqa, negative
contrast-structure terms are not clipped to zero (MATLAB does not clip).
"""

from __future__ import annotations

import numpy as np

from benchmark.metrics.cards import CARDS, MetricCard, with_protocol
from benchmark.metrics.errors import MetricInputError
from benchmark.metrics.protocols import DEFAULT_PROTOCOL, get_protocol, prepare_pair

WINDOW_SIZE = 11
SIGMA = 1.5
K1, K2, DATA_RANGE = 0.01, 0.03, 255.0


def gaussian_1d(size: int = WINDOW_SIZE, sigma: float = SIGMA) -> np.ndarray:
    """Normalised 1-D Gaussian whose outer product is MATLAB's ``fspecial('gaussian')``."""
    k = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(k * k) / (2.0 * sigma * sigma))
    return g / g.sum()


def _filter_valid(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    import cv2

    r = len(g) // 2
    out = cv2.sepFilter2D(img, cv2.CV_64F, g, g, borderType=cv2.BORDER_REFLECT)
    return out[r:-r, r:-r] if r else out


def downsample_wang(x: np.ndarray) -> np.ndarray:
    """Automatic downsampling of Wang's 2009 ``ssim.m`` (used by ``y-double``).

    ``f = max(1, round(min(H, W) / 256))``; for ``f > 1`` an ``f x f`` mean filter
    (``imfilter`` 'symmetric', 'same': MATLAB centres an even kernel at ``f/2``) and
    every f-th row/column starting at the first.
    """
    h, w = x.shape
    f = max(1, int(np.floor(min(h, w) / 256.0 + 0.5)))
    if f == 1:
        return x
    c = (f + 1) // 2  # MATLAB kernel centre (1-based)
    pad = ((c - 1, f - c), (c - 1, f - c))
    p = np.pad(x, pad, mode="symmetric")
    s = np.cumsum(np.cumsum(p, axis=0), axis=1)
    s = np.pad(s, ((1, 0), (1, 0)))
    box = (s[f:, f:] - s[:-f, f:] - s[f:, :-f] + s[:-f, :-f]) / (f * f)
    return box[::f, ::f]


def _check_window(shape: tuple[int, ...]) -> None:
    h, w = shape[-2:]
    if h < WINDOW_SIZE or w < WINDOW_SIZE:
        raise MetricInputError(
            f"image too small for SSIM: expected at least {WINDOW_SIZE}x{WINDOW_SIZE} pixels, "
            f"got {h}x{w}"
        )


def ssim_plane(
    x: np.ndarray, y: np.ndarray, data_range: float = DATA_RANGE, clip_cs: bool = False
) -> float:
    """Mean SSIM of two float64 planes (values on the ``data_range`` scale), 'valid' window.

    ``clip_cs=True`` clips the contrast-structure term at 0 as pyiqa does (not MATLAB);
    it exists only to show that this is the whole difference to pyiqa (bench).
    """
    _check_window(x.shape)
    g = gaussian_1d()
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    mu1 = _filter_valid(x, g)
    mu2 = _filter_valid(y, g)
    mu1_sq = mu1 * mu1
    mu2_sq = mu2 * mu2
    mu12 = mu1 * mu2
    s1 = _filter_valid(x * x, g) - mu1_sq
    s2 = _filter_valid(y * y, g) - mu2_sq
    s12 = _filter_valid(x * y, g) - mu12
    if clip_cs:
        cs = np.maximum((2.0 * s12 + c2) / (s1 + s2 + c2), 0.0)
        return float(np.mean((2.0 * mu12 + c1) / (mu1_sq + mu2_sq + c1) * cs))
    num = (2.0 * mu12 + c1) * (2.0 * s12 + c2)
    den = (mu1_sq + mu2_sq + c1) * (s1 + s2 + c2)
    return float(np.mean(num / den))


def ssim(a: np.ndarray, b: np.ndarray, protocol: str = DEFAULT_PROTOCOL) -> float:
    """Mean SSIM between ``a`` and ``b`` (same shape; uint8 [0, 255] or float [0, 1]).

    Multi-channel protocols (``rgb``) average the per-channel SSIM. Identical images
    give 1.0. Images smaller than 11x11 raise :class:`MetricInputError`.
    """
    x, y, proto = prepare_pair(a, b, protocol)
    _check_window(x.shape)  # before any downsampling, as ssim.m does
    vals = []
    for xc, yc in zip(x, y, strict=True):
        if proto.ssim_scale != 1.0:
            xc, yc = xc * proto.ssim_scale, yc * proto.ssim_scale
        if proto.ssim_downsample:
            xc, yc = downsample_wang(xc), downsample_wang(yc)
        vals.append(ssim_plane(xc, yc))
    return float(np.mean(vals))


class SSIM:
    """Callable SSIM bound to a protocol; ``.card`` describes it."""

    def __init__(self, protocol: str = DEFAULT_PROTOCOL) -> None:
        self.protocol = get_protocol(protocol).name
        self.card: MetricCard = with_protocol(CARDS["ssim"], self.protocol)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        return ssim(a, b, self.protocol)

    def __repr__(self) -> str:
        return f"SSIM(protocol={self.protocol!r})"
