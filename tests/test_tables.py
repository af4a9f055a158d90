"""Leaderboard rules: which cell is bold, partial means, runs that must not share a row."""

from __future__ import annotations

from pathlib import Path

from benchmark import store
from benchmark.tables import render


def _run(results: Path, method: str, dataset: str, scores: list[dict], metrics, *,
         weights: str | None = None, expected: int | None = None) -> None:
    settings = store.RunSettings(dataset=dataset, data_root=f"/data/{dataset}", split="test",
                                 method=method, protocol="y-matlab", quantize="round",
                                 metrics=tuple(metrics), weights_sha256=weights)
    folder = store.run_dir(results, settings)
    rows = [{"index": i, "id": str(i), "file": f"{i}.png", **s} for i, s in enumerate(scores)]
    store.write_scores(folder / "scores.csv", rows)
    n = len(rows) if expected is None else expected
    record = store.RunRecord(settings=settings, expected=n, scored=len(rows),
                             status="complete" if len(rows) == n else "incomplete",
                             extra={"official_quantize": "round"})
    store.save_record(folder, record)


def test_bold_follows_each_metrics_direction(tmp_path):
    _run(tmp_path, "a", "real3000", [{"niqe": 3.0}, {"niqe": 5.0}], ["niqe"])
    _run(tmp_path, "b", "real3000", [{"niqe": 6.0}, {"niqe": 6.0}], ["niqe"])
    _run(tmp_path, "a", "rain100l", [{"psnr": 30.0, "ssim": 0.9, "lpips": 0.2}], ["psnr", "ssim",
                                                                                    "lpips"])
    _run(tmp_path, "b", "rain100l", [{"psnr": 31.0, "ssim": 0.8, "lpips": 0.1}], ["psnr", "ssim",
                                                                                    "lpips"])
    niqe = render(tmp_path, "table2", "markdown")
    assert "| a | **4.000** |" in niqe and "| b | 6.000 |" in niqe  # lower NIQE is better
    t1 = render(tmp_path, "table1", "markdown")
    assert "| a | 30.00 | **0.9000** | 0.200 |" in t1
    assert "| b | **31.00** | 0.8000 | **0.100** |" in t1  # lower LPIPS is better


def test_partial_mean_is_marked_and_never_bold(tmp_path):
    _run(tmp_path, "a", "rain100l", [{"psnr": 30.0}], ["psnr"])
    _run(tmp_path, "b", "rain100l", [{"psnr": 40.0}], ["psnr"], expected=100)
    md = render(tmp_path, "table1", "markdown")
    assert "| a | **30.00** |" in md and "| b | 40.00* |" in md and "* partial" in md
    assert "1 images" in md


def test_runs_that_differ_in_weights_get_their_own_rows(tmp_path):
    _run(tmp_path, "prenet", "rain100l", [{"psnr": 37.4}], ["psnr"], weights="cb9b74" + "0" * 58)
    _run(tmp_path, "prenet", "rain100l", [{"psnr": 30.1}], ["psnr"], weights="127c00" + "0" * 58)
    md = render(tmp_path, "table1", "markdown")
    assert "| prenet [w:cb9b7400] | **37.40** |" in md
    assert "| prenet [w:127c0000] | 30.10 |" in md
