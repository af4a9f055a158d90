"""PSNR / SSIM / Y / rain-map calibration against an independent float64 reference.

The reference below is written from the published definitions, not from the module:
- Y: MATLAB ``rgb2ycbcr`` luma ``16 + (65.481 R + 128.553 G + 24.966 B) / 255`` in exact
  integer arithmetic, rounded half up (the only disagreement with a floating-point
  evaluation is on exact .5 ties, which are excluded where Y is compared directly);
- SSIM: Wang et al. 2004 / ``ssim_index.m``: 2-D 11x11 Gaussian (sigma 1.5, normalised
  as ``fspecial``), ``filter2(w, x, 'valid')`` done as a direct 2-D sum over windows,
  K1 0.01, K2 0.03, L 255;
- PSNR: ``10 log10(peak^2 / MSE)``.
Tolerance 1e-6 (absolute) unless stated.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.metrics import MetricInputError, create_metric, list_metrics, metric_card
from benchmark.metrics.color import rgb2y_uint8
from benchmark.metrics.psnr import psnr
from benchmark.metrics.rainmap import rain_map, rainmap_scores
from benchmark.metrics.ssim import ssim

TOL = 1e-6


# ---------------------------------------------------------------- independent reference
def ref_y_exact(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact rounded Y (int) and a mask of exact .5 ties."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    num = 65481 * r + 128553 * g + 24966 * b  # Y = 16 + num / 255000
    q, rem = np.divmod(num, 255000)
    y = 16 + q + (2 * rem >= 255000)
    return y, 2 * rem == 255000


def ref_window() -> np.ndarray:
    k = np.arange(11) - 5.0
    w = np.exp(-(k[:, None] ** 2 + k[None, :] ** 2) / (2 * 1.5**2))
    return w / w.sum()


def ref_filter_valid(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    win = np.lib.stride_tricks.sliding_window_view(x, w.shape)
    return np.einsum("ijkl,kl->ij", win, w)


def ref_ssim_plane(x: np.ndarray, y: np.ndarray) -> float:
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    w = ref_window()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = ref_filter_valid(x, w), ref_filter_valid(y, w)
    sxx = ref_filter_valid(x * x, w) - mx * mx
    syy = ref_filter_valid(y * y, w) - my * my
    sxy = ref_filter_valid(x * y, w) - mx * my
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(m.mean())


def ref_psnr(x: np.ndarray, y: np.ndarray, peak: float) -> float:
    mse = np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2)
    return 10 * math.log10(peak**2 / mse)


def pair(shape: tuple[int, ...], seed: int, noise: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """A smooth-ish random image and a noisy copy (local generator)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, size=shape).astype(np.int64)
    b = np.clip(a + rng.integers(-noise, noise + 1, size=shape), 0, 255)
    return a.astype(np.uint8), b.astype(np.uint8)


SHAPES = [(11, 11, 3), (37, 53, 3), (64, 48, 3), (50, 50), (29, 41), (23, 80, 3)]


# ---------------------------------------------------------------- Y
def test_y_matches_exact_rounding_except_ties():
    """Y of 2.5 million colours (R = 0, 7, ..., 252, 255; all G, B) vs exact integer rounding.

    Reference: exact arithmetic (above); exact .5 ties are excluded, and may differ by
    one level at most (floating-point evaluation order decides them).
    """
    r = np.r_[np.arange(0, 256, 7), 255].astype(np.uint8)
    v = np.arange(256, dtype=np.uint8)
    rgb = np.stack(np.meshgrid(r, v, v, indexing="ij"), axis=-1).reshape(len(r) * 256, 256, 3)
    y = rgb2y_uint8(rgb).astype(np.int64)
    ref, tie = ref_y_exact(rgb)
    assert np.array_equal(y[~tie], ref[~tie])
    assert np.abs(y[tie] - ref[tie]).max(initial=0) <= 1
    assert y.min() == 16 and y.max() == 235


# ---------------------------------------------------------------- y-matlab
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_y_matlab_matches_reference(shape, seed):
    """y-matlab PSNR/SSIM vs the float64 reference on random uint8 pairs, tol 1e-6."""
    a, b = pair(shape, seed)
    if a.ndim == 3:
        ya, tie_a = ref_y_exact(a)
        yb, tie_b = ref_y_exact(b)
        assert not (tie_a.any() or tie_b.any()), "test images must avoid exact .5 ties"
    else:
        ya, yb = a, b
    assert psnr(a, b) == pytest.approx(ref_psnr(ya, yb, 255.0), abs=TOL)
    assert ssim(a, b) == pytest.approx(ref_ssim_plane(ya, yb), abs=TOL)


@pytest.mark.parametrize("shape", [(37, 53, 3), (40, 33, 3)])
def test_rgb_protocol_matches_reference(shape):
    """rgb: PSNR over the whole array, SSIM mean of the per-channel reference; tol 1e-6."""
    a, b = pair(shape, 7)
    want_ssim = np.mean([ref_ssim_plane(a[..., c], b[..., c]) for c in range(3)])
    assert psnr(a, b, "rgb") == pytest.approx(ref_psnr(a, b, 255.0), abs=TOL)
    assert ssim(a, b, "rgb") == pytest.approx(want_ssim, abs=TOL)


def test_y_double_matches_reference_without_downsampling():
    """y-double (PReNet statistic/*.m): unrounded Y of double, PSNR peak 1, SSIM on Y*255.

    Reference Y: ``(65.481 R + 128.553 G + 24.966 B) / 255 + 16 / 255`` with R, G, B in
    [0, 1]; min side 45 < 384, so ssim.m does not downsample. Tol 1e-6.
    """
    a, b = pair((45, 61, 3), 3)
    fa, fb = a / 255.0, b / 255.0
    coef = np.array([65.481, 128.553, 24.966]) / 255.0
    ya = fa @ coef + 16 / 255
    yb = fb @ coef + 16 / 255
    assert psnr(fa, fb, "y-double") == pytest.approx(ref_psnr(ya, yb, 1.0), abs=TOL)
    assert ssim(fa, fb, "y-double") == pytest.approx(
        ref_ssim_plane(ya * 255, yb * 255), abs=TOL
    )
    # uint8 input goes through im2double: same numbers
    assert psnr(a, b, "y-double") == pytest.approx(psnr(fa, fb, "y-double"), abs=1e-12)


def test_y_double_downsamples_like_ssim_m():
    """ssim.m: f = round(min(H, W) / 256) = 2 for 520x600; 2x2 mean with MATLAB's
    'symmetric' 'same' padding (even kernel centred at 1: rows i, i+1; the last row
    mirrored), then every 2nd pixel from the first. Reference built directly; tol 1e-6.
    """
    rng = np.random.default_rng(11)
    ya = rng.random((520, 600)) * 200 + 20
    yb = np.clip(ya + rng.normal(0, 10, ya.shape), 0, 255)

    def down(x):
        p = np.vstack([x, x[-1:]])
        p = np.hstack([p, p[:, -1:]])
        box = (p[:-1, :-1] + p[1:, :-1] + p[:-1, 1:] + p[1:, 1:]) / 4
        return box[::2, ::2]

    want = ref_ssim_plane(down(ya), down(yb))
    got = ssim(ya / 255.0, yb / 255.0, "y-double")
    assert got == pytest.approx(want, abs=TOL)
    assert abs(got - ref_ssim_plane(ya, yb)) > 1e-5  # downsampling did happen


def test_gray_protocol_uses_rgb2gray():
    """gray: MATLAB rgb2gray coefficients (first row of inv(YIQ->RGB)), rounded; tol 1e-6."""
    a, b = pair((30, 40, 3), 5)
    coef = np.linalg.inv(
        np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.106, 1.703]])
    )[0]
    ga = np.floor(a.astype(float) @ coef + 0.5)
    gb = np.floor(b.astype(float) @ coef + 0.5)
    assert psnr(a, b, "gray") == pytest.approx(ref_psnr(ga, gb, 255.0), abs=TOL)
    assert ssim(a, b, "gray") == pytest.approx(ref_ssim_plane(ga, gb), abs=TOL)


def test_float_input_is_rounded_to_uint8():
    """Float images in [0, 1] are quantized by rounding (not truncation) for y-matlab."""
    a, b = pair((20, 24, 3), 9)
    fa = np.clip((a.astype(np.float64) + 0.49) / 255.0, 0, 1)  # rounds back to a
    fb = (b.astype(np.float64) - 0.49) / 255.0
    fb = np.clip(fb, 0, 1)
    assert psnr(fa, fb) == pytest.approx(psnr(a, b), abs=1e-12)
    assert ssim(fa.astype(np.float32), fb) == pytest.approx(ssim(a, b), abs=1e-12)


# ---------------------------------------------------------------- edge cases
@pytest.mark.parametrize("protocol", ["y-matlab", "y-double", "rgb", "gray"])
def test_identical_images(protocol):
    a, _ = pair((16, 19, 3), 2)
    assert psnr(a, a, protocol) == math.inf
    assert ssim(a, a, protocol) == 1.0


def test_shape_mismatch_names_both_shapes():
    a, _ = pair((20, 30, 3), 0)
    b, _ = pair((30, 20, 3), 0)
    with pytest.raises(MetricInputError, match=r"expected 20x30x3.*got 30x20x3"):
        psnr(a, b)
    with pytest.raises(MetricInputError, match="shapes differ"):
        ssim(a, a[..., 0])


def test_too_small_for_window():
    a, b = pair((10, 40, 3), 0)
    with pytest.raises(MetricInputError, match=r"at least 11x11 pixels, got 10x40"):
        ssim(a, b)
    assert math.isfinite(psnr(a, b))


@pytest.mark.parametrize(
    ("img", "match"),
    [
        (np.full((12, 12, 3), 2.0), r"\[0, 1\]"),
        (np.zeros((12, 12, 3), np.int32), "dtype int32"),
        (np.zeros((12, 12, 4), np.uint8), "HxWx3"),
        ([[1, 2]], "numpy array"),
    ],
)
def test_bad_inputs(img, match):
    with pytest.raises(MetricInputError, match=match):
        psnr(img, img)


def test_unknown_protocol_suggests():
    a, b = pair((12, 12), 0)
    with pytest.raises(MetricInputError, match="did you mean y-matlab"):
        psnr(a, b, protocol="y-matlb")


# ---------------------------------------------------------------- rain maps
def test_rain_map_is_clipped_difference():
    rainy = np.array([[10, 200], [0, 255]], np.uint8)
    other = np.array([[20, 100], [0, 0]], np.uint8)
    assert rain_map(rainy, other).tolist() == [[0, 100], [0, 255]]


def test_rainmap_scores_against_reference():
    """Maps clip(rainy - x, 0, 255) then y-matlab PSNR/SSIM vs the reference; tol 1e-6."""
    clean, derained = pair((40, 44, 3), 4, noise=15)
    rng = np.random.default_rng(4)
    streak = (rng.random((40, 44, 1)) < 0.1) * rng.integers(30, 120, (40, 44, 1))
    rainy = np.clip(clean.astype(int) + streak, 0, 255).astype(np.uint8)
    est = np.clip(rainy.astype(int) - derained, 0, 255).astype(np.uint8)
    ref = np.clip(rainy.astype(int) - clean, 0, 255).astype(np.uint8)
    ye, _ = ref_y_exact(est)
    yr, _ = ref_y_exact(ref)
    got = rainmap_scores(rainy, derained, clean)
    assert got["psnr"] == pytest.approx(ref_psnr(ye, yr, 255.0), abs=TOL)
    assert got["ssim"] == pytest.approx(ref_ssim_plane(ye, yr), abs=TOL)
    perfect = rainmap_scores(rainy, clean, clean)
    assert perfect == {"psnr": math.inf, "ssim": 1.0}
    m = create_metric("rainmap_ssim")
    assert m(rainy, derained, clean) == got["ssim"] and m.card.arity == 3


# ---------------------------------------------------------------- facade
def test_create_metric_and_cards():
    assert {"psnr", "ssim", "niqe", "lpips", "rainmap_psnr", "rainmap_ssim"} == set(list_metrics())
    a, b = pair((20, 20, 3), 1)
    m = create_metric("psnr", protocol="rgb")
    assert m(a, b) == psnr(a, b, "rgb")
    assert m.card.protocol == "rgb" and m.card.higher_is_better and m.card.crop == 0
    assert metric_card("ssim").protocol == "y-matlab"
    assert metric_card("niqe").needs_reference is False
    with pytest.raises(MetricInputError, match="did you mean ssim"):
        create_metric("ssmi")
    import benchmark.metrics as bm

    assert bm.psnr is psnr and bm.ssim is ssim and bm.rainmap_scores is rainmap_scores


def test_clip_cs_only_raises_negative_terms():
    """pyiqa clips the contrast-structure term at 0; MATLAB (and the default) does not."""
    from benchmark.metrics.ssim import ssim_plane

    rng = np.random.default_rng(8)
    x = rng.random((30, 30)) * 255
    y = 255 - x  # anti-correlated: cs < 0 almost everywhere
    assert ssim_plane(x, y) < 0 <= ssim_plane(x, y, clip_cs=True)
    a, b = pair((30, 30), 8, noise=5)
    assert ssim_plane(a.astype(float), b.astype(float), clip_cs=True) == pytest.approx(
        ssim_plane(a.astype(float), b.astype(float)), abs=1e-12
    )
