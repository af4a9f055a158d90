"""Named scoring protocols: how an image pair is turned into the planes that are scored.

Every protocol accepts ``uint8`` images (values in [0, 255]) or float images (values in
[0, 1]), RGB ``HxWx3`` or grey ``HxW`` (``HxWx1`` is treated as grey). A grey image is
scored directly as a single plane (no colour conversion) in the protocol's scale.

``y-matlab`` (default)
    Images quantized to ``uint8`` by rounding; Y of MATLAB ``rgb2ycbcr`` on ``uint8``
    (rounded, studio range 16-235). PSNR with peak 255; SSIM of Wang et al. (11x11
    Gaussian, sigma 1.5, K1 0.01, K2 0.03, L 255, 'valid'); no crop, no downsampling.
``y-double``
    What the PReNet MATLAB scripts (``statistic/statistic_rain100*.m``; RCDNet reuses
    them) do: ``im2double`` then Y of ``rgb2ycbcr`` on double (not rounded, in
    [16/255, 235/255]); PSNR with peak 1 (their ``psnr.m`` uses peak 1 when the maximum
    is <= 2); SSIM with Wang's 2009 ``ssim.m`` on ``Y * 255``, which *downsamples
    automatically*: ``f = round(min(H, W) / 256)``; if ``f > 1`` both planes are
    averaged with an ``f x f`` box (``imfilter`` 'symmetric', 'same') and every f-th
    pixel kept. For Rain100L/H (481x321) ``f = 1``, so nothing is downsampled.
``rgb``
    Images quantized to ``uint8``; the three channels are scored: PSNR over the whole
    array (peak 255), SSIM per channel (as ``y-matlab``) and averaged.
``gray``
    Images quantized to ``uint8``; RGB reduced with MATLAB ``rgb2gray`` (rounded), grey
    scored directly; PSNR peak 255, SSIM as ``y-matlab``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmark.metrics.color import (
    check_pair,
    rgb2gray_uint8,
    rgb2y_double,
    rgb2y_uint8,
    to_double,
    to_uint8,
)
from benchmark.metrics.errors import MetricInputError


@dataclass(frozen=True)
class Protocol:
    """How a pair is prepared and scored.

    ``prepare`` maps one checked image to float64 planes ``C x H x W``; PSNR uses
    ``peak`` on those planes, SSIM multiplies them by ``ssim_scale`` and uses L = 255.
    """

    name: str
    colour_space: str
    peak: float
    ssim_scale: float
    ssim_downsample: bool
    prepare: Callable[[np.ndarray], np.ndarray]
    description: str


def _planes(img: np.ndarray) -> np.ndarray:
    x = img.astype(np.float64)
    return x[None] if x.ndim == 2 else np.moveaxis(x, 2, 0)


def _prep_y_matlab(img: np.ndarray) -> np.ndarray:
    u = to_uint8(img)
    return _planes(rgb2y_uint8(u) if u.ndim == 3 else u)


def _prep_y_double(img: np.ndarray) -> np.ndarray:
    d = to_double(img)
    return _planes(rgb2y_double(d) if d.ndim == 3 else d)


def _prep_rgb(img: np.ndarray) -> np.ndarray:
    return _planes(to_uint8(img))


def _prep_gray(img: np.ndarray) -> np.ndarray:
    u = to_uint8(img)
    return _planes(rgb2gray_uint8(u) if u.ndim == 3 else u)


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            "y-matlab", "Y of MATLAB rgb2ycbcr on uint8 (rounded, 16-235)", 255.0, 1.0, False,
            _prep_y_matlab, "uint8 (rounded) -> Y, PSNR peak 255, Wang SSIM, no crop",
        ),
        Protocol(
            "y-double", "Y of MATLAB rgb2ycbcr on double (unrounded, 16/255-235/255)", 1.0,
            255.0, True, _prep_y_double,
            "im2double -> Y, PSNR peak 1, ssim.m on Y*255 with automatic downsampling",
        ),
        Protocol(
            "rgb", "RGB, three channels (uint8)", 255.0, 1.0, False, _prep_rgb,
            "uint8 (rounded), PSNR over all channels, SSIM mean over channels",
        ),
        Protocol(
            "gray", "grey (MATLAB rgb2gray on uint8 for RGB input)", 255.0, 1.0, False,
            _prep_gray, "uint8 (rounded) -> rgb2gray, PSNR peak 255, Wang SSIM",
        ),
    )
}

DEFAULT_PROTOCOL = "y-matlab"


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; an unknown name is answered with the close matches."""
    try:
        return PROTOCOLS[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), PROTOCOLS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise MetricInputError(
            f"unknown protocol {name!r}: expected one of {', '.join(PROTOCOLS)}{hint}"
        ) from None


def prepare_pair(
    a: np.ndarray, b: np.ndarray, protocol: str = DEFAULT_PROTOCOL
) -> tuple[np.ndarray, np.ndarray, Protocol]:
    """Check a pair (same shape, valid dtype/range) and return its float64 planes ``C x H x W``."""
    proto = get_protocol(protocol)
    a, b = check_pair(a, b)
    return proto.prepare(a), proto.prepare(b), proto
