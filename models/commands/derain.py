"""``udrdr derain``: derain image files or folders with any registered method."""

from __future__ import annotations

from pathlib import Path

import click

RECORD_NAME = "udrdr-derain.json"
QUANTIZE = ("official", "round", "truncate")


@click.command("derain")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...",
                type=click.Path(path_type=Path))
@click.option("--method", default="udrdr", show_default=True,
              help="A registered method (`udrdr methods` lists them).")
@click.option("--weights", type=click.Path(path_type=Path),
              help="Weights for the method: for udrdr an F3 file written by `udrdr train` "
                   "(udrdr_f3.pt) or one of its training checkpoints (default: the bundled "
                   "demo F3); for other methods their released file.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for the derained PNGs (created if missing).")
@click.option("--quantize", "how", type=click.Choice(QUANTIZE), default="official",
              show_default=True,
              help="How float outputs become 8-bit: the method's official convention, or "
                   "round / truncate.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
@click.option("--tile", default=None, type=click.IntRange(min=1),
              help="Run overlapping TILE x TILE tiles instead of the whole image (e.g. 512).")
@click.option("--overlap", default=32, show_default=True, type=click.IntRange(min=0),
              help="Overlap of neighbouring tiles in pixels, blended smoothly (with --tile).")
@click.option("--batch-size", default=1, show_default=True, type=click.IntRange(min=1),
              help="Images of equal size per forward pass (where the method allows it).")
@click.option("--precision", default="fp32", show_default=True,
              type=click.Choice(["fp32", "bf16", "fp16"]),
              help="bf16 autocast: CUDA or a CPU with AVX512/AMX; fp16 autocast: CUDA only.")
@click.option("--channels-last", is_flag=True, help="Channels-last memory format (faster on CPU).")
@click.option("--rain-maps", "rain_map_dir", type=click.Path(path_type=Path),
              help="Also save each image's estimated rain map in this folder (methods whose "
                   "network estimates one, e.g. udrdr-teacher).")
@click.option("--force", is_flag=True, help="Replace existing output PNGs.")
def derain(
    inputs: tuple[Path, ...], method: str, weights: Path | None, out_dir: Path, how: str,
    device: str, tile: int | None, overlap: int, batch_size: int, precision: str,
    channels_last: bool, rain_map_dir: Path | None, force: bool,
) -> None:
    """Derain the images INPUT... (files, or folders of images) with a registered method.

    Each output is DIR/<input stem>.png, 8-bit RGB, quantized as the method's official
    test script saves (--quantize official) or by the rule given. Folders are read
    non-recursively, in natural order (img2 before img10). Existing outputs are kept
    unless --force; every PNG is written atomically. Images of any size are accepted;
    --tile bounds the memory used (where the method allows tiles). A record of the run
    (command, method, weights sha256, outputs) is written to DIR/udrdr-derain.json.
    """
    import json
    import sys
    import time

    from models.inference.files import collect_inputs, derain_files, plan_outputs
    from models.registry import create_model, get_card
    from raindata.atomic import atomic_write_text
    from raindata.errors import DataError
    from raindata.provenance import record

    card = get_card(method)
    if rain_map_dir is not None and card.rain_map_output is None:
        raise DataError(f"--rain-maps: method {method!r} does not estimate a rain map "
                        "(udrdr-teacher does)")
    sources = collect_inputs(inputs)
    outputs = plan_outputs(sources, out_dir, force)
    if rain_map_dir is not None:
        plan_outputs(sources, rain_map_dir, force)
    options = {"device": device, "precision": precision, "channels_last": channels_last,
               "tile": tile, "overlap": overlap, "batch_size": batch_size}
    model = create_model(method, weights=weights, **options)
    quantize = card.quantize if how == "official" else how
    info = model.info()

    err = sys.stderr
    params = info.get("parameters")
    click.echo(f"{card.title}: {f'{params:,} parameters, ' if params else ''}"
               f"weights {info.get('weights')}"
               f"{f' (sha256 {model.weights_sha256[:12]})' if info.get('weights') else ''}, "
               f"{len(sources)} image(s), device {device}, {precision}"
               f"{', channels-last' if channels_last else ''}"
               f"{f', tiles {tile} overlap {overlap}' if tile else ''}, quantize {quantize}",
               file=err)
    start = time.perf_counter()
    with click.progressbar(length=len(sources), label="deraining", file=err,
                           item_show_func=lambda s: s) as bar:
        def step(item) -> None:
            rate = (bar.pos + 1) / max(time.perf_counter() - start, 1e-9)
            bar.update(1, f"{rate:.2f} images/s  {item.source.name}")

        done = derain_files(model, sources, outputs, how=quantize, rain_map_dir=rain_map_dir,
                            progress=step)
    seconds = time.perf_counter() - start

    config = {"inputs": [str(p) for p in inputs], "method": method, "card": card.to_dict(),
              "model": info, "out": str(out_dir), "quantize": quantize, **options,
              "rain_maps": str(rain_map_dir) if rain_map_dir else None}
    rec = record(config)
    rec["seconds"] = round(seconds, 3)
    rec["outputs"] = [{"source": str(d.source), "output": d.output.name, "height": d.height,
                       "width": d.width, "seconds": round(d.seconds, 4), "sha256": d.sha256,
                       **({"rain_map": str(d.rain_map)} if d.rain_map else {})}
                      for d in done]
    atomic_write_text(out_dir / RECORD_NAME, json.dumps(rec, indent=2, default=str) + "\n")
    megapixels = sum(d.height * d.width for d in done) / 1e6
    click.echo(f"derained {len(done)} image(s), {megapixels:.2f} Mpx, in {seconds:.1f} s "
               f"({len(done) / max(seconds, 1e-9):.2f} images/s) -> {out_dir}")
