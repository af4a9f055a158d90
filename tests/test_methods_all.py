"""Registry-wide tests: every registered network method, without naming any of them.

A method added with one file and one registry line is covered here automatically: it
builds with its card's parameter count, its test-time network runs forward and backward,
the engine honours its card (size rule, ranges, colour order, output pick), its released
files load strictly where ``../shared/data`` holds them, and files of other methods are
refused in one line.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA
from torch import nn

from models.cards import MethodCard
from models.inference.method import Method
from models.registry import create_model, create_network, get_card, list_methods, load_target
from raindata.errors import DataError

NETWORK_METHODS = [n for n in list_methods() if get_card(n).network is not None]


def method_class(name: str):
    from models.registry import METHODS

    return METHODS.load(name)


def released(name: str) -> list[tuple[str, object]]:
    """(file name, path) of the released files of ``name`` present in ../shared/data or
    bundled with the package (a method's default weights)."""
    found = []
    bundled = method_class(name).default_weights(None)
    if bundled is not None and bundled.is_file():
        found.append((bundled.name, bundled))
    for w in get_card(name).weights:
        if w.folder:
            path = SHARED_DATA / w.folder / w.name
            present = path.is_file() or path.with_name(path.name + ".index").is_file()
            if present:
                found.append((w.name, path))
    return found


def test_every_network_method_is_covered():
    assert {"prenet", "udrdr"} <= set(NETWORK_METHODS)


@pytest.mark.parametrize("name", NETWORK_METHODS)
def test_builds_with_the_card_parameter_count(name):
    card = get_card(name)
    net = create_network(name)
    assert isinstance(net, nn.Module)
    assert sum(p.numel() for p in net.parameters()) == card.params
    assert card.missing_fields() == []
    assert card.weights_format != "none"


@pytest.mark.parametrize("name", NETWORK_METHODS)
def test_forward_backward_on_an_odd_image(name):
    """The test-time network on a random 3x37x53 image (through the card's size rule):
    right size, finite values, gradients reach the parameters."""
    from models.inference.pipeline import IOSpec, fit_size, pick, to_network

    card = get_card(name)
    torch.manual_seed(0)
    net = create_network(name)
    if card.batchable:
        net.eval()
    spec = IOSpec.of(card)
    raw = torch.randint(0, 256, (1, 3, 37, 53), generator=torch.Generator().manual_seed(1))
    x, undo = fit_size(to_network(raw, spec), card.size)
    y = undo(pick(net(x), card.output))
    assert y.shape == (1, 3, 37, 53) and torch.isfinite(y).all()
    y.square().mean().backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


RANGE_01 = {"[0, 1]": (1.0, 0.0), "[-1, 1]": (2.0, -1.0), "[0, 255]": (255.0, 0.0)}


class Probe(nn.Module):
    """Stands in for a method's network: records what it is given, returns it unchanged
    in the structure the card says (tuple index / dict key of the image and rain map)."""

    def __init__(self, card: MethodCard) -> None:
        super().__init__()
        self.card = card
        self.seen: list[tuple[int, ...]] = []
        self.scale = nn.Parameter(torch.ones(()))

    def to_output_range(self, x: torch.Tensor) -> torch.Tensor:
        """The same image, from the card's input range to its output range."""
        a, b = RANGE_01[self.card.input_range]
        c, d = RANGE_01[self.card.out_range]
        return (x - b) / a * c + d

    def forward(self, x: torch.Tensor):
        self.seen.append(tuple(x.shape))
        y = self.to_output_range(x) * self.scale
        picks = {k: y for k in (self.card.output, self.card.rain_map_output) if k is not None}
        if not picks:
            return y
        if isinstance(next(iter(picks)), str):
            return {**picks, "unused": torch.zeros_like(x)}
        size = max(picks) + 1
        return tuple(picks.get(i, torch.zeros_like(x)) for i in range(size))


def _rule_holds(card: MethodCard, shape: tuple[int, ...]) -> bool:
    h, w = shape[-2:]
    rule = card.size
    if rule.mode == "resize":
        return (h, w) == rule.resize_to
    ok = h % rule.multiple == 0 and w % rule.multiple == 0
    ok &= min(h, w) >= rule.min_side
    return ok and (h == w or not rule.square)


@pytest.mark.parametrize("name", NETWORK_METHODS)
def test_engine_honours_the_card(name):
    """Through the engine an identity network gives back the image (on the [0, 1] scale),
    whatever the card's range, colour order, output pick and size rule; the network only
    ever sees sizes its rule allows."""
    card = get_card(name)
    probe = Probe(card)
    method = method_class(name).from_network(probe)
    assert isinstance(method, Method)
    rainy = np.random.default_rng(2).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    out = method.derain(rainy)
    assert out.shape == rainy.shape and out.dtype == np.float32
    assert probe.seen and all(_rule_holds(card, s) for s in probe.seen), probe.seen
    expected = rainy.astype(np.float64) / 255
    if card.output_norm == "minmax":
        expected = (expected - expected.min()) / (expected.max() - expected.min())
    tol = 0.06 if card.size.mode == "resize" else 1e-5
    assert np.abs(out - expected).mean() < tol
    if card.size.mode != "resize":
        np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("name", NETWORK_METHODS)
def test_batches_and_tiles_as_the_card_allows(name):
    card = get_card(name)
    cls = method_class(name)
    probe = Probe(card)
    images = [np.full((40, 50, 3), v, np.uint8) for v in (10, 200, 90)]
    method = cls.from_network(probe, batch_size=3)
    outs = method.derain_batch(images)
    assert [o.shape for o in outs] == [i.shape for i in images]
    assert probe.seen[0][0] == (3 if card.batchable else 1)
    if not card.tileable:
        with pytest.raises(DataError, match="cannot run in tiles"):
            cls(weights="unused.pt", tile=32)


@pytest.mark.parametrize("name", NETWORK_METHODS)
def test_card_network_target_resolves(name):
    card = get_card(name)
    assert callable(load_target(card.network))
    for w in card.weights:
        assert w.method == name


@pytest.mark.shared
@pytest.mark.parametrize("name", NETWORK_METHODS)
def test_released_files_load_strictly(name, shared_data):
    """Every released file of the method that ../shared/data holds loads with strict=True,
    is recognised by its sha256, and derains a real rainy crop into the [0, 1] range."""
    from raindata.imageio import read_image

    files = released(name)
    if not files:
        pytest.skip(f"no released file of {name} in {shared_data}")
    rainy = read_image(shared_data / "rain100l_test" / "small" / "rain" / "norain-1.png")
    crop = np.ascontiguousarray(rainy[100:164, 200:264])
    for fname, path in files:
        model = create_model(name, weights=path)
        assert model.info()["weights_released_as"] == fname
        out = model.derain(crop)
        assert out.shape == crop.shape and np.isfinite(out).all()
        inside = ((out > -0.1) & (out < 1.1)).mean()
        assert inside > 0.99, (fname, inside)


def _foreign_file(name: str):
    """A released file present in ../shared/data that belongs to another method (same
    format where possible)."""
    fmt = get_card(name).weights_format
    options = [(other, f, p) for other in NETWORK_METHODS if other != name
               for f, p in released(other)]
    options.sort(key=lambda t: get_card(t[0]).weights_format != fmt)
    return options[0] if options else None


@pytest.mark.shared
@pytest.mark.parametrize("name", NETWORK_METHODS)
def test_another_methods_file_is_refused_in_one_line(name, shared_data):
    foreign = _foreign_file(name)
    if foreign is None:
        pytest.skip("no released file of another method in ../shared/data")
    other, _, path = foreign
    with pytest.raises(DataError) as err:
        create_model(name, weights=path)
    msg = str(err.value)
    assert "\n" not in msg and str(path.name) in msg
    assert f"released for method {other!r}" in msg


@pytest.mark.parametrize("name", NETWORK_METHODS)
def test_a_state_dict_of_another_network_does_not_fit(name, tmp_path):
    """A torch file holding some other network's weights: one line naming the file."""
    path = tmp_path / "other.pth"
    torch.save(nn.Conv2d(3, 5, 3).state_dict(), path)
    with pytest.raises(DataError) as err:
        create_model(name, weights=path)
    msg = str(err.value)
    assert "\n" not in msg and "other.pth" in msg, msg
