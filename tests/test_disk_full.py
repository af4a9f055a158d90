"""A full disk (issue 11, item 5) is one line naming the file being written and the free
space on its filesystem, with nothing half-written left; a resume then continues.

The disk is not filled: ``open`` in the writing modules is replaced by one whose files
fail with ENOSPC (after writing what fits, as a real full disk does) once their byte
budget is spent, for the files chosen by name.
"""

from __future__ import annotations

import builtins
import errno
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import raindata.atomic
from raindata.imageio import write_png


class _FullFile:
    """A file object whose writes fail with ENOSPC once ``budget`` bytes are written."""

    def __init__(self, fh, budget: int) -> None:
        self._fh, self._left = fh, budget

    def write(self, data):
        if len(data) > self._left:
            self._fh.write(data[: self._left])
            self._left = 0
            self._fh.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._left -= len(data)
        return self._fh.write(data)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()


def full_disk(monkeypatch, module, name_part: str, budget: int = 0) -> None:
    """Writes through ``module``'s ``open`` to files whose name holds ``name_part`` fail."""
    real = builtins.open

    def fake(file, mode="r", *args, **kwargs):
        fh = real(file, mode, *args, **kwargs)
        if any(c in mode for c in "wa") and name_part in Path(file).name:
            return _FullFile(fh, budget)
        return fh

    monkeypatch.setattr(module, "open", fake, raising=False)


def _one_error(output: str) -> str:
    errors = [ln for ln in output.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in output, output
    return errors[0]


def _our_temps(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if ".tmp" in p.name]


def test_synth_full_disk_is_one_line_and_resume_finishes(tmp_path, monkeypatch):
    from raindata.cli import main

    clean = tmp_path / "clean"
    rng = np.random.default_rng(0)
    for i in (1, 2):
        write_png(clean / f"img{i}.png", rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    out = tmp_path / "out"
    args = ["synth", "--clean", str(clean), "--out", str(out), "--count", "4"]
    full_disk(monkeypatch, raindata.atomic, "3.png", budget=100)
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1
    line = _one_error(res.output)
    assert line.startswith(f"error: {out / 'rainy' / '3.png'}: no space left on device")
    assert " free on " in line and "--resume" in line
    assert not _our_temps(out) and not (out / "rainy" / "3.png").exists()
    monkeypatch.undo()
    res = CliRunner().invoke(main, [*args, "--resume"])
    assert res.exit_code == 0, res.output
    assert "2 generated, 2 reused" in res.output


def test_synth_journal_full_is_one_line(tmp_path, monkeypatch):
    import raindata.synth
    from raindata.cli import main

    write_png(tmp_path / "clean" / "a.png", np.zeros((20, 20, 3), np.uint8))
    out = tmp_path / "out"
    full_disk(monkeypatch, raindata.synth, "journal", budget=0)
    res = CliRunner().invoke(main, ["synth", "--clean", str(tmp_path / "clean"),
                                    "--out", str(out)])
    assert res.exit_code == 1
    assert _one_error(res.output).startswith(
        f"error: {out / '.synth-journal.jsonl'}: no space left on device")


def test_benchmark_full_disk_names_the_scores_file(tmp_path, monkeypatch):
    from benchmark.cli import main

    root = tmp_path / "data"
    for i in (1, 2):
        write_png(root / "rainy" / f"{i}.png", np.full((32, 32, 3), 20 * i, np.uint8))
        write_png(root / "clean" / f"{i}.png", np.full((32, 32, 3), 21 * i, np.uint8))
    res_dir = tmp_path / "res"
    full_disk(monkeypatch, raindata.atomic, "scores.csv", budget=10)
    args = ["run", "--method", "input", "--dataset", "paired", "--data-root", str(root),
            "--results", str(res_dir), "--metrics", "psnr"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1
    line = _one_error(res.output)
    assert "scores.csv: no space left on device" in line and " free on " in line
    assert not _our_temps(res_dir)
    monkeypatch.undo()
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0 and "2/2 images, status complete" in res.output


def test_derain_full_disk_names_the_png(tmp_path, monkeypatch):
    from models.cli import main as udrdr

    write_png(tmp_path / "in" / "a.png", np.zeros((16, 16, 3), np.uint8))
    out = tmp_path / "out"
    full_disk(monkeypatch, raindata.atomic, "a.png", budget=0)
    res = CliRunner().invoke(udrdr, ["derain", str(tmp_path / "in"), "--out", str(out)])
    assert res.exit_code == 1
    assert _one_error(res.output).startswith(
        f"error: {out / 'a.png'}: no space left on device")
    assert not out.exists() or not _our_temps(out)


@pytest.fixture(scope="module")
def train_data(tmp_path_factory) -> Path:
    from test_trainer import _make_data

    root = tmp_path_factory.mktemp("full_train_data")
    _make_data(root)
    return root


def _train_cli(data: Path, out: Path, cfg_path: Path, *extra: str):
    from test_trainer import tiny

    from models.cli import main as udrdr
    from models.train.config import dump_toml

    cfg_path.write_text(dump_toml(tiny(data, out)), encoding="utf-8")
    return CliRunner().invoke(udrdr, ["train", "--config", str(cfg_path),
                                      "--set", "run.max_steps=2", *extra])


def test_train_checkpoint_full_disk_is_one_line(train_data, tmp_path, monkeypatch):
    """torch's zip writer turns ENOSPC into "RuntimeError ... unexpected pos": still one
    line naming the checkpoint, no partial checkpoint, and --resume then finishes."""
    out = tmp_path / "run"
    full_disk(monkeypatch, raindata.atomic, "step-", budget=100)
    res = _train_cli(train_data, out, tmp_path / "c.toml")
    assert res.exit_code == 1
    line = _one_error(res.output)
    assert line.startswith(f"error: {out / 'checkpoints' / 'step-00000002.pt'}: no space left")
    assert "unexpected pos" not in line and " free on " in line
    assert not list((out / "checkpoints").iterdir()) and not _our_temps(out)
    monkeypatch.undo()
    res = _train_cli(train_data, out, tmp_path / "c.toml", "--resume")
    assert res.exit_code == 0, res.output
    assert (out / "checkpoints" / "step-00000002.pt").is_file()


def test_train_log_full_disk_cuts_the_partial_row(train_data, tmp_path, monkeypatch):
    import models.train.log
    from models.train.log import read_log

    out = tmp_path / "run"
    full_disk(monkeypatch, models.train.log, "train_log.csv", budget=5)
    res = _train_cli(train_data, out, tmp_path / "c.toml")
    assert res.exit_code == 1
    assert _one_error(res.output).startswith(
        f"error: {out / 'train_log.csv'}: no space left on device")
    assert read_log(out / "train_log.csv") == []  # the header only, no half row
