"""benchmark.plots: distributions, training curves, sweeps; light imports; determinism."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.runner import RunRequest, run_one
from raindata.errors import DataError
from raindata.imageio import read_image, write_png


@pytest.fixture
def results(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    for i in range(1, 6):
        clean = rng.integers(30, 200, (24, 24, 3), dtype=np.uint8)
        rainy = clean.copy()
        rainy[:, i::4] = 250
        write_png(root / "rainy" / f"{i}.png", rainy)
        write_png(root / "clean" / f"{i}.png", clean)
    res = tmp_path / "res"
    for method in ("input", f"results:{root / 'clean'}"):
        run_one(RunRequest(method=method, dataset="paired", data_root=str(root), results=res,
                           metrics=("psnr", "ssim")), log=lambda m: None)
    return res


def test_scoring_path_does_not_import_matplotlib():
    code = ("import sys, benchmark.runner, benchmark.tables, benchmark.cli, benchmark.plots\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_distributions_figure_is_written_deterministically(results, tmp_path):
    out = tmp_path / "d.png"
    res = CliRunner().invoke(main, ["plot", "distributions", "--results", str(results),
                                    "--dataset", "paired", "--out", str(out)])
    assert res.exit_code == 0, res.output
    first = out.read_bytes()
    img = read_image(out)
    assert img.shape[0] > 100 and img.shape[1] > 100 and img.std() > 5
    CliRunner().invoke(main, ["plot", "distributions", "--results", str(results),
                              "--dataset", "paired", "--out", str(out)])
    assert out.read_bytes() == first
    pdf = tmp_path / "d.pdf"
    from benchmark.plots import distributions_of_runs

    distributions_of_runs(results, "paired", "ssim", pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and b"CreationDate" not in pdf.read_bytes()
    with pytest.raises(DataError, match="no psnr scores for dataset 'rain100l'"):
        distributions_of_runs(results, "rain100l", "psnr", tmp_path / "x.png")


def test_training_curves_and_sweep(tmp_path):
    from benchmark.plots import sweep, training_curves
    from models.train.log import StepLog
    from models.train.validate import VAL_COLUMNS, VAL_LOG

    run = tmp_path / "run"
    run.mkdir()
    log = StepLog(run / "train_log.csv")
    val = StepLog(run / VAL_LOG, VAL_COLUMNS)
    for step in range(1, 41):
        log.append({"step": step, "epoch": 0, "lr_teacher": 1e-3, "lr_student": 1e-3,
                    "content": 1 / step, "recons": 2 / step, "distill": 0.5, "teacher": 3.0,
                    "student": 0.5, "total": 3.5, "seconds": 0.1, "elapsed": step * 0.1})
        if step % 10 == 0:
            val.append({"step": step, "f3_psnr": 20 + step / 10, "teacher_psnr": 19.0,
                        "selected_psnr": 20 + step / 10, "best_step": step,
                        "best_psnr": 20 + step / 10})
    out = training_curves(run, tmp_path / "t.png")
    assert read_image(out).std() > 5
    with pytest.raises(DataError, match="not a udrdr train output folder"):
        training_curves(tmp_path, tmp_path / "t2.png")
    out = sweep({"a": {0.0: [1.0, 2.0], 1.2: [3.0]}}, tmp_path / "s.svg", xlabel="lambda",
                ylabel="PSNR")
    assert out.read_text().startswith("<?xml")
