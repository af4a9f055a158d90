"""Gather every run under a results folder into the plain dicts the report page shows.

The leaderboard reuses :mod:`benchmark.tables` (row labels, means, partial flags, best per
column), so the page and ``benchmark table`` never disagree. Image references are
``{"path": absolute file, "crop": None | "left" | "right"}`` (``crop``: one half of a
DID-Data side-by-side file); :mod:`benchmark.report.build` turns them into thumbnails and
relative links.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from benchmark import store, tables
from benchmark.methods import open_results_folder
from benchmark.scoring import rel
from raindata.errors import DataError

Ref = dict[str, Any]

#: metric column -> the block it belongs to in the paper's tables
METRIC_BLOCK = {"psnr": "Derained", "ssim": "Derained", "lpips": "Derained",
                "rainmap_psnr": "Rain map", "rainmap_ssim": "Rain map", "niqe": "No reference"}


def encode(value: float | None) -> float | str | None:
    """A score as JSON can hold it: finite floats as numbers, ``inf``/``-inf``/``nan`` as
    strings, None as null."""
    if value is None:
        return None
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(value)


def metric_cards() -> dict[str, dict[str, Any]]:
    """Label, direction, decimals and block of every score column."""
    return {col: {"label": label, "higher": higher, "decimals": decimals,
                  "block": METRIC_BLOCK[col]}
            for col, (label, higher, decimals) in tables.METRIC_STYLE.items()}


def run_id(results: Path, folder: Path) -> str:
    """A run's id in the report: its folder relative to the results folder."""
    return Path(folder).relative_to(results).as_posix()


def gather(results: Path) -> dict[str, Any]:
    """Leaderboard rows and per-dataset image tables of every run under ``results``.

    Raises :class:`DataError` when ``results`` is missing or holds no run.
    """
    results = Path(results)
    runs = list(store.iter_runs(results))
    if not runs:
        raise DataError(f"{results}: no benchmark runs found (run `benchmark run` first)")
    labels = tables._labels(runs)
    ids = [run_id(results, folder) for folder, _, _ in runs]
    notes: list[str] = []
    sections = _sections(runs, labels, ids, notes)
    rows = _leaderboard(results, runs, labels, ids)
    rows.sort(key=lambda r: (r["group"], _method_order(r)))
    for row in rows:
        section = next(s for s in sections if row["run"] in s["runs"])
        row["section"] = section["id"]
        row["outputs"] = sum(row["run"] in im["outputs"] for im in section["images"])
    columns = [c for c in store.SCORE_COLUMNS if any(c in r["cells"] for r in rows)]
    return {"metrics": metric_cards(), "leaderboard": {"columns": columns, "rows": rows},
            "sections": sections, "notes": notes}


def _leaderboard(results, runs, labels, ids) -> list[dict[str, Any]]:
    long = tables.long_table(results)
    methods, columns, cells = tables.grid(long, list(store.SCORE_COLUMNS))
    best = tables.best_per_column(methods, columns, cells)
    protocols = long.groupby("dataset")["protocol"].nunique().to_dict()
    rows = []
    for label, rid, (folder, record, _) in zip(labels, ids, runs, strict=True):
        s = record.settings
        group = tables._group_name(s.dataset, s.protocol, protocols.get(s.dataset, 1) > 1)
        row_cells = {}
        for col in tables._columns_for(s.metrics) + tables._columns_for(record.unavailable):
            cell = cells.get((label, group, col))
            if cell is None:
                continue
            row_cells[col] = {
                "text": tables.format_cell(cell, col), "value": encode(cell.value),
                "n": cell.n, "expected": cell.expected, "partial": cell.partial,
                "unavailable": cell.unavailable,
                "best": tables._is_best(cell, best.get((group, col)), col),
            }
        rows.append({
            "run": rid, "label": label, "method": s.method, "dataset": s.dataset,
            "title": tables.DATASET_TITLES.get(s.dataset, s.dataset), "group": group,
            "split": s.split, "data_root": s.data_root, "protocol": s.protocol,
            "quantize": s.quantize,
            "official_quantize": record.extra.get("official_quantize", s.quantize),
            "options": dict(s.method_options), "device": s.device, "status": record.status,
            "expected": record.expected, "scored": record.scored,
            "skipped": len(record.skipped), "unavailable": dict(record.unavailable),
            "seconds": record.seconds, "cells": row_cells,
            "files": {"scores": {"path": str((folder / "scores.csv").absolute())},
                      "record": {"path": str((folder / "run.json").absolute())}},
        })
    return rows


def _ref(path: Path | str | None, crop: str | None = None) -> Ref | None:
    return None if path is None else {"path": str(Path(path).absolute()), "crop": crop}


def _samples(dataset: str, root: str, split: str, notes: list[str]) -> list:
    """The dataset's samples, or [] (with a note) when its folder is gone or changed."""
    from raindata.layouts import find_samples

    try:
        return find_samples(dataset, root, split)
    except DataError as exc:
        notes.append(f"{dataset} ({split}): dataset images not shown: {exc}")
        return []


def _output_finder(folder: Path, method: str):
    """A function (sample id, rainy file name) -> the run's output image, or None."""
    saved = folder / "images"
    if saved.is_dir():
        def from_saved(sample_id: str, rainy: Path) -> Path | None:
            path = saved / f"{rainy.stem}.png"
            return path if path.is_file() else None

        return from_saved
    if method.startswith("results:"):
        try:
            found = open_results_folder(method)
        except DataError:
            return None
        return found.lookup
    return None


def _method_order(row: dict[str, Any]) -> tuple[int, str]:
    """The rainy input first, then alphabetical (the usual order of deraining tables)."""
    return (0 if row["method"] == "input" else 1, row["label"])


def _sections(runs, labels, ids, notes) -> list[dict[str, Any]]:
    """One section per image set (dataset, data root, split), runs in table order."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for i, (_, record, _) in enumerate(runs):
        s = record.settings
        groups.setdefault((s.dataset, s.data_root, s.split), []).append(i)
    sections = []
    taken: set[str] = set()
    for (dataset, root, split), members in groups.items():
        members.sort(key=lambda i: _method_order(
            {"method": runs[i][1].settings.method, "label": labels[i]}))
        sid, n = f"{dataset}-{split}", 2
        while sid in taken:
            sid, n = f"{dataset}-{split}-{n}", n + 1
        taken.add(sid)
        section = _section(dataset, root, split, [(ids[i], *runs[i]) for i in members], notes)
        sections.append({"id": sid, **section})
    return sections


def _section(dataset: str, root: str, split: str, runs, notes) -> dict[str, Any]:
    """The images of one image set: the rainy input, the ground truth, each run's output
    where there is one, and each run's per-image scores (``runs``: (id, folder, record,
    rows) tuples)."""
    images: dict[str, dict[str, Any]] = {}
    for index, sample in enumerate(_samples(dataset, root, split, notes)):
        if sample.side_by_side:
            rainy, clean = _ref(sample.rainy, "left"), _ref(sample.rainy, "right")
        else:
            rainy, clean = _ref(sample.rainy), _ref(sample.clean)
        images[sample.id] = {"id": sample.id, "index": index,
                             "file": rel(sample.rainy, Path(root)), "rainy": rainy,
                             "clean": clean, "outputs": {}, "scores": {}}
    found = bool(images)
    columns: set[str] = set()
    for rid, folder, record, rows in runs:
        cols = tables._columns_for(record.settings.metrics)
        columns.update(cols)
        for row in rows:
            image = images.setdefault(row["id"], {
                "id": row["id"], "index": row["index"], "file": row["file"], "rainy": None,
                "clean": None, "outputs": {}, "scores": {}})
            image["scores"][rid] = {c: encode(row[c]) for c in cols if row.get(c) is not None}
        find = _output_finder(folder, record.settings.method)
        for image in images.values() if find is not None else ():
            path = find(image["id"], Path(image["rainy"]["path"] if image["rainy"]
                                          else image["file"]))
            if path is not None:
                image["outputs"][rid] = _ref(path)
    return {
        "dataset": dataset, "title": tables.DATASET_TITLES.get(dataset, dataset),
        "split": split, "data_root": root, "found": found,
        "paired": any(im["clean"] is not None for im in images.values()),
        "metrics": [c for c in store.SCORE_COLUMNS if c in columns],
        "runs": [rid for rid, *_ in runs],
        "images": sorted(images.values(), key=lambda im: (im["index"], im["id"])),
    }
