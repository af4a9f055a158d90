"""The benchmark harness: resumable runs, settings isolation, bad input, results folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.runner import RunRequest, run_one
from raindata.errors import DataError
from raindata.imageio import read_image, write_png


def _ref_psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    """Independent Y-PSNR: MATLAB rgb2ycbcr Y on uint8, rounded, peak 255."""
    def y(img):
        f = img.astype(np.float64)
        return np.round(16 + (65.481 * f[..., 0] + 128.553 * f[..., 1] + 24.966 * f[..., 2]) / 255)
    mse = np.mean((y(a) - y(b)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


@pytest.fixture
def paired_root(tmp_path):
    """Six 40x48 pairs in the generic paired layout (rainy/ + clean/, matched by stem)."""
    rng = np.random.default_rng(3)
    root = tmp_path / "data"
    for i in range(1, 7):
        clean = rng.integers(30, 200, (40, 48, 3), dtype=np.uint8)
        streak = (rng.random((40, 48, 1)) < 0.1) * rng.integers(20, 60, (40, 48, 1))
        rainy = np.clip(clean.astype(int) + streak, 0, 255).astype(np.uint8)
        write_png(root / "rainy" / f"img{i}.png", rainy)
        write_png(root / "clean" / f"img{i}.png", clean)
    return root


def _req(root, results, **kw):
    base = dict(method="input", dataset="paired", data_root=str(root), results=results,
                metrics=("psnr", "ssim", "rainmap"))
    return RunRequest(**{**base, **kw})


def test_input_scores_match_reference(paired_root, tmp_path):
    out = run_one(_req(paired_root, tmp_path / "res"), log=lambda m: None)
    assert out.record.status == "complete" and out.record.scored == 6
    for row in out.rows:
        name = row["file"].split("/")[-1]
        rainy = read_image(paired_root / "rainy" / name)
        clean = read_image(paired_root / "clean" / name)
        assert row["psnr"] == pytest.approx(_ref_psnr_y(rainy, clean), abs=1e-9)
        assert 0 < row["ssim"] < 1
    record = json.loads((out.folder / "run.json").read_text())
    assert record["settings"]["protocol"] == "y-matlab"
    commit = record["provenance"]["git_commit"]
    assert commit is None or len(commit) >= 40
    assert "numpy" in record["provenance"]["packages"]


def test_rerun_does_no_work_and_other_settings_never_mix(paired_root, tmp_path):
    res = tmp_path / "res"
    first = run_one(_req(paired_root, res), log=lambda m: None)
    again = run_one(_req(paired_root, res), log=lambda m: None)
    assert again.newly_scored == 0 and again.folder == first.folder
    other = run_one(_req(paired_root, res, protocol="rgb"), log=lambda m: None)
    assert other.folder != first.folder and other.newly_scored == 6
    rows_first = (first.folder / "scores.csv").read_text()
    assert rows_first == (again.folder / "scores.csv").read_text()
    assert rows_first != (other.folder / "scores.csv").read_text()


def test_interrupted_run_resumes_to_the_same_csv(paired_root, tmp_path):
    straight = run_one(_req(paired_root, tmp_path / "a"), log=lambda m: None)

    def stop_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_one(_req(paired_root, tmp_path / "b"), progress=stop_after_three, log=lambda m: None)
    partial_folder = tmp_path / "b" / straight.folder.relative_to(tmp_path / "a")
    assert len((partial_folder / "scores.csv").read_text().splitlines()) == 1 + 3
    resumed = run_one(_req(paired_root, tmp_path / "b"), log=lambda m: None)
    assert resumed.newly_scored == 3
    assert (resumed.folder / "scores.csv").read_bytes() == (
        straight.folder / "scores.csv"
    ).read_bytes()


def test_limit_then_full_run_continues(paired_root, tmp_path):
    first = run_one(_req(paired_root, tmp_path / "r", limit=2), log=lambda m: None)
    assert first.record.status == "incomplete" and first.record.scored == 2
    full = run_one(_req(paired_root, tmp_path / "r"), log=lambda m: None)
    assert full.newly_scored == 4 and full.record.status == "complete"


def test_results_folder_missing_and_mismatched_files(paired_root, tmp_path):
    outdir = tmp_path / "derained"
    for i in range(1, 6):  # img6 missing
        write_png(outdir / f"img{i}.png", read_image(paired_root / "clean" / f"img{i}.png"))
    write_png(outdir / "stray.png", np.zeros((40, 48, 3), np.uint8))
    spec = f"results:{outdir}"
    with pytest.raises(DataError, match=r"1 result\(s\) missing, e\.g\. img6\.png"):
        run_one(_req(paired_root, tmp_path / "r", method=spec), log=lambda m: None)
    out = run_one(_req(paired_root, tmp_path / "r", method=spec, skip_bad=True),
                  log=lambda m: None)
    assert out.record.status == "partial" and out.record.scored == 5
    assert [s["id"] for s in out.record.skipped] == ["img6"]
    assert any("stray.png" in n for n in out.notes)
    assert all(r["psnr"] == float("inf") for r in out.rows)  # identical to ground truth

    write_png(outdir / "img6.png", read_image(paired_root / "clean" / "img6.png"))
    fixed = run_one(_req(paired_root, tmp_path / "r", method=spec), log=lambda m: None)
    assert fixed.newly_scored == 1 and fixed.record.status == "complete"  # skipped: retried

    write_png(outdir / "img6.png", np.zeros((41, 48, 3), np.uint8))
    with pytest.raises(DataError, match=r"img6\.png is 48x41, its ground truth is 48x40"):
        run_one(_req(paired_root, tmp_path / "r2", method=spec), log=lambda m: None)


def test_no_reference_dataset_refuses_reference_metrics(tmp_path):
    write_png(tmp_path / "real" / "a.png", np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(DataError, match="psnr needs ground truth"):
        run_one(RunRequest(method="input", dataset="unpaired", data_root=str(tmp_path / "real"),
                           metrics=("psnr",), results=tmp_path / "r"), log=lambda m: None)


def test_pairing_belongs_to_the_split_sirr_val_is_scored_with_ground_truth(tmp_path):
    """SIRR-Data: the real images (test) have no reference, the val pairs
    (input_val/inputN.png + label_val/norainN.png) do."""
    rng = np.random.default_rng(5)
    root = tmp_path / "rainy_image_dataset"
    for n in (1, 2, 3):
        clean = rng.integers(30, 200, (40, 48, 3), dtype=np.uint8)
        rainy = clean.copy()
        rainy[:, n::6] = 240
        write_png(root / "input_val" / f"input{n}.png", rainy)
        write_png(root / "label_val" / f"norain{n}.png", clean)
        write_png(root / "real_input" / f"{n}.jpg",
                  rng.integers(0, 255, (100, 100, 3), dtype=np.uint8))
    out = run_one(RunRequest(method="input", dataset="sirr", data_root=str(root), split="val",
                             results=tmp_path / "r"), log=lambda m: None)
    assert out.record.settings.metrics == ("psnr", "ssim", "rainmap")
    rainy = read_image(root / "input_val" / "input1.png")
    clean = read_image(root / "label_val" / "norain1.png")
    row = next(r for r in out.rows if r["id"] == "1")
    assert row["psnr"] == pytest.approx(_ref_psnr_y(rainy, clean), abs=1e-9)
    real = run_one(RunRequest(method="input", dataset="sirr", data_root=str(root),
                              results=tmp_path / "r"), log=lambda m: None)
    assert real.record.settings.metrics == ("niqe",)


def test_cli_run_and_table(paired_root, tmp_path):
    runner = CliRunner()
    res = tmp_path / "res"
    result = runner.invoke(main, ["run", "--method", "input", "--dataset", "paired",
                                  "--data-root", str(paired_root), "--results", str(res),
                                  "--metrics", "psnr,ssim,rainmap,lpips",
                                  "--lpips-weights", str(tmp_path / "none.pth")])
    assert result.exit_code == 0, result.output
    assert "6/6 images, status complete" in result.output
    assert "lpips unavailable" in result.output
    table = runner.invoke(main, ["table", "--results", str(res), "--format", "markdown"])
    assert table.exit_code == 0, table.output
    assert "| input |" in table.output and "n/a" in table.output
    latex = runner.invoke(main, ["table", "--results", str(res), "--format", "latex"])
    assert latex.exit_code == 0 and r"\begin{tabular}" in latex.output
    long = runner.invoke(main, ["table", "--results", str(res), "--layout", "long",
                                "--format", "csv"])
    assert long.exit_code == 0 and "method,base_method,dataset,metric" in long.output


def test_cli_errors_are_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["run", "--method", "input", "--dataset", "paired",
                                  "--data-root", str(tmp_path / "nowhere")])
    assert result.exit_code != 0
    result = runner.invoke(main, ["run", "--method", "inptu", "--dataset", "paired",
                                  "--data-root", str(tmp_path)])
    assert result.exit_code == 1 and "did you mean 'input'" in result.output
    result = runner.invoke(main, ["table", "--results", str(tmp_path / "none")])
    assert result.exit_code == 1 and result.output.startswith("error:")


@pytest.mark.parametrize("cmd", [[], ["run"], ["table"], ["time"]])
def test_help(cmd):
    result = CliRunner().invoke(main, [*cmd, "--help"])
    assert result.exit_code == 0, result.output


def test_inference_options_key_the_run_and_label_the_table(paired_root, tmp_path):
    res = tmp_path / "res"
    plain = run_one(_req(paired_root, res), log=lambda m: None)
    fast = run_one(_req(paired_root, res, channels_last=True), log=lambda m: None)
    assert fast.folder != plain.folder
    assert fast.record.settings.method_options == (("channels_last", "True"),)
    from benchmark.tables import long_table

    assert set(long_table(res)["method"]) == {"input", "input [channels-last]"}
    with pytest.raises(DataError, match="apply to networks only"):
        run_one(_req(paired_root, res, method=f"results:{paired_root / 'clean'}",
                     precision="bf16"), log=lambda m: None)


def test_tiles_key_the_run_and_whole_tiles_give_the_whole_image(paired_root, tmp_path):
    """UDRDR's demo F3 (4 blocks, reach 11 px) in 32x32 tiles with overlap 28 (margin 7):
    a run of its own, labelled, scores within rounding of the whole-image run."""
    res = tmp_path / "res"
    whole = run_one(_req(paired_root, res, method="udrdr"), log=lambda m: None)
    tiled = run_one(_req(paired_root, res, method="udrdr", tile=32, overlap=28),
                    log=lambda m: None)
    assert tiled.folder != whole.folder
    assert dict(tiled.record.settings.method_options) == {"tile": "32", "overlap": "28"}
    from benchmark.tables import long_table

    assert set(long_table(res)["method"]) == {"udrdr", "udrdr [tile 32]"}
    for a, b in zip(whole.rows, tiled.rows, strict=True):
        assert abs(a["psnr"] - b["psnr"]) < 0.05


def test_unavailable_lpips_keeps_the_run_and_is_marked(paired_root, tmp_path):
    """Asking for LPIPS without its weights computes the same columns: same run, marked n/a."""
    res = tmp_path / "res"
    first = run_one(_req(paired_root, res), log=lambda m: None)
    notes = []
    again = run_one(_req(paired_root, res, metrics=("psnr", "ssim", "rainmap", "lpips"),
                         lpips_weights=str(tmp_path / "absent.pth")), log=notes.append)
    assert again.folder == first.folder and again.newly_scored == 0
    assert "lpips" in again.record.unavailable and any("lpips unavailable" in n for n in notes)
    from benchmark.tables import render

    md = render(res, "table1", "markdown")
    assert "LPIPS" in md and "n/a" in md


def test_a_bare_weights_path_goes_to_the_one_network_method(paired_root, tmp_path):
    """`benchmark run --method udrdr --weights F3.pt` (issue 11, item 8): with a single
    network method, a bare path is for it; with two, it must be named."""
    from models.methods.udrdr import demo_weights_path

    args = ["run", "--method", "input,udrdr", "--dataset", "paired", "--data-root",
            str(paired_root), "--metrics", "psnr", "--results", str(tmp_path / "r"),
            "--weights", str(demo_weights_path())]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    record = json.loads(next((tmp_path / "r").glob("paired/udrdr/*/run.json")).read_text())
    assert record["extra"]["method"]["weights_released_as"] == "udrdr_demo_f3.pt"
    args[2] = "ddn,prenet"  # two methods that need weights: the path must be named
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and "say which method it is for" in res.output


def test_save_images_on_a_rerun_fills_in_the_missing_images(paired_root, tmp_path):
    res = tmp_path / "res"
    first = run_one(_req(paired_root, res), log=lambda m: None)
    csv_before = (first.folder / "scores.csv").read_bytes()
    again = run_one(_req(paired_root, res, save_images=True), log=lambda m: None)
    assert again.folder == first.folder and again.newly_scored == 6
    assert sorted(p.name for p in (again.folder / "images").iterdir()) == [
        f"img{i}.png" for i in range(1, 7)]
    assert (again.folder / "scores.csv").read_bytes() == csv_before
    assert run_one(_req(paired_root, res, save_images=True), log=lambda m: None).newly_scored == 0
