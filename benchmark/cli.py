"""``benchmark``: score deraining methods on datasets, export leaderboards, time methods."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from benchmark.methods import QUANTIZE_CHOICES
from raindata.clitools import ToolGroup, max_pixels_option

HELP = {"help_option_names": ["-h", "--help"]}


@click.group(cls=ToolGroup, context_settings=HELP)
@click.version_option(package_name="derain-toolkit")
@max_pixels_option
def main() -> None:
    """Score deraining methods with the protocol papers report, and export tables."""


def _split_list(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    if not items:
        raise click.BadParameter("expected a comma-separated list")
    return items


def _split_methods(text: str) -> list[str]:
    # `results:DIR` may itself hold commas only in exotic paths; split on commas otherwise
    return [m.strip() for m in text.split(",") if m.strip()]


@main.command()
@click.option("--method", "methods", required=True,
              help="Method(s), comma separated: any registered method (`udrdr methods`), "
                   "or results:DIR.")
@click.option("--dataset", required=True, help="Dataset name (see `raindata list`).")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path),
              help="Dataset folder (default: $RAINDATA_ROOT/<dataset>, else ./data/<dataset>).")
@click.option("--split", default="test", show_default=True)
@click.option("--weights", multiple=True,
              help="Weights file, or METHOD=PATH when several methods need weights.")
@click.option("--metrics", help="psnr,ssim,rainmap,lpips,niqe (default: all that apply).")
@click.option("--protocol", type=click.Choice(["y-matlab", "y-double", "rgb"]),
              help="Scoring protocol (default: rgb for did-data, y-matlab otherwise).")
@click.option("--quantize", type=click.Choice(QUANTIZE_CHOICES),
              default="official", show_default=True,
              help="How float outputs become uint8: each method's official test-script "
                   "convention, or one rule for all methods.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
@click.option("--save-images", is_flag=True, help="Keep the derained PNGs in the run folder.")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True)
@click.option("--limit", type=click.IntRange(min=1), help="Score at most N images.")
@click.option("--skip-bad", is_flag=True,
              help="Skip unreadable, missing or mis-sized images instead of stopping.")
@click.option("--lpips-weights", type=click.Path(dir_okay=False, path_type=Path),
              help="torchvision AlexNet weights for LPIPS (default: found on the weights "
                   "search path, e.g. the torch hub cache; `benchmark weights fetch "
                   "alexnet-owt-7be5be79.pth` gets it).")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32",
              show_default=True, help="Network inference precision (bf16: autocast on "
              "AVX512/AMX CPUs or CUDA; fp16: CUDA; faster, not for reproducing published "
              "numbers).")
@click.option("--channels-last", is_flag=True, help="Channels-last memory format for networks.")
@click.option("--tile", type=click.IntRange(min=1),
              help="Run networks on overlapping TILE x TILE tiles (methods that allow it).")
@click.option("--overlap", type=click.IntRange(min=0), default=32, show_default=True,
              help="Overlap of neighbouring tiles in pixels (with --tile).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Processes decoding and computing metrics beside the network (default: "
                   "every core, shared among torchrun's ranks on a node; 1: one process).")
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True,
              help="Consecutive images of equal size per forward pass (methods whose card "
                   "allows batching; the others run one at a time).")
@click.option("--shard", metavar="I/N",
              help="Score only shard I of N (0 <= I < N) into the same run folder; the last "
                   "shard to finish merges them. Under torchrun each rank is a shard.")
def run(methods, dataset, data_root, split, weights, metrics, protocol, quantize, device,
        save_images, results, limit, skip_bad, lpips_weights, precision, channels_last, tile,
        overlap, workers, batch_size, shard):
    """Score METHOD(s) on DATASET image by image into RESULTS/<dataset>/<method>/.

    Interrupted runs resume; a rerun with identical settings does no work; other
    settings go to another folder, never mixing rows with the old ones.
    """
    from benchmark.runner import RunRequest, run_one
    from benchmark.store import Shard

    if shard is not None:
        shard = Shard.parse(shard).label  # a bad value stops here, before any work

    names = _split_methods(methods)
    weight_map = _weights_for(names, weights)
    said: set[str] = set()

    def log(message: str) -> None:  # the same note (e.g. LPIPS unavailable) is said once
        if message not in said:
            said.add(message)
            click.echo(message, err=True)

    for name in names:
        req = RunRequest(
            method=name, dataset=dataset, data_root=data_root, split=split,
            weights=weight_map.get(name), metrics=_split_list(metrics), protocol=protocol,
            quantize=quantize, device=device, save_images=save_images, results=results,
            limit=limit, skip_bad=skip_bad,
            lpips_weights=str(lpips_weights) if lpips_weights else None,
            precision=precision, channels_last=channels_last, tile=tile, overlap=overlap,
            workers=workers, shard=shard, batch_size=batch_size, argv=sys.argv,
        )
        state = {"bar": None, "started": time.perf_counter()}

        def progress(done, total, state=state, name=name):
            if state["bar"] is None:
                state["bar"] = click.progressbar(length=total, label=f"{name} on {dataset}",
                                                 file=sys.stderr, show_pos=True)
                state["bar"].__enter__()
                state["started"] = time.perf_counter()
            if done == 0:
                return
            rate = done / max(time.perf_counter() - state["started"], 1e-9)
            state["bar"].label = f"{name} on {dataset} ({rate:.2f} img/s)"
            state["bar"].update(1)

        try:
            out = run_one(req, progress=progress, log=log)
        finally:
            if state["bar"] is not None:
                state["bar"].__exit__(None, None, None)
        for note in out.notes:
            click.echo(f"note: {note}", err=True)
        _summary(name, dataset, out)


def _weights_for(names: list[str], weights: tuple[str, ...]) -> dict[str, str]:
    from models.registry import get_card

    cards = {n: get_card(n) for n in names if not n.startswith("results:")}
    needing = [n for n, c in cards.items() if c.needs_weights]
    networks = [n for n, c in cards.items() if c.network is not None]
    # a bare path is for the one method that needs weights, else for the one network
    target = needing if len(needing) == 1 else networks if len(networks) == 1 else []
    mapping: dict[str, str] = {}
    for w in weights:
        if "=" in w and w.split("=", 1)[0] in names:
            k, v = w.split("=", 1)
            mapping[k] = v
        elif target:
            mapping[target[0]] = w
        else:
            raise click.BadParameter(
                f"{w!r}: say which method it is for (METHOD=PATH); methods taking weights: "
                + (", ".join(networks) or "none"), param_hint="--weights")
    return mapping


def _summary(name: str, dataset: str, out) -> None:
    from benchmark.scoring import nan_reason
    from benchmark.tables import run_means

    rec = out.record
    s = rec.settings
    means, notes = [], []
    for cm in run_means(rec, out.rows):  # the tables' rule: the same means, the same stars
        if cm.unavailable:
            means.append(f"{cm.column} unavailable")
            continue
        if cm.mean is None:
            means.append(f"{cm.column} n/a")
        else:
            means.append(f"{cm.column} {cm.mean:.4f}{'*' if cm.partial else ''}")
        if cm.partial:
            why = f"; {cm.nan} NaN: {nan_reason(cm.column)}" if cm.nan else ""
            notes.append(f"  * {cm.column}: partial mean over {cm.n}/{cm.expected} images"
                         f"{why}")
    if out.attempted == 0:
        did = "nothing to do (already scored)"
    else:
        tried = "" if out.newly_scored == out.attempted else f" of {out.attempted}"
        did = f"scored {out.newly_scored}{tried} image(s)"
    if out.shard is not None:
        did += f" as shard {out.shard}"
    click.echo(
        f"{name} on {dataset} [{s.protocol}, quantize={s.quantize}]: {did}; "
        f"{rec.scored}/{rec.expected} images, status {rec.status}"
        + (f", {len(rec.skipped)} skipped" if rec.skipped else "")
        + (f", {len(notes)} partial mean(s)" if notes else "")
    )
    if means:
        click.echo("  mean: " + ", ".join(means))
    for note in notes:
        click.echo(note)
    click.echo(f"  results: {out.folder}")


@main.command()
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True)
@click.option("--layout", type=click.Choice(["table1", "table2", "table3", "long"]),
              default="table1", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "latex", "markdown"]),
              default="markdown", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (atomically) instead of printing.")
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
def table(results, layout, fmt, out, force):
    """Gather every run under RESULTS into a leaderboard (best values in bold).

    table1: derained-image PSNR/SSIM/LPIPS and rain-map PSNR/SSIM per dataset;
    table2: NIQE on real sets; table3: parameters and seconds per image;
    long: one row per (method, dataset, metric, protocol, quantize).
    A partial mean (*) follows one rule, the one `benchmark run` prints. Shards of a
    run (`benchmark run --shard`) that have finished are merged into its scores.csv first.
    """
    from benchmark.shards import fold_all
    from benchmark.tables import render
    from raindata.errors import DataError

    if out is not None and out.exists() and not force:
        raise DataError(f"{out}: already exists (use --force to replace it)")
    if results.is_dir():
        fold_all(results)
    text = render(results, layout, fmt)
    if out is None:
        click.echo(text, nl=False)
    else:
        from raindata.atomic import atomic_write_text

        atomic_write_text(out, text)
        click.echo(f"wrote {out}")


@main.command("time")
@click.option("--method", required=True, help="A registered method with a network.")
@click.option("--size", type=click.IntRange(min=8), default=512, show_default=True)
@click.option("--n", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True,
              help="Untimed runs first.")
@click.option("--device", default="cpu", show_default=True)
@click.option("--weights", type=click.Path(dir_okay=False, path_type=Path),
              help="Weights to load (timing does not need them; random weights are used).")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32",
              show_default=True)
@click.option("--channels-last", is_flag=True)
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True)
def time_cmd(method, size, n, warmup, device, weights, precision, channels_last, results):
    """Mean seconds per SIZExSIZE image after warm-up (Table 3), with parameter count."""
    from benchmark.timing import save_timing, time_method
    from raindata.provenance import record

    row = time_method(method, size, n, device, str(weights) if weights else None, precision,
                      channels_last, warmup)
    path = save_timing(results, row, record(row, sys.argv))
    click.echo(
        f"{method}: {row['seconds_per_image']:.4f} s/image at {size}x{size} over {n} runs, "
        f"{row['parameters']:,} parameters, {row['device']}, {row['precision']}"
    )
    click.echo(f"  saved: {path}")


from benchmark.commands.figure import figure  # noqa: E402 - commands in their own modules
from benchmark.commands.plot import plot  # noqa: E402
from benchmark.commands.report import report  # noqa: E402
from benchmark.commands.weights import weights  # noqa: E402

for _command in (figure, report, plot, weights):
    main.add_command(_command)
