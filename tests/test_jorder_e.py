"""JORDER-E practical model: the port against the official test loop, structure, card.

The fixture ``tests/fixtures/baselines/jorder_e_practical.npy`` is the float image (divided
by 255) that the official ``trainer.Trainer.test`` of
flyywh/JORDER-E-Deep-Image-Deraining-TPAMI-2019-Journal @ ccb4a465
(``testing_practical/src``) passed to ``utility.quantize`` for ``rainy_64x96.png`` with the
released ``model_practical.pt``, run on CPU with torch 2.14.1 by
``tests/fixtures/baselines/make_jorder_e.py``. Tolerance 1e-4 on the [0, 1] scale
(measured: 0, the same float32 operations in the same order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.archs.jorder_e import JORDERE, ContextBlock
from models.methods.jorder_e import CARD
from models.registry import create_model
from raindata.imageio import read_image

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "baselines"


def test_parameter_count_and_names():
    net = JORDERE()
    assert sum(p.numel() for p in net.parameters()) == CARD.params == 406_784
    keys = list(net.state_dict())
    assert len(keys) == 132
    for k in ("jorder1.encoder.weight", "jorder1.updater.res3.conv6.bias",
              "jorder2.mask_F_w_encoder2.weight", "jorder2.decoder.1.weight"):
        assert k in keys
    with pytest.raises(ValueError, match="blocks"):
        JORDERE(blocks=0)


def test_modulation_starts_as_identity():
    """The official init: the multiplicative encoders give 1 everywhere before training."""
    stage = JORDERE().jorder1
    for conv in (stage.mask_F_w_encoder2, stage.level_F_w_encoder2):
        assert torch.all(conv.weight == 0) and torch.all(conv.bias == 1)


def test_context_block_adds_the_previous_stage():
    torch.manual_seed(0)
    block = ContextBlock(4)
    x = torch.rand(1, 4, 9, 11, generator=torch.Generator().manual_seed(1))
    prev = torch.rand(1, 4, 9, 11, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(block(x, prev), block(x) + prev)


def test_two_stages_and_outputs():
    """Output 0 is the second stage's image, output 1 the first's; both are residuals on
    the rainy input (zero decoders give the input back)."""
    torch.manual_seed(0)
    net = JORDERE().eval()
    x = 255 * torch.rand(1, 3, 13, 17, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        image2, image1, mask, level = net(x)
        assert image2.shape == image1.shape == level.shape == x.shape
        assert mask.shape == (1, 2, 13, 17)
        torch.testing.assert_close(net.jorder1(x)[0], image1)
        for stage in (net.jorder1, net.jorder2):
            stage.decoder[1].weight.zero_()
            stage.decoder[1].bias.zero_()
        assert torch.equal(net(x)[0], x) and torch.equal(net(x)[1], x)


def test_card_facts():
    assert (CARD.input_range, CARD.input_colour, CARD.quantize) == ("[0, 255]", "RGB", "round")
    assert CARD.output == 0 and CARD.size.mode == "any"
    assert "TPAMI 2019" in CARD.title and "not the CVPR 2017 JORDER" in CARD.title


@pytest.mark.shared
def test_matches_the_official_test_loop(shared_data):
    path = shared_data / "baselines_official" / "jorder_e" / "model_practical.pt"
    if not path.is_file():
        pytest.skip(f"released weights not found: {path}")
    model = create_model("jorder-e", weights=path)
    assert model.info()["weights_released_as"] == "model_practical.pt"
    rainy = read_image(FIXTURES / "rainy_64x96.png")
    expected = np.load(FIXTURES / "jorder_e_practical.npy")
    out = model.derain(rainy)
    assert out.shape == expected.shape == (64, 96, 3)
    assert np.abs(out - expected).max() <= 1e-4
