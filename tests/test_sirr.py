"""SIRR: per-image normalisation, the TF-name mapping and the official output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.archs.ddn import DDN
from models.methods.sirr import CARD, SIRRMethod
from models.registry import create_model, create_network
from raindata.errors import DataError
from raindata.imageio import read_image

FIXTURES = Path(__file__).parent / "fixtures" / "baselines"
RAINY = FIXTURES / "rainy_64x96.png"


def test_card_follows_the_per_image_statistics():
    assert not CARD.tileable and not CARD.batchable
    net = create_network("sirr")
    assert isinstance(net, DDN) and net.guide_dtype == "float64"
    assert sum(p.numel() for p in net.parameters()) == CARD.params == 57_369
    norm = net.net.norm[0]
    assert norm.eps == 1e-5 and not norm.track_running_stats
    assert not any("running" in k for k in net.state_dict())


def test_each_image_is_normalised_by_itself():
    """Even in eval mode the statistics are the image's own: a batch of two differs from
    each image alone, and train and eval mode give the same result."""
    torch.manual_seed(0)
    net = create_network("sirr").eval()
    x = torch.rand(2, 3, 36, 40, generator=torch.Generator().manual_seed(3))
    x[1] = x[1] * 0.3 + 0.6
    with torch.no_grad():
        alone = net(x[:1])
        together = net(x)[:1]
        net.train()
        assert torch.equal(net(x[:1]), alone)
    assert (alone - together).abs().max() > 1e-3


def test_convert_state_keeps_the_test_branch_only():
    torch.manual_seed(0)
    net = create_network("sirr")
    tf_state = {}
    for i, (conv, norm) in enumerate(zip(net.net.conv, net.net.norm, strict=True)):
        k = i + 1
        tf_state[f"conv_{k}/weights_{k}"] = conv.weight.detach().permute(2, 3, 1, 0)
        tf_state[f"conv_{k}/biases_{k}"] = conv.bias.detach()
        tf_state[f"conv_{k}/scale_{k}"] = norm.weight.detach() + 1
        tf_state[f"conv_{k}/beta_{k}"] = norm.bias.detach() - 1
        for var in ("biases", "scale", "beta"):
            tf_state[f"conv_{k}_1/{var}_{k}"] = torch.zeros(conv.out_channels)
        tf_state[f"conv_{k}/weights_{k}/Adam"] = torch.zeros(1)
        tf_state[f"conv_{k}/weights_{k}/Adam_1"] = torch.zeros(1)
    tf_state["beta1_power"] = tf_state["beta2_power"] = torch.zeros(())
    state = SIRRMethod.convert_state(tf_state)
    assert set(state) == set(net.state_dict())
    torch.testing.assert_close(state["net.conv.3.weight"], net.net.conv[3].weight.detach())
    torch.testing.assert_close(state["net.norm.25.weight"], net.net.norm[25].weight + 1)
    assert "learning_rate" in SIRRMethod.convert_state({"learning_rate": torch.zeros(())})


def test_tiles_are_refused():
    with pytest.raises(DataError, match="cannot run in tiles"):
        create_model("sirr", weights="unused", tile=64)


@pytest.mark.shared
def test_matches_the_official_output(shared_data):
    """Reference: ``sirr.npy`` from ``make_sirr.py`` (the official numpy/OpenCV guided
    filter and TensorFlow graph with the released weights, TensorFlow 2.21 CPU). Measured
    max abs difference 8e-7; 1e-4 is far below a grey level. The batch size asked for is
    ignored: one image per forward pass, as the statistics are per image."""
    model = create_model("sirr", weights=shared_data / "baselines_official" / "sirr",
                         batch_size=4)
    assert model.batch_size == 1 and model.info()["weights_released_as"] == "model"
    rainy = read_image(RAINY)
    outs = model.derain_batch([rainy, rainy[::-1].copy()])
    expected = np.load(FIXTURES / "sirr.npy")
    assert np.abs(np.clip(outs[0], 0, 1) - expected).max() <= 1e-4
    assert outs[1].shape == rainy.shape
