"""Issue 5 in small: real Rain100L pairs scored by the harness vs an independent float64
computation written here (own Y conversion, own Wang SSIM by direct 2-D correlation), with
the official PReNet weights run through the project's network.

The full 100-image reproductions are ``bench/reproduce_prenet.py`` (minutes on CPU).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import correlate2d

from benchmark.runner import RunRequest, run_one
from raindata.imageio import read_image

N_PAIRS = 2
WEIGHTS = "prenet_official/PReNet6_Rain100L.pth"


def _y(img: np.ndarray, rounded: bool) -> np.ndarray:
    """MATLAB rgb2ycbcr luma in [16, 235] (uint8 scale), optionally rounded to integers."""
    f = img.astype(np.float64)
    y = 16.0 + (65.481 * f[..., 0] + 128.553 * f[..., 1] + 24.966 * f[..., 2]) / 255.0
    return np.round(y) if rounded else y


def _wang_ssim(a: np.ndarray, b: np.ndarray, L: float = 255.0) -> float:
    """Wang et al. 2003: 11x11 Gaussian (sigma 1.5), K1 0.01, K2 0.03, 'valid' filtering."""
    ax = np.arange(11) - 5
    g = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * 1.5**2))
    w = g / g.sum()

    def f(x):
        return correlate2d(x, w, mode="valid")

    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    mu_a, mu_b = f(a), f(b)
    s_aa = f(a * a) - mu_a**2
    s_bb = f(b * b) - mu_b**2
    s_ab = f(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * s_ab + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (s_aa + s_bb + c2)
    return float(np.mean(num / den))


def _reference(derained: np.ndarray, clean: np.ndarray, protocol: str) -> tuple[float, float]:
    if protocol == "y-matlab":
        ya, yb = _y(derained, True), _y(clean, True)
        mse = np.mean((ya - yb) ** 2)
        return 10 * np.log10(255.0**2 / mse), _wang_ssim(ya, yb)
    # y-double: Y of im2double images, PSNR with peak 1, SSIM on Y*255 (PReNet's scripts)
    ya, yb = _y(derained, False) / 255.0, _y(clean, False) / 255.0
    mse = np.mean((ya - yb) ** 2)
    return 10 * np.log10(1.0 / mse), _wang_ssim(ya * 255.0, yb * 255.0)


@pytest.fixture(scope="module")
def rain100l(shared_data):
    return shared_data / "rain100l_test"


@pytest.fixture(scope="module")
def prenet_run(rain100l, shared_data, tmp_path_factory):
    """PReNet (official Rain100L weights) on the first pairs, derained images kept."""
    results = tmp_path_factory.mktemp("results")
    weights = str(shared_data / WEIGHTS)
    out = run_one(RunRequest(method="prenet", dataset="rain100l", data_root=str(rain100l),
                             weights=weights, metrics=("psnr", "ssim"), limit=N_PAIRS,
                             save_images=True, results=results), log=lambda m: None)
    return out, weights, results


def _check_rows(rows, rain100l, derained_of, protocol):
    for row in rows:
        rainy = read_image(rain100l / row["file"])
        clean = read_image(rain100l / "small" / "norain" / f"norain-{row['id']}.png")
        ref_psnr, ref_ssim = _reference(derained_of(row, rainy), clean, protocol)
        assert row["psnr"] == pytest.approx(ref_psnr, abs=1e-6)
        assert row["ssim"] == pytest.approx(ref_ssim, abs=1e-6)


@pytest.mark.shared
@pytest.mark.parametrize("protocol", ["y-matlab", "y-double"])
def test_input_matches_independent_computation(rain100l, tmp_path, protocol):
    out = run_one(RunRequest(method="input", dataset="rain100l", data_root=str(rain100l),
                             protocol=protocol, metrics=("psnr", "ssim"), limit=N_PAIRS,
                             results=tmp_path), log=lambda m: None)
    assert out.record.scored == N_PAIRS and out.record.settings.quantize == "round"
    _check_rows(out.rows, rain100l, lambda row, rainy: rainy, protocol)


@pytest.mark.shared
def test_prenet_output_is_the_official_truncation(prenet_run, rain100l):
    """The saved images equal clamp + uint8(255 * out) of the network run here."""
    from models.registry import create_model

    out, weights, _ = prenet_run
    assert out.record.settings.quantize == "truncate"
    prenet = create_model("prenet", weights=weights)
    for row in out.rows:
        rainy = read_image(rain100l / row["file"])
        mine = (255 * np.clip(prenet.derain(rainy), 0, 1)).astype(np.uint8)
        saved = read_image(out.folder / "images" / f"norain-{row['id']}.png")
        assert np.array_equal(saved, mine)


@pytest.mark.shared
@pytest.mark.parametrize("protocol", ["y-matlab", "y-double"])
def test_prenet_scores_match_independent_computation(prenet_run, rain100l, tmp_path, protocol):
    """Rescoring the saved PReNet images (``results:DIR``) under each protocol."""
    out, _, _ = prenet_run
    images = out.folder / "images"
    if protocol == "y-matlab":
        rows = out.rows
    else:
        rows = run_one(RunRequest(method=f"results:{images}", dataset="rain100l",
                                  data_root=str(rain100l), protocol=protocol,
                                  metrics=("psnr", "ssim"), limit=N_PAIRS,
                                  results=tmp_path), log=lambda m: None).rows
    assert len(rows) == N_PAIRS
    _check_rows(rows, rain100l, lambda row, rainy: read_image(images / f"norain-{row['id']}.png"),
                protocol)
    assert all(row["psnr"] > 33.0 for row in rows)  # PReNet clearly derains Rain100L
