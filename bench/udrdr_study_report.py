"""Report of ``bench/udrdr_study.py``: every score as CSV, the study tables, plots.

Reads the scored runs under ``results/study/<run>/<f3|teacher>/``, F1's rain-map scores
under ``results/study/<run>/f1map/`` (model ``f1map`` in the CSV: its psnr/ssim columns are
those of the map) and the training and validation logs under ``runs/study/<run>/``; writes
``bench/results/udrdr_study.csv``,
``udrdr_study.md`` (tables with the seed spread), the ``benchmark table`` layouts of the
full model and ``udrdr_study_*.png`` (benchmark.plots).
"""

from __future__ import annotations

import csv
import io
import platform
import statistics
import subprocess
from datetime import date
from pathlib import Path

METRICS = ("psnr", "ssim", "rainmap_psnr", "rainmap_ssim", "niqe")
SETS = ("rain100l", "rain100h", "raindirection", "sirr")
SET_LABEL = {"rain100l": "Rain100L", "rain100h": "Rain100H",
             "raindirection": "synthetic held-out", "sirr": "SIRR real (NIQE)"}


def collect(results: Path) -> dict[tuple[str, str, str], dict[str, float]]:
    """(run, model, dataset) -> metric -> mean, for every scored run folder."""
    from benchmark.store import iter_runs, mean_score

    table: dict[tuple[str, str, str], dict[str, float]] = {}
    if not results.is_dir():
        return table
    for run_dir in sorted(p for p in results.iterdir() if p.is_dir()):
        models = [run_dir] if run_dir.name == "_reference" else \
            sorted(p for p in run_dir.iterdir() if p.is_dir())
        for model_dir in models:
            for _, record, rows in iter_runs(model_dir):
                s = record.settings
                model = s.method if run_dir.name == "_reference" else model_dir.name
                means = {}
                for m in METRICS:
                    values = [r[m] for r in rows if r.get(m) is not None]
                    if values:
                        means[m] = mean_score(values)
                means["n"] = len(rows)
                means["expected"] = record.expected
                table[(run_dir.name, model, s.dataset)] = means
    return table


def collect_f1(results: Path) -> dict[tuple[str, str, str], dict[str, float]]:
    """(run, "f1map", dataset) -> psnr/ssim of F1's own rain map (``rainmaps`` phase)."""
    from udrdr_study_rainmaps import read_means

    table: dict[tuple[str, str, str], dict[str, float]] = {}
    for path in sorted(results.glob("*/f1map/*.csv")):
        means = read_means(path)
        if means is not None:  # the file is written only when the whole set is scored
            psnr, ssim, n = means
            table[(path.parent.parent.name, "f1map", path.stem)] = {
                "psnr": psnr, "ssim": ssim, "n": n, "expected": n}
    return table


PRENET_FILES = {"rain100l": "PReNet6_Rain100L.pth", "rain100h": "PReNet6_Rain100H.pth"}
"""PReNet's official file for each set, as scored by ``bench/baselines.py``."""


def collect_prenet(baselines: Path) -> dict[tuple[str, str, str], dict[str, float]]:
    """PReNet's rows (its own file on each set) from the baselines runs, for scale."""
    from benchmark.store import iter_runs, mean_score

    table: dict[tuple[str, str, str], dict[str, float]] = {}
    if not baselines.is_dir():
        return table
    for _, record, rows in iter_runs(baselines):
        s = record.settings
        info = record.extra.get("method") or {}
        if s.method != "prenet" or info.get("weights_released_as") != PRENET_FILES.get(s.dataset):
            continue
        means = {m: mean_score([r[m] for r in rows if r.get(m) is not None]) for m in METRICS}
        table[("_reference", "prenet", s.dataset)] = {**means, "n": len(rows),
                                                      "expected": record.expected}
    return table


def best_val(run_dir: Path) -> dict[str, float]:
    """Best validation step and PSNR of a run (from val_log.csv)."""
    from models.train.log import read_log

    path = run_dir / "val_log.csv"
    if not path.is_file():
        return {}
    rows = read_log(path)
    if not rows:
        return {}
    last = rows[-1]
    return {"best_step": int(last["best_step"]), "best_psnr": float(last["best_psnr"]),
            "last_psnr": float(last["selected_psnr"]), "steps": int(last["step"])}


def write_csv(table, runs, path: Path) -> None:
    what = {r.name: r.what for r in runs}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "what", "model", "dataset", *METRICS, "images", "expected"])
    for (run, model, dataset), means in sorted(table.items()):
        w.writerow([run, what.get(run, "reference"), model, dataset,
                    *[("" if means.get(m) is None else f"{means[m]:.6f}") for m in METRICS],
                    means.get("n", ""), means.get("expected", "")])
    path.write_text(buf.getvalue())


def _cell(values: list[float | None], digits: int) -> str:
    """``mean`` or ``mean +- half-range`` over seeds; ``-`` when missing; ``(k of n)`` when
    only k of the n runs asked for have a complete score."""
    found = [v for v in values if v is not None]
    if not found:
        return "-"
    mean = statistics.fmean(found)
    text = f"{mean:.{digits}f}"
    if len(found) > 1:
        text += f" +- {(max(found) - min(found)) / 2:.{digits}f}"
    if len(found) < len(values):
        text += f" ({len(found)} of {len(values)})"
    return text


def _complete(table, key: tuple[str, str, str], metric: str) -> float | None:
    """The mean of ``metric`` of a run that scored every image, else None (a partial run
    is never shown as a result)."""
    means = table.get(key, {})
    if means.get("n") != means.get("expected"):
        return None
    return means.get(metric)


def _row(table, label: str, keys: list[tuple[str, str]]) -> str:
    cells = [label]
    for dataset in SETS:
        if dataset == "sirr":
            cells.append(_cell([_complete(table, (r, m, dataset), "niqe") for r, m in keys], 3))
            continue
        for metric, digits in (("psnr", 2), ("ssim", 4)):
            cells.append(_cell([_complete(table, (r, m, dataset), metric) for r, m in keys],
                               digits))
    return "| " + " | ".join(cells) + " |"


MAP_SETS = ("rain100l", "raindirection")
PARTS_HEADER = ("| model | F3 Rain100L | F3 synthetic | teacher Rain100L | teacher synthetic "
                "| F1(x) map Rain100L | F1(x) map synthetic |\n|---|---|---|---|---|---|---|")


def _parts_row(table, label: str, keys: list[str]) -> str:
    """Y-PSNR of F3, of the teacher and of F1's rain map, on Rain100L and the synthetic set."""
    cells = [label]
    for model in ("f3", "teacher", "f1map"):
        for dataset in MAP_SETS:
            cells.append(_cell([_complete(table, (r, model, dataset), "psnr") for r in keys], 2))
    return "| " + " | ".join(cells) + " |"


MAP_HEADER = ("| model | F1(x) Rain100L PSNR | SSIM | F1(x) synthetic PSNR | SSIM "
              "| x - F3(x) Rain100L PSNR | x - F3(x) synthetic PSNR |\n"
              "|---|---|---|---|---|---|---|")


def _map_row(table, label: str, keys: list[str], derived: str = "f3") -> str:
    """F1's rain map (psnr, ssim per set), then the map ``rainy - output`` of ``derived``."""
    cells = [label]
    for dataset in MAP_SETS:
        for metric, digits in (("psnr", 2), ("ssim", 4)):
            cells.append(_cell([_complete(table, (r, "f1map", dataset), metric) for r in keys],
                               digits))
    for dataset in MAP_SETS:
        cells.append(_cell([_complete(table, (r, derived, dataset), "rainmap_psnr")
                            for r in keys], 2))
    return "| " + " | ".join(cells) + " |"


HEADER = ("| model | Rain100L PSNR | SSIM | Rain100H PSNR | SSIM | synthetic PSNR | SSIM "
          "| SIRR NIQE |\n|---|---|---|---|---|---|---|---|")


def _commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                             capture_output=True, check=True).stdout.strip()
        return out
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(runs, results: Path, runs_dir: Path, out: Path) -> None:
    """Write the CSV, the markdown tables, the table layouts and the plots."""
    from benchmark.tables import render

    table = collect(results)
    table.update(collect_prenet(results.parent / "baselines"))
    table.update(collect_f1(results))
    out.mkdir(parents=True, exist_ok=True)
    write_csv(table, runs, out / "udrdr_study.csv")
    names = {r.name for r in runs}

    def have(name: str) -> bool:
        return name in names and any(k[0] == name for k in table)

    lines = [
        "# UDRDR at CPU scale: full model and ablations (issue 9)",
        "",
        f"`python bench/udrdr_study.py all` ({date.today().isoformat()}, {platform.machine()}, "
        f"commit {_commit(out.parents[1])}): configs/cpu.toml, 720 steps per run, "
        "validation-selected checkpoints; y-matlab protocol. `a +- b`: mean over seeds 0 and "
        "1 +- half their range; `(1 of 2)`: one seed scored so far; `-`: not scored (only "
        "runs that scored every image are shown).",
        "",
        "## Main table",
        "",
        HEADER,
        _row(table, "rainy input", [("_reference", "input")]),
        _row(table, "PReNet (official Rain100L / Rain100H weights on their sets)",
             [("_reference", "prenet")]),
    ]
    seeds = [n for n in ("full-s0", "full-s1") if n in names]
    zero = [n for n in ("lambda0-s0", "lambda0-s1") if n in names]
    lines.append(_row(table, "UDRDR F3, full (seeds 0, 1)", [(n, "f3") for n in seeds]))
    lines.append(_row(table, "UDRDR F3, lambda = 0 (seeds 0, 1)", [(n, "f3") for n in zero]))
    lines.append(_row(table, "teacher of the full model (F2(x - F1(x)))",
                      [(n, "teacher") for n in seeds]))
    lines.append(_row(table, "teacher of lambda = 0", [(n, "teacher") for n in zero]))
    if have("nodistill"):
        lines.append(_row(table, "no distillation (teacher, own run)", [("nodistill", "teacher")]))
    lines += ["", "## Every run (F3, or the teacher where there is no F3)", "", HEADER]
    for run in runs:
        if have(run.name):
            model = "f3" if run.student else "teacher"
            lines.append(_row(table, f"{run.name}: {run.what}", [(run.name, model)]))
    lines += ["", "## F3, teacher and F1 rain map (Y-PSNR) where the teacher is scored", "",
              "The direction regularizer and the two open choices act on F1/F2 first; F3 "
              "learns from them. Rain map: F1(x) against clip(rainy - clean) (below).", "",
              PARTS_HEADER,
              _parts_row(table, "full (seeds 0, 1)", seeds),
              _parts_row(table, "lambda = 0 (seeds 0, 1)", zero)]
    for name in ("f2-detached", "global-residual"):
        if have(name):
            what = next(r.what for r in runs if r.name == name)
            lines.append(_parts_row(table, f"{name}: {what}", [name]))
    lines += ["", "## Rain maps (against clip(rainy - clean), uint8, Y-PSNR/SSIM)", "",
              "F1(x): the run's estimated rain map (validation-selected checkpoint, "
              "`udrdr_study.py rainmaps`); x - F3(x): the rain map that the derained output "
              "implies (`benchmark run --metrics rainmap`, the paper's Table 1). The rainy "
              "input's row is the all-zero map (no rain removed).", "", MAP_HEADER,
              _map_row(table, "rainy input (zero map)", ["_reference"], derived="input")]
    for label, keys in (("full (seeds 0, 1)", seeds), ("lambda = 0 (seeds 0, 1)", zero)):
        lines.append(_map_row(table, label, keys))
    for run in runs:
        if any(k[0] == run.name and k[1] == "f1map" for k in table):
            lines.append(_map_row(table, f"{run.name}: {run.what}", [run.name],
                                  derived="f3" if run.student else "teacher"))
    lines += ["", "## Validation (20 held-out RainTrainL pairs, central 128x128, Y-PSNR)", "",
              "| run | best step | best PSNR | last PSNR |", "|---|---|---|---|"]
    for run in runs:
        v = best_val(runs_dir / run.name)
        if v:
            lines.append(f"| {run.name} | {v['best_step']} | {v['best_psnr']:.2f} | "
                         f"{v['last_psnr']:.2f} |")
    full = results / "full-s0" / "f3"
    if full.is_dir():
        lines += ["", "## benchmark table --layout table1 (full-s0 F3)", "",
                  render(full, "table1", "markdown")]
    (out / "udrdr_study.md").write_text("\n".join(lines) + "\n")
    _plots(table, runs, runs_dir, out)
    print(f"wrote {out / 'udrdr_study.md'}, {out / 'udrdr_study.csv'} and plots")


def _points(table, runs: list[tuple[float, str]], dataset: str,
            model: str = "f3") -> dict[float, list[float]]:
    """x -> the PSNRs of ``model`` (F3, or F1's rain map) of the runs at x (several runs at
    one x: seeds)."""
    out: dict[float, list[float]] = {}
    for x, run in runs:
        value = _complete(table, (run, model, dataset), "psnr")
        if value is not None:
            out.setdefault(x, []).append(value)
    return out


def _ticks(series: dict[str, dict[float, list[float]]],
           labels: dict[float, str]) -> dict[float, str]:
    """The x ticks that have a point in some series (a sweep still being run shows no
    empty positions)."""
    have = {x for points in series.values() for x in points}
    return {x: label for x, label in labels.items() if x in have}


def _series(table, runs: list[tuple[float, str]]) -> dict[str, dict[float, list[float]]]:
    """The sweep's series: F3 and F1's rain map, on Rain100L and the synthetic split."""
    return {f"{SET_LABEL[d]}, {what}": _points(table, runs, d, model)
            for model, what in (("f3", "F3"), ("f1map", "F1(x) rain map"))
            for d in MAP_SETS}


def _plots(table, runs, runs_dir: Path, out: Path) -> None:
    from benchmark import plots
    from models.train.log import read_log

    lam = [(0.0, "lambda0-s0"), (0.0, "lambda0-s1"), (0.3, "lambda0.3"), (1.2, "full-s0"),
           (1.2, "full-s1"), (4.8, "lambda4.8")]
    series = _series(table, lam)
    if any(series.values()):
        ticks = _ticks(series, {0.0: "0", 0.3: "0.3", 1.2: "1.2", 4.8: "4.8"})
        plots.sweep(series, out / "udrdr_study_lambda.png", xlabel="lambda (eq. 5 weight)",
                    ylabel="Y-PSNR (dB)", title="Direction regularizer weight",
                    xticks=list(ticks), xticklabels=list(ticks.values()))
    ker = [(2.0, "l3-gradient"), (3.0, "l3"), (5.0, "full-s0"), (5.0, "full-s1"), (7.0, "l7")]
    series = _series(table, ker)
    if any(series.values()):
        ticks = _ticks(series, {2.0: "3 grad", 3.0: "3", 5.0: "5", 7.0: "7"})
        plots.sweep(series, out / "udrdr_study_kernel.png", xlabel="directional kernel",
                    ylabel="Y-PSNR (dB)", title="Kernel size (lambda 1.2)",
                    xticks=list(ticks), xticklabels=list(ticks.values()))
    curves = {}
    for run in runs:
        path = runs_dir / run.name / "val_log.csv"
        if path.is_file():
            rows = read_log(path)
            curves[run.name] = ([int(r["step"]) for r in rows],
                                [float(r["selected_psnr"]) for r in rows])
    if curves:
        plots.curves(curves, out / "udrdr_study_validation.png", xlabel="step",
                     ylabel="validation Y-PSNR (dB)",
                     title="Validation during training (F3; teacher for nodistill)")
    if (runs_dir / "full-s0" / "train_log.csv").is_file():
        plots.training_curves(runs_dir / "full-s0", out / "udrdr_study_training_full-s0.png")
