"""Shared plumbing: light imports, atomic writes, image reading, provenance, CLI entry points."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from raindata.atomic import atomic_open, atomic_write_text, sha256_file
from raindata.errors import DataError
from raindata.imageio import read_image, write_png
from raindata.provenance import record


@pytest.mark.parametrize("module", ["raindata", "raindata.cli", "models", "benchmark"])
def test_import_stays_light(module):
    """Importing a package or the raindata CLI pulls in neither torch nor OpenCV."""
    code = (
        f"import sys, {module}; "
        "bad = [m for m in ('torch', 'cv2', 'pandas', 'h5py', 'scipy') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_atomic_open_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as fh:
        fh.write("half")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_read_image_conventions(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    write_png(tmp_path / "rgb.png", rgb)
    assert np.array_equal(read_image(tmp_path / "rgb.png"), rgb)

    grey = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    assert np.array_equal(read_image(tmp_path / "grey.png"), np.repeat(grey[:, :, None], 3, 2))

    deep = rng.integers(0, 65536, (4, 4, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    expected = np.round(deep[:, :, ::-1] / 257.0).astype(np.uint8)
    assert np.array_equal(read_image(tmp_path / "deep.png"), expected)

    bgra = np.dstack([rgb[:, :, ::-1], np.full((5, 7), 9, np.uint8)])
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    assert np.array_equal(read_image(tmp_path / "alpha.png"), rgb)


def test_read_image_errors_name_the_file(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"broken\.png"):
        read_image(bad)
    with pytest.raises(DataError, match=r"missing\.png: no such file"):
        read_image(tmp_path / "missing.png")


def test_provenance_record_is_json(tmp_path):
    rec = record({"seed": 1}, ["raindata", "synth", "--seed", "1"])
    assert rec["command"] == "raindata synth --seed 1"
    assert rec["config"] == {"seed": 1}
    assert "numpy" in rec["packages"]
    json.dumps(rec)
    (tmp_path / "x").write_bytes(b"abc")
    assert sha256_file(tmp_path / "x") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_cli_help_lists_every_subcommand():
    from raindata.cli import COMMANDS, main

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for name in COMMANDS:
        assert name in result.output
        sub = CliRunner().invoke(main, [name, "--help"])
        assert sub.exit_code == 0, (name, sub.output)


def test_cli_unknown_command_suggests():
    from raindata.cli import main

    result = CliRunner().invoke(main, ["synht"])
    assert result.exit_code == 2
    assert "synth" in result.output


def test_atomic_files_get_the_usual_mode(tmp_path):
    import os

    atomic_write_text(tmp_path / "f.txt", "x")
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o666 & ~mask
