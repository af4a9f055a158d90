"""A poisoned torch file on each UDRDR path (issue 11, item 7) is refused without running:
`udrdr derain --weights`, `benchmark run --weights udrdr=`, and the newest checkpoint
under `udrdr train --resume` print what the PReNet path prints - refused, not a plain
tensor checkpoint, and the offending global."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from raindata.imageio import write_png


class _Payload:
    """Runs a shell command when unpickled (if it ever is)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _evil(path: Path, marker: Path, wrap=lambda p: {"state_dict": p}) -> Path:
    torch.save(wrap(_Payload(marker)), path)
    return path


def _refused(output: str, evil: Path) -> None:
    errors = [ln for ln in output.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in output, output
    line = errors[0]
    assert line.startswith(f"error: {evil}: refused, not a plain tensor"), line
    assert "posix.system" in line or "os.system" in line, line
    assert "weights_only=False" not in line  # not torch's advice to load it anyway


def test_derain_refuses_a_poisoned_weights_file(tmp_path):
    from models.cli import main as udrdr

    marker = tmp_path / "ran"
    evil = _evil(tmp_path / "evil.pth", marker)
    write_png(tmp_path / "in" / "a.png", np.zeros((16, 16, 3), np.uint8))
    res = CliRunner().invoke(udrdr, ["derain", str(tmp_path / "in"), "--weights", str(evil),
                                     "--out", str(tmp_path / "out")])
    assert res.exit_code == 1
    _refused(res.output, evil)
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_benchmark_run_refuses_poisoned_udrdr_weights(tmp_path):
    from benchmark.cli import main

    marker = tmp_path / "ran"
    evil = _evil(tmp_path / "evil.pth", marker)
    root = tmp_path / "data"
    write_png(root / "rainy" / "1.png", np.zeros((16, 16, 3), np.uint8))
    write_png(root / "clean" / "1.png", np.zeros((16, 16, 3), np.uint8))
    res = CliRunner().invoke(main, ["run", "--method", "udrdr", "--dataset", "paired",
                                    "--data-root", str(root), "--results",
                                    str(tmp_path / "res"), "--metrics", "psnr",
                                    "--weights", f"udrdr={evil}"])
    assert res.exit_code == 1
    _refused(res.output, evil)
    assert not marker.exists()


@pytest.fixture(scope="module")
def train_data(tmp_path_factory) -> Path:
    from test_trainer import _make_data

    root = tmp_path_factory.mktemp("pickle_train_data")
    _make_data(root)
    return root


def test_train_resume_refuses_a_poisoned_newest_checkpoint(train_data, tmp_path):
    from test_trainer import tiny

    from models.cli import main as udrdr
    from models.train.config import dump_toml

    out = tmp_path / "run"
    cfg = tmp_path / "c.toml"
    cfg.write_text(dump_toml(tiny(train_data, out)), encoding="utf-8")
    args = ["train", "--config", str(cfg), "--set", "run.max_steps=1"]
    assert CliRunner().invoke(udrdr, args).exit_code == 0
    marker = tmp_path / "ran"
    evil = _evil(out / "checkpoints" / "step-00000002.pt", marker, wrap=lambda p: {
        "format": "udrdr-train", "version": 1, "step": 2, "models": p})
    res = CliRunner().invoke(udrdr, ["train", "--config", str(cfg), "--set",
                                     "run.max_steps=3", "--resume"])
    assert res.exit_code == 1
    _refused(res.output, evil)
    assert not marker.exists()
