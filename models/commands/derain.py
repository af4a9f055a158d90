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
@click.option("--force", is_flag=True,
              help="Redo every output (complete existing ones are kept otherwise).")
def derain(
    inputs: tuple[Path, ...], method: str, weights: Path | None, out_dir: Path, how: str,
    device: str, tile: int | None, overlap: int, batch_size: int, precision: str,
    channels_last: bool, rain_map_dir: Path | None, force: bool,
) -> None:
    """Derain the images INPUT... (files, or folders of images) with a registered method.

    Each output is DIR/<input stem>.png, 8-bit RGB, quantized as the method's official
    test script saves (--quantize official) or by the rule given. Folders are read
    non-recursively, in natural order (img2 before img10). Existing complete outputs (a
    PNG that decodes, with its input's size) are kept and reported, so a rerun continues
    an interrupted run; a broken one is redone; --force redoes all. Every PNG is written
    atomically, and a second run into the same DIR at once is refused. Images of any size
    are accepted; --tile bounds the memory used (where the method allows tiles). A record
    of the run (command, method, weights sha256, outputs) is written to
    DIR/udrdr-derain.json.
    """
    import contextlib

    from models.inference.files import collect_inputs, existing_outputs, plan_outputs
    from models.registry import get_card
    from raindata.errors import DataError
    from raindata.lock import lock_folder

    card = get_card(method)
    if rain_map_dir is not None and card.rain_map_output is None:
        raise DataError(f"--rain-maps: method {method!r} does not estimate a rain map "
                        "(udrdr-teacher does)")
    sources = collect_inputs(inputs)
    outputs = plan_outputs(sources, out_dir)
    rain_maps = plan_outputs(sources, rain_map_dir) if rain_map_dir is not None else None
    with contextlib.ExitStack() as locks:  # one writer per folder (a second is refused)
        folders: dict[Path, Path] = {}
        for folder in (out_dir, rain_map_dir):
            if folder is not None:
                folders.setdefault(folder.resolve(), folder)
        for folder in folders.values():
            locks.enter_context(lock_folder(folder))
        _remove_stale_temps(out_dir, outputs, rain_map_dir, rain_maps)
        plan = existing_outputs(sources, outputs, force=force, rain_maps=rain_maps)
        _derain_locked(card, method, weights, inputs, sources, outputs, plan, out_dir, how,
                       device, tile, overlap, batch_size, precision, channels_last,
                       rain_map_dir)


def _remove_stale_temps(out_dir: Path, outputs, rain_map_dir: Path | None, rain_maps) -> None:
    """Temporary files a killed run left for this run's outputs (we hold the locks)."""
    from raindata.atomic import remove_stale_temps

    remove_stale_temps(out_dir, [p.name for p in outputs] + [RECORD_NAME])
    if rain_map_dir is not None:
        remove_stale_temps(rain_map_dir, [p.name for p in rain_maps])


def _derain_locked(card, method, weights, inputs, sources, outputs, plan, out_dir, how,
                   device, tile, overlap, batch_size, precision, channels_last,
                   rain_map_dir) -> None:
    """The work of ``udrdr derain`` once its output folders are locked."""
    import json
    import sys
    import time

    from models.inference.files import derain_files
    from models.registry import create_model
    from raindata.atomic import atomic_write_text, sha256_file
    from raindata.imageio import read_image
    from raindata.provenance import record

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
    if plan.kept:
        click.echo(f"kept {len(plan.kept)} complete existing output(s) in {out_dir} "
                   "(--force redoes them)", file=err)
    if plan.redone:
        names = ", ".join(outputs[i].name for i in plan.redone[:5])
        more = " ..." if len(plan.redone) > 5 else ""
        click.echo(f"redoing {len(plan.redone)} incomplete or unreadable existing "
                   f"output(s): {names}{more}", file=err)
    todo_src = [sources[i] for i in plan.todo]
    start = time.perf_counter()
    with click.progressbar(length=len(todo_src), label="deraining", file=err,
                           item_show_func=lambda s: s) as bar:
        def step(item) -> None:
            rate = (bar.pos + 1) / max(time.perf_counter() - start, 1e-9)
            bar.update(1, f"{rate:.2f} images/s  {item.source.name}")

        done = derain_files(model, todo_src, [outputs[i] for i in plan.todo], how=quantize,
                            rain_map_dir=rain_map_dir, progress=step)
    seconds = time.perf_counter() - start

    config = {"inputs": [str(p) for p in inputs], "method": method, "card": card.to_dict(),
              "model": info, "out": str(out_dir), "quantize": quantize, **options,
              "rain_maps": str(rain_map_dir) if rain_map_dir else None}
    rec = record(config)
    rec["seconds"] = round(seconds, 3)
    entries = {}
    for d in done:
        entries[d.output.name] = {
            "source": str(d.source), "output": d.output.name, "height": d.height,
            "width": d.width, "seconds": round(d.seconds, 4), "sha256": d.sha256,
            **({"rain_map": str(d.rain_map)} if d.rain_map else {})}
    for i in plan.kept:  # outputs of an earlier run, kept as they were
        h, w = read_image(outputs[i]).shape[:2]
        entries[outputs[i].name] = {
            "source": str(sources[i]), "output": outputs[i].name, "height": h, "width": w,
            "seconds": None, "sha256": sha256_file(outputs[i]), "kept": True,
            **({"rain_map": str(rain_map_dir / outputs[i].name)} if rain_map_dir else {})}
    rec["outputs"] = [entries[p.name] for p in outputs if p.name in entries]
    atomic_write_text(out_dir / RECORD_NAME, json.dumps(rec, indent=2, default=str) + "\n")
    megapixels = sum(d.height * d.width for d in done) / 1e6
    kept = f", kept {len(plan.kept)}" if plan.kept else ""
    click.echo(f"derained {len(done)} image(s), {megapixels:.2f} Mpx, in {seconds:.1f} s "
               f"({len(done) / max(seconds, 1e-9):.2f} images/s){kept} -> {out_dir}")
