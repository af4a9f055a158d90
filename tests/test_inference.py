"""UDRDR inference: tiling, precision options, the F3 checkpoint and ``udrdr derain``."""

from __future__ import annotations

import dataclasses
import itertools
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from models.archs.udrdr import UDRDRConfig, build_f3
from models.cli import main as udrdr
from models.inference import collect_inputs, derain_image, plan_outputs, quantize
from models.inference.tiling import blend_window, edge_profile, tile_starts
from models.io.f3 import FORMAT, load_f3, save_f3
from raindata.atomic import sha256_file
from raindata.errors import DataError
from raindata.imageio import read_image, write_png

TINY = UDRDRConfig.tiny()
REACH = 2 * TINY.n_blocks + 3
"""Receptive-field radius of the tiny F3: head, 2 convs per block, body and tail, all 3x3."""


def tiny_f3(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_f3(TINY)


def rainy(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


# --------------------------------------------------------------------------- tiling


@pytest.mark.parametrize("length,tile,overlap", [(53, 24, 8), (37, 24, 8), (100, 40, 0),
                                                 (41, 40, 39), (40, 40, 8), (7, 64, 32)])
def test_tile_starts_cover_the_axis_inside_the_image(length, tile, overlap):
    starts = tile_starts(length, tile, overlap)
    size = min(tile, length)
    assert starts[0] == 0 and starts[-1] + size == length
    assert all(0 <= s <= length - size for s in starts)
    assert all(b - a <= tile - overlap for a, b in itertools.pairwise(starts))
    assert all(b > a for a, b in itertools.pairwise(starts))


def test_blend_window_discards_the_margin_and_ramps_smoothly():
    overlap, size = 32, 64
    w = blend_window(size, overlap, ramp_start=True, ramp_end=True)
    margin = overlap // 4
    assert np.all(w[:margin] == 0) and np.all(w[-margin:] == 0)
    assert np.all(w[margin:-margin] > 0)
    assert np.all(np.diff(w[: size // 2]) >= 0)
    assert np.array_equal(w, w[::-1])
    assert np.all(w[overlap - margin : size - overlap + margin] == 1)
    assert np.all(blend_window(size, overlap, False, False) == 1)
    assert edge_profile(overlap).size == overlap - margin


@pytest.mark.parametrize("shape", [(37, 53), (16, 16), (1, 1), (64, 5)])
def test_tile_covering_the_image_equals_whole_image(shape):
    net = tiny_f3()
    img = rainy(*shape)
    whole = derain_image(net, img)
    tiled = derain_image(net, img, tile=64, overlap=32)
    assert whole.shape == (*shape, 3) and whole.dtype == np.float32
    assert np.abs(tiled - whole).max() <= 1e-5


@pytest.mark.parametrize("shape,tile", [((37, 53), 32), ((90, 101), 48), ((61, 29), 30)])
def test_tiles_equal_whole_image_when_the_margin_covers_the_receptive_field(shape, tile):
    """overlap // 4 >= receptive-field radius: every blended pixel saw full context."""
    net = tiny_f3(1)
    img = rainy(*shape, seed=1)
    whole = derain_image(net, img)
    tiled = derain_image(net, img, tile=tile, overlap=4 * REACH)
    assert np.abs(tiled - whole).max() <= 1e-5


def test_small_overlap_is_close_and_beats_unblended_tiles(record_property):
    """Overlap 16 (margin 4 < reach 7): seams differ; report the size of the difference.

    Bound: below half a uint8 step (0.5 / 255), so a pixel moves by at most one level
    after rounding; tiles without overlap must be worse (the test can fail).
    """
    net = tiny_f3(2)
    img = rainy(90, 101, seed=2)
    whole = derain_image(net, img)
    blended = np.abs(derain_image(net, img, tile=40, overlap=16) - whole).max()
    abutting = np.abs(derain_image(net, img, tile=40, overlap=0) - whole).max()
    record_property("max_diff_overlap16", float(blended))
    record_property("max_diff_overlap0", float(abutting))
    print(f"tiled vs whole, tiny F3, 90x101, tile 40: overlap 16 max |diff| {blended:.2e}, "
          f"overlap 0 {abutting:.2e}")
    assert blended < 0.5 / 255 < abutting


@pytest.mark.parametrize("tile,overlap", [(8, 0), (8, 1), (9, 3), (10, 7), (12, 6)])
def test_blending_is_a_normalised_average(tile, overlap):
    """A per-pixel net has no receptive field: any tiling must give the same image."""
    torch.manual_seed(3)
    net = nn.Conv2d(3, 3, 1)
    img = rainy(37, 53, seed=3)
    whole = derain_image(net, img)
    assert np.abs(derain_image(net, img, tile=tile, overlap=overlap) - whole).max() <= 1e-5


def test_runs_under_inference_mode_and_leaves_output_unclamped():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append((torch.is_inference_mode_enabled(), self.training))
            return x * 3 - 1

    img = rainy(9, 11)
    probe = Probe().train()
    out = derain_image(probe, img, tile=5, overlap=2)
    assert seen and all(s == (True, False) for s in seen)
    assert probe.training
    assert np.allclose(out, img.astype(np.float32) / 255 * 3 - 1, atol=1e-6)
    assert out.min() < 0 and out.max() > 1


def test_channels_last_matches_fp32():
    net = tiny_f3()
    img = rainy(37, 53)
    ref = derain_image(net, img)
    out = derain_image(net, img, channels_last=True, tile=32, overlap=4 * REACH)
    assert np.abs(out - derain_image(net, img, tile=32, overlap=4 * REACH)).max() <= 1e-5
    assert np.abs(derain_image(net, img, channels_last=True) - ref).max() <= 1e-5


@pytest.mark.skipif(
    not any(k in torch.backends.cpu.get_cpu_capability().upper() for k in ("AVX512", "AMX")),
    reason="this CPU has no native bf16 (needs AVX512 or AMX)",
)
def test_bf16_autocast_is_applied_and_close():
    """bf16 keeps 8 significant bits (relative step 2**-8): allow 8 such steps of the output
    range accumulated over the 7 layers of the tiny net."""
    net = tiny_f3()
    img = rainy(37, 53)
    ref = derain_image(net, img)
    out = derain_image(net, img, precision="bf16", channels_last=True)
    diff = np.abs(out - ref).max()
    assert out.dtype == np.float32
    assert 0 < diff < 8 * 2**-8 * np.abs(ref).max()


def test_precision_and_device_errors(monkeypatch):
    net = tiny_f3()
    img = rainy(8, 8)
    with pytest.raises(DataError, match=r"fp16.*CUDA"):
        derain_image(net, img, precision="fp16")
    with pytest.raises(DataError, match="expected one of"):
        derain_image(net, img, precision="int8")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    with pytest.raises(DataError, match=r"bf16.*AVX512 or AMX.*AVX2"):
        derain_image(net, img, precision="bf16")
    if not torch.cuda.is_available():
        with pytest.raises(DataError, match="CUDA is not available"):
            derain_image(net, img, device="cuda")


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8),
                                 np.zeros((4, 4, 4), np.uint8), np.zeros((0, 4, 3), np.uint8)])
def test_input_is_validated(bad):
    with pytest.raises(DataError, match="expected a uint8 H x W x 3"):
        derain_image(tiny_f3(), bad)


def test_tile_options_are_validated():
    with pytest.raises(DataError, match="overlap"):
        derain_image(tiny_f3(), rainy(8, 8), tile=16, overlap=16)
    with pytest.raises(DataError, match="tile"):
        derain_image(tiny_f3(), rainy(8, 8), tile=0)


# --------------------------------------------------------------------------- F3 checkpoint


def test_f3_checkpoint_round_trip(tmp_path):
    net = tiny_f3(4)
    path = tmp_path / "f3.pt"
    digest = save_f3(path, net, dataclasses.asdict(TINY), {"step": 7, "data": ["demo"]})
    assert digest == sha256_file(path)
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == FORMAT and raw["config"] == dataclasses.asdict(TINY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f3.pt"]

    loaded, info = load_f3(path, "cpu", expected_sha256=digest)
    assert info.config == TINY and info.meta == {"step": 7, "data": ["demo"]}
    assert info.parameters == sum(p.numel() for p in net.parameters())
    assert not loaded.training
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    img = rainy(20, 30)
    assert np.array_equal(derain_image(loaded, img), derain_image(net, img))


def test_f3_checkpoint_weights_also_readable_by_load_state_dict(tmp_path):
    from models.io.torch_state import load_state_dict

    net = tiny_f3()
    save_f3(tmp_path / "f3.pt", net, TINY)
    state = load_state_dict(tmp_path / "f3.pt")
    assert state.keys() == net.state_dict().keys()


def test_save_f3_checks_config_and_meta(tmp_path):
    with pytest.raises(ValueError, match="does not match"):
        save_f3(tmp_path / "a.pt", tiny_f3(), dataclasses.replace(TINY, f3_feats=8))
    with pytest.raises(TypeError, match="meta"):
        save_f3(tmp_path / "b.pt", tiny_f3(), TINY, {"when": object()})
    assert list(tmp_path.iterdir()) == []


class _Payload:
    """A class a weights_only load must refuse to build."""


class _Exploit:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.touch, (self.target,))


def test_refuses_non_tensor_pickles_without_running_them(tmp_path):
    path = tmp_path / "evil.pt"
    marker = tmp_path / "ran"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "x": _Payload()}, path)
    with pytest.raises(DataError, match=r"evil\.pt: refused"):
        load_f3(path)
    path.write_bytes(pickle.dumps(_Exploit(marker)))
    with pytest.raises(DataError, match=r"evil\.pt"):
        load_f3(path)
    assert not marker.exists()


def test_refuses_foreign_and_broken_files(tmp_path):
    net = tiny_f3()
    bare = tmp_path / "bare.pt"
    torch.save(net.state_dict(), bare)
    with pytest.raises(DataError, match=r"bare\.pt: not a UDRDR F3 checkpoint.*bare state dict"):
        load_f3(bare)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match=r"junk\.pt: cannot read"):
        load_f3(junk)
    with pytest.raises(DataError, match="not found"):
        load_f3(tmp_path / "missing.pt")
    good = tmp_path / "good.pt"
    save_f3(good, net, TINY)
    with pytest.raises(DataError, match="sha256 expected"):
        load_f3(good, expected_sha256="0" * 64)
    payload = torch.load(good, weights_only=True)
    payload["config"]["f3_feats"] = 8
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(DataError, match=r"mismatch\.pt: weights do not fit"):
        load_f3(tmp_path / "mismatch.pt")
    payload["config"] = {"f3_feat": 16}
    torch.save(payload, tmp_path / "typo.pt")
    with pytest.raises(DataError, match=r"typo\.pt: bad network config.*f3_feats"):
        load_f3(tmp_path / "typo.pt")


def test_extracts_f3_from_a_weights_only_training_checkpoint(tmp_path):
    net = tiny_f3(5)
    path = tmp_path / "train.pt"
    torch.save({"models": {"f3": net.state_dict(), "f1": {}}, "step": 12,
                "config": {"model": dataclasses.asdict(TINY), "train": {"lr": 8e-4}}}, path)
    loaded, info = load_f3(path)
    assert info.source == "training" and info.meta == {"step": 12} and info.config == TINY
    img = rainy(12, 12)
    assert np.array_equal(derain_image(loaded, img), derain_image(net, img))
    torch.save({"models": {"f3": net.state_dict()}, "config": {"train": {}}}, path)
    with pytest.raises(DataError, match="without the network config"):
        load_f3(path)


# --------------------------------------------------------------------------- files and CLI


def test_collect_inputs_sorts_naturally_and_plan_refuses_overwrites(tmp_path):
    for name in ("img10.png", "img2.png", "img1.png", ".hidden.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    found = collect_inputs([tmp_path, tmp_path / "img2.png"])
    assert [p.name for p in found] == ["img1.png", "img2.png", "img10.png"]
    with pytest.raises(DataError, match="no such file or folder"):
        collect_inputs([tmp_path / "nope"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "img2.png").write_bytes(b"")
    assert len(plan_outputs(found, out)) == 3  # existing outputs: see test_derain_resume.py
    with pytest.raises(DataError, match="would both be written"):
        plan_outputs([tmp_path / "a.png", tmp_path / "sub" / "a.jpg"], out)
    with pytest.raises(DataError, match="its own input"):
        plan_outputs(found, tmp_path)


def test_udrdr_help_lists_derain():
    result = CliRunner().invoke(udrdr, ["--help"])
    assert result.exit_code == 0, result.output
    assert "derain" in result.output
    result = CliRunner().invoke(udrdr, ["derain", "--help"])
    assert result.exit_code == 0, result.output
    for flag in ("--weights", "--out", "--tile", "--overlap", "--precision", "--channels-last",
                 "--force"):
        assert flag in result.output


@pytest.fixture
def setup(tmp_path):
    net = tiny_f3(6)
    weights = tmp_path / "f3.pt"
    save_f3(weights, net, TINY, {"note": "test"})
    folder = tmp_path / "in"
    folder.mkdir()
    write_png(folder / "b.png", rainy(21, 34, seed=7))
    write_png(tmp_path / "a.png", rainy(40, 27, seed=8))
    return net, weights, folder, tmp_path / "a.png", tmp_path / "out"


def test_cli_derains_files_and_folders(setup):
    net, weights, folder, single, out = setup
    args = ["derain", str(single), str(folder), "--weights", str(weights), "--out", str(out),
            "--tile", "24", "--overlap", "12"]
    result = CliRunner().invoke(udrdr, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "udrdr-derain.json"]
    for src in (single, folder / "b.png"):
        expected = quantize(derain_image(net, read_image(src), tile=24, overlap=12), "round")
        assert np.array_equal(read_image(out / src.name), expected)
    rec = json.loads((out / "udrdr-derain.json").read_text())
    assert rec["config"]["model"]["weights_sha256"] == sha256_file(weights)
    assert [o["output"] for o in rec["outputs"]] == ["a.png", "b.png"]
    assert "images/s" in result.stdout

    again = CliRunner().invoke(udrdr, args)  # complete outputs are kept, not redone
    assert again.exit_code == 0, again.output
    assert "kept 2 complete existing output(s)" in again.stderr
    assert "derained 0 image(s)" in again.stdout
    assert CliRunner().invoke(udrdr, [*args, "--force"]).exit_code == 0


def _error_of(args: list[str]) -> str:
    result = CliRunner().invoke(udrdr, args)
    assert result.exit_code == 1, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and result.stderr.strip().endswith(errors[0]), result.stderr
    return errors[0]


def test_cli_error_paths(setup, monkeypatch):
    _, weights, folder, single, out = setup
    base = ["--weights", str(weights), "--out", str(out)]
    assert "missing.png: no such file or folder" in _error_of(
        ["derain", str(folder / "missing.png"), *base])
    broken = folder / "broken.png"
    broken.write_bytes(b"\x89PNG but not really")
    assert "broken.png: not a readable image" in _error_of(["derain", str(broken), *base])
    broken.unlink()
    bad = folder.parent / "bad.pt"
    bad.write_bytes(b"garbage")
    assert "bad.pt: cannot read checkpoint" in _error_of(
        ["derain", str(single), "--weights", str(bad), "--out", str(out)])
    assert "fp16" in _error_of(["derain", str(single), *base, "--precision", "fp16"])
    assert "overlap" in _error_of(["derain", str(single), *base, "--tile", "8"])
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "DEFAULT")
    assert "bf16" in _error_of(["derain", str(single), *base, "--precision", "bf16"])
    assert not out.exists()


FIXTURE = Path(__file__).resolve().parent / "fixtures" / "baselines" / "rainy_64x96.png"


@pytest.mark.shared
def test_cli_derains_with_any_registered_method(shared_data, tmp_path):
    """`udrdr derain --method M` runs a baseline from its official file and saves with its
    official convention (DDN truncates) unless --quantize says otherwise; batches of
    equal-size images give the same PNGs as one at a time."""
    from models.registry import create_model

    weights = shared_data / "baselines_official" / "ddn" / "model"
    folder = tmp_path / "in"
    for name in ("a", "b", "c"):
        write_png(folder / f"{name}.png", read_image(FIXTURE))
    res = CliRunner().invoke(udrdr, ["derain", str(folder), "--method", "ddn", "--weights",
                                     str(weights), "--out", str(tmp_path / "o"),
                                     "--batch-size", "2"])
    assert res.exit_code == 0, res.output
    model = create_model("ddn", weights=weights)
    expected = quantize(model.derain(read_image(FIXTURE)), "truncate")
    for name in ("a", "b", "c"):
        assert np.array_equal(read_image(tmp_path / "o" / f"{name}.png"), expected)
    rec = json.loads((tmp_path / "o" / "udrdr-derain.json").read_text())
    assert rec["config"]["method"] == "ddn" and rec["config"]["quantize"] == "truncate"
    assert rec["config"]["model"]["weights_released_as"] == "model"
    res = CliRunner().invoke(udrdr, ["derain", str(folder / "a.png"), "--method", "ddn",
                                     "--weights", str(weights), "--out", str(tmp_path / "r"),
                                     "--quantize", "round"])
    assert res.exit_code == 0, res.output
    assert np.array_equal(read_image(tmp_path / "r" / "a.png"),
                          quantize(model.derain(read_image(FIXTURE)), "round"))


def test_cli_method_errors_are_one_line(tmp_path):
    src = tmp_path / "a.png"
    write_png(src, rainy(40, 40))
    out = str(tmp_path / "o")
    assert "unknown method 'ddm'" in _error_of(["derain", str(src), "--method", "ddm",
                                                 "--out", out])
    assert "needs weights" in _error_of(["derain", str(src), "--method", "prenet",
                                         "--out", out])
    assert "cannot run in tiles" in _error_of(["derain", str(src), "--method", "umrl",
                                               "--weights", str(src), "--tile", "64",
                                               "--out", out])


def test_udrdr_methods_lists_every_method():
    from models.registry import list_methods

    res = CliRunner().invoke(udrdr, ["methods"])
    assert res.exit_code == 0
    for name in list_methods():
        assert name in res.output
    res = CliRunner().invoke(udrdr, ["methods", "umrl", "-v"])
    assert "Net_JORDER.pth" in res.output and "minmax" in res.output


def test_benchmark_time_runs_the_card_pipeline():
    from benchmark.timing import time_method

    row = time_method("ddn", size=48, n=1, warmup=1)
    assert row["parameters"] == 57_369 and row["seconds_per_image"] > 0
