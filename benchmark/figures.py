"""Paper-style comparison figures (UDRDR, ICCV 2021, Figs. 3-6): what every panel shows.

:func:`build_comparison` gathers, for chosen images of a dataset and a list of methods,
one row per image: the rainy input, each method's saved output (``benchmark run
--save-images``) and the ground truth - or, with ``rain_maps``, the rainy input, the true
rain map ``clip(rainy - clean, 0, 255)`` and each method's ``clip(rainy - output, 0, 255)``
(:func:`benchmark.metrics.rainmap.rain_map`). Under each panel go the run's label as
``benchmark table`` shows it and that image's PSNR / SSIM exactly as its ``scores.csv``
holds them; each row gets one or two zoom boxes, given or placed where the methods' panels
differ most (:func:`auto_crops`). Finding the runs is :mod:`benchmark.figure_runs`'s job,
drawing :mod:`benchmark.figure_render`'s; nothing here imports matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark.figure_runs import Selection, image_path, select_runs
from benchmark.metrics.rainmap import rain_map
from benchmark.tables import METRIC_STYLE
from raindata.errors import DataError
from raindata.imageio import read_image
from raindata.layouts import load_pair


@dataclass(frozen=True)
class Crop:
    """A square zoom box: top-left corner ``(x, y)`` and side ``size``, in image pixels."""

    x: int
    y: int
    size: int


@dataclass(frozen=True)
class Panel:
    """One image of a row: what it shows, where the pixels come from, and its caption."""

    kind: str  # "rainy", "method" or "clean" (the ground truth, or its rain map)
    title: str
    scores: str  # "PSNR / SSIM" as printed, "" when the panel has none
    image: np.ndarray  # uint8 H x W x 3
    source: str  # the file, or how a rain map was made


@dataclass(frozen=True)
class FigureRow:
    image_id: str
    panels: tuple[Panel, ...]
    crops: tuple[Crop, ...]


@dataclass(frozen=True)
class Comparison:
    """Everything a comparison figure shows; ``runs`` maps panel titles to run folders."""

    dataset: str
    rain_maps: bool
    rows: tuple[FigureRow, ...]
    runs: dict[str, str]


RAINY_TITLE = "Rainy input"
CLEAN_TITLE = "Ground truth"
SCORE_LEGEND = "PSNR / SSIM"


# --- scores and crops ----------------------------------------------------------------------

def format_scores(psnr: float | None, ssim: float | None) -> str:
    """``"29.11 / 0.8978"``: the decimals of the paper's tables; ``n/a`` for no value."""
    def one(value: float | None, metric: str) -> str:
        if value is None or math.isnan(value):
            return "n/a"
        return "inf" if math.isinf(value) else f"{value:.{METRIC_STYLE[metric][2]}f}"
    return f"{one(psnr, 'psnr')} / {one(ssim, 'ssim')}"


def parse_crop(text: str) -> Crop:
    """``"X,Y,S"`` -> :class:`Crop`; DataError naming the value otherwise."""
    try:
        x, y, s = (int(v) for v in text.split(","))
    except ValueError:
        raise DataError(f"--crop {text!r}: expected X,Y,SIZE (three integers)") from None
    if x < 0 or y < 0 or s < 2:
        raise DataError(f"--crop {text!r}: expected X, Y >= 0 and SIZE >= 2")
    return Crop(x, y, s)


def check_crop(crop: Crop, shape: tuple[int, ...], what: str) -> Crop:
    """``crop`` itself when it lies inside an image of ``shape``; DataError otherwise."""
    h, w = shape[:2]
    if crop.x + crop.size > w or crop.y + crop.size > h:
        raise DataError(f"--crop {crop.x},{crop.y},{crop.size}: outside {what} ({w}x{h})")
    return crop


def auto_crops(images: Sequence[np.ndarray], size: int, count: int) -> tuple[Crop, ...]:
    """``count`` non-overlapping ``size`` boxes where ``images`` differ most.

    The per-pixel spread is max - min over the images, summed over the colour channels;
    each box maximises the spread summed over its window (an integral image, exact in
    integers); ties go to the first window in raster order, so the choice is
    deterministic."""
    stack = np.stack([np.asarray(im, dtype=np.int64) for im in images])
    spread = (stack.max(axis=0) - stack.min(axis=0)).sum(axis=-1)
    h, w = spread.shape
    if size > min(h, w):
        raise DataError(f"--crop-size {size}: larger than the image ({w}x{h})")
    integral = np.pad(spread.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = (integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size]
            + integral[:-size, :-size]).astype(np.float64)
    crops = []
    for _ in range(count):
        y, x = divmod(int(np.argmax(sums)), sums.shape[1])
        if not np.isfinite(sums[y, x]):
            raise DataError(f"--auto-crop {count}: {count} boxes of {size} px do not fit in "
                            f"a {w}x{h} image (use --crop-size)")
        crops.append(Crop(x, y, size))
        sums[max(0, y - size + 1): y + size, max(0, x - size + 1): x + size] = -np.inf
    return tuple(crops)


# --- the figure ----------------------------------------------------------------------------

def build_comparison(
    results: Path,
    dataset: str,
    image_ids: Sequence[str],
    methods: Sequence[str],
    *,
    rain_maps: bool = False,
    crops: Sequence[Crop] = (),
    auto_crop: int = 1,
    crop_size: int | None = None,
    protocol: str | None = None,
    data_root: str | Path | None = None,
    weights: dict[str, str] | None = None,
    run_missing: bool = True,
    log: Callable[[str], None] = print,
) -> Comparison:
    """The panels of a comparison figure of ``image_ids`` (dataset ids) and ``methods``.

    Runs are found (or made) by :func:`benchmark.figure_runs.select_runs`: ``methods`` are
    ``benchmark table`` row labels or method names, ``input`` picks the run whose scores the
    rainy panel (always first) shows. Given ``crops`` apply to every row; otherwise
    ``auto_crop`` boxes (0-2) of ``crop_size`` (default: a quarter of the shorter side) are
    placed in each row where its method panels differ most."""
    if len(crops) > 2 or not 0 <= auto_crop <= 2:
        raise DataError("--crop/--auto-crop: at most two zoom boxes per panel")
    if crop_size is not None and crop_size < 2:
        raise DataError(f"--crop-size {crop_size}: expected at least 2 pixels")
    sel = select_runs(results, dataset, image_ids, methods, with_input=not rain_maps,
                      protocol=protocol, data_root=data_root, weights=weights,
                      run_missing=run_missing, log=log)
    return compose(sel, rain_maps=rain_maps, crops=crops, auto_crop=auto_crop,
                   crop_size=crop_size)


def compose(sel: Selection, *, rain_maps: bool = False, crops: Sequence[Crop] = (),
            auto_crop: int = 1, crop_size: int | None = None) -> Comparison:
    """The rows of the figure of a :class:`~benchmark.figure_runs.Selection`."""
    rows = []
    for sample in sel.samples:
        rainy, clean = load_pair(sample)
        panels = _row_panels(sample, rainy, clean, sel, rain_maps)
        rows.append(FigureRow(sample.id, tuple(panels),
                              _row_crops(panels, crops, auto_crop, crop_size, sample)))
    runs = [*([sel.input_run] if sel.input_run else []), *sel.methods]
    return Comparison(sel.dataset.name, rain_maps, tuple(rows),
                      {r.label: str(r.folder) for r in runs})


def _row_panels(sample, rainy, clean, sel: Selection, rain_maps: bool) -> list[Panel]:
    cols = ("rainmap_psnr", "rainmap_ssim") if rain_maps else ("psnr", "ssim")
    paired = clean is not None

    def scores(run) -> str:
        if run is None or not paired:
            return ""
        row = run.rows[sample.id]
        return format_scores(row[cols[0]], row[cols[1]])

    panels = [Panel("rainy", RAINY_TITLE, "" if rain_maps else scores(sel.input_run), rainy,
                    str(sample.rainy))]
    if rain_maps and paired:
        panels.append(Panel("clean", CLEAN_TITLE, SCORE_LEGEND, rain_map(rainy, clean),
                            f"clip({sample.rainy} - {sample.clean}, 0, 255)"))
    for run in sel.methods:
        path = image_path(run, sample.id)
        out = read_image(path)
        if out.shape != rainy.shape:
            raise DataError(f"{path}: {out.shape[1]}x{out.shape[0]}, the rainy input "
                            f"{sample.rainy} is {rainy.shape[1]}x{rainy.shape[0]}")
        if rain_maps:
            panels.append(Panel("method", run.label, scores(run), rain_map(rainy, out),
                                f"clip({sample.rainy} - {path}, 0, 255)"))
        else:
            panels.append(Panel("method", run.label, scores(run), out, str(path)))
    if paired and not rain_maps:
        panels.append(Panel("clean", CLEAN_TITLE, SCORE_LEGEND, clean, str(sample.clean)))
    return panels


def _row_crops(panels, crops, auto_crop, crop_size, sample) -> tuple[Crop, ...]:
    shape = panels[0].image.shape
    if crops:
        return tuple(check_crop(c, shape, str(sample.rainy)) for c in crops)
    if auto_crop == 0:
        return ()
    size = crop_size or max(2, min(shape[:2]) // 4)
    shown = [p.image for p in panels if p.kind == "method"]
    if len(shown) < 2:  # one method: where it differs most from the reference
        ref = [p.image for p in panels if p.kind == "clean"] or [panels[0].image]
        shown += ref
    return auto_crops(shown, size, auto_crop)
