"""Drawing a :class:`~benchmark.figures.Comparison` as a paper figure: PNG and PDF bytes.

:func:`plan` places every panel, zoom and caption on a grid of whole PNG pixels (no
matplotlib); :func:`draw_comparison` draws that plan with matplotlib's Agg canvas (imported
inside, so the scoring path never loads it): images resampled by nearest neighbour at the
figure's dpi (no smoothing, in the PNG and in the PDF), text as vector text (TrueType,
``pdf.fonttype`` 42), no axes, and no dates or software names in the files, so the same
inputs give byte-identical files. It returns the plan as a :class:`FigureLayout` that says
what is drawn where.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.figures import Comparison, Crop
from raindata.errors import DataError

PAGE_WIDTH_IN = 7.0  # two-column paper, full text width
COLUMN_WIDTH_IN = 3.4  # one column
CROP_COLOURS = ("#e41a1c", "#1f6fd1")  # first box red, second blue
MIN_FONT_PT = 4.5
LINE_SPACING = 1.3  # caption line height in multiples of the point size

RC = {
    "pdf.fonttype": 42, "ps.fonttype": 42, "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"], "image.resample": False,
    "pdf.compression": 6, "svg.hashsalt": "derain-toolkit",
}


@dataclass(frozen=True)
class CropLayout:
    """A zoom: its box in the source image and the enlarged copy's box in PNG pixels."""

    source: Crop
    box_px: tuple[int, int, int, int]  # x0, y0, x1, y1; top-left origin, ends exclusive
    colour: str


@dataclass(frozen=True)
class PanelLayout:
    """One panel as drawn: where, which image, its zooms and its caption."""

    row: int
    column: int
    image_id: str
    kind: str
    source: str
    image_size: tuple[int, int]  # width, height of the source image
    box_px: tuple[int, int, int, int]  # the image; x0, y0, x1, y1, top-left origin
    crops: tuple[CropLayout, ...]
    title: str
    scores: str
    title_lines: tuple[str, ...]  # the title as set: wrapped or shortened to fit the panel
    title_pt: float
    scores_pt: float
    title_xy_px: tuple[float, float]  # centre x and top y of the title
    scores_xy_px: tuple[float, float]  # of the scores line, level across the row


@dataclass(frozen=True)
class FigureLayout:
    width_px: int
    height_px: int
    dpi: int
    panels: tuple[PanelLayout, ...]

    @property
    def size_in(self) -> tuple[float, float]:
        return self.width_px / self.dpi, self.height_px / self.dpi


@dataclass(frozen=True)
class Drawing:
    png: bytes
    pdf: bytes
    layout: FigureLayout


#: how a title is set: (lines, point size) per (row, column); see :func:`fit_title`
Titles = dict[tuple[int, int], tuple[tuple[str, ...], float]]


def _px(inches: float, dpi: int) -> int:
    return max(1, round(inches * dpi))


def _line_px(points: float, dpi: int) -> int:
    return math.ceil(points * LINE_SPACING / 72 * dpi)


def columns(comp: Comparison, width_in: float, dpi: int) -> tuple[int, int, int, float]:
    """(left edge, panel width, gap) in pixels and the caption's point size."""
    if not 1.0 <= width_in <= 20.0:
        raise DataError(f"--width {width_in}: expected a figure width of 1-20 inches")
    if not 50 <= dpi <= 1200:
        raise DataError(f"--dpi {dpi}: expected 50-1200")
    n = len(comp.rows[0].panels)
    width, gap = _px(width_in, dpi), _px(0.03, dpi)
    pw = (width - (n - 1) * gap) // n
    if pw < 8:
        raise DataError(f"--width {width_in}: {n} panels do not fit in {width} pixels")
    inches = pw / dpi
    points = 7.0 if inches >= 1.0 else 6.0 if inches >= 0.7 else 5.0
    return (width - n * pw - (n - 1) * gap) // 2, pw, gap, points


def plan(comp: Comparison, width_in: float = PAGE_WIDTH_IN, dpi: int = 300,
         titles: Titles | None = None) -> FigureLayout:
    """Where every panel goes: columns of equal width with small gaps, each row as tall as
    its image's aspect needs, zooms side by side under each image, captions under those
    (``titles``: how each title is set; default one line at the caption size)."""
    left, pw, gap, points = columns(comp, width_in, dpi)
    small = _px(0.015, dpi)
    titles = titles or {}
    line = _line_px(points, dpi)
    panels, y = [], 0
    for r, row in enumerate(comp.rows):
        h_img, w_img = row.panels[0].image.shape[:2]
        ph = max(1, round(pw * h_img / w_img))
        k = len(row.crops)
        cw = (pw - (k - 1) * small) // k if k else 0
        crop_top = y + ph + small
        text_top = (crop_top + cw if k else y + ph) + small
        set_as = [titles.get((r, c), ((p.title,), points)) for c, p in enumerate(row.panels)]
        title_h = max(len(lines) * _line_px(size, dpi) for lines, size in set_as)
        scores_h = line if any(p.scores for p in row.panels) else 0
        for c, (p, (lines, size)) in enumerate(zip(row.panels, set_as, strict=True)):
            x = left + c * (pw + gap)
            offset = (pw - k * cw - (k - 1) * small) // 2 if k else 0
            crops = tuple(
                CropLayout(crop, (x + offset + j * (cw + small), crop_top,
                                  x + offset + j * (cw + small) + cw, crop_top + cw),
                           CROP_COLOURS[j])
                for j, crop in enumerate(row.crops))
            panels.append(PanelLayout(
                r, c, row.image_id, p.kind, p.source, (w_img, h_img), (x, y, x + pw, y + ph),
                crops, p.title, p.scores, lines, size, points, (x + pw / 2, text_top),
                (x + pw / 2, text_top + title_h)))
        y = text_top + title_h + scores_h + gap
    return FigureLayout(_px(width_in, dpi), y - gap, dpi, tuple(panels))


def fit_title(title: str, room: float, points: float, width) -> tuple[tuple[str, ...], float]:
    """Set ``title`` in ``room`` pixels: one line at ``points``, else smaller (down to
    ``MIN_FONT_PT``), else two lines broken at a space, ``/``, ``:`` or ``[``, else one
    line shortened in the middle with an ellipsis. ``width(text, points)`` measures."""
    size = points
    while size > MIN_FONT_PT and width(title, size) > room:
        size -= 0.5
    if width(title, size) <= room:
        return (title,), size
    cuts = [i for i, ch in enumerate(title) if ch in " /:[" and 0 < i < len(title) - 1]
    if cuts:
        best = min(cuts, key=lambda i: max(width(title[:i + (title[i] != "[")].rstrip(), points),
                                           width(title[i + (title[i] != "["):].lstrip(),
                                                 points)))
        cut = best + (title[best] != "[")
        pair = (title[:cut].rstrip(), title[cut:].lstrip())
        size = points
        while size > MIN_FONT_PT and max(width(t, size) for t in pair) > room:
            size -= 0.5
        if max(width(t, size) for t in pair) <= room:
            return pair, size
    keep = len(title)
    while keep > 2 and width(_middle(title, keep), MIN_FONT_PT) > room:
        keep -= 1
    return (_middle(title, keep),), MIN_FONT_PT


def _middle(text: str, keep: int) -> str:
    if keep >= len(text):
        return text
    head = (keep + 1) // 2
    return text[:head] + "\u2026" + text[len(text) - (keep - head):]


def _matplotlib() -> Any:
    from benchmark.plots import matplotlib_module

    return matplotlib_module()


def _figsize(px: int, dpi: int) -> float:
    """Inches that make exactly ``px`` pixels at ``dpi`` (Agg truncates the product)."""
    inches = px / dpi
    while inches * dpi < px:
        inches = math.nextafter(inches, math.inf)
    return inches


def draw_comparison(comp: Comparison, width_in: float = PAGE_WIDTH_IN,
                    dpi: int = 300) -> Drawing:
    """The figure of ``comp`` as PNG and PDF bytes, with the layout it was drawn to.

    A title wider than its panel is set smaller, on two lines, or shortened
    (:func:`fit_title`)."""
    mpl = _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Rectangle

    with mpl.rc_context():
        mpl.rcdefaults()  # a user's matplotlibrc or style must not change the figure
        mpl.rcParams.update(RC)
        _, pw, _, points = columns(comp, width_in, dpi)
        renderer = FigureCanvasAgg(Figure(dpi=dpi)).get_renderer()

        def width(text: str, size: float) -> float:
            return renderer.get_text_width_height_descent(text, FontProperties(size=size),
                                                          ismath=False)[0]

        titles = {(r, c): fit_title(p.title, pw, points, width)
                  for r, row in enumerate(comp.rows) for c, p in enumerate(row.panels)}
        layout = plan(comp, width_in, dpi, titles)
        images = {(r, c): p.image for r, row in enumerate(comp.rows)
                  for c, p in enumerate(row.panels)}
        fig = Figure(figsize=(_figsize(layout.width_px, dpi), _figsize(layout.height_px, dpi)),
                     dpi=dpi)
        FigureCanvasAgg(fig)
        fw, fh, height = fig.bbox.width, fig.bbox.height, layout.height_px

        def axes(box):
            x0, y0, x1, y1 = box
            ax = fig.add_axes((x0 / fw, (height - y1) / fh, (x1 - x0) / fw, (y1 - y0) / fh))
            ax.set_axis_off()
            return ax

        def show(ax, img):
            ax.imshow(img, interpolation="nearest", aspect="auto", resample=False,
                      extent=(-0.5, img.shape[1] - 0.5, img.shape[0] - 0.5, -0.5))

        line_w = max(0.5, 0.5 * width_in / PAGE_WIDTH_IN + 0.25)
        for pl in layout.panels:
            img = images[(pl.row, pl.column)]
            panel = axes(pl.box_px)
            show(panel, img)
            for cl in pl.crops:
                c = cl.source
                panel.add_patch(Rectangle((c.x - 0.5, c.y - 0.5), c.size, c.size, fill=False,
                                          edgecolor=cl.colour, linewidth=line_w))
                zoom = axes(cl.box_px)
                show(zoom, img[c.y:c.y + c.size, c.x:c.x + c.size])
                zoom.add_patch(Rectangle((0, 0), 1, 1, transform=zoom.transAxes, fill=False,
                                         edgecolor=cl.colour, linewidth=line_w, clip_on=False))
            x, y = pl.title_xy_px
            for text in pl.title_lines:
                fig.text(x / fw, (height - y) / fh, text, ha="center", va="top",
                         fontsize=pl.title_pt)
                y += _line_px(pl.title_pt, dpi)
            if pl.scores:
                x, y = pl.scores_xy_px
                fig.text(x / fw, (height - y) / fh, pl.scores, ha="center", va="top",
                         fontsize=pl.scores_pt)
        png, pdf = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=dpi, metadata={"Software": None})
        fig.savefig(pdf, format="pdf", dpi=dpi,
                    metadata={"Creator": None, "Producer": None, "CreationDate": None})
    return Drawing(png.getvalue(), pdf.getvalue(), layout)


def figure_paths(out: str | os.PathLike) -> tuple[Path, Path]:
    """``fig`` (or ``fig.png`` / ``fig.pdf``) -> ``(fig.png, fig.pdf)``."""
    out = Path(out)
    if out.suffix.lower() in (".png", ".pdf"):
        out = out.with_suffix("")
    return out.with_name(out.name + ".png"), out.with_name(out.name + ".pdf")


def save_drawing(drawing: Drawing, out: str | os.PathLike) -> tuple[Path, Path]:
    """Write the PNG and the PDF atomically beside each other; returns their paths."""
    from raindata.atomic import atomic_write_bytes

    png, pdf = figure_paths(out)
    atomic_write_bytes(png, drawing.png)
    atomic_write_bytes(pdf, drawing.pdf)
    return png, pdf
