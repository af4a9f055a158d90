"""A perceptual hash of an image's low frequencies, robust to rain streaks, resizing and JPEG.

:func:`low_frequency_vector` turns an image into 63 numbers that describe its coarse
structure; two copies of one photograph give nearly the same vector, two different
photographs do not. The steps (grey levels throughout):

1. Resize so that the short side is :data:`WORK_SIDE` (128) pixels (area averaging when
   shrinking), which makes everything after it independent of the image size.
2. Grey erosion with a 3 x 3 square (a local minimum). Rain streaks are thin, bright and
   additive; at this scale the minimum removes most of them, and it changes a clean
   image and its re-encoded or resized copy alike.
3. Area-resize to 32 x 32 and take the 2-D DCT; keep the 8 x 8 lowest frequencies
   without the DC term (63 coefficients), so the mean brightness (and a veil of rain)
   does not count.
4. Multiply coefficient ``(u, v)`` by its radial frequency ``sqrt(u**2 + v**2)``. Natural
   images put most energy in the lowest two or three coefficients (a bright sky over a
   dark ground); without this 1/f whitening, any two landscape photographs look alike.
5. Scale to unit length.

:func:`similarity` is the cosine of two such vectors (1.0 for the same image; it is the
correlation of the whitened low-pass images). :func:`hash_bits` packs the 63 signs into
an integer for the band index of :mod:`raindata.hashindex`. Measured on the real data
(``bench/results/overlap.md``): rain-streaked copies score >= 0.94 against their clean
image (Rain100L, RainTrainL, synthetic streaks), JPEG q30 and 0.5x/1.5x copies >= 0.99,
while 85,000 pairs of distinct photographs score at most 0.71;
:data:`DEFAULT_THRESHOLD` is 0.80. Flat images (no structure) have a zero vector and
are never near-duplicates of anything; exact copies are found by pixel hash instead.
Heavy rain with haze (Rain100H) can pull a rainy image below the threshold against its
own clean image; compare clean sides where there are any.
"""

from __future__ import annotations

import numpy as np

#: Short side (pixels) of the working copy that the erosion runs on.
WORK_SIDE = 128
#: Side of the thumbnail the DCT is taken of.
THUMB = 32
#: Lowest ``BLOCK x BLOCK`` DCT frequencies kept (less the DC term).
BLOCK = 8
#: Length of the vector and number of hash bits.
BITS = BLOCK * BLOCK - 1
#: Similarity at or above which two images are reported as near-duplicates.
DEFAULT_THRESHOLD = 0.80


def _cv2():
    import cv2

    return cv2


def _weights() -> np.ndarray:
    u, v = np.meshgrid(np.arange(BLOCK), np.arange(BLOCK))
    return np.sqrt(u * u + v * v).astype(np.float32).ravel()[1:]


_WEIGHTS = _weights()
_SHIFTS = np.arange(BITS, dtype=np.uint64)


def _grey(img: np.ndarray) -> np.ndarray:
    if img.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {img.dtype}")
    if img.ndim == 2:
        return img
    if img.ndim == 3 and img.shape[2] == 3:
        return _cv2().cvtColor(img, _cv2().COLOR_RGB2GRAY)
    raise ValueError(f"expected an H x W x 3 RGB or H x W grey image, got shape {img.shape}")


def low_frequency_vector(img: np.ndarray) -> np.ndarray:
    """The unit ``float32`` vector of 63 whitened low DCT frequencies of ``img``
    (uint8 RGB ``H x W x 3`` or grey ``H x W``); all zeros for a flat image."""
    cv2 = _cv2()
    grey = _grey(img)
    h, w = grey.shape
    scale = WORK_SIDE / min(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    work = cv2.resize(grey, size, interpolation=interp)
    work = cv2.erode(work, np.ones((3, 3), np.uint8))
    thumb = cv2.resize(work.astype(np.float32), (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    coeffs = cv2.dct(thumb)[:BLOCK, :BLOCK].ravel()[1:] * _WEIGHTS
    norm = float(np.linalg.norm(coeffs))
    if norm < 1e-3:
        return np.zeros(BITS, np.float32)
    return (coeffs / norm).astype(np.float32)


def hash_bits(vectors: np.ndarray) -> np.ndarray:
    """The 63 signs of each :func:`low_frequency_vector` packed into a ``uint64`` (bit ``i``
    set when coefficient ``i`` > 0): one value for a vector, an array for an ``N x 63``
    stack."""
    v = np.asarray(vectors)
    if v.shape[-1] != BITS:
        raise ValueError(f"expected vectors of {BITS} values, got shape {v.shape}")
    return ((v > 0).astype(np.uint64) << _SHIFTS).sum(axis=-1, dtype=np.uint64)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two :func:`low_frequency_vector` s: 1.0 for the same image, about 0 for
    unrelated ones (0.0 when either is flat)."""
    return float(np.dot(a, b))


def hamming(a: int | np.integer, b: int | np.integer) -> int:
    """Number of differing bits of two :func:`hash_bits` values."""
    return (int(a) ^ int(b)).bit_count()
