"""``benchmark report``: a static HTML report of every run, to open from disk."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True, help="Results folder to report on.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("report"),
              show_default=True,
              help="Report folder (created; an earlier report there is replaced).")
@click.option("--copy-images", is_flag=True,
              help="Copy the full-size images into OUT/images/ so the folder stands alone "
                   "(default: link them where they are, with relative paths).")
@click.option("--thumb-size", type=click.IntRange(min=16, max=2048), default=256,
              show_default=True, help="Long side of the thumbnails in pixels.")
@click.option("--title", default="Deraining benchmark", show_default=True,
              help="Page title.")
def report(results: Path, out: Path, copy_images: bool, thumb_size: int, title: str) -> None:
    """Write OUT/index.html: every run under RESULTS in one page that opens from disk.

    A sortable leaderboard (protocol, quantization, image counts, best per column,
    partial means flagged); per dataset, every image's scores for every method (worst
    first); and a viewer comparing two methods, or a method and the ground truth or
    rainy input, side by side or with a slider, with synchronized zoom and pan.
    Thumbnails go to OUT/thumbs/; runs without saved images still appear in the tables.
    """
    from benchmark.report.build import write_report

    data = write_report(results, out, copy=copy_images, thumb_size=thumb_size, title=title,
                        log=lambda m: click.echo(f"note: {m}", err=True))
    runs = len(data["leaderboard"]["rows"])
    images = sum(len(s["images"]) for s in data["sections"])
    thumbs = data["thumbnails"]
    click.echo(f"wrote {out / 'index.html'}: {runs} run(s), {images} image(s), "
               f"{thumbs['count']} thumbnail(s) ({thumbs['made']} new)")
