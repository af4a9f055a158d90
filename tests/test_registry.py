"""Method registry: names, typos, duplicates, laziness, cards, registry-wide smoke test."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from models import registry
from models.cards import QUANTIZE_CONVENTIONS, MethodCard
from models.inference.method import Method
from models.registry import (
    METHODS,
    Registry,
    create_model,
    create_network,
    get_card,
    list_methods,
)
from raindata.errors import DataError


def test_builtin_methods_listed_input_first():
    names = list_methods()
    assert names[0] == "input"
    assert {"input", "prenet"} <= set(names)
    assert len(names) == len(set(names))


def test_unknown_name_suggests_close_matches():
    with pytest.raises(DataError) as err:
        create_model("prenett")
    msg = str(err.value)
    assert "'prenett'" in msg and "did you mean 'prenet'" in msg and "\n" not in msg
    with pytest.raises(DataError, match=r"unknown method 'zzz' \(known: input, derainnet, ddn"):
        get_card("zzz")


def test_duplicates_rejected():
    with pytest.raises(ValueError, match="already registered"):
        Registry("method", [("a", "pkg.mod:A"), ("a", "pkg.mod:B")])
    before = METHODS.names()
    with pytest.raises(ValueError, match="'prenet' is already registered"):
        registry.register_method("prenet", "models.methods.input:InputMethod")
    assert METHODS.names() == before
    assert METHODS.target("prenet") == "models.methods.prenet:PReNetMethod"


@pytest.mark.parametrize("target", ["models.methods", ":InputMethod", "models.methods:"])
def test_bad_targets_rejected(target):
    with pytest.raises(ValueError, match="module:attr"):
        Registry("method", [("x", target)])


def test_own_registry_resolves_lazily():
    reg = Registry("thing", [("dec", "decimal:Decimal"), ("missing", "no_such_module_xyz:A")])
    assert reg.load("dec").__name__ == "Decimal"
    assert "missing" in reg and "nope" not in reg
    with pytest.raises(ModuleNotFoundError):
        reg.load("missing")


def test_import_registry_and_cards_do_not_import_torch():
    code = (
        "import sys, models.registry as r\n"
        "names = r.list_methods()\n"
        "cards = [r.get_card(n) for n in names]\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'cv2' not in sys.modules, 'cv2 imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("name", list_methods())
def test_every_card_is_complete(name):
    card = get_card(name)
    assert isinstance(card, MethodCard)
    assert card.name == name
    assert card.missing_fields() == []
    assert card.quantize in QUANTIZE_CONVENTIONS
    for w in card.weights:
        assert re.fullmatch(r"[0-9a-f]{64}", w.sha256), w
        assert w.method == name and w.name and w.trained_on and w.source
    assert card.to_dict()["name"] == name


def test_weights_files_are_unique_across_methods():
    files = [w for n in list_methods() for w in get_card(n).weights]
    assert len({(w.folder, w.name) for w in files}) == len(files)
    assert len({w.sha256 for w in files}) == len(files)


def test_card_rejects_unknown_quantize():
    with pytest.raises(ValueError, match="quantize"):
        MethodCard("x", "X", "paper", "[0, 1]", "RGB", quantize="floor", notes=("n",))


def test_official_conventions():
    assert get_card("prenet").quantize == "truncate"
    assert get_card("input").quantize == "round"
    assert get_card("prenet").needs_weights and not get_card("input").needs_weights


def test_create_network_without_network():
    with pytest.raises(DataError, match="'input' has no network"):
        create_network("input")


def test_unknown_option_lists_accepted():
    with pytest.raises(DataError) as err:
        create_model("input", weigths="x")
    msg = str(err.value)
    assert "weigths" in msg and "accepted: weights, device, precision, channels_last, tile" in msg


def test_weights_required_names_flag_and_official_files():
    with pytest.raises(DataError) as err:
        create_model("prenet", device="cpu")
    msg = str(err.value)
    assert "\n" not in msg and "--weights" in msg
    for fname in get_card("prenet").weights_file_names:
        assert fname in msg


def test_input_method_is_exact_identity_with_its_convention():
    from models.inference import quantize

    method = create_model("input")
    assert isinstance(method, Method)
    rainy = np.arange(256 * 3, dtype=np.int64).reshape(16, 16, 3).astype(np.uint8)
    out = method.derain(rainy)
    assert out.dtype == np.float32 and out.shape == rainy.shape
    assert out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(quantize(out, method.card.quantize), rainy)
    assert method.info()["weights"] is None


def test_input_method_refuses_weights_and_bad_images(tmp_path):
    with pytest.raises(DataError, match="takes no weights"):
        create_model("input", weights=tmp_path / "w.pth")
    method = create_model("input")
    for bad in (np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8), [[1, 2, 3]]):
        with pytest.raises(DataError, match="expected a uint8 H x W x 3"):
            method.derain(bad)
    with pytest.raises(DataError, match="precision"):
        create_model("input", precision="fp64")


def test_bundled_udrdr_weights_match_the_card():
    """Both committed F3 files (the CPU-scale default, the demo) are the files the card names
    (sha256) and load safely; without --weights the CPU-scale one is used."""
    from models.io.torch_state import sha256_file
    from models.methods.udrdr import cpu_weights_path, demo_weights_path

    card = get_card("udrdr")
    for path in (cpu_weights_path(), demo_weights_path()):
        assert path.name in card.weights_file_names
        assert card.known_weights(sha256_file(path)) is not None
    model = create_model("udrdr")
    assert model.weights_sha256 == card.weights[0].sha256
    assert model.info()["bundled_weights"] == "udrdr_cpu_f3.pt"
    demo = create_model("udrdr", weights=demo_weights_path())
    assert demo.weights_sha256 == card.weights[1].sha256
    assert demo.info()["bundled_weights"] == "udrdr_demo_f3.pt"
    assert demo.info()["f3"]["config"]["n_blocks"] != model.info()["f3"]["config"]["n_blocks"]




def test_bundled_cpu_f3_is_the_model_its_files_describe():
    """The default F3 carries the config committed beside it, was selected on validation at
    the best step of the committed validation log, and its training log reaches that step."""
    import csv
    import dataclasses

    from models.io.f3 import load_f3
    from models.methods.udrdr import cpu_weights_path
    from models.train.config import load_config

    folder = cpu_weights_path().parent
    _, info = load_f3(cpu_weights_path())
    config = load_config(folder / "udrdr_cpu_config.toml", []).to_dict()
    assert info.meta["train_config"] == config
    assert dataclasses.asdict(info.config) == config["model"]
    with open(folder / "udrdr_cpu_val_log.csv", newline="") as f:
        val = list(csv.DictReader(f))
    best = max(val, key=lambda r: float(r["f3_psnr"]))
    assert info.meta["selected_by"] == "validation"
    assert info.meta["step"] == int(best["step"])
    assert info.meta["val_psnr"] == pytest.approx(float(best["f3_psnr"]), abs=1e-9)
    with open(folder / "udrdr_cpu_train_log.csv", newline="") as f:
        steps = [int(r["step"]) for r in csv.DictReader(f)]
    assert max(steps) >= info.meta["step"]
