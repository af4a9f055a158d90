"""UDRDR networks (Sec. 3, 4.2): F1 rain-map net, F2 reconstruction net, F3 distillation net.

All three are the scale-1 EDSR of :mod:`models.archs.edsr` (paper: 16 residual blocks, 64 / 64 /
128 filters). Images and rain maps are ``[0, 1]``-range float tensors [B, 3, H, W]; no
MeanShift normalisation (see :mod:`models.archs.edsr`). Sizes are preserved for any H, W.

- F1 (eq. 2-3): ``z = F1(x)``, the rain map, predicted directly (a rain map is already the
  residual ``x - y`` of eq. 1, so no global skip is ever added to F1).
- F2 (eq. 6-7): ``y = F2(x - z)``, reconstruction from the rain-subtracted image.
- F3 (eq. 10): ``y = F3(x)``, the student; the only net used at test time.

Choice where the paper is silent, as a config switch: ``global_residual`` (default
``False``, the plain EDSR the paper names, which predicts its output through
head/body/tail) makes F2 and F3 output ``input + EDSR(input)`` instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from torch import Tensor, nn

from models.archs.edsr import EDSR


@dataclass(frozen=True)
class UDRDRConfig:
    """Architecture of F1, F2, F3 (Sec. 4.2). ``paper()`` and ``tiny()`` are the presets."""

    in_channels: int = 3
    n_blocks: int = 16
    f1_feats: int = 64
    f2_feats: int = 64
    f3_feats: int = 128
    res_scale: float = 1.0
    global_residual: bool = False

    def __post_init__(self) -> None:
        for name in ("in_channels", "f1_feats", "f2_feats", "f3_feats"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"UDRDRConfig.{name}: expected an integer >= 1, got {value!r}")
        if not isinstance(self.n_blocks, int) or self.n_blocks < 0:
            raise ValueError(f"UDRDRConfig.n_blocks: expected an integer >= 0, "
                             f"got {self.n_blocks!r}")
        if not self.res_scale > 0:
            raise ValueError(f"UDRDRConfig.res_scale: expected > 0, got {self.res_scale!r}")

    @classmethod
    def paper(cls) -> UDRDRConfig:
        """Sec. 4.2: 16 residual blocks; 64, 64 and 128 filters for F1, F2, F3."""
        return cls()

    @classmethod
    def tiny(cls) -> UDRDRConfig:
        """2 blocks, 8/8/16 filters (about 19k parameters in all) for tests and CPU demos."""
        return cls(n_blocks=2, f1_feats=8, f2_feats=8, f3_feats=16)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> UDRDRConfig:
        """Build from a mapping (e.g. a TOML table); unknown keys are rejected with hints."""
        known = [f.name for f in fields(cls)]
        for key in values:
            if key not in known:
                hint = difflib.get_close_matches(key, known, n=3)
                extra = f" (did you mean {', '.join(hint)}?)" if hint else ""
                raise ValueError(f"unknown UDRDRConfig key {key!r}{extra}; known: {known}")
        return cls(**dict(values))


def build_f1(cfg: UDRDRConfig) -> EDSR:
    """Rain-map estimation net F1 (eq. 2-3): x -> z, never with a global skip."""
    return EDSR(cfg.in_channels, cfg.in_channels, cfg.f1_feats, cfg.n_blocks, cfg.res_scale,
                global_residual=False)


def build_f2(cfg: UDRDRConfig) -> EDSR:
    """Reconstruction net F2 (eq. 6-7): (x - z) -> y."""
    return EDSR(cfg.in_channels, cfg.in_channels, cfg.f2_feats, cfg.n_blocks, cfg.res_scale,
                global_residual=cfg.global_residual)


def build_f3(cfg: UDRDRConfig) -> EDSR:
    """Distillation (student) net F3 (eq. 10): x -> y; the test-time model."""
    return EDSR(cfg.in_channels, cfg.in_channels, cfg.f3_feats, cfg.n_blocks, cfg.res_scale,
                global_residual=cfg.global_residual)


class UDRDR(nn.Module):
    """F1, F2 (teacher) and F3 (student) together. ``forward`` is the student (test time)."""

    def __init__(self, cfg: UDRDRConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg if cfg is not None else UDRDRConfig.paper()
        self.f1 = build_f1(self.cfg)
        self.f2 = build_f2(self.cfg)
        self.f3 = build_f3(self.cfg)

    def teacher(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Semi-supervised part: ``z = F1(x)`` (eq. 2-3), ``y = F2(x - z)`` (eq. 6-7)."""
        z = self.f1(x)
        return z, self.f2(x - z)

    def student(self, x: Tensor) -> Tensor:
        """Distillation part: ``y = F3(x)`` (eq. 10)."""
        return self.f3(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.student(x)


class UDRDRTeacher(nn.Module):
    """The semi-supervised part at test time: ``(F2(x - F1(x)), F1(x))``.

    The state dict holds ``f1.*`` and ``f2.*`` as a training checkpoint stores them.
    """

    def __init__(self, cfg: UDRDRConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg if cfg is not None else UDRDRConfig.paper()
        self.f1 = build_f1(self.cfg)
        self.f2 = build_f2(self.cfg)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = self.f1(x)
        return self.f2(x - z), z
