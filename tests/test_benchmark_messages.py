"""What `benchmark` says (issue 11, items 9, 10, 14b, 14c): every per-image message names
the image; summaries and tables share one rule for partial means and say why a score is
NaN; sizes that cannot fit are one line; `table --out` keeps an existing file."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from raindata.imageio import write_png


def _errors(output: str) -> list[str]:
    assert "Traceback" not in output, output
    return [ln for ln in output.splitlines() if ln.startswith("error: ")]


@pytest.fixture
def tiny_pairs(tmp_path):
    """Two 8x8 pairs: too small for SSIM's 11x11 window."""
    root = tmp_path / "tiny"
    for i in (1, 2):
        write_png(root / "rainy" / f"t{i}.png", np.full((8, 8, 3), 10 * i, np.uint8))
        write_png(root / "clean" / f"t{i}.png", np.full((8, 8, 3), 11 * i, np.uint8))
    return root


def _run(root, results, *extra):
    return CliRunner().invoke(main, ["run", "--method", "input", "--dataset", "paired",
                                     "--data-root", str(root), "--results", str(results),
                                     *extra])


def test_metric_errors_name_the_image(tiny_pairs, tmp_path):
    res = _run(tiny_pairs, tmp_path / "r", "--metrics", "psnr,ssim")
    assert res.exit_code == 1
    (line,) = _errors(res.output)
    assert line.startswith(f"error: {tiny_pairs / 'rainy' / 't1.png'}: image too small for SSIM")
    res = _run(tiny_pairs, tmp_path / "r", "--metrics", "psnr,ssim", "--skip-bad")
    assert res.exit_code == 0, res.output
    skipped = [ln for ln in res.output.splitlines() if ln.startswith("skipped: ")]
    assert skipped == [
        f"skipped: {tiny_pairs / 'rainy' / f't{i}.png'}: image too small for SSIM: expected "
        "at least 11x11 pixels, got 8x8" for i in (1, 2)]


def test_niqe_too_small_names_the_image(tmp_path):
    root = tmp_path / "real"
    write_png(root / "small.png", np.full((40, 40, 3), 90, np.uint8))
    res = CliRunner().invoke(main, ["run", "--method", "input", "--dataset", "unpaired",
                                    "--data-root", str(root), "--results", str(tmp_path / "r")])
    assert res.exit_code == 1
    (line,) = _errors(res.output)
    assert line.startswith(f"error: {root / 'small.png'}: image too small for NIQE")


def test_a_run_whose_every_image_was_skipped_says_so(tiny_pairs, tmp_path):
    res = _run(tiny_pairs, tmp_path / "r", "--metrics", "ssim", "--skip-bad")
    assert res.exit_code == 0, res.output
    assert "nothing to do" not in res.output
    assert "scored 0 of 2 image(s); 0/2 images, status partial, 2 skipped" in res.output
    again = _run(tiny_pairs, tmp_path / "r", "--metrics", "ssim", "--skip-bad")
    assert "nothing to do" not in again.output  # skipped images are tried again


def test_nan_scores_partial_in_summary_and_table_alike(tmp_path):
    """A flat image has no NIQE (NaN, as in MATLAB): left out of the mean, and the summary
    marks that mean partial as `benchmark table` does, saying why."""
    root = tmp_path / "real"
    rng = np.random.default_rng(0)
    write_png(root / "textured.png", rng.integers(0, 256, (192, 192, 3), dtype=np.uint8))
    write_png(root / "flat.png", np.full((192, 192, 3), 90, np.uint8))
    results = tmp_path / "r"
    res = CliRunner().invoke(main, ["run", "--method", "input", "--dataset", "unpaired",
                                    "--data-root", str(root), "--results", str(results)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert any(ln.startswith(f"note: {root / 'flat.png'}: niqe is NaN, left out of the mean: "
                             "NIQE is undefined for this image") for ln in lines), res.output
    assert "status complete, 1 partial mean(s)" in res.output
    mean = next(ln for ln in lines if ln.startswith("  mean: "))
    assert mean.startswith("  mean: niqe ") and mean.endswith("*")
    assert "  * niqe: partial mean over 1/2 images; 1 NaN: NIQE is undefined" in res.output
    table = CliRunner().invoke(main, ["table", "--results", str(results), "--layout", "table2"])
    assert table.exit_code == 0
    value = mean.split()[-1]  # e.g. 21.1234*: the table prints 3 decimals and the same star
    assert f"{float(value[:-1]):.3f}*" in table.output and "NaN" in table.output


def test_time_refuses_a_size_that_cannot_fit(monkeypatch):
    res = CliRunner().invoke(main, ["time", "--method", "udrdr", "--size", "100000",
                                    "--n", "1"])
    assert res.exit_code == 1
    (line,) = _errors(res.output)
    assert line.startswith("error: --size 100000: ") and "smaller --size" in line

    import benchmark.timing as timing

    def no_memory(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: "
                           "can't allocate memory: you tried to allocate 1 bytes.\nmore")

    monkeypatch.setattr(timing, "time_network", no_memory)
    res = CliRunner().invoke(main, ["time", "--method", "udrdr", "--size", "64", "--n", "1",
                                    "--results", "/nonexistent/never-written"])
    assert res.exit_code == 1
    (line,) = _errors(res.output)
    assert line.startswith("error: --size 64: out of memory on cpu while timing udrdr")


def test_table_out_keeps_an_existing_file_unless_force(tiny_pairs, tmp_path):
    results = tmp_path / "r"
    assert _run(tiny_pairs, results, "--metrics", "psnr").exit_code == 0
    out = tmp_path / "t.md"
    out.write_text("mine\n")
    res = CliRunner().invoke(main, ["table", "--results", str(results), "--out", str(out)])
    assert res.exit_code == 1
    assert _errors(res.output) == [f"error: {out}: already exists (use --force to replace it)"]
    assert out.read_text() == "mine\n"
    res = CliRunner().invoke(main, ["table", "--results", str(results), "--out", str(out),
                                    "--force"])
    assert res.exit_code == 0 and "| input |" in out.read_text()


def test_time_passes_warmup_and_records_it(tmp_path, monkeypatch):
    """`benchmark time --warmup K` runs K untimed passes first; the row records K."""
    import json

    from benchmark import timing

    seen = {}

    def fake(network, size, n, device, warmup, *args, **kwargs):
        seen.update(n=n, warmup=warmup)
        return 0.5

    monkeypatch.setattr(timing, "time_network", fake)
    res = CliRunner().invoke(main, ["time", "--method", "ddn", "--size", "32", "--n", "2",
                                    "--warmup", "0", "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert seen == {"n": 2, "warmup": 0}
    row = json.loads((tmp_path / "_timing" / "ddn.json").read_text())
    assert (row["n"], row["warmup"], row["seconds_per_image"]) == (2, 0, 0.5)
    assert "--warmup" in CliRunner().invoke(main, ["time", "-h"]).output
