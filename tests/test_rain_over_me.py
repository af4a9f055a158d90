"""Rain O'er Me: the port against the official test script, variants, the test-time output.

The fixtures ``tests/fixtures/baselines/rain_over_me_<set>.npy`` are the float images the
official ``test.py`` of HuangxingLin123/Rain-Over-Me @ 81e0e793 (``code_for_<set>/``) was
about to quantize for ``rainy_64x96.png`` with each released ``latest_net_G.pth``, run on
CPU with torch 2.14.1 by ``tests/fixtures/baselines/make_rain_over_me.py``. Tolerance 1e-4
on the [0, 1] scale (measured: about 5e-7, float32 summation order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.archs.rain_over_me import RainOverMe, RainOverMeTest, detail_convs_of
from models.methods.rain_over_me import CARD
from models.registry import create_model, create_network
from raindata.imageio import read_image

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "baselines"
SETS = ("Rain200L", "Rain1400", "DID_data")
PARAMS = {3: 55_046, 2: 52_726}  # ../shared/data/README.md, counted key by key


def _count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("detail_convs", [3, 2])
def test_parameter_counts_of_both_variants(detail_convs):
    assert _count(RainOverMe(detail_convs=detail_convs)) == PARAMS[detail_convs]
    assert _count(RainOverMeTest(detail_convs=detail_convs)) == PARAMS[detail_convs]
    assert _count(create_network("rain-over-me")) == CARD.params == PARAMS[3]


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="detail_convs"):
        RainOverMe(detail_convs=4)


def test_variant_is_read_from_the_keys():
    assert detail_convs_of(RainOverMe(detail_convs=3).state_dict()) == 3
    assert detail_convs_of(RainOverMe(detail_convs=2).state_dict()) == 2
    assert detail_convs_of({}) == 3


def test_test_network_returns_the_rain_layer_and_input_minus_it():
    """``RainOverMeTest`` gives the first two outputs of the full network, skips ``out2``
    and keeps its parameters frozen; the image (output 1) is the input minus output 0."""
    torch.manual_seed(0)
    full = RainOverMe().eval()
    test = RainOverMeTest().eval()
    test.load_state_dict(full.state_dict(), strict=True)
    x = torch.rand(1, 3, 21, 30, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        res, image = test(x)
        res_full, image_full, _, _ = full(x)
    assert torch.equal(res, res_full) and torch.equal(image, image_full)
    assert torch.equal(image, x - res) and res.abs().max() < 1
    assert not any(p.requires_grad for p in test.out2.parameters())
    assert CARD.output == 1 and CARD.rain_map_output == 0


def test_card_facts():
    assert (CARD.input_range, CARD.input_colour, CARD.quantize) == ("[0, 1]", "RGB", "truncate")
    assert CARD.size.mode == "any" and CARD.tileable and CARD.batchable
    assert [w.name for w in CARD.weights] == [f"latest_net_G_{s}.pth" for s in SETS]


@pytest.mark.shared
@pytest.mark.parametrize("name", SETS)
def test_matches_the_official_test_script(name, shared_data):
    path = shared_data / "baselines_official" / "rain_over_me" / f"latest_net_G_{name}.pth"
    if not path.is_file():
        pytest.skip(f"released weights not found: {path}")
    model = create_model("rain-over-me", weights=path)
    assert model.info()["weights_released_as"] == path.name
    assert model.network.detail_convs == (2 if name == "DID_data" else 3)
    rainy = read_image(FIXTURES / "rainy_64x96.png")
    expected = np.load(FIXTURES / f"rain_over_me_{name}.npy")
    out = model.derain(rainy)
    assert out.shape == expected.shape == (64, 96, 3)
    assert np.abs(out - expected).max() <= 1e-4


@pytest.mark.shared
def test_rain_map_is_input_minus_estimate(shared_data):
    path = shared_data / "baselines_official" / "rain_over_me" / "latest_net_G_Rain200L.pth"
    if not path.is_file():
        pytest.skip(f"released weights not found: {path}")
    model = create_model("rain-over-me", weights=path)
    rainy = read_image(FIXTURES / "rainy_64x96.png")
    [(image, rain)] = model.derain_with_rain_maps([rainy])
    np.testing.assert_allclose(image + rain, rainy / 255.0, atol=1e-6)
