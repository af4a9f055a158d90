"""``udrdr train``: the joint semi-supervised + distillation training of UDRDR."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("train")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="TOML config (configs/paper.toml, configs/demo.toml or your own).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override one config value, e.g. --set loss.direction=0 "
                   "--set run.out=runs/nolambda (TOML value syntax; repeatable).")
@click.option("--resume", is_flag=True,
              help="Continue from the newest checkpoint in run.out (fresh start if none).")
def train(config_path: Path, overrides: tuple[str, ...], resume: bool) -> None:
    """Train F1, F2 (teacher) and F3 (student) of UDRDR as in Sec. 3.4 of the paper.

    Each step updates the teacher on a synthetic pair and an unpaired real image, then
    the student F3 by distillation (eq. 9-10). Writes to run.out: checkpoints/ (every
    run.checkpoint_every steps and at the end), train_log.csv (every loss term and the
    lr per step), config.toml (the resolved config), provenance.json and, at the end,
    udrdr_f3.pt, the F3 checkpoint that `udrdr derain --weights` reads.

    Ablations from the same config: --set loss.direction=0 (lambda = 0, Table 4),
    --set loss.distill=0 (no distillation, Table 5). Several GPUs:
    torchrun --nproc_per_node N $(which udrdr) train --config C.toml.
    A NaN/inf loss stops the run with the step and term named (exit status 1).
    """
    from models.train.config import load_config
    from models.train.trainer import train as run_training

    cfg = load_config(config_path, overrides)
    run_training(cfg, resume=resume, argv=sys.argv)
