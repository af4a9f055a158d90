"""bench/udrdr_study_rainmaps.py: F1's rain map scored against the true one (tiny run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from test_trainer import _make_data, quiet, tiny
from test_udrdr_validation import write_paired

from benchmark.metrics.psnr import psnr
from benchmark.metrics.rainmap import rain_map
from benchmark.metrics.ssim import ssim
from models.inference import quantize
from models.registry import create_model
from models.train import checkpoint as ckpt
from models.train.trainer import train
from raindata.imageio import read_image


@pytest.fixture
def rainmaps(bench_script):
    return bench_script("udrdr_study_rainmaps")


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("study_data")
    _make_data(root)
    out = root / "run"
    train(tiny(root, out, **{"run.max_steps": 2}), echo=quiet)
    return ckpt.latest_checkpoint(out)


def test_f1_rain_map_scores_equal_a_direct_computation(rainmaps, weights, tmp_path):
    data = tmp_path / "set"
    write_paired(data / "test", 2, seed=5, shape=(20, 24), period=4)
    out = tmp_path / "scores" / "paired.csv"
    assert rainmaps.score_set(weights, "paired", str(data), "test", out) == out
    psnr_mean, ssim_mean, n = rainmaps.read_means(out)
    assert n == 2
    teacher = create_model("udrdr-teacher", weights=str(weights))
    expected = []
    for i in (1, 2):
        rainy, clean = (read_image(data / "test" / d / f"{i}.png") for d in ("rainy", "clean"))
        with torch.inference_mode():
            x = torch.from_numpy(rainy).permute(2, 0, 1)[None].float() / 255
            z = teacher.network.f1(x)[0].permute(1, 2, 0).numpy()
        est, ref = quantize(z, "round"), rain_map(rainy, clean)
        expected.append((psnr(est, ref, "y-matlab"), ssim(est, ref, "y-matlab")))
    assert psnr_mean == pytest.approx(np.mean([e[0] for e in expected]), abs=1e-5)
    assert ssim_mean == pytest.approx(np.mean([e[1] for e in expected]), abs=1e-5)
    stamp = out.stat().st_mtime_ns
    rainmaps.score_set(weights, "paired", str(data), "test", out)  # done: not scored again
    assert out.stat().st_mtime_ns == stamp
    assert rainmaps.read_means(tmp_path / "missing.csv") is None


def test_report_rows_of_rain_maps_mean_the_seeds_and_skip_missing_sets(bench_script, tmp_path):
    report = bench_script("udrdr_study_report")

    for run, value in (("full-s0", 27.0), ("full-s1", 28.0)):
        folder = tmp_path / run / "f1map"
        folder.mkdir(parents=True)
        (folder / "rain100l.csv").write_text(f"image,psnr,ssim\n1,{value},0.5\n2,{value},0.7\n")
    table = report.collect_f1(tmp_path)
    assert table[("full-s0", "f1map", "rain100l")] == {"psnr": 27.0, "ssim": 0.6, "n": 2,
                                                      "expected": 2}
    row = report._map_row(table, "full", ["full-s0", "full-s1"])
    assert row == "| full | 27.50 +- 0.50 | 0.6000 +- 0.0000 | - | - | - | - |"
