"""``benchmark figure``: paper-style comparison figures of saved outputs (PNG + PDF)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("figure")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True)
@click.option("--dataset", required=True, help="Dataset of the runs (see `raindata list`).")
@click.option("--images", required=True,
              help="Image ids (or rainy file stems), comma separated: one row each.")
@click.option("--methods", required=True,
              help="Methods by their `benchmark table` labels or names, comma separated; "
                   "`input` picks the run whose scores the rainy panel shows.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Writes OUT.png and OUT.pdf (and OUT.json: runs, layout, provenance).")
@click.option("--crop", "crops", multiple=True, metavar="X,Y,SIZE",
              help="Zoom box (top-left X,Y and SIZE in image pixels); give it twice for two.")
@click.option("--auto-crop", type=click.IntRange(0, 2), default=1, show_default=True,
              help="Without --crop: this many zoom boxes where the methods differ most.")
@click.option("--crop-size", type=click.IntRange(min=2),
              help="Side of automatic zoom boxes [default: a quarter of the shorter side].")
@click.option("--rain-maps", is_flag=True,
              help="Show rain maps clip(rainy - output, 0, 255) and their PSNR/SSIM.")
@click.option("--width", type=click.FloatRange(1.0, 20.0),
              help="Figure width in inches [default: 7.0, the full text width].")
@click.option("--column", is_flag=True, help="One column of a two-column paper (3.4 in).")
@click.option("--dpi", type=click.IntRange(50, 1200), default=300, show_default=True)
@click.option("--protocol", type=click.Choice(["y-matlab", "y-double", "rgb"]),
              help="Only runs scored under this protocol [default: any, if unambiguous].")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path),
              help="Dataset folder [default: the one the runs used].")
@click.option("--weights", multiple=True, metavar="METHOD=PATH",
              help="Weights for a method that has to be run first.")
@click.option("--no-run", is_flag=True,
              help="Use existing runs only; never run a missing method.")
def figure(results, dataset, images, methods, out, crops, auto_crop, crop_size, rain_maps,
           width, column, dpi, protocol, data_root, weights, no_run):
    """Compare methods on chosen images as in the paper's figures: one row per image;
    the rainy input, each method's output and the ground truth, each with its PSNR/SSIM
    from the run's scores.csv, and enlarged zoom boxes under every panel.

    Outputs come from runs with saved images (`benchmark run --save-images`); a method
    without one is run first (up to the last chosen image) unless --no-run.
    """
    from benchmark.figure_render import (
        COLUMN_WIDTH_IN,
        PAGE_WIDTH_IN,
        draw_comparison,
        figure_paths,
        save_drawing,
    )
    from benchmark.figure_runs import split_names
    from benchmark.figures import build_comparison, parse_crop
    from raindata.errors import DataError

    if column and width is not None:
        raise DataError("--width and --column: give one of them")
    width_in = COLUMN_WIDTH_IN if column else (width or PAGE_WIDTH_IN)
    weight_map = {}
    for w in weights:
        method, sep, path = w.partition("=")
        if not sep or not method or not path:
            raise DataError(f"--weights {w!r}: expected METHOD=PATH")
        weight_map[method] = path
    comp = build_comparison(
        results, dataset, [i.strip() for i in images.split(",") if i.strip()],
        split_names(methods), rain_maps=rain_maps, crops=[parse_crop(c) for c in crops],
        auto_crop=auto_crop, crop_size=crop_size, protocol=protocol, data_root=data_root,
        weights=weight_map,
        run_missing=not no_run, log=lambda m: click.echo(m, err=True))
    drawing = draw_comparison(comp, width_in, dpi)
    png, pdf = save_drawing(drawing, out)
    _write_record(figure_paths(out)[0].with_suffix(".json"), comp, drawing,
                  {"width_in": width_in, "dpi": dpi, "crops": list(crops),
                   "auto_crop": auto_crop, "crop_size": crop_size})
    w_in, h_in = drawing.layout.size_in
    click.echo(f"wrote {png} and {pdf} ({w_in:.2f} x {h_in:.2f} in, {dpi} dpi)")


def _write_record(path: Path, comp, drawing, config: dict) -> None:
    """Beside the figure: the runs it shows, what is drawn where, and provenance."""
    import dataclasses
    import json
    from importlib.metadata import version

    from raindata.atomic import atomic_write_text
    from raindata.provenance import record

    config = {**config, "matplotlib": version("matplotlib")}
    data = {"dataset": comp.dataset, "rain_maps": comp.rain_maps, "runs": comp.runs,
            "layout": dataclasses.asdict(drawing.layout),
            "provenance": record(config, sys.argv)}
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
