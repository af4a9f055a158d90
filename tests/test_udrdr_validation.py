"""UDRDR training on real data (issue 9): validation and the best checkpoint, the teacher
as a method with its rain maps, the no-distillation refusal, the label-convention check,
the gradient kernel mode, dataset id ranges and the CPU config.

Tiny nets on the 40x40 data of ``test_trainer`` (vertical streaks labelled 90 deg).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from test_trainer import _make_data, quiet, tiny

from models.cli import main as udrdr
from models.inference import quantize
from models.registry import create_model
from models.train import checkpoint as ckpt
from models.train.config import load_config
from models.train.log import read_log
from models.train.trainer import train
from raindata.errors import DataError
from raindata.imageio import read_image, write_png

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("udrdr_val_data")
    _make_data(root)
    write_paired(root / "val", 3, seed=3, shape=(24, 28), period=5)  # generic, ids 1..3
    return root


def write_paired(folder: Path, n: int, *, seed: int, shape: tuple[int, int],
                 period: int) -> Path:
    """``folder/{rainy,clean}/{1..n}.png``: random backgrounds, vertical bright streaks."""
    rng = np.random.default_rng(seed)
    for i in range(1, n + 1):
        clean = rng.integers(0, 200, (*shape, 3), dtype=np.uint8)
        rainy = clean.copy()
        rainy[:, i::period] = 230
        write_png(folder / "rainy" / f"{i}.png", rainy)
        write_png(folder / "clean" / f"{i}.png", clean)
    return folder


def with_val(root: Path, out: Path, **more):
    return tiny(root, out, **{"val.name": "paired", "val.root": str(root / "val"),
                              "val.split": "", "val.every": 2, **more})


def _log_without_time(path: Path) -> list[dict[str, str]]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in read_log(path)]


def test_validation_logs_every_pass_and_keeps_the_best(data_root, tmp_path):
    out = tmp_path / "run"
    result = train(with_val(data_root, out), echo=quiet)
    rows = read_log(out / "val_log.csv")
    assert [int(r["step"]) for r in rows] == [2, 4, 6, 8, 10, 12] and result.step == 12
    psnrs = [float(r["selected_psnr"]) for r in rows]
    best_step = [2, 4, 6, 8, 10, 12][int(np.argmax(psnrs))]
    assert int(rows[-1]["best_step"]) == best_step
    assert all(r["f3_psnr"] == r["selected_psnr"] for r in rows)  # F3 is the tested model
    best = ckpt.load_checkpoint(ckpt.best_path(out))
    assert best["step"] == best_step
    f3 = create_model("udrdr", weights=out / "udrdr_f3_best.pt")
    assert f3.f3_info.meta["step"] == best_step
    assert f3.f3_info.meta["selected_by"] == "validation"
    for key, value in best["models"]["f3"].items():
        assert torch.equal(f3.network.state_dict()[key], value)


def test_resumed_run_validates_and_selects_as_an_uninterrupted_one(data_root, tmp_path):
    whole = tmp_path / "whole"
    train(with_val(data_root, whole), echo=quiet)
    parts = tmp_path / "parts"
    train(with_val(data_root, parts, **{"run.max_steps": 5}), echo=quiet)
    train(with_val(data_root, parts), resume=True, echo=quiet)
    assert _log_without_time(parts / "val_log.csv") == _log_without_time(whole / "val_log.csv")
    assert (parts / "udrdr_f3_best.pt").read_bytes() != b""
    a = ckpt.load_checkpoint(ckpt.best_path(whole))["models"]["f3"]
    b = ckpt.load_checkpoint(ckpt.best_path(parts))["models"]["f3"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_without_distillation_the_teacher_is_selected_and_f3_is_refused(data_root, tmp_path):
    out = tmp_path / "nodistill"
    train(with_val(data_root, out, **{"loss.distill": 0.0}), echo=quiet)
    rows = read_log(out / "val_log.csv")
    assert all(r["f3_psnr"] == "" and r["teacher_psnr"] == r["selected_psnr"] for r in rows)
    assert not (out / "udrdr_f3_best.pt").exists() and not (out / "udrdr_f3.pt").exists()
    with pytest.raises(DataError) as err:
        create_model("udrdr", weights=ckpt.best_path(out))
    msg = str(err.value)
    assert "loss.distill = 0" in msg and "udrdr-teacher" in msg and "\n" not in msg
    teacher = create_model("udrdr-teacher", weights=ckpt.best_path(out))
    assert teacher.info()["step"] == int(rows[-1]["best_step"])


def test_teacher_training_does_not_depend_on_distillation(data_root, tmp_path):
    """F1/F2 follow the same trajectory with or without the student (separate optimisers,
    detached student inputs, same data order and initialisation): Table 5's "w/o (10)"
    network is the full run's teacher."""
    states = []
    for distill in (1.0, 0.0):
        out = tmp_path / f"d{distill}"
        train(tiny(data_root, out, **{"loss.distill": distill, "run.max_steps": 4}), echo=quiet)
        states.append(ckpt.load_checkpoint(ckpt.latest_checkpoint(out))["models"])
    for net in ("f1", "f2"):
        for key, value in states[0][net].items():
            assert torch.equal(value, states[1][net][key]), (net, key)


def test_teacher_method_derains_and_saves_rain_maps(data_root, tmp_path):
    out = tmp_path / "run"
    train(tiny(data_root, out, **{"run.max_steps": 2}), echo=quiet)
    weights = ckpt.latest_checkpoint(out)
    src = data_root / "train" / "rainy" / "1.png"
    res = CliRunner().invoke(udrdr, ["derain", str(src), "--method", "udrdr-teacher",
                                     "--weights", str(weights), "--out", str(tmp_path / "o"),
                                     "--rain-maps", str(tmp_path / "z")])
    assert res.exit_code == 0, res.output
    teacher = create_model("udrdr-teacher", weights=weights)
    rainy = read_image(src)
    ((y, z),) = teacher.derain_with_rain_maps([rainy])
    assert np.array_equal(read_image(tmp_path / "o" / "1.png"), quantize(y, "round"))
    assert np.array_equal(read_image(tmp_path / "z" / "1.png"), quantize(z, "round"))
    with torch.inference_mode():
        x = torch.from_numpy(rainy).permute(2, 0, 1)[None].float() / 255
        z_ref = teacher.network.f1(x)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(z, z_ref, atol=1e-6)
    res = CliRunner().invoke(udrdr, ["derain", str(src), "--out", str(tmp_path / "o2"),
                                     "--rain-maps", str(tmp_path / "z2")])
    assert res.exit_code == 1 and "does not estimate a rain map" in res.output


def _mislabel(root: Path, label: int) -> Path:
    """A copy of the training set whose labels all say ``label``."""
    import shutil

    copy = root.parent / f"{root.name}_{label}"
    if not copy.exists():
        shutil.copytree(root / "train", copy)
        lines = [f"{i} {label}" for i in range(1, 9)]
        (copy / "direction" / "direction.txt").write_text("\n".join(lines) + "\n")
    return copy


def test_label_check_stops_perpendicular_labels_before_training(data_root, tmp_path):
    """The data has vertical streaks (90 deg); labels of 0 deg are invisible to eq. 5."""
    bad = _mislabel(data_root, 0)
    cfg = tiny(data_root, tmp_path / "run", **{"data.synthetic.root": str(bad)})
    with pytest.raises(DataError) as err:
        train(cfg, echo=quiet)
    msg = str(err.value)
    assert "direction labels disagree" in msg and "label + 90" in msg and "\n" not in msg
    assert not (tmp_path / "run" / "checkpoints").exists()
    train(cfg.replace(**{"loss.check_labels": False, "run.max_steps": 1}), echo=quiet)
    train(cfg.replace(**{"loss.direction": 0.0, "run.max_steps": 1,
                         "run.out": str(tmp_path / "l0")}), echo=quiet)


def test_label_check_names_a_mirrored_convention(tmp_path):
    from models.train.labels import check_labels
    from raindata.layouts import find_samples
    from raindata.loading import PairedDataset
    from raindata.rain import LayerParams, compose, render_rain, to_uint8

    rng = np.random.default_rng(0)
    lines = []
    tmp_path = tmp_path / "labelled"  # a neutral name: a folder named *test* is a test split
    for i in range(1, 13):
        clean = rng.integers(40, 160, (64, 64, 3), dtype=np.uint8)
        layer = LayerParams(density=0.01, length=20.0, width=0.6, intensity=120.0, angle=60.0)
        streak = to_uint8(render_rain((64, 64), [layer], rng))
        write_png(tmp_path / "rainy" / f"{i}.png", compose(clean, streak))
        write_png(tmp_path / "latent" / f"{i}.png", clean)
        write_png(tmp_path / "streak" / f"{i}.png", streak)
        lines.append(f"{i} 120")  # 180 - 60: the mirrored convention
    (tmp_path / "direction").mkdir()
    (tmp_path / "direction" / "direction.txt").write_text("\n".join(lines) + "\n")
    samples = find_samples("raindirection", tmp_path, "train")
    result = check_labels(PairedDataset(samples, 48, seed=0))
    assert not result.ok and result.samples >= 8
    assert min(result.median_diff, key=result.median_diff.get) == "180 - label"
    assert "mirrored" in result.describe()


def test_gradient_mode_ignores_the_label(data_root, tmp_path):
    from models.train import ddp
    from models.train.trainer import Trainer

    cfg = tiny(data_root, tmp_path / "g", **{"loss.kernel_size": 3,
                                             "loss.kernel_mode": "gradient"})
    trainer = Trainer(cfg, torch.device("cpu"), ddp.env_info())
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 16, 16, generator=g)
    syn = {"rainy": x, "clean": x * 0.5, "rain": x * 0.5}
    real = {"rainy": torch.rand(2, 3, 16, 16, generator=g)}
    terms = [trainer.losses({**syn, "angle": torch.tensor(a)}, real)[0]["direction"]
             for a in ([37.0, 123.0], [0.0, 0.0], [float("nan")] * 2)]
    assert torch.equal(terms[0], terms[1]) and torch.equal(terms[1], terms[2])
    oriented = Trainer(cfg.replace(**{"loss.kernel_mode": "oriented"}), torch.device("cpu"),
                       ddp.env_info())
    t37 = oriented.losses({**syn, "angle": torch.tensor([37.0, 123.0])}, real)[0]["direction"]
    assert not torch.equal(t37, terms[1])


def test_dataset_id_ranges(data_root, tmp_path):
    from models.train.config import DatasetRef
    from models.train.data import find_samples

    ref = DatasetRef("raindirection", str(data_root / "train"), "train", ids="3-5")
    assert [s.id for s in find_samples(ref, "synthetic")] == ["3", "4", "5"]
    with pytest.raises(DataError, match="with ids 20-30"):
        find_samples(DatasetRef("raindirection", str(data_root / "train"), "train",
                                ids="20-30"), "synthetic")
    with pytest.raises(ValueError, match="LOW-HIGH"):
        DatasetRef("x", "y", ids="5-1")


def test_cpu_config_loads_and_says_what_differs_from_the_paper():
    cfg = load_config(ROOT / "configs" / "cpu.toml")
    assert cfg.val.enabled and cfg.val.ids == "181-200" and cfg.data.real.ids == "101-180"
    assert cfg.loss == load_config(ROOT / "configs" / "paper.toml").loss.__class__()
    header = (ROOT / "configs" / "cpu.toml").read_text().split("[model]")[0]
    for fact in ("6 residual blocks", "20 / 20 / 40", "64 x 64 patches", "720 steps",
                 "augmentation", "--ids 1:90", "--ids 91:100", "101-180", "181-200"):
        assert fact in header, fact
    from models.archs.udrdr import build_f3

    assert f"{sum(p.numel() for p in build_f3(cfg.model).parameters()):,}" in header


def test_synth_ids_selects_clean_images_by_number(tmp_path):
    from raindata.cli import main as raindata

    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 10):
        write_png(tmp_path / "clean" / f"norain-{n}.png",
                  rng.integers(0, 255, (20, 20, 3), dtype=np.uint8))
    res = CliRunner().invoke(raindata, ["synth", "--clean", str(tmp_path / "clean"),
                                        "--ids", "2:3", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    import json

    cfg = json.loads((tmp_path / "out" / "synth.json").read_text())["config"]
    assert cfg["clean_files"] == ["norain-2.png", "norain-3.png"]
    res = CliRunner().invoke(raindata, ["synth", "--clean", str(tmp_path / "clean"),
                                        "--ids", "4:9", "--out", str(tmp_path / "o2")])
    assert res.exit_code != 0 and "numbered 4..9" in res.output
