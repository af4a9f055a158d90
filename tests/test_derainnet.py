"""DerainNet ("Clear"): mirror padding, valid convolutions, crops, and the official output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.archs.derainnet import DerainNet, DerainNetCore, symmetric_pad
from models.methods.derainnet import CARD, DerainNetMethod
from models.registry import create_model
from raindata.imageio import read_image

FIXTURES = Path(__file__).parent / "fixtures" / "baselines"
RAINY = FIXTURES / "rainy_64x96.png"


@pytest.mark.parametrize(("shape", "pad"), [((12, 15), 10), ((4, 6), 3), ((3, 5), 7)])
def test_symmetric_pad_is_numpys_symmetric(shape, pad):
    """numpy's 'symmetric' = TensorFlow's SYMMETRIC where TF allows it (pad <= side) and
    keeps mirroring beyond."""
    x = np.random.default_rng(0).random((2, *shape))
    ours = symmetric_pad(torch.from_numpy(x), pad).numpy()
    np.testing.assert_array_equal(ours, np.pad(x, ((0, 0), (pad, pad), (pad, pad)),
                                               mode="symmetric"))


def test_sizes_and_parameter_count():
    core = DerainNetCore(features=8)
    assert core(torch.zeros(1, 3, 30, 41)).shape == (1, 3, 22, 33)  # 16x16 and 8x8 'valid'
    assert sum(p.numel() for p in DerainNet().parameters()) == CARD.params == 754_691
    net = DerainNet(features=8).eval()
    for shape in ((1, 3, 64, 96), (2, 3, 13, 47), (1, 3, 5, 3)):
        with torch.no_grad():
            assert net(torch.rand(shape)).shape == shape


def test_zero_detail_network_returns_the_base():
    """With the network silenced the output is the guided-filter base of the padded image,
    cropped back to the input: the crop is aligned with the input."""
    net = DerainNet(features=8).eval()
    for p in net.net.parameters():
        torch.nn.init.zeros_(p)
    flat = torch.full((1, 3, 20, 30), 0.25)
    with torch.no_grad():
        torch.testing.assert_close(net(flat), flat)
        ramp = torch.linspace(0, 1, 30).expand(1, 3, 20, 30).contiguous()
        out = net(ramp)
    assert (out[..., 1:] - out[..., :-1]).min() >= -1e-6  # still increasing left to right


def test_convert_state_layouts():
    torch.manual_seed(0)
    net = DerainNet(features=8)
    tf_state = {
        "DerainNet/conv2d/kernel": net.net.conv1.weight.detach().permute(2, 3, 1, 0),
        "DerainNet/conv2d/bias": net.net.conv1.bias.detach(),
        "DerainNet/conv2d_1/kernel": net.net.conv2.weight.detach().permute(2, 3, 1, 0),
        "DerainNet/conv2d_1/bias": net.net.conv2.bias.detach(),
        # TF conv2d_transpose kernels are [H, W, out, in]; PyTorch's [in, out, H, W]
        "DerainNet/conv2d_transpose/kernel": net.net.deconv.weight.detach().permute(2, 3, 1, 0),
        "DerainNet/conv2d_transpose/bias": net.net.deconv.bias.detach(),
    }
    state = DerainNetMethod.convert_state(tf_state)
    assert set(state) == set(net.state_dict())
    for key, value in net.state_dict().items():
        torch.testing.assert_close(state[key], value)


@pytest.mark.shared
def test_matches_the_official_output_at_full_size(shared_data):
    """Reference: ``derainnet.npy`` from ``make_derainnet.py`` (the official padding,
    TensorFlow graph, crops and weights, TensorFlow 2.21 CPU); the official output has the
    input's size. Measured max abs difference 7e-6 (float32 sums of 768 and 32,768
    products in another order); 1e-4 is far below a grey level."""
    model = create_model("derainnet",
                         weights=shared_data / "baselines_official" / "derainnet" / "model")
    assert model.info()["weights_released_as"] == "model"
    rainy = read_image(RAINY)
    out = np.clip(model.derain(rainy), 0, 1)
    expected = np.load(FIXTURES / "derainnet.npy")
    assert out.shape == expected.shape == rainy.shape
    assert np.abs(out - expected).max() <= 1e-4
