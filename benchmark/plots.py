"""Plots of numbers people would rather look at than read: per-image score distributions,
training curves and sweeps (matplotlib, the ``plots`` extra).

Each function takes plain data or a results/run folder and writes one figure (PNG, or PDF
/ SVG by the file suffix), atomically and deterministically (no creation dates in the
files). matplotlib is imported inside the functions, with the Agg backend, so that the
scoring path never imports it; without it a :class:`~raindata.errors.DataError` names the
extra to install.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from raindata.errors import DataError

METRIC_LABEL = {"psnr": "PSNR (dB)", "ssim": "SSIM", "rainmap_psnr": "rain-map PSNR (dB)",
                "rainmap_ssim": "rain-map SSIM", "lpips": "LPIPS", "niqe": "NIQE"}


def matplotlib_module() -> Any:
    """``matplotlib`` itself; DataError naming the extra to install when it is absent."""
    try:
        import matplotlib
    except ImportError:
        raise DataError("plots and figures need matplotlib: pip install "
                        "'derain-toolkit[plots]'") from None
    return matplotlib


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (see :func:`matplotlib_module`)."""
    matplotlib = matplotlib_module()
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"pdf.fonttype": 42, "svg.hashsalt": "derain-toolkit",
                         "font.size": 9})
    return plt


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix) atomically, without dates."""
    from raindata.atomic import atomic_path

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    meta = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Producer": None},
            "svg": {"Date": None}}.get(fmt, {})
    with atomic_path(path, suffix=f".{fmt}") as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=meta, bbox_inches="tight")
    pyplot().close(fig)
    return path


def score_distributions(per_method: Mapping[str, Sequence[float]], path: str | os.PathLike, *,
                        metric: str = "psnr", title: str = "") -> Path:
    """Box plots (median, quartiles, 1.5 IQR whiskers, outliers) of per-image scores, one
    box per method in the given order, with the mean marked and the image count in the
    tick label."""
    plt = pyplot()
    names = [m for m, v in per_method.items() if any(math.isfinite(x) for x in v)]
    if not names:
        raise DataError(f"{path}: no finite {metric} scores to plot")
    data = [[x for x in per_method[m] if math.isfinite(x)] for m in names]
    fig, ax = plt.subplots(figsize=(max(3.4, 0.9 * len(names) + 1.2), 3.2))
    ax.boxplot(data, showmeans=True, meanprops={"marker": "^", "markerfacecolor": "white",
                                                "markeredgecolor": "black"})
    ax.set_xticks(range(1, len(names) + 1),
                  [f"{m}\n(n={len(d)})" for m, d in zip(names, data, strict=True)],
                  rotation=30 if len(names) > 5 else 0, ha="right" if len(names) > 5 else "center")
    ax.set_ylabel(METRIC_LABEL.get(metric, metric))
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def distributions_of_runs(results: str | os.PathLike, dataset: str, metric: str,
                          path: str | os.PathLike) -> Path:
    """:func:`score_distributions` of every run of ``dataset`` under ``results`` (row
    labels as ``benchmark table`` shows them)."""
    from benchmark.store import iter_runs
    from benchmark.tables import _labels
    from models.registry import list_methods

    order = {name: i for i, name in enumerate(list_methods())}
    runs = list(iter_runs(Path(results)))
    labelled = sorted(zip(_labels(runs), runs, strict=True),
                      key=lambda t: (order.get(t[1][1].settings.method, len(order)), t[0]))
    per_method: dict[str, list[float]] = {}
    for label, (_, record, rows) in labelled:
        if record.settings.dataset != dataset:
            continue
        values = [r[metric] for r in rows if r.get(metric) is not None]
        if values:
            per_method[label] = values
    if not per_method:
        raise DataError(f"{results}: no {metric} scores for dataset {dataset!r}")
    return score_distributions(per_method, path, metric=metric,
                               title=f"{dataset}: per-image {METRIC_LABEL.get(metric, metric)}")


def training_curves(run: str | os.PathLike, path: str | os.PathLike) -> Path:
    """A ``udrdr train`` run's curves: every weighted loss term (log scale, smoothed over
    a window of about 1/50 of the run), the learning rates, and the validation PSNR of F3
    and of the teacher where ``val_log.csv`` exists."""
    import numpy as np

    from models.losses import TERM_NAMES
    from models.train.log import LOG_NAME, read_log
    from models.train.validate import VAL_LOG

    run = Path(run)
    if not (run / LOG_NAME).is_file():
        raise DataError(f"{run}: no {LOG_NAME} (not a udrdr train output folder)")
    rows = read_log(run / LOG_NAME)
    if not rows:
        raise DataError(f"{run / LOG_NAME}: no training steps logged yet")
    steps = np.array([int(r["step"]) for r in rows])
    val = read_log(run / VAL_LOG) if (run / VAL_LOG).is_file() else []
    plt = pyplot()
    panels = 3 if val else 2
    fig, axes = plt.subplots(1, panels, figsize=(3.3 * panels, 2.8))
    window = max(1, len(rows) // 50)
    for term in TERM_NAMES:
        values = np.array([float(r[term]) if r[term] else np.nan for r in rows])
        if np.isfinite(values).any():
            smooth = np.convolve(np.nan_to_num(values), np.ones(window) / window, mode="valid")
            axes[0].plot(steps[window - 1:], smooth, label=term, linewidth=1)
    axes[0].set_yscale("log")
    axes[0].set_title(f"weighted loss terms (mean of {window} steps)")
    axes[0].legend(fontsize=7)
    for key in ("lr_teacher", "lr_student"):
        values = [float(r[key]) if r[key] else np.nan for r in rows]
        axes[1].plot(steps, values, label=key.replace("lr_", ""), linewidth=1)
    axes[1].set_title("learning rate")
    axes[1].legend(fontsize=7)
    if val:
        vsteps = [int(r["step"]) for r in val]
        for key, label in (("f3_psnr", "F3"), ("teacher_psnr", "teacher F2(x - F1(x))")):
            values = [float(r[key]) if r[key] else np.nan for r in val]
            if np.isfinite(values).any():
                axes[2].plot(vsteps, values, marker="o", markersize=3, label=label)
        best = int(val[-1]["best_step"])
        axes[2].axvline(best, color="grey", linestyle=":", linewidth=1)
        axes[2].set_title(f"validation PSNR (best at step {best})")
        axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    return save_figure(fig, path)


def curves(series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
           path: str | os.PathLike, *, xlabel: str, ylabel: str, title: str = "") -> Path:
    """Plain line plot, one line per series (e.g. validation PSNR of several runs)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 2.8))
    for name, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o", markersize=2.5, linewidth=1, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=6, ncol=2)
    return save_figure(fig, path)


def sweep(series: Mapping[str, Mapping[float, Sequence[float]]], path: str | os.PathLike, *,
          xlabel: str, ylabel: str, title: str = "", xticks: Sequence[float] | None = None,
          xticklabels: Sequence[str] | None = None) -> Path:
    """Score against a config value, one line per series; where a point has several seeds
    the line goes through their mean and an error bar spans their range. More than two
    series put the legend beside the axes, where it hides no point."""
    plt = pyplot()
    beside = len(series) > 2
    fig, ax = plt.subplots(figsize=(3.4, 2.6))
    for name, points in series.items():
        xs = sorted(points)
        if not xs:
            continue
        means = [float(sum(points[x]) / len(points[x])) for x in xs]
        lo = [m - min(points[x]) for m, x in zip(means, xs, strict=True)]
        hi = [max(points[x]) - m for m, x in zip(means, xs, strict=True)]
        ax.errorbar(xs, means, yerr=[lo, hi], marker="o", markersize=4, capsize=3,
                    linewidth=1.2, label=name)
    if xticks is not None:
        ax.set_xticks(list(xticks), list(xticklabels) if xticklabels else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    if beside:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    else:
        ax.legend(fontsize=7)
    return save_figure(fig, path)
