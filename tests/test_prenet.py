"""PReNet: architecture, official weights, the method wrapper and the output conventions."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from models.archs.prenet import PReNet, PReNetGenerator, count_parameters
from models.inference import bf16_supported, quantize
from models.io.torch_state import load_state_dict, sha256_file
from models.methods.prenet import CARD as PRENET_CARD
from models.methods.prenet_real import CARD as PRENET_REAL_CARD
from models.registry import create_model
from raindata.errors import DataError
from raindata.imageio import read_image

PUBLISHED_PARAMS = 168_963  # PReNet paper and ../shared/data/README.md


# ---------------------------------------------------------------- architecture


@pytest.mark.parametrize("cls", [PReNet, PReNetGenerator])
def test_parameter_count_is_the_published_one(cls):
    assert count_parameters(cls()) == PUBLISHED_PARAMS
    assert PRENET_CARD.params == PRENET_REAL_CARD.params == PUBLISHED_PARAMS


def test_default_stages_match_the_official_test_scripts():
    assert PReNet().stages == dict(PRENET_CARD.network_kwargs)["stages"] == 6
    assert PReNetGenerator().stages == dict(PRENET_REAL_CARD.network_kwargs)["stages"] == 4


def test_parameter_names_follow_the_release():
    keys = list(PReNet().state_dict())
    assert len(keys) == 32
    for k in (
        "conv0.0.weight",
        "res_conv1.0.weight",
        "res_conv5.2.bias",
        "conv_i.0.weight",
        "conv_f.0.bias",
        "conv_g.0.weight",
        "conv_o.0.weight",
        "conv.0.weight",
    ):
        assert k in keys


def test_forward_stages_and_residual():
    torch.manual_seed(0)
    net = PReNet(stages=3).eval()
    x = torch.rand(2, 3, 9, 11, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        stages = net.forward_stages(x)
        y = net(x)
        assert len(stages) == 3 and torch.equal(stages[-1], y)
        # with the last conv zeroed, every stage returns its input (output = conv(...) + input)
        net.conv[0].weight.zero_()
        net.conv[0].bias.zero_()
        assert torch.equal(net(x), x)
    with pytest.raises(ValueError, match="stages"):
        PReNet(stages=0)


# ---------------------------------------------------------------- quantization


def _exact(target: float) -> float:
    """A float64 v with 255 * v == target exactly (searched around target / 255)."""
    v = target / 255
    for _ in range(64):
        if 255 * v == target:
            return v
        v = np.nextafter(v, np.inf if 255 * v < target else -np.inf)
    raise AssertionError(f"no float64 v with 255 * v == {target}")


def test_quantize_half_values():
    """Halves: 'round' goes away from zero (MATLAB uint8), 'truncate' down (numpy cast)."""
    halves = np.array([_exact(0.5), _exact(2.5), _exact(3.5), _exact(254.5)])
    np.testing.assert_array_equal(quantize(halves, "round"), [1, 3, 4, 255])
    np.testing.assert_array_equal(quantize(halves, "truncate"), [0, 2, 3, 254])
    below = np.nextafter(halves, -np.inf)
    np.testing.assert_array_equal(quantize(below, "round"), [0, 2, 3, 254])


def test_quantize_clips_and_checks():
    vals = np.array([-1.0, -1e-9, 0.0, 1.0, 1.0 + 1e-6, 7.0], dtype=np.float32)
    for how in ("round", "truncate"):
        np.testing.assert_array_equal(quantize(vals, how), [0, 0, 0, 255, 255, 255])
        assert quantize(vals, how).dtype == np.uint8
    with pytest.raises(DataError, match="NaN"):
        quantize(np.array([0.2, np.nan]), "round")
    with pytest.raises(DataError, match="expected one of truncate, round, got 'floor'"):
        quantize(vals, "floor")
    with pytest.raises(DataError, match="float image"):
        quantize(np.zeros(3, np.uint8), "round")


def test_truncate_is_bit_exact_with_the_official_expression():
    """Reference: test_PReNet.py, ``np.uint8(255 * torch.clamp(out, 0., 1.).numpy())``."""
    rng = np.random.default_rng(5)
    grid = np.arange(256, dtype=np.float32) / np.float32(255)
    vals = np.concatenate(
        [
            rng.uniform(-0.1, 1.1, 5000).astype(np.float32),
            grid,
            np.nextafter(grid, np.float32(-1)),
            np.nextafter(grid, np.float32(2)),
        ]
    )
    official = np.uint8(255 * torch.clamp(torch.from_numpy(vals), 0.0, 1.0).numpy())
    np.testing.assert_array_equal(quantize(vals, "truncate"), official)
    # and the two conventions do differ on real-valued outputs
    assert (quantize(vals, "round") != official).mean() > 0.3


# ---------------------------------------------------------------- method wrapper (no data)


@pytest.fixture
def random_weights(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "my_prenet.pth"
    torch.save(PReNet().state_dict(), path)
    return path


def test_unreleased_weights_load_and_are_recorded(random_weights):
    method = create_model("prenet", weights=random_weights, device="cpu")
    info = method.info()
    assert info["weights_sha256"] == sha256_file(random_weights)
    assert info["weights_released_as"] is None
    assert info["parameters"] == PUBLISHED_PARAMS
    rainy = np.random.default_rng(0).integers(0, 256, (13, 17, 3), dtype=np.uint8)
    out = method.derain(rainy)
    assert out.dtype == np.float32 and out.shape == (13, 17, 3) and np.isfinite(out).all()


def test_weights_that_do_not_fit_are_refused(tmp_path):
    small = tmp_path / "small.pth"
    torch.save(PReNet(features=16).state_dict(), small)
    with pytest.raises(DataError, match=r"small\.pth: does not fit .*shape: conv0\.0\.weight"):
        create_model("prenet", weights=small)
    partial = tmp_path / "partial.pth"
    state = PReNet().state_dict()
    del state["conv.0.bias"]
    torch.save(state, partial)
    with pytest.raises(DataError, match=r"missing: conv\.0\.bias"):
        create_model("prenet", weights=partial)


def test_speed_options_give_the_same_result(random_weights):
    rainy = np.random.default_rng(1).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    ref = create_model("prenet", weights=random_weights).derain(rainy)
    cl = create_model("prenet", weights=random_weights, channels_last=True).derain(rainy)
    np.testing.assert_allclose(cl, ref, atol=1e-5)
    with pytest.raises(DataError, match="precision"):
        create_model("prenet", weights=random_weights, precision="fp16")


# ---------------------------------------------------------------- official weights (shared)


def _readme_hashes(shared_data) -> dict[str, str]:
    text = (shared_data / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\|\s*(\S+\.pth)\s*\|.*\|\s*([0-9a-f]{64})\s*\|\s*$", text, re.M))


@pytest.mark.shared
def test_official_weights_load_strict_and_match_readme(shared_data):
    hashes = _readme_hashes(shared_data)
    cards = {w.name: w for w in PRENET_CARD.weights + PRENET_REAL_CARD.weights}
    assert set(hashes) == set(cards) and len(hashes) == 3
    for name, digest in hashes.items():
        path = shared_data / "prenet_official" / name
        assert sha256_file(path) == digest == cards[name].sha256
        state = load_state_dict(path, expected_sha256=digest)
        for cls in (PReNet, PReNetGenerator):  # same parameter layout, both load strictly
            cls().load_state_dict(state, strict=True)


@pytest.mark.shared
def test_weights_of_the_other_forward_are_refused(shared_data):
    real = shared_data / "prenet_official" / "PReNet_real1.pth"
    with pytest.raises(DataError, match=r"PReNet_real1\.pth, released for method 'prenet-real'"):
        create_model("prenet", weights=real)
    rain100l = shared_data / "prenet_official" / "PReNet6_Rain100L.pth"
    with pytest.raises(DataError, match=r"use --method prenet$"):
        create_model("prenet-real", weights=rain100l)


def _y_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Y (BT.601 studio range, unrounded) PSNR with peak 255, in float64."""
    coef = np.array([65.481, 128.553, 24.966]) / 255

    def y(im):
        return 16 + im.astype(np.float64) @ coef

    return float(10 * np.log10(255**2 / np.mean((y(a) - y(b)) ** 2)))


@pytest.mark.shared
def test_prenet_rain100l_improves_a_real_crop(shared_data):
    """Centre 64x64 crop of Rain100L norain-1: the official Rain100L weights must raise the
    Y-PSNR against ground truth above the rainy input's (a wiring error does not); the 3 dB
    margin is well under the ~8 dB measured when writing the test."""
    root = shared_data / "rain100l_test" / "small"
    rainy = read_image(root / "rain" / "norain-1.png")
    clean = read_image(root / "norain" / "norain-1.png")
    t, left = (rainy.shape[0] - 64) // 2, (rainy.shape[1] - 64) // 2
    rainy, clean = rainy[t : t + 64, left : left + 64], clean[t : t + 64, left : left + 64]
    weights = shared_data / "prenet_official" / "PReNet6_Rain100L.pth"
    method = create_model("prenet", weights=weights, device="cpu")
    assert method.info()["weights_released_as"] == "PReNet6_Rain100L.pth"
    out = method.derain(rainy)
    derained = quantize(out, method.card.quantize)
    before, after = _y_psnr(rainy, clean), _y_psnr(derained, clean)
    assert after > before + 3, (before, after)
    if bf16_supported("cpu"):  # bf16 is lossy; 0.05 (~13 grey levels) catches wiring errors
        fast = create_model("prenet", weights=weights, precision="bf16").derain(rainy)
        assert np.abs(fast - out).max() < 0.05
