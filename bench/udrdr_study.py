"""UDRDR at CPU scale: the full model and the paper's ablations, trained and scored (issue 9).

Every run is ``configs/cpu.toml`` with the overrides below, the same budget (720 steps)
and, unless it says otherwise, seed 0; two seeds of the full model and of lambda = 0 give
the seed spread. Phases (each resumable, each skips what is done):

    python bench/udrdr_study.py train  [--lanes 2] [--only NAME ...]   # udrdr train --resume
    python bench/udrdr_study.py score  [--only NAME ...] [--sets SET ...]  # benchmark run
    python bench/udrdr_study.py rainmaps [--only NAME ...]              # F1 rain maps
    python bench/udrdr_study.py report                                 # CSV, tables, plots
    python bench/udrdr_study.py all

``train`` runs ``--lanes`` trainings at once (one torch thread each). ``score`` scores each
run's validation-selected F3 (``udrdr_f3_best.pt``; the teacher from
``checkpoints/best.pt`` where there is no F3) on Rain100L test and the synthetic held-out
split (``data/cpu/test``), and the teacher beside the F3 of :data:`TEACHER_RUNS`; the
main-table runs (:data:`MAIN_RUNS`) also on Rain100H test, three of them
(:data:`NIQE_RUNS`) with NIQE on the SIRR real images; plus the rainy input for scale
(PReNet's rows come from ``bench/baselines.py``'s runs). ``--sets`` and ``--tested-only``
narrow that; the committed report says which cells were scored. (Scoring everything
everywhere would cost more CPU than the training: see the CPU figures in the README.)
``rainmaps`` scores each run's estimated rain map F1(x) against the true one on those two
sets (:mod:`udrdr_study_rainmaps`). ``report`` writes ``bench/results/udrdr_study.{csv,md}``,
the ``benchmark table`` layouts and plots (PNG) of the sweeps and training curves.

Data: the two ``raindata synth`` commands in the header of ``configs/cpu.toml``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BIN = Path(sys.executable).parent
CONFIG = ROOT / "configs" / "cpu.toml"
RUNS_DIR = ROOT / "runs" / "study"
RESULTS = ROOT / "results" / "study"
OUT = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Run:
    """One training of the study: a name, the config overrides, what it stands for."""

    name: str
    overrides: tuple[str, ...]
    what: str

    @property
    def out(self) -> Path:
        return RUNS_DIR / self.name

    @property
    def student(self) -> bool:
        return "loss.distill=0" not in self.overrides


RUNS: tuple[Run, ...] = (
    Run("full-s0", (), "full model (lambda 1.2, l = 5 oriented), seed 0"),
    Run("lambda0-s0", ("loss.direction=0",), "lambda = 0 (no direction regularizer), seed 0"),
    Run("full-s1", ("run.seed=1",), "full model, seed 1"),
    Run("lambda0-s1", ("loss.direction=0", "run.seed=1"), "lambda = 0, seed 1"),
    Run("nodistill", ("loss.distill=0",), "no distillation (teacher is the model)"),
    Run("l3-gradient", ("loss.kernel_size=3", "loss.kernel_mode=gradient"),
        "kernel size 3, horizontal/vertical gradients (label ignored)"),
    Run("l7", ("loss.kernel_size=7",), "kernel size 7, oriented"),
    Run("lambda0.3", ("loss.direction=0.3",), "lambda = 0.3"),
    Run("lambda4.8", ("loss.direction=4.8",), "lambda = 4.8"),
    Run("f2-detached", ("loss.f2_losses_train_f1=false",),
        "F2 terms do not train F1 (literal Sec. 3.4)"),
    Run("global-residual", ("model.global_residual=true",), "F2/F3 predict a residual"),
    Run("l3", ("loss.kernel_size=3",), "kernel size 3, oriented"),
)


def finished(run: Run) -> bool:
    """Whether the run's last session ended at its last step."""
    path = run.out / "provenance.json"
    if not path.is_file():
        return False
    sessions = json.loads(path.read_text()).get("sessions", [])
    return bool(sessions) and sessions[-1].get("status") == "finished"


def train_command(run: Run) -> list[str]:
    cmd = [str(BIN / "udrdr"), "train", "--config", str(CONFIG), "--resume",
           "--set", f"run.out={run.out}", "--set", "run.progress=false", "--set", "run.threads=1"]
    for o in run.overrides:
        cmd += ["--set", o]
    return cmd


def train(runs: list[Run], lanes: int) -> None:
    """Train the runs, ``lanes`` at a time; logs in ``runs/study/<name>.log``."""
    from lanes import run_in_lanes

    tasks = [(r.name, train_command(r), RUNS_DIR / f"{r.name}.log")
             for r in runs if not finished(r)]
    failed = run_in_lanes(tasks, lanes, cwd=ROOT, poll_s=10)
    if failed:
        raise SystemExit(f"failed runs: {', '.join(failed)} (see runs/study/<name>.log)")


# -- scoring ----------------------------------------------------------------------------
EVAL_SETS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # (dataset, root, split, metrics)
    ("rain100l", str(SHARED / "rain100l_test"), "test", ("psnr", "ssim", "rainmap")),
    ("rain100h", str(SHARED / "rain100h_test"), "test", ("psnr", "ssim", "rainmap")),
    ("raindirection", str(ROOT / "data" / "cpu" / "test"), "test", ("psnr", "ssim", "rainmap")),
    ("sirr", str(SHARED / "sirr_real"), "test", ("niqe",)),
)
SET_LABEL = {"rain100l": "Rain100L", "rain100h": "Rain100H",
             "raindirection": "synthetic held-out", "sirr": "SIRR real"}


MAIN_RUNS = ("full-s0", "full-s1", "lambda0-s0", "lambda0-s1", "nodistill")
"""Runs of the main table: scored on every set (Rain100H too); the sweeps on Rain100L and
the synthetic held-out split only, to fit the CPU budget."""
NIQE_RUNS = ("full-s0", "lambda0-s0", "nodistill")
"""Runs whose selected model is also scored with NIQE on the SIRR real images (68.7
megapixels: 35 to 44 minutes of one core per model at this size, beside a training)."""


TEACHER_RUNS = ("full-s0", "full-s1", "lambda0-s0", "lambda0-s1", "f2-detached",
                "global-residual")
"""Runs whose teacher is scored beside their F3: the full model's (Table 5) and those of
the switches that act on F1/F2 directly (the regularizer, the two open choices)."""


def models_of(run: Run) -> list[tuple[str, str, Path]]:
    """(label, method, weights) scored for a finished run: the selected F3, and the teacher
    where it is the model (no distillation) or the run is one of :data:`TEACHER_RUNS`."""
    found = []
    if run.student:
        found.append(("f3", "udrdr", run.out / "udrdr_f3_best.pt"))
    if not run.student or run.name in TEACHER_RUNS:
        found.append(("teacher", "udrdr-teacher", run.out / "checkpoints" / "best.pt"))
    return found


def sets_of(run_name: str, label: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """The evaluation sets of one scored model (see MAIN_RUNS and NIQE_RUNS)."""
    wanted = {"rain100l", "raindirection"}
    if run_name in MAIN_RUNS or run_name == "_reference":
        wanted.add("rain100h")
    tested = label == ("teacher" if run_name == "nodistill" else "f3")
    if run_name in NIQE_RUNS and tested:
        wanted.add("sirr")
    return [e for e in EVAL_SETS if e[0] in wanted]


REFERENCE: tuple[tuple[str, str, str | None], ...] = (("input", "input", None),)
"""Scored here for scale; PReNet's rows come from ``bench/baselines.py``'s runs."""


def score_one(method: str, weights: str | None, results: Path, sets) -> None:
    """``benchmark run`` of one model on ``sets`` (resumes; no work if done)."""
    from benchmark.runner import RunRequest, run_one

    for dataset, root, split, metrics in sets:
        req = RunRequest(method=method, dataset=dataset, data_root=root, split=split,
                         weights=weights, metrics=metrics, results=results,
                         argv=[sys.argv[0], "score"])
        out = run_one(req, log=lambda m: None)
        print(f"  {method} {dataset}: {out.record.scored}/{out.record.expected} "
              f"({out.newly_scored} new)", flush=True)


def score(runs: list[Run], only_sets: set[str] | None = None,
          tested_only: bool = False) -> None:
    """Score every finished run's models, and the reference rows (input, PReNet);
    ``only_sets`` limits the evaluation sets (a pass without the slow NIQE first)."""
    import torch

    torch.set_num_threads(1)
    for label, method, weights in REFERENCE:
        path = str(SHARED / "prenet_official" / weights) if weights else None
        print(f"reference {label}", flush=True)
        sets = [e for e in EVAL_SETS if e[0] != "sirr"]
        score_one(method, path, RESULTS / "_reference", sets)
    for run in runs:
        if not finished(run):
            print(f"skip {run.name}: training not finished", flush=True)
            continue
        for label, method, weights in models_of(run):
            if tested_only and label != ("f3" if run.student else "teacher"):
                continue
            print(f"{run.name} {label}", flush=True)
            sets = [e for e in sets_of(run.name, label) if not only_sets or e[0] in only_sets]
            score_one(method, str(weights), RESULTS / run.name / label, sets)


RAINMAP_SETS = ("rain100l", "raindirection")
"""Sets on which every run's F1 rain map is scored (those every run is scored on)."""


def rain_maps(runs: list[Run]) -> None:
    """Score F1(x) of every finished run's selected checkpoint (resumes per set)."""
    import torch
    from udrdr_study_rainmaps import score_set

    torch.set_num_threads(1)
    for run in runs:
        if not finished(run):
            print(f"skip {run.name}: training not finished", flush=True)
            continue
        for dataset, root, split, _ in EVAL_SETS:
            if dataset in RAINMAP_SETS:
                out = RESULTS / run.name / "f1map" / f"{dataset}.csv"
                print(f"{run.name} F1 rain map {dataset}", flush=True)
                score_set(run.out / "checkpoints" / "best.pt", dataset, root, split, out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phase", choices=["train", "score", "rainmaps", "report", "all"])
    ap.add_argument("--lanes", type=int, default=2, help="trainings at once (default 2)")
    ap.add_argument("--only", nargs="*", help="run names (default: all)")
    ap.add_argument("--sets", nargs="*", choices=[e[0] for e in EVAL_SETS],
                    help="score: only these evaluation sets (default: each run's own)")
    ap.add_argument("--tested-only", action="store_true",
                    help="score: only each run's tested model (F3; the teacher without one)")
    args = ap.parse_args(argv)
    names = {r.name for r in RUNS}
    unknown = set(args.only or ()) - names
    if unknown:
        ap.error(f"unknown run(s) {sorted(unknown)}; known: {sorted(names)}")
    runs = [r for r in RUNS if not args.only or r.name in args.only]
    if args.phase in ("train", "all"):
        train(runs, args.lanes)
    if args.phase in ("score", "all"):
        score(runs, set(args.sets) if args.sets else None, args.tested_only)
    if args.phase in ("rainmaps", "all"):
        rain_maps(runs)
    if args.phase in ("report", "all"):
        from udrdr_study_report import report

        report([r for r in RUNS if finished(r)], RESULTS, RUNS_DIR, OUT)  # none half-trained


if __name__ == "__main__":
    main()
