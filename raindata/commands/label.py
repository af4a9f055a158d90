"""``raindata label``: estimate direction labels from rain maps and write direction.txt."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click


@click.command("label")
@click.argument("root", type=click.Path(path_type=str))
@click.option("--angles", default="0:170:10", show_default=True,
              help="Label grid: START:STOP:STEP (inclusive), A,B,C or A.")
@click.option("--from", "source", type=click.Choice(["streak", "diff"]), default=None,
              help="Rain maps from streak/N.png or rainstreak-N.png ('streak'), or from "
                   "rainy - clean ('diff') [default: streak when present].")
@click.option("--out", "out", type=click.Path(path_type=str), default=None,
              help="Where to write [default: ROOT/direction/direction.txt].")
@click.option("--force", is_flag=True, help="Overwrite an existing direction.txt.")
def label(root, angles, source, out, force) -> None:
    """Estimate the dominant rain direction of each image and write direction.txt.

    ROOT is a RainDirection-style folder with streak/N.png (rain maps), or rainy/N.png
    + latent/N.png (uses rainy - latent), or a Rain100L training folder with
    rainstreak-N.png (or rain-N.png + norain-N.png). Images are paired by number.
    The orientation comes from the structure tensor of the rain map, snapped to the
    angle grid (0 = right, counter-clockwise as displayed). Output lines: "N LABEL".
    """
    from raindata.angles import parse_angles
    from raindata.direction import (
        find_rain_maps,
        label_folder,
        label_histogram,
        write_direction_txt,
    )
    from raindata.errors import DataError

    t0 = time.perf_counter()
    grid = parse_angles(angles)
    target = Path(out) if out else Path(root) / "direction" / "direction.txt"
    if target.exists() and not force:
        raise DataError(f"{target}: already exists; use --force to overwrite")
    used, items = find_rain_maps(root, source)
    with click.progressbar(length=len(items), label=f"label ({used})",
                           file=sys.stderr) as bar:
        labels = label_folder(root, grid, used, progress=bar.update)
    write_direction_txt(target, labels)
    hist = " ".join(f"{a}:{c}" for a, c in label_histogram(labels.values()).items())
    click.echo(
        f"labelled {len(labels)} images from {used} maps into {target} "
        f"({time.perf_counter() - t0:.1f} s)\n  labels (deg:count) {hist}"
    )
