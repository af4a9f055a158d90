"""Colour conversions exactly as MATLAB computes them, plus input normalisation.

Input conventions used by every metric in this package:

* ``uint8`` arrays hold values in [0, 255];
* floating-point arrays hold values in [0, 1] (checked; values outside raise
  :class:`MetricInputError`). They are turned into ``uint8`` by rounding
  (``floor(255 x + 0.5)``, MATLAB's ``im2uint8``) where a protocol works on ``uint8``.

``rgb2ycbcr`` (MATLAB, Image Processing Toolbox) uses the Poynton matrix
``Y = 16 + 65.481 R' + 128.553 G' + 24.966 B'`` for R', G', B' in [0, 1]. For a
``uint8`` input MATLAB scales the matrix by 1/255, keeps the offset 16 and evaluates
``imlincomb(T1, R, T2, G, T3, B, 16)`` in double precision, then converts to ``uint8``
by rounding (half away from zero) with saturation. :func:`rgb2y_uint8` does the same
sums in the same order. For a ``double`` input both the matrix and the offset are
scaled by 1/255 and nothing is rounded (:func:`rgb2y_double`).

In exact arithmetic 194 of the 2^24 colours give a Y exactly halfway between two
integers; for those the rounded result depends on floating-point evaluation order.
With the order above 100 of them round differently from exact arithmetic (by one
level): different implementations legitimately disagree on those 100 colours.
"""

from __future__ import annotations

import numpy as np

from benchmark.metrics.errors import MetricInputError

YCBCR_Y_ROW = (65.481, 128.553, 24.966)
"""First row of MATLAB's ``rgb2ycbcr`` matrix (RGB in [0, 1] -> Y in [16, 235])."""

# MATLAB rgb2gray: the first row of inv([1 .956 .621; 1 -.272 -.647; 1 -1.106 1.703]).
_YIQ_TO_RGB = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.106, 1.703]])

FLOAT_RANGE_TOL = 1e-6


def check_image(img: np.ndarray, name: str = "image") -> np.ndarray:
    """Check one image: ndarray, HxW or HxWx{1,3}, uint8 or float in [0, 1].

    Returns the array with a trailing singleton channel dropped.
    """
    if not isinstance(img, np.ndarray):
        raise MetricInputError(f"{name}: expected a numpy array, got {type(img).__name__}")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
        raise MetricInputError(f"{name}: expected HxW or HxWx3, got shape {img.shape}")
    if img.dtype == np.uint8:
        return img
    if not np.issubdtype(img.dtype, np.floating):
        raise MetricInputError(
            f"{name}: expected uint8 in [0, 255] or float in [0, 1], got dtype {img.dtype}"
        )
    lo, hi = float(np.min(img)), float(np.max(img))
    finite = np.isfinite(lo) and np.isfinite(hi)
    if not finite or lo < -FLOAT_RANGE_TOL or hi > 1 + FLOAT_RANGE_TOL:
        raise MetricInputError(
            f"{name}: float images must lie in [0, 1], got values in [{lo:.6g}, {hi:.6g}]"
        )
    return img


def check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check two images and that their shapes match (expected = first, got = second)."""
    a = check_image(a, "first image")
    b = check_image(b, "second image")
    if a.shape != b.shape:
        raise MetricInputError(
            f"image shapes differ: expected {_fmt_shape(a.shape)} (first image), "
            f"got {_fmt_shape(b.shape)} (second image)"
        )
    return a, b


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """``uint8`` unchanged; float in [0, 1] -> ``uint8`` by rounding half up (im2uint8)."""
    img = check_image(img)
    if img.dtype == np.uint8:
        return img
    return np.clip(np.floor(img.astype(np.float64) * 255.0 + 0.5), 0, 255).astype(np.uint8)


def to_double(img: np.ndarray) -> np.ndarray:
    """MATLAB ``im2double``: ``uint8`` / 255; float kept (as float64)."""
    img = check_image(img)
    if img.dtype == np.uint8:
        return img.astype(np.float64) / 255.0
    return img.astype(np.float64)


def _lincomb(img: np.ndarray, coeffs: np.ndarray, offset: float) -> np.ndarray:
    # imlincomb order: ((c1*R + c2*G) + c3*B) + offset, in double precision.
    x = img.astype(np.float64)
    out = coeffs[0] * x[:, :, 0]
    out += coeffs[1] * x[:, :, 1]
    out += coeffs[2] * x[:, :, 2]
    out += offset
    return out


def _round_uint8(x: np.ndarray) -> np.ndarray:
    # MATLAB double -> uint8: round half away from zero, saturate.
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)


def rgb2y_uint8(img: np.ndarray) -> np.ndarray:
    """Y of MATLAB ``rgb2ycbcr`` on a ``uint8`` RGB image: ``uint8`` HxW in [16, 235]."""
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise MetricInputError(f"rgb2y_uint8: expected uint8 HxWx3, got {img.dtype} {img.shape}")
    coeffs = np.array(YCBCR_Y_ROW) / 255.0
    return _round_uint8(_lincomb(img, coeffs, 16.0))


def rgb2y_double(img: np.ndarray) -> np.ndarray:
    """Y of MATLAB ``rgb2ycbcr`` on a double RGB image in [0, 1]: float64 in [16/255, 235/255].

    A ``uint8`` input is first converted with ``im2double`` (as the PReNet scripts do).
    """
    x = to_double(img)
    if x.ndim != 3:
        raise MetricInputError(f"rgb2y_double: expected HxWx3, got shape {img.shape}")
    coeffs = np.array(YCBCR_Y_ROW) / 255.0
    return _lincomb(x, coeffs, 16.0 / 255.0)


def rgb2gray_uint8(img: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2gray`` on a ``uint8`` RGB image (0.2989 R + 0.5870 G + 0.1140 B, rounded)."""
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise MetricInputError(
            f"rgb2gray_uint8: expected uint8 HxWx3, got {img.dtype} {img.shape}"
        )
    coeffs = np.linalg.inv(_YIQ_TO_RGB)[0]
    return _round_uint8(_lincomb(img, coeffs, 0.0))
