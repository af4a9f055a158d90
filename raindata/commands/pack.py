"""``raindata pack``: build an HDF5 patch cache from a paired dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("pack")
@click.argument("name")
@click.argument("root", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="The .h5 file to write.")
@click.option("--split", default=None, help="Only this split (e.g. train); default all.")
@click.option("--patch", "patch", default=64, show_default=True, type=click.IntRange(min=1),
              help="Patch side in pixels.")
@click.option("--stride", default=None, type=click.IntRange(min=1),
              help="Step between patches [default: the patch size].")
@click.option("--compression", default="none", show_default=True,
              type=click.Choice(["none", "gzip", "lzf"]), help="HDF5 compression filter.")
@click.option("--chunk", default=1, show_default=True, type=click.IntRange(min=1),
              help="Patches per HDF5 chunk.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def pack(
    name: str, root: Path, out: Path, split: str | None, patch: int, stride: int | None,
    compression: str, chunk: int, force: bool,
) -> None:
    """Cut the pairs of dataset NAME at ROOT into patches and store them in an HDF5 file.

    NAME is a layout from `raindata list` (e.g. demo, raindirection, rain100h); the
    paired training Dataset reads the file with PairedDataset(cache=FILE). Patches
    lie on a grid with step --stride, plus a row/column flush with the image edges.
    The file is written atomically and an existing one is kept unless --force.
    """
    from raindata.errors import DataError
    from raindata.layouts import find_samples
    from raindata.pack import pack as build

    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    if out.exists() and not force:
        raise DataError(f"{out}: already exists (use --force to replace it)")
    samples = find_samples(name, root, split)
    splits = sorted({s.split for s in samples})
    if split is None and len(splits) > 1:
        raise DataError(f"{root}: holds the splits {', '.join(splits)}; say which to pack "
                        "with --split (a cache mixing splits would leak test images)")
    if not samples:
        where = f" (split {split})" if split else ""
        raise DataError(f"{root}: no {name} samples found{where}")
    with click.progressbar(length=len(samples), label="packing", file=sys.stderr) as bar:
        info = build(
            samples, out, patch_size=patch, stride=stride,
            compression=None if compression == "none" else compression, chunk=chunk,
            progress=bar.update, overwrite=force,
        )
    click.echo(
        f"{info.path}: {info.patches} patches of {info.patch_size}x{info.patch_size} "
        f"(stride {info.stride}) from {info.sources} samples, "
        f"{info.bytes / 2**20:.1f} MiB, compression {compression}, {info.seconds:.1f} s"
    )
