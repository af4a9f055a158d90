"""DDN: the guided filter, the detail network, the TF-name mapping and the official output."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from models.archs.ddn import DDN, DetailNetwork
from models.archs.guided_filter import base_and_detail, box_filter, guided_filter
from models.methods.ddn import CARD, DDNMethod
from models.registry import create_model
from raindata.imageio import read_image

FIXTURES = Path(__file__).parent / "fixtures" / "baselines"
RAINY = FIXTURES / "rainy_64x96.png"


def _reference_guided_filter(img: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He et al.'s self-guided filter per channel in float64 with OpenCV's unnormalised
    box filter and a zero border, divided by the window counts (the formulation of
    SIRR's official test; written here independently)."""
    k = (2 * r + 1, 2 * r + 1)

    def box(a):
        return cv2.boxFilter(a, -1, k, normalize=False, borderType=cv2.BORDER_CONSTANT)

    out = np.empty_like(img)
    n = box(np.ones(img.shape[:2]))
    for c in range(img.shape[2]):
        i = img[..., c]
        mean = box(i) / n
        var = box(i * i) / n - mean * mean
        a = var / (var + eps)
        b = mean - a * mean
        out[..., c] = box(a) / n * i + box(b) / n
    return out


# ------------------------------------------------------------------ guided filter


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (17, 40), (31, 33), (32, 32), (45, 70)])
def test_box_filter_is_a_border_cut_window_sum(shape):
    x = np.random.default_rng(0).random(shape)
    ours = box_filter(torch.from_numpy(x), 15).numpy()
    ref = cv2.boxFilter(x, -1, (31, 31), normalize=False, borderType=cv2.BORDER_CONSTANT)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-11)


@pytest.mark.parametrize("radius", [1, 4, 15])
def test_guided_filter_matches_an_opencv_reference(radius):
    img = read_image(RAINY).astype(np.float64) / 255
    x = torch.from_numpy(img).permute(2, 0, 1)[None]
    ours = guided_filter(x, x, radius, 1.0)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, _reference_guided_filter(img, radius, 1.0), atol=1e-12)
    base, detail = base_and_detail(x.float())
    np.testing.assert_allclose((base + detail).numpy(), x.float().numpy(), atol=1e-6)


def test_guided_filter_keeps_a_flat_image_and_smooths_with_a_large_eps():
    flat = torch.full((1, 3, 40, 50), 0.3, dtype=torch.float64)
    _, detail = base_and_detail(flat)
    assert detail.abs().max() < 1e-12
    noise = torch.rand(1, 1, 40, 50, generator=torch.Generator().manual_seed(0))
    smooth = guided_filter(noise, noise, 2, 1e4)  # eps >> var: A ~ 0, b ~ the box mean
    n = box_filter(torch.ones(1, 1, 40, 50), 2)
    twice = box_filter(box_filter(noise, 2) / n, 2) / n
    torch.testing.assert_close(smooth, twice, atol=1e-4, rtol=0)


# ------------------------------------------------------------------ network and mapping


def test_parameter_count_and_layout():
    net = DDN()
    assert sum(p.numel() for p in net.parameters()) == CARD.params == 57_369
    assert len(net.net.conv) == len(net.net.norm) == 26
    assert net.net.norm[0].eps == 1e-3 and net.net.norm[0].track_running_stats
    with pytest.raises(ValueError, match="norm"):
        DetailNetwork(norm="group")


def _tf_state(net: DDN) -> dict[str, torch.Tensor]:
    """``net``'s weights under DDN's TensorFlow names and layouts (HWIO kernels)."""
    state = {}
    for i, (conv, norm) in enumerate(zip(net.net.conv, net.net.norm, strict=True)):
        k = i + 1
        state[f"layer_{k}/conv_{k}/kernel"] = conv.weight.detach().permute(2, 3, 1, 0)
        state[f"layer_{k}/conv_{k}/bias"] = conv.bias.detach()
        state[f"layer_{k}/bn_{k}/gamma"] = norm.weight.detach()
        state[f"layer_{k}/bn_{k}/beta"] = norm.bias.detach()
        state[f"layer_{k}/bn_{k}/moving_mean"] = norm.running_mean
        state[f"layer_{k}/bn_{k}/moving_variance"] = norm.running_var
    return state


def test_convert_state_maps_tf_names_back():
    torch.manual_seed(0)
    net = DDN()
    for norm in net.net.norm:
        norm.running_mean.uniform_(-1, 1)
        norm.running_var.uniform_(0.5, 2)
    state = DDNMethod.convert_state(_tf_state(net))
    fresh = DDN()
    fresh.load_state_dict(state, strict=True)
    x = torch.rand(2, 3, 40, 36, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(fresh.eval()(x), net.eval()(x))
    extra = DDNMethod.convert_state({"global_step": torch.zeros(())})
    assert list(extra) == ["global_step"]  # unknown names are kept, to be reported


def test_eval_norm_uses_the_stored_statistics():
    """With moving statistics the result of one image does not depend on its batch."""
    torch.manual_seed(0)
    net = DDN().eval()
    x = torch.rand(3, 3, 34, 40, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(net(x)[1:2], net(x[1:2]), atol=1e-6, rtol=0)


# ------------------------------------------------------------------ official weights


@pytest.mark.shared
def test_matches_the_official_tensorflow_output(shared_data):
    """Reference: ``ddn.npy`` from ``make_ddn.py`` (the official TensorFlow test graph and
    weights, TensorFlow 2.21 CPU). Measured max abs difference 3e-7 (float32 sums in
    another order); 1e-4 is far below a grey level (1/255)."""
    model = create_model("ddn", weights=shared_data / "baselines_official" / "ddn" / "model")
    assert model.info()["weights_released_as"] == "model"
    out = np.clip(model.derain(read_image(RAINY)), 0, 1)
    expected = np.load(FIXTURES / "ddn.npy")
    assert out.shape == expected.shape == (64, 96, 3)
    assert np.abs(out - expected).max() <= 1e-4


@pytest.mark.shared
def test_small_images_run_where_the_official_code_stops(shared_data):
    """Sides <= 31 (DDN's code asserts > 31) run with border-cut windows, same size out."""
    model = create_model("ddn", weights=shared_data / "baselines_official" / "ddn")
    rainy = read_image(RAINY)[:20, :25]
    out = model.derain(rainy)
    assert out.shape == rainy.shape and np.isfinite(out).all()
    assert np.abs(out - rainy / 255).mean() < 0.1
