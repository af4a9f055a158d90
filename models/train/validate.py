"""Validation during training: score F3 and the teacher on a held-out paired set.

Every ``val.every`` steps (and at the last step) each validation image runs whole (or its
central ``val.crop`` square) through F3 and through the teacher ``F2(x - F1(x))``; the
float outputs are rounded to uint8 as ``udrdr derain`` saves them and scored with the
benchmark's own Y-PSNR/SSIM (``benchmark.metrics``, pure functions; the one place where
training uses the benchmark package, so that validation numbers are computed exactly as
the tables are). The scores go to ``val_log.csv``; the trainer keeps the best step.

The model that is selected is the test-time one: F3, or the teacher when ``loss.distill =
0`` (F3 is then never trained). Only validation data is ever used for the choice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.train.config import ValConfig
from models.train.log import StepLog, read_log

VAL_LOG = "val_log.csv"
VAL_COLUMNS: tuple[str, ...] = ("step", "epoch", "f3_psnr", "f3_ssim", "teacher_psnr",
                                "teacher_ssim", "selected_psnr", "best_step", "best_psnr",
                                "images", "seconds")


@dataclass
class ValSet:
    """The validation images, decoded once: (id, rainy uint8, clean uint8)."""

    items: list[tuple[str, np.ndarray, np.ndarray]]
    protocol: str

    def __len__(self) -> int:
        return len(self.items)


def _centre(img: np.ndarray, crop: int) -> np.ndarray:
    if crop <= 0:
        return img
    h, w = img.shape[:2]
    ch, cw = min(crop, h), min(crop, w)
    top, left = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(img[top:top + ch, left:left + cw])


def load_val_set(cfg: ValConfig) -> ValSet:
    """Find and decode the validation pairs of ``cfg`` (DataError when there are none)."""
    from models.train.data import find_samples
    from raindata.errors import DataError
    from raindata.layouts import load_pair

    samples = find_samples(cfg, "validation")
    if cfg.limit:
        samples = samples[: cfg.limit]
    items = []
    for s in samples:
        rainy, clean = load_pair(s)
        if clean is None:
            raise DataError(f"{s.rainy}: validation needs ground truth; {cfg.name!r} has none")
        items.append((s.id, _centre(rainy, cfg.crop), _centre(clean, cfg.crop)))
    return ValSet(items, cfg.protocol)


@dataclass
class ValResult:
    """Mean scores of one validation pass (teacher scores always, F3 when trained)."""

    f3_psnr: float | None
    f3_ssim: float | None
    teacher_psnr: float
    teacher_ssim: float
    seconds: float
    per_image: list[dict[str, float]] = field(default_factory=list)

    def selected(self, student: bool) -> float:
        """The PSNR that chooses the best checkpoint (F3's, or the teacher's)."""
        return float(self.f3_psnr if student and self.f3_psnr is not None else self.teacher_psnr)


def _to_uint8(y: torch.Tensor) -> np.ndarray:
    from models.inference.output import quantize

    return quantize(y[0].permute(1, 2, 0).float().cpu().numpy(), "round")


def evaluate(f1: nn.Module, f2: nn.Module, f3: nn.Module | None, data: ValSet,
             device: torch.device) -> ValResult:
    """Y-PSNR/SSIM (``data.protocol``) of F3 and of ``F2(x - F1(x))`` on every image."""
    from benchmark.metrics.psnr import psnr
    from benchmark.metrics.ssim import ssim

    start = time.perf_counter()
    nets = [m for m in (f1, f2, f3) if m is not None]
    modes = [m.training for m in nets]
    rows = []
    try:
        for m in nets:
            m.eval()
        with torch.inference_mode():
            for ident, rainy, clean in data.items:
                x = torch.from_numpy(rainy).to(device).permute(2, 0, 1)[None].float() / 255
                teacher = _to_uint8(f2(x - f1(x)))
                row = {"id": ident, "teacher_psnr": psnr(teacher, clean, data.protocol),
                       "teacher_ssim": ssim(teacher, clean, data.protocol)}
                if f3 is not None:
                    student = _to_uint8(f3(x))
                    row["f3_psnr"] = psnr(student, clean, data.protocol)
                    row["f3_ssim"] = ssim(student, clean, data.protocol)
                rows.append(row)
    finally:
        for m, mode in zip(nets, modes, strict=True):
            m.train(mode)

    def mean(key: str) -> float | None:
        values = [r[key] for r in rows if key in r]
        return float(np.mean(values)) if values else None

    return ValResult(mean("f3_psnr"), mean("f3_ssim"), float(mean("teacher_psnr")),
                     float(mean("teacher_ssim")), time.perf_counter() - start, rows)


class ValLog:
    """``val_log.csv`` and the best validation step so far (restored on resume)."""

    def __init__(self, out: Path, start: int) -> None:
        self.log = StepLog(out / VAL_LOG, VAL_COLUMNS)
        self.log.truncate_after(start)
        self.best_step: int | None = None
        self.best_psnr = -float("inf")
        for row in read_log(self.log.path):
            value = float(row["selected_psnr"])
            if value > self.best_psnr:
                self.best_step, self.best_psnr = int(row["step"]), value

    def add(self, step: int, epoch: int, result: ValResult, student: bool) -> bool:
        """Log one pass; True when it is a new best (strictly higher selected PSNR)."""
        value = result.selected(student)
        better = value > self.best_psnr
        if better:
            self.best_step, self.best_psnr = step, value
        self.log.append({"step": step, "epoch": epoch, "f3_psnr": result.f3_psnr,
                         "f3_ssim": result.f3_ssim, "teacher_psnr": result.teacher_psnr,
                         "teacher_ssim": result.teacher_ssim, "selected_psnr": value,
                         "best_step": self.best_step, "best_psnr": self.best_psnr,
                         "images": len(result.per_image), "seconds": round(result.seconds, 3)})
        return better

    def describe(self) -> str:
        """``best 27.31 dB @ 1200`` (empty before the first pass)."""
        if self.best_step is None:
            return ""
        return f"best {self.best_psnr:.2f} dB @ {self.best_step}"
