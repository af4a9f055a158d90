"""NIQE (Mittal, Soundararajan and Bovik 2013), a numpy port of the MATLAB release.

Follows ``niqe_release/computequality.m`` with its defaults: colour images reduced with
MATLAB ``rgb2gray`` (``uint8``, rounded), the image cropped to whole 96x96 blocks, two
scales (the second after MATLAB ``imresize(im, 0.5)``: bicubic with antialiasing),
MSCN coefficients from a 7x7 Gaussian (sigma 7/6, 'replicate'), 18 AGGD features per
block and scale (``estimateaggdparam.m`` with ``gam = 0.2:0.001:10``), a multivariate
Gaussian fitted with ``nanmean`` / ``nancov`` (rows with a NaN dropped from the
covariance) and the distance to the pristine model with MATLAB's ``pinv`` tolerance.

Pristine model: ``data/niqe_pris_params.npz`` (mu 1x36, cov 36x36), the standard
``modelparameters.mat`` of the release as shipped by basicsr 1.4.2; provenance and
sha256 in ``data/README.md``. Nothing is downloaded.

Measured against the MATLAB values pyiqa publishes for its five calibration images
(``ResultsCalibra``): see ``tests/test_metrics_niqe.py`` and ``bench/results/metrics.md``.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from benchmark.metrics.cards import CARDS, MetricCard, with_protocol
from benchmark.metrics.color import check_image, rgb2gray_uint8, rgb2y_uint8, to_uint8
from benchmark.metrics.errors import MetricInputError
from benchmark.metrics.ssim import gaussian_1d

PRISTINE_PARAMS = Path(__file__).resolve().parent / "data" / "niqe_pris_params.npz"
PRISTINE_SHA256 = "2a7c182a68c9e7f1b2e2e5ec723279d6f65d912b6fcaf37eb2bf03d7367c4296"
BLOCK = 96


@functools.lru_cache(maxsize=4)
def load_pristine(path: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(mu (36,), cov (36, 36))`` of the pristine model from an ``.npz`` file."""
    p = Path(path) if path is not None else PRISTINE_PARAMS
    try:
        with np.load(p) as data:
            mu = np.asarray(data["mu_pris_param"], dtype=np.float64).ravel()
            cov = np.asarray(data["cov_pris_param"], dtype=np.float64)
    except FileNotFoundError:
        raise MetricInputError(f"{p}: NIQE pristine parameters not found") from None
    except (KeyError, ValueError, OSError) as exc:
        raise MetricInputError(f"{p}: not a NIQE parameter file ({exc})") from None
    if mu.shape != (36,) or cov.shape != (36, 36):
        raise MetricInputError(
            f"{p}: expected mu 36 and cov 36x36, got {mu.shape} and {cov.shape}"
        )
    return mu, cov


def _matlab_colon(a: float, step: float, b: float) -> np.ndarray:
    # MATLAB's colon builds the first half from a and the second half from b.
    n = math.floor((b - a) / step + 1e-10) + 1
    k = np.arange(n, dtype=np.float64)
    out = a + k * step
    half = n // 2
    out[half:] = b - (n - 1 - k[half:]) * step
    return out


@functools.lru_cache(maxsize=1)
def _gamma_table() -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import gamma

    gam = _matlab_colon(0.2, 0.001, 10.0)
    r_gam = gamma(2.0 / gam) ** 2 / (gamma(1.0 / gam) * gamma(3.0 / gam))
    if not np.all(np.diff(r_gam) > 0):  # the fast search below relies on it
        raise RuntimeError("NIQE: r(gamma) table is not increasing")
    return gam, r_gam


def _nearest_index(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``[~, i] = min((table - x).^2)`` for increasing ``table``, first index on ties.

    NaN gives index 0, as MATLAB's ``min`` over all-NaN values returns index 1.
    """
    nan = np.isnan(x)
    xs = np.where(nan, table[0], x)
    hi = np.clip(np.searchsorted(table, xs), 1, len(table) - 1)
    lo = hi - 1
    idx = np.where((table[lo] - xs) ** 2 <= (table[hi] - xs) ** 2, lo, hi)
    return np.where(nan, 0, idx)


def _aggd(vec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``estimateaggdparam.m`` on each row of ``vec`` (n, m): alpha, beta_l, beta_r."""
    from scipy.special import gamma

    gam, r_gam = _gamma_table()
    neg, pos = vec < 0, vec > 0
    sq = vec * vec
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.sqrt(np.where(neg, sq, 0).sum(1) / neg.sum(1))
        right = np.sqrt(np.where(pos, sq, 0).sum(1) / pos.sum(1))
        gammahat = left / right
        rhat = np.abs(vec).mean(1) ** 2 / sq.mean(1)
        rhatnorm = rhat * (gammahat**3 + 1) * (gammahat + 1) / (gammahat**2 + 1) ** 2
        idx = _nearest_index(r_gam, rhatnorm)
        alpha = gam[idx]
        ratio = np.sqrt(gamma(1.0 / alpha) / gamma(3.0 / alpha))
    return alpha, left * ratio, right * ratio


def _block_features(structdis: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """18 features per block, blocks in MATLAB ``blkproc`` order; shape (nblocks, 18)."""
    from scipy.special import gamma

    h, w = structdis.shape
    nr, nc = h // bh, w // bw
    blocks = structdis[: nr * bh, : nc * bw].reshape(nr, bh, nc, bw).transpose(2, 0, 1, 3)
    blocks = blocks.reshape(nr * nc, bh, bw)  # column-major block order, as blkproc/reshape
    flat = blocks.reshape(len(blocks), -1)
    alpha, bl, br = _aggd(flat)
    feats = [alpha, (bl + br) / 2.0]
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):
        shifted = np.roll(blocks, shift, axis=(1, 2)).reshape(len(blocks), -1)
        alpha, bl, br = _aggd(flat * shifted)
        with np.errstate(invalid="ignore"):
            mean = (br - bl) * (gamma(2.0 / alpha) / gamma(1.0 / alpha))
        feats += [alpha, mean, bl, br]
    return np.stack(feats, axis=1)


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (
        -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2
    ) * ((ax > 1) & (ax <= 2))


@functools.lru_cache(maxsize=16)
def _resize_weights(n_in: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB ``imresize`` bicubic (antialiased when shrinking) weights and indices."""
    n_out = math.ceil(n_in * scale)
    width = 4.0 / scale if scale < 1 else 4.0
    x = np.arange(1, n_out + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    p = math.ceil(width) + 2
    idx = left[:, None] + np.arange(p)[None, :]
    d = u[:, None] - idx
    wts = scale * _cubic(scale * d) if scale < 1 else _cubic(d)
    wts = wts / wts.sum(1, keepdims=True)
    aux = np.concatenate([np.arange(n_in), np.arange(n_in)[::-1]])  # symmetric border
    idx = aux[np.mod(idx.astype(np.int64) - 1, len(aux))]
    return wts, idx


def _resize_axis0(im: np.ndarray, scale: float) -> np.ndarray:
    wts, idx = _resize_weights(im.shape[0], scale)
    out = wts[:, :1] * im[idx[:, 0]]
    for k in range(1, wts.shape[1]):
        out += wts[:, k : k + 1] * im[idx[:, k]]
    return out


def imresize_half(im: np.ndarray) -> np.ndarray:
    """MATLAB ``imresize(im, 0.5)`` (bicubic, antialiasing) of a double image, rows first."""
    return np.ascontiguousarray(_resize_axis0(_resize_axis0(im, 0.5).T, 0.5).T)


def _mscn(im: np.ndarray, g: np.ndarray) -> np.ndarray:
    import cv2

    mu = cv2.sepFilter2D(im, cv2.CV_64F, g, g, borderType=cv2.BORDER_REPLICATE)
    var = cv2.sepFilter2D(im * im, cv2.CV_64F, g, g, borderType=cv2.BORDER_REPLICATE)
    sigma = np.sqrt(np.abs(var - mu * mu))
    return (im - mu) / (sigma + 1.0)


def _pinv_matlab(a: np.ndarray) -> np.ndarray:
    u, s, vt = np.linalg.svd(a)
    tol = max(a.shape) * np.spacing(s[0])
    keep = s > tol
    return (vt[keep].T / s[keep]) @ u[:, keep].T


def niqe_gray(im: np.ndarray, params: str | None = None) -> float:
    """NIQE of a grey image given as float64 values on the [0, 255] scale."""
    mu_p, cov_p = load_pristine(params)
    h, w = im.shape
    if h < BLOCK or w < BLOCK:
        raise MetricInputError(
            f"image too small for NIQE: expected at least {BLOCK}x{BLOCK} pixels, got {h}x{w}"
        )
    im = np.ascontiguousarray(im[: h // BLOCK * BLOCK, : w // BLOCK * BLOCK], dtype=np.float64)
    g = gaussian_1d(7, 7.0 / 6.0)
    feats = []
    for scale in (1, 2):
        feats.append(_block_features(_mscn(im, g), BLOCK // scale, BLOCK // scale))
        if scale == 1:
            im = np.ascontiguousarray(imresize_half(im))
    dist = np.concatenate(feats, axis=1)
    ok = ~np.isnan(dist)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu_d = np.where(ok, dist, 0).sum(0) / ok.sum(0)
    complete = dist[ok.all(1)]
    if len(complete) < 2:
        return math.nan
    cov_d = np.cov(complete, rowvar=False)
    diff = mu_p - mu_d
    q = diff @ _pinv_matlab((cov_p + cov_d) / 2.0) @ diff
    return float(math.sqrt(q)) if q >= 0 else math.nan


def niqe(img: np.ndarray, convert: str = "gray", params: str | None = None) -> float:
    """NIQE of one image (lower is better): uint8 [0, 255] or float [0, 1], RGB or grey.

    ``convert``: how RGB becomes one plane: ``"gray"`` (MATLAB ``rgb2gray``, what the
    release does, default) or ``"y"`` (Y of ``rgb2ycbcr``, as basicsr/pyiqa's
    ``test_y_channel`` variants). Float images are rounded to ``uint8`` first. Needs
    at least one 96x96 block; returns NaN when MATLAB would (no complete feature rows).
    """
    if convert not in ("gray", "y"):
        raise MetricInputError(f"NIQE convert: expected 'gray' or 'y', got {convert!r}")
    u = to_uint8(check_image(img))
    if u.ndim == 3:
        u = rgb2gray_uint8(u) if convert == "gray" else rgb2y_uint8(u)
    return niqe_gray(u.astype(np.float64), params)


class NIQE:
    """Callable NIQE; ``.card`` describes it. ``params``: another pristine ``.npz``."""

    def __init__(self, convert: str = "gray", params: str | None = None) -> None:
        if convert not in ("gray", "y"):
            raise MetricInputError(f"NIQE convert: expected 'gray' or 'y', got {convert!r}")
        load_pristine(params)
        self.convert = convert
        self.params = params
        protocol = "gray (MATLAB rgb2gray on uint8)" if convert == "gray" else "y-matlab"
        self.card: MetricCard = with_protocol(CARDS["niqe"], protocol)

    def __call__(self, img: np.ndarray) -> float:
        return niqe(img, self.convert, self.params)

    def __repr__(self) -> str:
        return f"NIQE(convert={self.convert!r})"
