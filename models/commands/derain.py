"""``udrdr derain``: derain image files or folders with a trained F3."""

from __future__ import annotations

from pathlib import Path

import click

RECORD_NAME = "udrdr-derain.json"


@click.command("derain")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...",
                type=click.Path(path_type=Path))
@click.option("--weights", required=True, type=click.Path(path_type=Path),
              help="F3 checkpoint: udrdr_f3.pt written by `udrdr train`, or one of its "
                   "training checkpoints (checkpoints/step-*.pt).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for the derained PNGs (created if missing).")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
@click.option("--tile", default=None, type=click.IntRange(min=1),
              help="Run overlapping TILE x TILE tiles instead of the whole image (e.g. 512).")
@click.option("--overlap", default=32, show_default=True, type=click.IntRange(min=0),
              help="Overlap of neighbouring tiles in pixels, blended smoothly (with --tile).")
@click.option("--precision", default="fp32", show_default=True,
              type=click.Choice(["fp32", "bf16", "fp16"]),
              help="bf16 autocast: CUDA or a CPU with AVX512/AMX; fp16 autocast: CUDA only.")
@click.option("--channels-last", is_flag=True, help="Channels-last memory format (faster on CPU).")
@click.option("--force", is_flag=True, help="Replace existing output PNGs.")
def derain(
    inputs: tuple[Path, ...], weights: Path, out_dir: Path, device: str, tile: int | None,
    overlap: int, precision: str, channels_last: bool, force: bool,
) -> None:
    """Derain the images INPUT... (files, or folders of images) with the F3 network.

    Each output is DIR/<input stem>.png, 8-bit RGB: 255 * clip(output, 0, 1) rounded half
    away from zero. Folders are read non-recursively, in natural order (img2 before
    img10). Existing outputs are kept unless --force; every PNG is written atomically.
    Images of any size are accepted; --tile bounds the memory used. A record of the run
    (command, weights sha256, outputs) is written to DIR/udrdr-derain.json.
    """
    import json
    import sys
    import time

    from models.f3_checkpoint import load_f3
    from models.inference import (
        check_precision,
        check_tiling,
        collect_inputs,
        derain_files,
        plan_outputs,
    )
    from raindata.atomic import atomic_write_text
    from raindata.provenance import record

    check_tiling(tile, overlap)
    sources = collect_inputs(inputs)
    outputs = plan_outputs(sources, out_dir, force)
    check_precision(precision, device)
    net, info = load_f3(weights, device)

    err = sys.stderr
    click.echo(f"F3 {info.parameters:,} parameters ({weights}, sha256 {info.sha256[:12]}), "
               f"{len(sources)} image(s), device {device}, {precision}"
               f"{', channels-last' if channels_last else ''}"
               f"{f', tiles {tile} overlap {overlap}' if tile else ''}", file=err)
    start = time.perf_counter()
    with click.progressbar(length=len(sources), label="deraining", file=err,
                           item_show_func=lambda s: s) as bar:
        def step(item) -> None:
            rate = (bar.pos + 1) / max(time.perf_counter() - start, 1e-9)
            bar.update(1, f"{rate:.2f} images/s  {item.source.name}")

        done = derain_files(net, sources, outputs, device=device, tile=tile, overlap=overlap,
                            precision=precision, channels_last=channels_last, progress=step)
    seconds = time.perf_counter() - start

    config = {"inputs": [str(p) for p in inputs], "weights": info.to_dict(), "out": str(out_dir),
              "device": device, "tile": tile, "overlap": overlap, "precision": precision,
              "channels_last": channels_last, "quantize": "round"}
    rec = record(config)
    rec["seconds"] = round(seconds, 3)
    rec["outputs"] = [{"source": str(d.source), "output": d.output.name, "height": d.height,
                       "width": d.width, "seconds": round(d.seconds, 4), "sha256": d.sha256}
                      for d in done]
    atomic_write_text(out_dir / RECORD_NAME, json.dumps(rec, indent=2) + "\n")
    megapixels = sum(d.height * d.width for d in done) / 1e6
    click.echo(f"derained {len(done)} image(s), {megapixels:.2f} Mpx, in {seconds:.1f} s "
               f"({len(done) / max(seconds, 1e-9):.2f} images/s) -> {out_dir}")
