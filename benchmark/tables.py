"""Leaderboards: gather runs into the paper's table layouts; export CSV, LaTeX, Markdown."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from benchmark import store
from raindata.errors import DataError

LAYOUTS = ("table1", "table2", "table3", "long")
FORMATS = ("csv", "latex", "markdown")

#: metric column -> (label, higher is better, decimals); decimals follow the paper's tables.
METRIC_STYLE = {
    "psnr": ("PSNR", True, 2),
    "ssim": ("SSIM", True, 4),
    "lpips": ("LPIPS", False, 3),
    "rainmap_psnr": ("PSNR", True, 2),
    "rainmap_ssim": ("SSIM", True, 4),
    "niqe": ("NIQE", False, 3),
}
DATASET_TITLES = {
    "rain100h": "Rain100H", "rain100l": "Rain100L", "did-data": "DID-Data",
    "raindirection": "RainDirection", "real3000": "Real3000", "sirr": "SIRR-Data",
    "real200": "Real200", "demo": "Demo",
}


@dataclass(frozen=True)
class Cell:
    """One table cell: a mean over ``n`` images (``None`` when unavailable)."""

    value: float | None
    n: int
    expected: int
    partial: bool
    unavailable: bool = False


#: settings that can tell two runs of one method apart, and how a label shows them
_DISTINGUISH = (
    ("weights_sha256", lambda v: f"w:{(v or 'none')[:8]}"),
    ("data_root", lambda v: f"root:{Path(v).name}"),
    ("split", str),
    ("device", lambda v: v or "no-device"),
    ("lpips_sha256", lambda v: f"lpips:{(v or 'none')[:8]}"),
)


def _option_tag(key: str, value: str) -> str:
    """How an inference option shows in a row label: ``bf16``, ``channels-last``, ``tile 512``."""
    if key == "channels_last":
        return "channels-last"
    if key == "tile":
        return f"tile {value}"
    return value


def _released_name(record) -> str | None:
    """The released weights file a run used, by name, when the method's card knows it."""
    info = record.extra.get("method")
    return info.get("weights_released_as") if isinstance(info, dict) else None


def _labels(runs) -> list[str]:
    """Row labels: the method, its non-default conventions, and - when several runs would
    share a row - the settings that differ between them (never one silently replacing
    another)."""
    base = []
    for _, record, _ in runs:
        s = record.settings
        official = record.extra.get("official_quantize", s.quantize)
        tags = [] if s.quantize in (official, "as-saved") else [s.quantize]
        tags += [_option_tag(k, v) for k, v in s.method_options if k != "overlap"]
        base.append((s.method, tags))
    groups: dict[tuple, list[int]] = {}
    for i, ((method, tags), (_, record, _)) in enumerate(zip(base, runs, strict=True)):
        s = record.settings
        groups.setdefault((method, tuple(tags), s.dataset, s.protocol), []).append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        settings = [runs[i][1].settings for i in members]
        for attr, show in _DISTINGUISH:
            values = [getattr(st, attr) for st in settings]
            if len(set(values)) > 1:
                for i, v in zip(members, values, strict=True):
                    released = _released_name(runs[i][1]) if attr == "weights_sha256" else None
                    base[i][1].append(released or show(v))
        seen = {}
        for i in members:  # still alike (e.g. other metric sets): name the run folder
            key = tuple(base[i][1])
            if key in seen:
                base[i][1].append(f"run:{runs[i][0].name}")
                base[seen[key]][1].append(f"run:{runs[seen[key]][0].name}")
            seen[key] = i
    return [f"{m} [{', '.join(dict.fromkeys(t))}]" if t else m for m, t in base]


@dataclass(frozen=True)
class ColumnMean:
    """The mean of one score column of a run, as tables and run summaries show it."""

    column: str
    mean: float | None
    n: int
    """Images in the mean (NaN and missing scores are left out)."""
    expected: int
    nan: int
    """Images whose score is NaN (undefined for that image, e.g. NIQE of a flat image)."""
    partial: bool
    """The mean covers fewer images than the dataset holds, or the run is not complete."""
    unavailable: bool


def column_mean(record, rows, column: str) -> ColumnMean:
    """The one rule for a run's mean of ``column``, shared by every table and the summary
    of ``benchmark run``: NaN and missing scores are left out of the mean, and the mean is
    partial when the run is not complete or covers fewer than ``record.expected`` images
    (a column the run could not compute at all is unavailable, not partial)."""
    present = [r[column] for r in rows if r.get(column) is not None]
    values = [v for v in present if not math.isnan(v)]
    unavailable = column.split("_")[0] in record.unavailable
    return ColumnMean(
        column=column, mean=store.mean_score(values), n=len(values), expected=record.expected,
        nan=len(present) - len(values),
        partial=record.status != "complete" or (not unavailable and len(values) < record.expected),
        unavailable=unavailable,
    )


def run_means(record, rows) -> list[ColumnMean]:
    """:func:`column_mean` of every column the run holds (computed or unavailable)."""
    wanted = _columns_for(record.settings.metrics) + _columns_for(record.unavailable)
    return [column_mean(record, rows, col) for col in dict.fromkeys(wanted)]


def long_table(results: Path):
    """One row per (method, dataset, metric, protocol, quantize) with mean and image count."""
    import pandas as pd

    runs = list(store.iter_runs(results))
    records = []
    for label, (folder, record, rows) in zip(_labels(runs), runs, strict=True):
        s = record.settings
        for cm in run_means(record, rows):
            records.append({
                "method": label, "base_method": s.method, "dataset": s.dataset,
                "metric": cm.column, "protocol": s.protocol, "quantize": s.quantize,
                "split": s.split, "mean": cm.mean, "n": cm.n, "expected": cm.expected,
                "partial": cm.partial, "unavailable": cm.unavailable,
                "status": record.status, "run": folder.name,
            })
    if not records:
        raise DataError(f"{results}: no benchmark runs found")
    return pd.DataFrame.from_records(records)


def _columns_for(metrics) -> list[str]:
    cols = []
    for m in metrics:
        cols += ["rainmap_psnr", "rainmap_ssim"] if m == "rainmap" else [m]
    return cols


def _group_name(dataset: str, protocol: str, multi: bool) -> str:
    title = DATASET_TITLES.get(dataset, dataset)
    return f"{title} [{protocol}]" if multi else title


def grid(long, metrics: list[str]) -> tuple[list[str], list[tuple[str, str]], dict]:
    """Methods (rows), (dataset group, metric) columns and their cells."""
    sub = long[long["metric"].isin(metrics)]
    if sub.empty:
        return [], [], {}
    protocols = sub.groupby("dataset")["protocol"].nunique()
    methods = list(dict.fromkeys(sub.sort_values(["method"], key=_method_order)["method"]))
    groups: dict[str, str] = {}
    cells = {}
    for r in sub.itertuples():
        g = _group_name(r.dataset, r.protocol, protocols[r.dataset] > 1)
        groups.setdefault(g, r.dataset)
        cells[(r.method, g, r.metric)] = Cell(
            None if r.mean is None or (isinstance(r.mean, float) and math.isnan(r.mean))
            else float(r.mean),
            int(r.n), int(r.expected), bool(r.partial), bool(r.unavailable),
        )
    columns = [(g, m) for g in sorted(groups) for m in metrics
               if any((meth, g, m) in cells for meth in methods)]
    return methods, columns, cells


def _method_order(col):
    # the rainy input first, then alphabetical: the usual first row of deraining tables
    return col.map(lambda m: (0 if m == "input" else 1, m))


def best_per_column(methods, columns, cells) -> dict:
    """(group, metric) -> best printed value among complete cells (max or min by metric).

    Values are compared as printed, so cells that read the same are all bold; a partial
    mean (``*``) never wins."""
    best = {}
    for g, m in columns:
        vals = [_printed(cells[(meth, g, m)], m) for meth in methods
                if (meth, g, m) in cells and cells[(meth, g, m)].value is not None
                and not cells[(meth, g, m)].partial]
        if vals:
            best[(g, m)] = max(vals) if METRIC_STYLE[m][1] else min(vals)
    return best


def _printed(cell: Cell, metric: str) -> float:
    """The cell's value rounded as the table prints it (the metric's decimals)."""
    return cell.value if math.isinf(cell.value) else round(cell.value, METRIC_STYLE[metric][2])


def _is_best(cell: Cell | None, best: float | None, metric: str) -> bool:
    return (cell is not None and cell.value is not None and not cell.partial
            and best == _printed(cell, metric))


def format_cell(cell: Cell | None, metric: str) -> str:
    if cell is None:
        return ""
    if cell.unavailable or cell.value is None:
        return "n/a"
    text = "inf" if math.isinf(cell.value) else f"{cell.value:.{METRIC_STYLE[metric][2]}f}"
    return text + ("*" if cell.partial else "")


def build(results: Path, layout: str):
    """The rows of one layout as a list of blocks: (block title, methods, columns, cells)."""
    if layout not in LAYOUTS:
        raise DataError(f"--layout: unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    if layout == "table3":
        return timing_table(results)
    long = long_table(results)
    if layout == "long":
        return long
    if layout == "table1":
        blocks = [("Derained image", ["psnr", "ssim", "lpips"]),
                  ("Rain map", ["rainmap_psnr", "rainmap_ssim"])]
    else:
        blocks = [("NIQE", ["niqe"])]
    out = []
    for title, metrics in blocks:
        methods, columns, cells = grid(long, metrics)
        if methods:
            out.append((title, methods, columns, cells))
    if not out:
        raise DataError(f"{results}: no runs with the metrics {layout} shows")
    return out


def timing_table(results: Path):
    """Table 3: parameters and seconds per image from ``results/_timing/*.json``."""
    import pandas as pd

    files = sorted((Path(results) / "_timing").glob("*.json"))
    if not files:
        raise DataError(f"{results}/_timing: no timing results (run `benchmark time` first)")
    rows = [json.loads(p.read_text(encoding="utf-8")) for p in files]
    cols = ["method", "parameters", "size", "seconds_per_image", "n", "device", "precision"]
    return pd.DataFrame.from_records(rows)[cols]


def render(results: Path, layout: str, fmt: str) -> str:
    """The table as text in ``fmt`` (csv, latex or markdown)."""
    if fmt not in FORMATS:
        raise DataError(f"--format: unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    data = build(results, layout)
    if not isinstance(data, list):  # a flat DataFrame (long, table3)
        if fmt == "csv":
            return data.to_csv(index=False)
        if fmt == "markdown":
            return _markdown_frame(data)
        return _latex_frame(data)
    return {"csv": _csv_blocks, "markdown": _markdown_blocks, "latex": _latex_blocks}[fmt](data)


def _footnote(blocks) -> str | None:
    cells = [c for *_, block_cells in blocks for c in block_cells.values()]
    notes = []
    if any(c.partial for c in cells):
        notes.append("* partial: mean over fewer images than the dataset holds (unscored, "
                     "skipped, or NaN: a score undefined for that image, e.g. NIQE of a flat "
                     "image)")
    if any(c.unavailable for c in cells):
        notes.append("n/a (-- in LaTeX): not computable in that run, e.g. LPIPS without "
                     "its AlexNet weights")
    return "; ".join(notes) or None


def _csv_blocks(blocks) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for title, methods, columns, cells in blocks:
        w.writerow(["block", "method", *[f"{g} {METRIC_STYLE[m][0]}" for g, m in columns],
                    *[f"{g} n" for g in dict.fromkeys(g for g, _ in columns)]])
        for meth in methods:
            counts = []
            for g in dict.fromkeys(g for g, _ in columns):
                ns = [cells[(meth, g, m)].n for gg, m in columns
                      if gg == g and (meth, g, m) in cells]
                counts.append(max(ns) if ns else "")
            w.writerow([title, meth, *[format_cell(cells.get((meth, g, m)), m) for g, m in columns],
                        *counts])
    return buf.getvalue()


def _markdown_blocks(blocks) -> str:
    lines = []
    for title, methods, columns, cells in blocks:
        best = best_per_column(methods, columns, cells)
        head = [title, *[f"{g} {METRIC_STYLE[m][0]}" for g, m in columns]]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for meth in methods:
            row = [meth]
            for g, m in columns:
                cell = cells.get((meth, g, m))
                text = format_cell(cell, m)
                if _is_best(cell, best.get((g, m)), m):
                    text = f"**{text}**"
                row.append(text)
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        lines.append(_counts_line(methods, columns, cells))
        lines.append("")
    note = _footnote(blocks)
    if note:
        lines.append(note)
    return "\n".join(lines).rstrip() + "\n"


def _counts_line(methods, columns, cells) -> str:
    parts = []
    for g in dict.fromkeys(g for g, _ in columns):
        ns = sorted({c.n for (meth, gg, m), c in cells.items() if gg == g and not c.unavailable})
        parts.append(f"{g}: {'/'.join(str(n) for n in ns)} images")
    return "Images per mean: " + "; ".join(parts)


def _tex(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("&", r"\&"), ("%", r"\%"),
                 ("#", r"\#"), ("[", "{[}"), ("]", "{]}")):
        text = text.replace(a, b)
    return text


def _latex_blocks(blocks) -> str:
    groups = list(dict.fromkeys(g for _, _, columns, _ in blocks for g, _ in columns))
    per_group = {g: max(sum(1 for gg, _ in cols if gg == g) for _, _, cols, _ in blocks)
                 for g in groups}
    ncols = 1 + sum(per_group.values())
    out = [r"\begin{tabular}{l" + "c" * (ncols - 1) + "}", r"\hline"]
    out.append("Datasets & " + " & ".join(
        rf"\multicolumn{{{per_group[g]}}}{{c}}{{{_tex(g)}}}" for g in groups) + r" \\")
    for title, methods, columns, cells in blocks:
        best = best_per_column(methods, columns, cells)
        out.append(r"\hline")
        heads = []
        for g in groups:
            ms = [m for gg, m in columns if gg == g]
            heads += [METRIC_STYLE[m][0] for m in ms] + [""] * (per_group[g] - len(ms))
        out.append(_tex(title) + " & " + " & ".join(heads) + r" \\")
        out.append(r"\hline")
        for meth in methods:
            row = [_tex(meth)]
            for g in groups:
                ms = [m for gg, m in columns if gg == g]
                for m in ms:
                    cell = cells.get((meth, g, m))
                    text = _tex(format_cell(cell, m)).replace("n/a", "--")
                    if _is_best(cell, best.get((g, m)), m):
                        text = rf"\textbf{{{text}}}"
                    row.append(text)
                row += [""] * (per_group[g] - len(ms))
            out.append(" & ".join(row) + r" \\")
    out += [r"\hline", r"\end{tabular}"]
    note = _footnote(blocks)
    if note:
        out.append("% " + note)
    return "\n".join(out) + "\n"


def _markdown_frame(df) -> str:
    head = list(df.columns)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _latex_frame(df) -> str:
    out = [r"\begin{tabular}{" + "l" * len(df.columns) + "}", r"\hline",
           " & ".join(_tex(str(c)) for c in df.columns) + r" \\", r"\hline"]
    for row in df.itertuples(index=False):
        out.append(" & ".join(_tex("" if v is None else str(v)) for v in row) + r" \\")
    out += [r"\hline", r"\end{tabular}"]
    return "\n".join(out) + "\n"
