"""An interrupted `udrdr derain` continues (issue 11, item 11): complete outputs (a PNG
that decodes, with its input's size) are kept and reported, broken ones are redone, and
--force redoes all."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from models.cli import main as udrdr
from raindata.imageio import write_png


def _inputs(folder, n=4):
    rng = np.random.default_rng(5)
    for i in range(1, n + 1):
        write_png(folder / f"img{i}.png", rng.integers(0, 256, (20 + i, 24, 3), dtype=np.uint8))


def test_rerun_keeps_complete_outputs_and_redoes_broken_ones(tmp_path):
    src = tmp_path / "in"
    _inputs(src)
    out = tmp_path / "out"
    args = ["derain", str(src), "--out", str(out)]
    first = CliRunner().invoke(udrdr, args)
    assert first.exit_code == 0, first.output
    reference = {p.name: p.read_bytes() for p in out.glob("*.png")}

    # as if interrupted: img3 never written, img2 truncated, img4 another image's size
    (out / "img3.png").unlink()
    (out / "img2.png").write_bytes(reference["img2.png"][:40])
    write_png(out / "img4.png", np.zeros((5, 5, 3), np.uint8))
    kept_mtime = (out / "img1.png").stat().st_mtime_ns

    again = CliRunner().invoke(udrdr, args)
    assert again.exit_code == 0, again.output
    assert "kept 1 complete existing output(s)" in again.stderr
    assert "redoing 2 incomplete or unreadable existing output(s): img2.png, img4.png" \
        in again.stderr
    assert "derained 3 image(s)" in again.stdout and "kept 1" in again.stdout
    assert (out / "img1.png").stat().st_mtime_ns == kept_mtime
    assert {p.name: p.read_bytes() for p in out.glob("*.png")} == reference
    rec = json.loads((out / "udrdr-derain.json").read_text())
    assert [o["output"] for o in rec["outputs"]] == ["img1.png", "img2.png", "img3.png",
                                                   "img4.png"]
    assert [o.get("kept", False) for o in rec["outputs"]] == [True, False, False, False]

    forced = CliRunner().invoke(udrdr, [*args, "--force"])
    assert forced.exit_code == 0 and "derained 4 image(s)" in forced.stdout
    assert "kept" not in forced.stderr
    assert {p.name: p.read_bytes() for p in out.glob("*.png")} == reference


def test_rerun_of_a_finished_run_does_no_work(tmp_path):
    src = tmp_path / "in"
    _inputs(src, 2)
    out = tmp_path / "out"
    assert CliRunner().invoke(udrdr, ["derain", str(src), "--out", str(out)]).exit_code == 0
    again = CliRunner().invoke(udrdr, ["derain", str(src), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "kept 2 complete existing output(s)" in again.stderr
    assert "derained 0 image(s)" in again.stdout
