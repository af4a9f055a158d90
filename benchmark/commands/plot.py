"""``benchmark plot``: per-image score distributions and training curves as figures."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("plot")
def plot() -> None:
    """Figures of numbers: per-image score distributions, training curves (matplotlib)."""


@plot.command("distributions")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True)
@click.option("--dataset", required=True, help="Dataset whose runs to plot.")
@click.option("--metric", default="psnr", show_default=True,
              type=click.Choice(["psnr", "ssim", "rainmap_psnr", "rainmap_ssim", "lpips",
                                 "niqe"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Figure file (.png, .pdf or .svg).")
def distributions(results: Path, dataset: str, metric: str, out: Path) -> None:
    """Box plots of each method's per-image METRIC on DATASET (every run under RESULTS)."""
    from benchmark.plots import distributions_of_runs

    click.echo(f"wrote {distributions_of_runs(results, dataset, metric, out)}")


@plot.command("training")
@click.argument("run", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Figure file (.png, .pdf or .svg).")
def training(run: Path, out: Path) -> None:
    """Loss terms, learning rates and validation PSNR of a `udrdr train` output folder RUN."""
    from benchmark.plots import training_curves

    click.echo(f"wrote {training_curves(run, out)}")
