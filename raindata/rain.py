"""The rain layer: sparse drops, an oriented motion-blur kernel, additive composition.

A rain layer is ``R = S * K`` where ``S`` is a sparse image of drop seeds and ``K``
a streak kernel: an anti-aliased line segment of the given length at the exact
angle (convention of :mod:`raindata.angles`), blurred by a small Gaussian that sets
the drop width. Both steps are linear, so the Gaussian is applied to the kernel
instead of the full image, and the whole layer costs one ``cv2.filter2D`` (which
switches to a DFT for kernels of this size). Everything is ``float32``.

Parameters of one layer (:class:`LayerParams`):

- ``density``: fraction of pixels that seed a drop (``0.004`` = 0.4 %).
- ``length``: streak length in pixels (sub-pixel lengths are rasterised exactly).
- ``width``: standard deviation in pixels of the Gaussian drop blur (0 = none).
- ``intensity``: peak grey value (0-255) of an *isolated* streak from a full-strength
  drop; seeds carry a strength drawn uniformly from :data:`AMPLITUDE`, overlapping
  streaks add up and the stored uint8 layer saturates at 255.

Seeds are drawn on a canvas padded by the kernel radius, so streaks enter the image
from outside and the rain density is uniform up to the borders; any image size,
even one pixel, works. Rain is grey-white: one value used for all three channels.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from raindata.angles import direction_vector

AMPLITUDE = (0.5, 1.0)
"""Range of the per-drop strength (uniform); multiplies the layer's intensity."""

GAUSS_TRUNCATE = 4.0
"""The drop-width Gaussian is truncated at this many standard deviations."""


def _cv2():
    import cv2

    return cv2


@dataclass(frozen=True)
class LayerParams:
    """Parameters of one rain layer (see the module docstring for units)."""

    density: float
    length: float
    width: float
    intensity: float
    angle: float

    def to_dict(self) -> dict[str, float]:
        """Plain dict (for manifests)."""
        return asdict(self)


def line_kernel_radius(length: float, width: float) -> int:
    """Half-size ``r`` of the square ``(2r+1) x (2r+1)`` streak kernel."""
    return math.ceil(length / 2.0 + GAUSS_TRUNCATE * width + 1.0)


def line_kernel(length: float, angle: float, width: float = 0.0) -> np.ndarray:
    """Normalised (sum 1) ``float32`` streak kernel: an anti-aliased line, Gaussian-blurred.

    Each pixel's weight is its coverage by a 1-pixel-wide segment of ``length``
    centred on the kernel centre along ``direction_vector(angle)``: a tent of
    half-width 1 across the line times a clipped ramp at the two ends, so the line
    is rasterised at the exact (non-integer) angle and length. ``width`` is the
    sigma of the Gaussian drop blur applied afterwards (0 = none). The kernel is
    square with odd side ``2 r + 1``.
    """
    if not length > 0:
        raise ValueError(f"streak length must be > 0, got {length}")
    if width < 0:
        raise ValueError(f"drop width must be >= 0, got {width}")
    r = line_kernel_radius(length, width)
    coords = np.arange(-r, r + 1, dtype=np.float64)
    xs = coords[None, :]
    ys = coords[:, None]
    dx, dy = direction_vector(angle)
    along = xs * dx + ys * dy
    across = np.abs(ys * dx - xs * dy)
    kernel = np.clip(1.0 - across, 0.0, None) * np.clip(length / 2.0 + 0.5 - np.abs(along), 0, 1)
    kernel /= kernel.sum()
    if width > 0:
        cv2 = _cv2()
        ksize = 2 * math.ceil(GAUSS_TRUNCATE * width) + 1
        kernel = cv2.GaussianBlur(
            kernel, (ksize, ksize), width, borderType=cv2.BORDER_CONSTANT
        )
        kernel /= kernel.sum()
    return kernel.astype(np.float32)


def seed_canvas(
    rng: np.random.Generator, shape: tuple[int, int], density: float
) -> np.ndarray:
    """Sparse ``float32`` image: ``Binomial(H*W, density)`` drops at uniform positions.

    Each drop carries a strength uniform in :data:`AMPLITUDE`; drops that land on
    the same pixel add. Draws, in order: the count, the positions, the strengths.
    """
    h, w = shape
    n_pix = h * w
    if not 0 <= density <= 1:
        raise ValueError(f"density must be in [0, 1], got {density}")
    n = int(rng.binomial(n_pix, density))
    pos = rng.integers(0, n_pix, size=n)
    amp = rng.uniform(AMPLITUDE[0], AMPLITUDE[1], size=n)
    canvas = np.bincount(pos, weights=amp, minlength=n_pix)
    return canvas.astype(np.float32).reshape(h, w)


def streak_kernel(params: LayerParams) -> np.ndarray:
    """The layer's kernel scaled so that a unit seed gives a peak of ``params.intensity``."""
    kernel = line_kernel(params.length, params.angle, params.width)
    kernel *= np.float32(params.intensity / float(kernel.max()))
    return kernel


def streaks_from_seeds(seeds: np.ndarray, params: LayerParams) -> np.ndarray:
    """Spread each seed of a ``float32`` seed image into a streak (``same`` size, zero border).

    The kernel is point-symmetric, so the correlation computed by ``cv2.filter2D``
    equals the convolution.
    """
    cv2 = _cv2()
    kernel = streak_kernel(params)
    return cv2.filter2D(
        np.ascontiguousarray(seeds, np.float32), cv2.CV_32F, kernel,
        borderType=cv2.BORDER_CONSTANT,
    )


def rain_layer(
    shape: tuple[int, int], params: LayerParams, rng: np.random.Generator
) -> np.ndarray:
    """One rain layer as ``float32`` grey values (``H x W``, not yet clipped).

    Seeds are drawn on the image padded by the kernel radius on every side, so
    streaks whose drop lies just outside the image still cross into it.
    """
    h, w = shape
    r = line_kernel_radius(params.length, params.width)
    seeds = seed_canvas(rng, (h + 2 * r, w + 2 * r), params.density)
    return streaks_from_seeds(seeds, params)[r : r + h, r : r + w]


def render_rain(
    shape: tuple[int, int], layers: list[LayerParams], rng: np.random.Generator
) -> np.ndarray:
    """Sum of the given layers (drawn in order from ``rng``), ``float32`` ``H x W``."""
    total = np.zeros(shape, np.float32)
    for params in layers:
        total += rain_layer(shape, params, rng)
    return total


def to_uint8(rain: np.ndarray) -> np.ndarray:
    """Round to the nearest grey level and saturate to ``[0, 255]`` (``uint8``)."""
    out = np.rint(rain)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def compose(latent: np.ndarray, streak: np.ndarray) -> np.ndarray:
    """Equation (1) in uint8: ``clip(latent + streak, 0, 255)`` per pixel and channel.

    ``latent`` is ``H x W x 3`` uint8, ``streak`` ``H x W`` uint8 (added to all three
    channels). After clipping, ``rainy - latent`` is the effective rain map a model
    can learn; ``streak`` is the layer that was added (they differ where the sum
    saturated).
    """
    if latent.dtype != np.uint8 or streak.dtype != np.uint8:
        raise ValueError(f"expected uint8 arrays, got {latent.dtype} and {streak.dtype}")
    if latent.ndim != 3 or latent.shape[2] != 3 or streak.shape != latent.shape[:2]:
        raise ValueError(
            f"expected latent HxWx3 and streak HxW of the same size, "
            f"got {latent.shape} and {streak.shape}"
        )
    cv2 = _cv2()
    return cv2.add(latent, cv2.merge([streak, streak, streak]))
