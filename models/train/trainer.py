"""The joint semi-supervised + distillation training of UDRDR (Sec. 3.4, 4.2).

Every step draws a synthetic batch ``(x_syn, y_gt, z_gt = x_syn - y_gt, angle)`` and an
independent real batch ``x_real`` (random crops of the same size, unpaired; see
:mod:`models.train.data`) and makes two updates, in this order (Sec. 3.4: "alternatingly
update F1, F2 and F3 ... each stage takes the outputs from previous stages"):

1. Teacher (F1, F2). ``z = F1(x)``, ``y = F2(x - z)`` for ``x = [x_syn; x_real]`` in
   one forward (no batch norm anywhere, so this equals two forwards; one forward per
   step is also what DistributedDataParallel needs). Loss (weights from ``[loss]``)::

       content L1(z_syn, z_gt) + 1.2 direction(z_syn, z_gt, angle) + recons L1(y_syn, y_gt)
       + 0.001 TV(y_real) + 0.01 L1(y_real + z_real, x_real)

2. Student (F3). ``x_ref = y_gt + z_real`` (eq. 9, ``z_real`` detached, unclipped
   unless ``loss.ref_clip``); ``F3`` runs on ``[x_real; x_ref]`` and the loss is
   ``distill * (L1(F3(x_real), y_real) + phi L1(F3(x_ref), y_gt))`` (eq. 10, phi 10) with
   the teacher outputs *of this step's forward* (before the teacher's update, detached:
   the student never trains F1/F2). ``loss.distill = 0`` (Table 5 "w/o distillation")
   skips the student entirely: F3 stays at its initialisation and is not exported.

Choices where the paper is silent (all config switches):

- ``optim.separate`` (default true): separate Adam + StepLR for teacher and student; the
  paper's "overall objective" is the sum, which a single optimiser over all three nets
  (``separate = false``) minimises with the same gradients.
- Direction labels come from ``direction.txt``; samples without one are skipped or get an
  angle estimated from their ``z_gt`` crop by :func:`raindata.direction.estimate_angle`
  (``loss.missing_angle = "skip" | "estimate"``). ``loss.direction = 0`` is the lambda=0
  ablation and never computes the term.
- Learning rate: Adam (0.9, 0.999, eps 1e-4), lr 8e-4, ``StepLR(40 epochs, 0.5)`` stepped
  at the end of each epoch, an epoch being one pass over the synthetic set.
- Precision: CPU trains in fp32; CUDA with ``run.amp`` uses ``torch.autocast`` for the
  network forwards (losses in fp32) and one ``GradScaler`` for float16.
- Non-finite losses: the weighted terms are checked after the forward and before any
  backward; a NaN/inf stops the run with a :class:`NonFiniteLoss` naming the step and
  the term; that step's row is logged, no weight is updated and nothing is saved, so the
  last checkpoint on disk is the last good state.
- Checkpoints every ``run.checkpoint_every`` steps and at the end; ``resume`` continues
  from the newest one with the same weights, optimiser, scheduler, scaler and RNG
  states, and the data order follows from ``(seed, step)``, so an interrupted and resumed
  run ends with the same weights, bit for bit on CPU, as an uninterrupted one.

The run holds ``run.out/.lock`` (:mod:`raindata.lock`, rank 0): a second run into the same
folder is refused, naming the first; temporary files a killed run left are removed. A full
disk stops the run with one line naming the file and the free space (checkpoints are
written atomically, a partial log row is cut off), and ``--resume`` continues.

Files in ``run.out``: ``checkpoints/step-N.pt``, ``train_log.csv``, ``config.toml`` (the
resolved config), ``provenance.json`` (command line, git commit, package versions,
device per session) and, at the end, ``udrdr_f3.pt`` (F3 only, :func:`save_f3`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from models import losses as L
from models.archs.udrdr import UDRDR
from models.train import checkpoint as ckpt
from models.train import ddp
from models.train.config import TrainConfig, config_from_dict, diff_keys, dump_toml
from models.train.data import TrainData, build_data, to_device
from models.train.log import LOG_NAME, StepLog
from raindata.atomic import DiskFullError, atomic_write_text, naming_disk_full, remove_stale_temps
from raindata.errors import DataError

F3_EXPORT = "udrdr_f3.pt"
F3_BEST_EXPORT = "udrdr_f3_best.pt"
CONFIG_NAME = "config.toml"
PROVENANCE_NAME = "provenance.json"
TEACHER_TERMS = ("content", "direction", "recons", "tv", "cycle")
RESUMABLE_KEYS = frozenset({
    "run.out", "run.device", "run.max_steps", "run.log_every", "run.checkpoint_every",
    "run.keep_checkpoints", "run.progress", "run.deterministic", "run.threads",
    "data.workers", "optim.epochs",
})
"""Config keys that may differ between a checkpoint and the run that resumes it."""

Echo = Callable[[str], None]


class NonFiniteLoss(DataError):
    """A loss term became NaN or infinite; the run stopped without saving that state."""

    def __init__(self, message: str, step: int, term: str) -> None:
        super().__init__(message)
        self.step = step
        self.term = term


@dataclass
class TrainResult:
    """What :func:`train` did."""

    out: Path
    step: int
    epoch: int
    total_steps: int
    checkpoint: Path | None
    f3: Path | None
    seconds: float
    steps_per_second: float
    model: UDRDR = field(repr=False)


class _Teacher(nn.Module):
    """F1 and F2 as one module (one DDP wrapper, one forward per step)."""

    def __init__(self, net: UDRDR, f2_trains_f1: bool = True) -> None:
        super().__init__()
        self.f1, self.f2 = net.f1, net.f2
        self.f2_trains_f1 = f2_trains_f1

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = self.f1(x)
        return z, self.f2(x - (z if self.f2_trains_f1 else z.detach()))


def estimate_angles(z_gt: Tensor) -> Tensor:
    """Per-sample rain angle (degrees) of ground-truth rain maps [n, 3, H, W]."""
    from raindata.direction import estimate_angle

    maps = z_gt.detach().float().cpu().permute(0, 2, 3, 1).numpy()
    return torch.tensor([estimate_angle(m) for m in maps], dtype=torch.float64)


def _check_teacher_enabled(cfg: TrainConfig) -> None:
    if not any(cfg.loss.enabled(t) for t in TEACHER_TERMS):
        raise DataError(f"loss: every teacher term ({', '.join(TEACHER_TERMS)}) has weight 0; "
                        "the teacher would never learn")


class Trainer:
    """Models, optimisers and the step of one training process (see module docstring)."""

    def __init__(self, cfg: TrainConfig, device: torch.device, info: ddp.DistInfo) -> None:
        _check_teacher_enabled(cfg)
        if cfg.optim.batch_size % info.world_size:
            raise DataError(f"optim.batch_size {cfg.optim.batch_size} does not split over "
                            f"{info.world_size} processes")
        self.cfg, self.device, self.info = cfg, device, info
        torch.manual_seed(cfg.run.seed)  # identical initial weights on every rank
        self.net = UDRDR(cfg.model).to(device)
        self.student_on = cfg.loss.enabled("distill")
        self.teacher = ddp.wrap(_Teacher(self.net, cfg.loss.f2_losses_train_f1), info, device)
        self.student = ddp.wrap(self.net.f3, info, device) if self.student_on else self.net.f3
        o = cfg.optim

        def adam(params) -> torch.optim.Adam:
            return torch.optim.Adam(params, lr=o.lr, betas=o.betas, eps=o.eps,
                                    weight_decay=o.weight_decay)

        teacher_params = [*self.net.f1.parameters(), *self.net.f2.parameters()]
        if o.separate:
            self.optimizers = {"teacher": adam(teacher_params)}
            if self.student_on:
                self.optimizers["student"] = adam(self.net.f3.parameters())
        else:
            params = teacher_params + (list(self.net.f3.parameters()) if self.student_on else [])
            self.optimizers = {"all": adam(params)}
        self.schedulers = {k: torch.optim.lr_scheduler.StepLR(v, o.lr_step_epochs, o.lr_gamma)
                           for k, v in self.optimizers.items()}
        self.amp = cfg.run.amp and device.type == "cuda"
        self.amp_dtype = torch.float16 if cfg.run.amp_dtype == "float16" else torch.bfloat16
        use_scaler = self.amp and self.amp_dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=use_scaler) if use_scaler else None

    # -- pieces ------------------------------------------------------------------------
    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp:
            return torch.autocast("cuda", dtype=self.amp_dtype)
        return contextlib.nullcontext()

    def lrs(self) -> tuple[float, float | None]:
        """Current learning rates of the teacher and the student optimiser."""
        first = next(iter(self.optimizers.values()))
        student = self.optimizers.get("student", first if self.student_on else None)
        return (first.param_groups[0]["lr"],
                None if student is None else student.param_groups[0]["lr"])

    def models(self) -> dict[str, nn.Module]:
        """The networks by checkpoint key."""
        return {"f1": self.net.f1, "f2": self.net.f2, "f3": self.net.f3}

    def losses(self, syn: dict[str, Any], real: dict[str, Any]) -> tuple[
            dict[str, Tensor], dict[str, Tensor]]:
        """Forward both parts; the weighted teacher and student terms (not yet summed)."""
        w = self.cfg.loss
        x_syn, y_gt, z_gt = syn["rainy"], syn["clean"], syn["rain"]
        x_real = real["rainy"]
        if x_real.shape != x_syn.shape:
            raise DataError(f"real batch {tuple(x_real.shape)} differs from the synthetic "
                            f"batch {tuple(x_syn.shape)}")
        n = x_syn.shape[0]
        with self._autocast():
            z_all, y_all = self.teacher(torch.cat([x_syn, x_real]))
        z_all, y_all = z_all.float(), y_all.float()
        z_syn, z_real, y_syn, y_real = z_all[:n], z_all[n:], y_all[:n], y_all[n:]
        angle = syn["angle"].detach().cpu()
        if w.kernel_mode == "gradient":  # the 0 and 90 deg kernels whatever the label
            angle = torch.zeros_like(angle)
        terms = {
            "content": lambda: L.content_loss(z_syn, z_gt),
            "direction": lambda: L.direction_loss(
                z_syn, z_gt, angle, w.kernel_size, missing=w.missing_angle,
                estimator=estimate_angles, padding=w.direction_padding),
            "recons": lambda: L.recons_loss(y_syn, y_gt),
            "tv": lambda: L.tv_loss(y_real),
            "cycle": lambda: L.cycle_loss(y_real, z_real, x_real),
        }
        _, teacher = L.total_loss(terms, w)
        student: dict[str, Tensor] = {}
        if self.student_on:
            x_ref = L.make_reference(y_gt, z_real, clip=w.ref_clip)
            with self._autocast():
                out = self.student(torch.cat([x_real, x_ref])).float()
            _, student = L.total_loss(
                {"distill": lambda: L.distill_loss(out[:n], y_real, out[n:], y_gt, w.phi)}, w)
        return teacher, student

    def _backward_step(self, loss: Tensor, names: tuple[str, ...]) -> None:
        scaler = self.scaler
        (scaler.scale(loss) if scaler is not None else loss).backward()
        for name in names:
            opt = self.optimizers[name]
            if self.cfg.optim.grad_clip > 0:
                if scaler is not None:
                    scaler.unscale_(opt)
                params = [p for g in opt.param_groups for p in g["params"]]
                torch.nn.utils.clip_grad_norm_(params, self.cfg.optim.grad_clip)
            if scaler is not None:
                scaler.step(opt)
            else:
                opt.step()

    def update(self, teacher: dict[str, Tensor], student: dict[str, Tensor]) -> None:
        """Backward and optimiser steps (teacher first, then student)."""
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=True)
        t_total = sum(teacher.values())
        if self.cfg.optim.separate:
            self._backward_step(t_total, ("teacher",))
            if student:
                self._backward_step(student["distill"], ("student",))
        else:
            total = t_total + student["distill"] if student else t_total
            self._backward_step(total, ("all",))
        if self.scaler is not None:
            self.scaler.update()

    def end_epoch(self) -> None:
        """Advance the lr schedules by one epoch."""
        for sched in self.schedulers.values():
            sched.step()

    def state(self, step: int, epoch: int) -> dict[str, Any]:
        """The checkpoint dict at ``step``."""
        return ckpt.make_state(step=step, epoch=epoch, models=self.models(),
                               optimizers=self.optimizers, schedulers=self.schedulers,
                               scaler=self.scaler, config=self.cfg.to_dict())

    def load(self, state: dict[str, Any]) -> None:
        """Restore a checkpoint dict (weights, optimisers, schedules, scaler, RNG)."""
        ckpt.restore(state, models=self.models(), optimizers=self.optimizers,
                     schedulers=self.schedulers, scaler=self.scaler, rng=self.info.is_main)


# -- the loop ----------------------------------------------------------------------------
def _echo_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _check_resumable(stored: dict[str, Any], cfg: TrainConfig, path: Path) -> None:
    try:
        old = config_from_dict(stored).to_dict()
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: stored config no longer valid ({exc})") from None
    changed = [k for k in diff_keys(old, cfg.to_dict()) if k not in RESUMABLE_KEYS]
    if changed:
        raise DataError(f"{path}: cannot resume, config differs in {', '.join(changed)} "
                        "(only run settings, data.workers and optim.epochs may change)")


def _write_provenance(out: Path, session: dict[str, Any]) -> None:
    path = out / PROVENANCE_NAME
    sessions: list[dict[str, Any]] = []
    if path.is_file():
        try:
            sessions = json.loads(path.read_text(encoding="utf-8")).get("sessions", [])
        except (json.JSONDecodeError, AttributeError):
            sessions = []
    if sessions and sessions[-1].get("id") == session.get("id"):
        sessions[-1] = session
    else:
        sessions.append(session)
    atomic_write_text(path, json.dumps({"sessions": sessions}, indent=2) + "\n")


def _nonfinite(values: dict[str, float]) -> tuple[str, float] | None:
    for name, value in values.items():
        if not math.isfinite(value):
            return name, value
    return None


def train(
    cfg: TrainConfig,
    *,
    resume: bool = False,
    argv: list[str] | None = None,
    echo: Echo | None = None,
) -> TrainResult:
    """Run (or, with ``resume``, continue) the training described by ``cfg``.

    Raises :class:`DataError` for bad data or config, :class:`NonFiniteLoss` when a loss
    term is NaN/inf. Returns a :class:`TrainResult` (its ``model`` holds the nets).
    """
    from raindata.provenance import record

    say = echo or _echo_stderr
    device = ddp.local_device(cfg.run.device, ddp.env_info())
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DataError(f"run.device {cfg.run.device!r}: CUDA is not available here")
    info = ddp.init(device)
    try:
        with _locked_out(cfg, info):
            return _train(cfg, device, info, resume, argv, say, record)
    finally:
        ddp.cleanup(info)


@contextlib.contextmanager
def _locked_out(cfg: TrainConfig, info: ddp.DistInfo):
    """Rank 0 holds ``run.out``'s lock for the whole run (a second run into it is refused,
    naming this one) and removes the temporary files a killed run left there."""
    if not info.is_main:
        yield
        return
    from models.train.validate import VAL_LOG
    from raindata.lock import lock_folder

    out = Path(cfg.run.out)
    with lock_folder(out):
        remove_stale_temps(out, (LOG_NAME, CONFIG_NAME, PROVENANCE_NAME, F3_EXPORT,
                                 F3_BEST_EXPORT, VAL_LOG))
        remove_stale_temps(out / ckpt.CHECKPOINT_DIR)
        yield


@contextlib.contextmanager
def _appending(path: Path):
    """Around an append to the log ``path``: a full disk is one line naming it, and the
    partial row it left is cut off again (so that a resume never reads half a row)."""
    size = path.stat().st_size if path.exists() else None
    try:
        with naming_disk_full(path):
            yield
    except DiskFullError as exc:
        if size is not None and str(exc).startswith(str(path)):
            with contextlib.suppress(OSError):
                os.truncate(path, size)
        raise


def _train(cfg, device, info, resume, argv, say, record) -> TrainResult:
    out = Path(cfg.run.out)
    main = info.is_main
    if cfg.run.threads:
        torch.set_num_threads(cfg.run.threads)
    if cfg.run.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    data: TrainData = build_data(cfg.data, cfg.optim.batch_size, cfg.run.seed)
    spe = data.steps_per_epoch
    total = cfg.optim.epochs * spe
    end = min(total, cfg.run.max_steps) if cfg.run.max_steps else total
    trainer = Trainer(cfg, device, info)
    ddp_seed = ddp.rank_seed(cfg.run.seed, info.rank)
    _seed_globals(ddp_seed)

    start = 0
    latest = ckpt.latest_checkpoint(out)
    if latest is not None and not resume:
        raise DataError(f"{out}: already holds checkpoints (latest {latest.name}); pass "
                        "--resume to continue it or set run.out to a new folder")
    if resume and latest is not None:
        state = ckpt.load_checkpoint(latest)
        _check_resumable(state["config"], cfg, latest)
        trainer.load(state)
        start = int(state["step"])
        if not info.is_main:
            _seed_globals(ddp.rank_seed(cfg.run.seed + start, info.rank))
        if main:
            say(f"resuming from {latest} (step {start}, epoch {start // spe})")
    elif resume and main:
        say(f"{out}: no checkpoint to resume, starting at step 0")

    log = None
    session_id = f"{time.time():.6f}"
    session: dict[str, Any] = {}
    if main:
        out.mkdir(parents=True, exist_ok=True)
        log = StepLog(out / LOG_NAME)
        if start or resume:
            log.truncate_after(start)
        atomic_write_text(out / CONFIG_NAME, dump_toml(
            cfg, "Resolved UDRDR training config (udrdr train); load_config() reads it."))
        session = record(cfg.to_dict(), argv)
        session.update(id=session_id, device=str(device), world_size=info.world_size,
                       torch=torch.__version__, start_step=start, end_step=end,
                       steps_per_epoch=spe, total_steps=total,
                       resumed_from=str(latest) if resume and latest else None,
                       status="running")
        if device.type == "cuda":
            session["gpu"] = torch.cuda.get_device_name(device)
        _write_provenance(out, session)
        say(f"UDRDR training: {len(data.synthetic)} synthetic pairs, {data.n_real_images} real "
            f"images, {spe} steps/epoch, steps {start}..{end} of {total}, device {device}"
            f"{f' x{info.world_size}' if info.enabled else ''}"
            f"{', AMP ' + cfg.run.amp_dtype if trainer.amp else ', fp32'}")

    if main and start == 0 and _checks_labels(cfg):
        from models.train.labels import require_consistent_labels

        checked = require_consistent_labels(data.synthetic, cfg.data.synthetic.root)
        say(f"direction labels checked: {checked.describe()}")
    val = _Validation(cfg, out, start, device, trainer, say) if main and cfg.val.enabled \
        else None

    last_ckpt = latest if resume else None
    t0 = time.perf_counter()
    done = start
    bar_cm = _progress(end - start, main and cfg.run.progress)
    try:
        with bar_cm as bar:
            for step, syn, real in data.batches(start, end, info, workers=cfg.data.workers,
                                                pin=device.type == "cuda"):
                ts = time.perf_counter()
                epoch = step // spe
                syn, real = to_device(syn, device), to_device(real, device)
                lr_t, lr_s = trainer.lrs()
                teacher, student = trainer.losses(syn, real)
                names = [*teacher, *student]
                vec = torch.stack([v.detach().float() for v in (*teacher.values(),
                                                                 *student.values())])
                values = dict(zip(names, ddp.mean_over_ranks(vec, info).tolist(),
                                  strict=True))
                bad = _nonfinite(values)
                row = _row(step, epoch, lr_t, lr_s, values, time.perf_counter() - ts, t0)
                if bad is not None:
                    if log is not None:
                        with _appending(log.path):
                            log.append(row)
                    where = last_ckpt if last_ckpt is not None else "none written yet"
                    raise NonFiniteLoss(
                        f"non-finite loss at step {step + 1} (epoch {epoch}): term "
                        f"{bad[0]!r} = {bad[1]}; stopped without saving, last good "
                        f"checkpoint: {where}", step + 1, bad[0])
                trainer.update(teacher, student)
                if (step + 1) % spe == 0:
                    trainer.end_epoch()
                done = step + 1
                row["seconds"] = time.perf_counter() - ts
                if log is not None and (done % cfg.run.log_every == 0 or done == end):
                    with _appending(log.path):
                        log.append(row)
                every = cfg.run.checkpoint_every
                validate = cfg.val.enabled and (done % cfg.val.every == 0 or done == total)
                if (every and done % every == 0) or done == end or validate:
                    if main:
                        last_ckpt = ckpt.save_checkpoint(ckpt.checkpoint_path(out, done),
                                                         trainer.state(done, done // spe))
                        if val is not None and validate:
                            with _appending(val.log_path):
                                val.run(done, done // spe, last_ckpt)
                        ckpt.prune_checkpoints(out, cfg.run.keep_checkpoints)
                    ddp.barrier(info)
                if bar is not None:
                    rate = (done - start) / max(time.perf_counter() - t0, 1e-9)
                    bar.update(1, f"{rate:.2f} steps/s  loss {row['total']:.4f}"
                               f"{val.status() if val is not None else ''}")
    except BaseException as exc:
        if main and session:
            session["status"] = "nonfinite" if isinstance(exc, NonFiniteLoss) else "stopped"
            session["stopped_at_step"] = done
            with contextlib.suppress(DiskFullError):  # the first error is the one to tell
                _write_provenance(out, session)
        raise
    seconds = time.perf_counter() - t0
    rate = (done - start) / seconds if seconds > 0 else 0.0
    f3_path = None
    if main:
        if done == end and trainer.student_on:
            from models.io.f3 import save_f3

            f3_path = out / F3_EXPORT
            meta = {"step": done, "epoch": done // spe, "total_steps": total,
                    "train_config": cfg.to_dict(), "git_commit": session.get("git_commit")}
            save_f3(f3_path, trainer.net.f3, cfg.model, meta)
            say(f"F3 exported to {f3_path}")
        elif done == end:
            say("loss.distill = 0: F3 was not trained and is not exported; the test-time "
                f"model of this ablation is the teacher F2(x - F1(x)) in {last_ckpt}")
        if val is not None and val.log.best_step is not None:
            session["best"] = {"step": val.log.best_step, "psnr": val.log.best_psnr}
            say(f"validation: {val.log.describe()} ({val.model}); {ckpt.best_path(out)}")
        session.update(status="finished" if done == end else "stopped", stopped_at_step=done,
                       seconds=round(seconds, 3), steps_per_second=round(rate, 4),
                       f3=str(f3_path) if f3_path else None)
        if device.type == "cuda":
            session["cuda_max_memory_allocated"] = torch.cuda.max_memory_allocated(device)
        _write_provenance(out, session)
        say(f"{done - start} steps in {seconds:.1f} s ({rate:.3f} steps/s); "
            f"checkpoint {last_ckpt}")
    return TrainResult(out=out, step=done, epoch=done // spe, total_steps=total,
                       checkpoint=last_ckpt, f3=f3_path, seconds=seconds,
                       steps_per_second=rate, model=trainer.net)


def _seed_globals(seed: int) -> None:
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _row(step: int, epoch: int, lr_t: float, lr_s: float | None, values: dict[str, float],
         seconds: float, t0: float) -> dict[str, object]:
    teacher = sum(v for k, v in values.items() if k in TEACHER_TERMS)
    student = values.get("distill")
    row: dict[str, object] = {"step": step + 1, "epoch": epoch, "lr_teacher": lr_t,
                              "lr_student": lr_s, **values, "teacher": teacher,
                              "student": student,
                              "total": teacher + (student or 0.0), "seconds": seconds,
                              "elapsed": time.perf_counter() - t0}
    return row


@contextlib.contextmanager
def _progress(length: int, show: bool):
    if not show or length <= 0:
        yield None
        return
    import click

    with click.progressbar(length=length, label="training", file=sys.stderr,
                           show_pos=True, show_eta=True,
                           item_show_func=lambda s: s) as bar:
        yield bar


def _checks_labels(cfg: TrainConfig) -> bool:
    """Whether the label-convention check applies (oriented direction term is on)."""
    loss = cfg.loss
    return loss.check_labels and loss.enabled("direction") and loss.kernel_mode == "oriented"


class _Validation:
    """Validation passes, the best step, ``checkpoints/best.pt`` and ``udrdr_f3_best.pt``."""

    def __init__(self, cfg: TrainConfig, out: Path, start: int, device: torch.device,
                 trainer: Trainer, say: Echo) -> None:
        from models.train.validate import VAL_LOG, ValLog, load_val_set

        self.cfg, self.out, self.device, self.trainer, self.say = cfg, out, device, trainer, say
        self.data = load_val_set(cfg.val)
        self.log = ValLog(out, start)
        self.log_path = out / VAL_LOG
        self.model = "F3" if trainer.student_on else "teacher F2(x - F1(x))"
        self.last = ""
        say(f"validation: {len(self.data)} images of {cfg.val.name} ({cfg.val.root}) every "
            f"{cfg.val.every} steps, best {self.model} by {cfg.val.protocol} PSNR")

    def run(self, step: int, epoch: int, checkpoint: Path) -> None:
        """Score the nets at ``step``; keep ``checkpoint`` as the best one when it is."""
        from models.train.validate import evaluate

        net = self.trainer.net
        result = evaluate(net.f1, net.f2, net.f3 if self.trainer.student_on else None,
                          self.data, self.device)
        if self.log.add(step, epoch, result, self.trainer.student_on):
            ckpt.copy_checkpoint(checkpoint, ckpt.best_path(self.out))
            if self.trainer.student_on:
                from models.io.f3 import save_f3

                meta = {"step": step, "epoch": epoch, "selected_by": "validation",
                        "val_psnr": result.selected(True), "val_set": self.cfg.val.root,
                        "train_config": self.cfg.to_dict()}
                save_f3(self.out / F3_BEST_EXPORT, net.f3, self.cfg.model, meta)
        self.last = f"{result.selected(self.trainer.student_on):.2f}"

    def status(self) -> str:
        """Progress-bar suffix: the last validation PSNR and the best so far."""
        if not self.last:
            return ""
        return f"  val {self.last} dB ({self.log.describe()})"
