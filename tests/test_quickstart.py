"""The steps behind the README's quick start (`make demo`), run through the same functions."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.cli import main as benchmark_main
from raindata.cli import main as raindata_main

PROJECT = Path(__file__).resolve().parents[1]
MAKEFILE = PROJECT / "Makefile"


def _demo_recipe() -> list[str]:
    """The commands of the Makefile's demo target, as lines."""
    lines, inside = [], False
    for line in MAKEFILE.read_text().splitlines():
        if line.startswith("demo:"):
            inside = True
            continue
        if inside and line and not line.startswith(("\t", "ifneq", "endif")):
            break
        if inside and line.startswith("\t"):
            lines.append(line.strip())
    return lines


def test_makefile_demo_is_what_this_test_runs():
    recipe = " ".join(_demo_recipe())
    for step in ("raindata synth --demo", "raindata verify demo",
                 "benchmark run --method input,udrdr --weights udrdr=$(DEMO_WEIGHTS) "
                 "--dataset demo", "--save-images", "benchmark table", "benchmark figure",
                 "benchmark report", "report: $(DEMO_RESULTS)-report/index.html"):
        assert step in recipe, step


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo"
    result = CliRunner().invoke(raindata_main, ["synth", "--demo", "--out", str(out),
                                                "--resume"])
    assert result.exit_code == 0, result.output
    return out


def test_demo_matches_shipped_manifest(demo_data):
    """The demo set is byte-identical to the one whose sha256 ``manifests/demo.csv`` lists."""
    result = CliRunner().invoke(raindata_main, ["verify", "demo", str(demo_data), "--manifest",
                                                str(PROJECT / "manifests" / "demo.csv")])
    assert result.exit_code == 0, result.output
    # every file the shipped manifest lists (452) is hashed, plus the split manifests' own
    assert "902 sha256 checked" in result.output


def test_demo_leaderboard_has_udrdr_ahead_of_input(demo_data, tmp_path):
    from models.methods.udrdr import demo_weights_path

    if not demo_weights_path().exists():
        pytest.fail(f"bundled demo weights missing: {demo_weights_path()}")
    runner = CliRunner()
    res = tmp_path / "results"
    result = runner.invoke(benchmark_main, [
        "run", "--method", "input,udrdr", "--weights", f"udrdr={demo_weights_path()}",
        "--dataset", "demo", "--data-root", str(demo_data), "--results", str(res),
        "--save-images"])
    assert result.exit_code == 0, result.output
    from benchmark.tables import long_table

    long = long_table(res)
    means = long.set_index(["method", "metric"])["mean"]
    assert means[("udrdr", "psnr")] > means[("input", "psnr")] + 3.0
    assert means[("udrdr", "ssim")] > means[("input", "ssim")]
    table = runner.invoke(benchmark_main, ["table", "--results", str(res)])
    assert table.exit_code == 0
    assert "**" in table.output and "| udrdr |" in table.output
    figure = runner.invoke(benchmark_main, [
        "figure", "--results", str(res), "--dataset", "demo", "--data-root", str(demo_data),
        "--images", "2,17", "--methods", "input,udrdr", "--out", str(tmp_path / "fig")])
    assert figure.exit_code == 0, figure.output
    assert (tmp_path / "fig.png").is_file() and (tmp_path / "fig.pdf").is_file()
    report = runner.invoke(benchmark_main, ["report", "--results", str(res), "--out",
                                            str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    assert (tmp_path / "report" / "index.html").is_file()
