"""RCDNet: parameter names against the official class, the official file format, and the
forward against the official code (fixtures made by ``make_rcdnet_keys.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from models.archs.rcdnet import RCDNet
from models.io.torch_state import load_state_dict
from models.methods.rcdnet import CARD, RCDNetMethod
from models.registry import create_model, create_network
from raindata.imageio import read_image

BASELINES = Path(__file__).parent / "fixtures" / "baselines"
PUBLISHED_PARAMS = 3_166_355  # the brief; equal to the official Mainnet's count
OFFICIAL = json.loads((BASELINES / "rcdnet_keys.json").read_text())


def test_state_dict_names_and_shapes_are_the_official_ones():
    """Key list of the official ``Mainnet(stage=17, num_M=32, num_Z=32)``, built from
    hongwang01/RCDNet by ``make_rcdnet_keys.py``."""
    ours = [[k, list(v.shape)] for k, v in RCDNet().state_dict().items()]
    assert ours == OFFICIAL["keys"]
    assert len(ours) == 2098


def test_parameter_count():
    net = create_network("rcdnet")
    assert sum(p.numel() for p in net.parameters()) == PUBLISHED_PARAMS
    assert CARD.params == OFFICIAL["parameters"] == PUBLISHED_PARAMS
    assert dict(CARD.network_kwargs) == {"stages": 17, "num_maps": 32, "num_dual": 32}


def test_official_file_loads_strictly(tmp_path):
    """``model_best.pt`` is ``torch.save(Mainnet.state_dict())``: a plain state dict."""
    torch.manual_seed(3)
    source = RCDNet()
    path = tmp_path / "model_best.pt"
    torch.save(source.state_dict(), path)
    model = create_model("rcdnet", weights=path)
    loaded = model.network.state_dict()
    for k, v in source.state_dict().items():
        assert torch.equal(loaded[k], v), k
    assert model.info()["weights_released_as"] is None


def test_small_model_reproduces_the_official_forward():
    """Official ``Mainnet(stage=3, num_M=4, num_Z=4)`` with seeded random weights (file
    saved as the official checkpoint) on ``rainy_64x96.png`` as the official test reads
    it: our network, through the engine (RGB [0, 255], output 0), within 1e-4."""
    state = load_state_dict(BASELINES / "rcdnet_small.pth")
    net = RCDNet(**{"stages": 3, "num_maps": 4, "num_dual": 4})
    net.load_state_dict(state, strict=True)
    out = RCDNetMethod.from_network(net).derain(read_image(BASELINES / "rainy_64x96.png"))
    expected = np.load(BASELINES / "rcdnet_small.npy")
    assert out.shape == expected.shape == (64, 96, 3)
    assert np.abs(out - expected).max() < 1e-4


def test_stages_and_outputs():
    torch.manual_seed(0)
    net = RCDNet(stages=3, num_maps=4, num_dual=4).eval()
    x = 255 * torch.rand(1, 3, 12, 10)
    with torch.no_grad():
        b0, backgrounds, rains = net.forward_stages(x)
        image, rain = net(x)
    assert len(backgrounds) == 4 and len(rains) == 3 and b0.shape == x.shape
    assert torch.equal(image, backgrounds[-1]) and torch.equal(rain, rains[-1])
    with pytest.raises(ValueError, match="stages must be >= 3"):
        RCDNet(stages=2)


def test_unused_official_parameters_are_frozen():
    """``eta1`` and ``mnet`` are saved by the official code but never used."""
    net = RCDNet(stages=3, num_maps=4, num_dual=4)
    frozen = {n for n, p in net.named_parameters() if not p.requires_grad}
    assert frozen == {"eta1"} | {f"mnet.{n}" for n, _ in net.mnet.named_parameters()}


def test_card_io():
    assert CARD.input_range == CARD.out_range == "[0, 255]"
    assert CARD.quantize == "round" and CARD.size.mode == "any"
    assert (CARD.output, CARD.rain_map_output) == (0, 1)
    assert CARD.weights == () and CARD.weights_required
