"""``raindata synth``: RainDirection-style rain over a folder of clean images."""

from __future__ import annotations

import sys
import time

import click

from raindata.clitools import parse_range

DEMO_ALLOWED = {"demo", "out", "workers", "resume"}


class _LazyBar:
    """A click progress bar that appears with the first finished sample.

    Errors found before any work (bad folder, refused rerun) then print one line only.
    """

    def __init__(self, length: int, label: str) -> None:
        self.length, self.label, self.bar = length, label, None

    def update(self, n: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=self.length, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(n)

    def __enter__(self) -> _LazyBar:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _range(name: str):
    def convert(ctx, param, value):
        return None if value is None else parse_range(value, name)

    return convert


@click.command("synth")
@click.option("--clean", "clean", type=click.Path(path_type=str),
              help="Folder of clean images (PNG/JPEG/BMP, 8/16-bit, grey or colour).")
@click.option("--ids", "ids", metavar="LOW:HIGH",
              help="Use only the clean images numbered LOW..HIGH (the last number in the "
                   "file name, e.g. norain-12.png is 12), to keep splits disjoint.")
@click.option("--out", "out", required=True, type=click.Path(path_type=str),
              help="Output folder (rainy/, latent/, streak/, direction/, manifest.csv).")
@click.option("--angles", default="0:170:10", show_default=True,
              help="Label grid: START:STOP:STEP (inclusive), A,B,C or A; degrees, "
                   "0 = right, counter-clockwise as displayed.")
@click.option("--count", type=int, help="Total samples; clean images are cycled in name order.")
@click.option("--per-image", "per_image", type=int,
              help="Samples per clean image (default 1; exclusive with --count).")
@click.option("--split", type=click.Choice(["train", "test"]), default="train",
              show_default=True, help="Split recorded in the manifest (also seeds the rain).")
@click.option("--seed", type=int, default=0, show_default=True, help="Base seed.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Worker processes (output does not depend on it).")
@click.option("--density", default="0.002:0.006", show_default=True, callback=_range("--density"),
              help="Fraction of pixels seeding a drop, LOW:HIGH.")
@click.option("--length", default="15:40", show_default=True, callback=_range("--length"),
              help="Streak length in pixels, LOW:HIGH.")
@click.option("--width", default="0.4:1.0", show_default=True, callback=_range("--width"),
              help="Drop blur sigma in pixels, LOW:HIGH.")
@click.option("--intensity", default="100:200", show_default=True,
              callback=_range("--intensity"),
              help="Peak grey level of an isolated full-strength streak, LOW:HIGH.")
@click.option("--jitter", type=float, default=None,
              help="Uniform angle jitter +-DEG around the label [default: min(3, STEP/2)].")
@click.option("--layers", type=int, default=0, show_default=True,
              help="Extra independent rain layers, same direction as the label.")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted run into OUT (same options required).")
@click.option("--demo", is_flag=True,
              help="Build OUT/train and OUT/test from the bundled demo images.")
@click.pass_context
def synth(ctx: click.Context, clean, ids, out, angles, count, per_image, split, seed, workers,
          density, length, width, intensity, jitter, layers, resume, demo) -> None:
    """Synthesize rainy/latent/streak triplets with direction labels (RainDirection layout).

    Each sample adds a rain layer (sparse drops, oriented motion-blur kernel at the
    labelled angle plus jitter) to a clean image: rainy = clip(latent + streak, 0, 255)
    in uint8. Output: OUT/rainy/N.png, OUT/latent/N.png, OUT/streak/N.png,
    OUT/direction/direction.txt ("N LABEL" per line), OUT/manifest.csv, OUT/synth.json.
    The same command gives byte-identical files for any --workers. One run writes OUT at
    a time: a second is refused, naming the first (OUT/.lock); after a kill or a full
    disk, --resume continues.

    \b
    Examples:
      raindata synth --clean DIV2K_train_HR --out rd_train --angles 0:170:10 --seed 7
      raindata synth --demo --out demo_data
    """
    from click.core import ParameterSource

    from raindata.errors import DataError
    from raindata.synth import (
        SynthConfig,
        demo_total,
        list_clean_images,
        select_by_number,
        synthesize,
        synthesize_demo,
    )

    t0 = time.perf_counter()
    if demo:
        extra = sorted(
            name for name in ctx.params
            if name not in DEMO_ALLOWED
            and ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
        )
        if extra:
            opts = ", ".join("--" + n.replace("_", "-") for n in extra)
            raise DataError(f"--demo takes only --out, --workers and --resume, got {opts}")
        with _LazyBar(demo_total(), "demo") as bar:
            summaries = synthesize_demo(out, workers=workers, resume=resume,
                                        progress=bar.update)
        for summary in summaries.values():
            click.echo(summary.describe())
        click.echo(f"demo data set in {out} ({time.perf_counter() - t0:.1f} s)")
        return
    if clean is None:
        raise click.UsageError("--clean DIR is required (or use --demo)")
    config = SynthConfig(
        angles=angles, count=count, per_image=per_image, split=split, seed=seed,
        density=density, length=length, width=width, intensity=intensity, jitter=jitter,
        layers=layers,
    )
    # The bar's length needs the clean image count (errors here name the folder).
    names = list_clean_images(clean)
    files = None
    if ids is not None:
        low, high = parse_range(ids, "--ids")
        if low != int(low) or high != int(high):
            raise click.BadParameter(f"expected whole numbers, got {ids!r}", param_hint="--ids")
        names = files = select_by_number(names, int(low), int(high))
    total = count if count is not None else len(names) * (per_image or 1)
    with _LazyBar(total, f"synth {split}") as bar:
        summary = synthesize(clean, out, config, files=files, workers=workers, resume=resume,
                             progress=bar.update)
    click.echo(summary.describe())
