"""Syn2Real: parameter names against the official class, the official (DataParallel) file
format, the size rule, and the forward against the official code (fixtures made by
``make_syn2real_keys.py``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import torch

from models.archs.syn2real import Syn2RealNet
from models.methods.syn2real import CARD, Syn2RealMethod
from models.registry import create_model, create_network
from raindata.imageio import read_image

BASELINES = Path(__file__).parent / "fixtures" / "baselines"
PUBLISHED_PARAMS = 2_618_294  # the brief; equal to the official DeRain_v2's count
OFFICIAL = json.loads((BASELINES / "syn2real_keys.json").read_text())


def seeded_state(net: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """The fixture script's deterministic weights for ``net``'s names and shapes."""
    path = BASELINES / "make_syn2real_keys.py"
    spec = importlib.util.spec_from_file_location("make_syn2real_keys", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    return {k: torch.from_numpy(v) for k, v in module.seeded_state(shapes, seed).items()}


def test_state_dict_names_and_shapes_are_the_official_ones():
    """Keys of ``nn.DataParallel(DeRain_v2())`` as test.py builds it (rajeevyasarla/Syn2Real,
    by ``make_syn2real_keys.py``), less the ``module.`` the loader drops."""
    ours = [[f"module.{k}", list(v.shape)] for k, v in Syn2RealNet().state_dict().items()]
    assert ours == OFFICIAL["keys"]


def test_parameter_count():
    net = create_network("syn2real")
    assert sum(p.numel() for p in net.parameters()) == PUBLISHED_PARAMS
    assert CARD.params == OFFICIAL["parameters"] == PUBLISHED_PARAMS


def test_official_file_loads_strictly(tmp_path):
    """``derain_best`` is ``torch.save(nn.DataParallel(net).state_dict())``."""
    torch.manual_seed(4)
    source = Syn2RealNet()
    path = tmp_path / "derain_best"
    torch.save(torch.nn.DataParallel(source).state_dict(), path)
    model = create_model("syn2real", weights=path)
    loaded = model.network.state_dict()
    for k, v in source.state_dict().items():
        assert torch.equal(loaded[k], v), k


def test_seeded_network_reproduces_the_official_forward():
    """Official ``DeRain_v2`` with seeded weights on ``rainy_64x96.png`` read by the
    official ``ValData`` ([-1, 1]), eval mode, ``clean``: ours through the engine, 1e-4."""
    net = Syn2RealNet()
    net.load_state_dict(seeded_state(net, OFFICIAL["seeded"]["seed"]), strict=True)
    out = Syn2RealMethod.from_network(net).derain(read_image(BASELINES / "rainy_64x96.png"))
    expected = np.load(BASELINES / "syn2real_seeded.npy")
    assert out.shape == expected.shape == (64, 96, 3)
    assert np.abs(out - expected).max() < 1e-4


def test_size_rule_pads_to_multiples_of_16():
    assert CARD.size.mode == "pad" and CARD.size.multiple == 16
    assert CARD.size.padded_size(321, 481) == (336, 496)
    assert "ANTIALIAS" in CARD.size.note  # the official resize is documented


def test_squeeze_excitation_is_built_but_frozen():
    net = Syn2RealNet()
    frozen = {n for n, p in net.named_parameters() if not p.requires_grad}
    assert frozen and all(".SE.fc." in n for n in frozen)
    assert len(frozen) == 9 * 4


def test_card_io():
    assert (CARD.input_range, CARD.out_range) == ("[-1, 1]", "[0, 1]")
    assert CARD.quantize == "round" and CARD.output == 0
    assert CARD.tileable and CARD.batchable
