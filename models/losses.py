"""UDRDR loss terms (eq. 4, 5, 8, 9, 10 and Sec. 3.4) as pure functions of tensors.

Reduction: every ``L1`` here is the *mean* absolute error over all elements (batch,
channels, pixels), i.e. ``torch.nn.functional.l1_loss(reduction="mean")``, so terms do not
grow with batch or patch size. Weights (Sec. 3.4) live in :class:`LossWeights`;
:func:`total_loss` sums the enabled terms and never evaluates a disabled one.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor

from models.direction_kernels import PADDING_MODES, AngleLike, directional_response

TERM_NAMES: tuple[str, ...] = ("content", "direction", "recons", "tv", "cycle", "distill")
MISSING_ANGLE_MODES = ("skip", "estimate")
KERNEL_MODES = ("oriented", "gradient")
"""``oriented``: the kernels at the sample's labelled angle and that angle + 90 (eq. 5);
``gradient``: the 0 and 90 deg kernels for every sample, label ignored (with ``l = 3``
the horizontal and vertical central differences: Fig. 7's "gradient operator" point)."""

Estimator = Callable[[Tensor], Tensor]


def _check_same(a: Tensor, b: Tensor, what: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{what}: shapes differ, expected {tuple(b.shape)}, got {tuple(a.shape)}")


def l1(a: Tensor, b: Tensor) -> Tensor:
    """Mean absolute error over all elements."""
    _check_same(a, b, "l1")
    return F.l1_loss(a, b, reduction="mean")


def content_loss(z_syn: Tensor, z_gt: Tensor) -> Tensor:
    """Eq. 4: ``L1(z_syn, z_gt)`` with ``z_gt = x_syn - y_gt`` the effective rain map."""
    _check_same(z_syn, z_gt, "content_loss")
    return l1(z_syn, z_gt)


def direction_loss(
    z_syn: Tensor,
    z_gt: Tensor,
    theta: AngleLike,
    l: int = 5,  # noqa: E741 - the paper's kernel-size symbol
    *,
    missing: str = "skip",
    estimator: Estimator | None = None,
    padding: str = "reflect",
) -> Tensor:
    """Eq. 5: ``sum_{k in (k_par, k_perp)} L1(k * z_syn, k * z_gt)``, per-sample angles.

    ``theta`` [B] holds each sample's rain angle in degrees (RainDirection convention);
    ``k_par``/``k_perp`` are the bank kernels at ``theta`` and ``theta + 90``. Since the
    kernels are linear this is computed as ``L1(k * (z_syn - z_gt), 0)``.

    Unknown angles (NaN) are handled by ``missing``:
    - ``"skip"``: those samples are left out; the L1 means run over the remaining
      samples only, and a batch with no known angle gives 0 (still differentiable).
    - ``"estimate"``: ``estimator(z_gt[unknown])`` (e.g. ``raindata``'s direction
      estimator, run on the ground-truth rain map, detached) returns their angles in
      degrees; without an ``estimator`` unknown angles raise ``ValueError``.
    """
    _check_same(z_syn, z_gt, "direction_loss")
    if missing not in MISSING_ANGLE_MODES:
        raise ValueError(f"missing must be one of {MISSING_ANGLE_MODES}, got {missing!r}")
    b = z_syn.shape[0]
    t = torch.as_tensor(theta, dtype=torch.float64).detach().cpu()
    if t.ndim == 0:
        t = t.expand(b).clone()
    if t.shape != (b,):
        raise ValueError(f"direction_loss: expected {b} angles, got shape {tuple(t.shape)}")
    unknown = torch.isnan(t)
    diff = z_syn - z_gt
    if bool(unknown.any()):
        if missing == "skip":
            known = ~unknown
            if not bool(known.any()):
                return diff.sum() * 0.0
            diff, t = diff[known.to(diff.device)], t[known]
        else:
            if estimator is None:
                raise ValueError(
                    "direction_loss: missing='estimate' needs an estimator for the "
                    f"{int(unknown.sum())} sample(s) without a rain angle"
                )
            estimated = torch.as_tensor(estimator(z_gt[unknown.to(z_gt.device)].detach()))
            t = t.clone()
            t[unknown] = estimated.to(torch.float64).cpu().reshape(-1)
    par, perp = directional_response(diff, t, l, padding)
    return par.abs().mean() + perp.abs().mean()


def recons_loss(y_syn: Tensor, y_gt: Tensor) -> Tensor:
    """Eq. 8: ``L1(y_syn, y_gt)``."""
    _check_same(y_syn, y_gt, "recons_loss")
    return l1(y_syn, y_gt)


def tv_loss(y_real: Tensor) -> Tensor:
    """Anisotropic L1 total variation of ``y_real`` [B,C,H,W].

    ``mean |y[i+1, j] - y[i, j]| + mean |y[i, j+1] - y[i, j]|``: each direction averaged
    over its own ``B*C*(H-1)*W`` (resp. ``B*C*H*(W-1)``) differences, then summed; a
    direction with a single row/column contributes 0.
    """
    if y_real.ndim != 4:
        raise ValueError(f"tv_loss: expected [B,C,H,W], got shape {tuple(y_real.shape)}")
    total = y_real.sum() * 0.0
    if y_real.shape[-2] > 1:
        total = total + (y_real[..., 1:, :] - y_real[..., :-1, :]).abs().mean()
    if y_real.shape[-1] > 1:
        total = total + (y_real[..., :, 1:] - y_real[..., :, :-1]).abs().mean()
    return total


def cycle_loss(y_real: Tensor, z_real: Tensor, x_real: Tensor) -> Tensor:
    """Cycle consistency (Sec. 3.4): ``L1(y_real + z_real, x_real)``; trains F1 and F2."""
    _check_same(y_real, x_real, "cycle_loss (y_real)")
    _check_same(z_real, x_real, "cycle_loss (z_real)")
    return l1(y_real + z_real, x_real)


def make_reference(y_gt: Tensor, z_real: Tensor, clip: bool = False) -> Tensor:
    """Eq. 9: ``x_ref = y_gt + z_real``, with ``z_real`` detached.

    ``x_ref`` only feeds the student F3, so the distillation loss must not train F1
    through it. The paper adds without clipping (default); ``clip=True`` clamps to
    ``[0, 1]`` like the synthesiser's ``O = clip(B + R)``.
    """
    _check_same(z_real, y_gt, "make_reference")
    x_ref = y_gt + z_real.detach()
    return x_ref.clamp(0.0, 1.0) if clip else x_ref


def distill_loss(
    f3_real: Tensor, y_real: Tensor, f3_ref: Tensor, y_gt: Tensor, phi: float = 10.0
) -> Tensor:
    """Eq. 10: ``L1(F3(x_real), y_real) + phi * L1(F3(x_ref), y_gt)``.

    ``y_real`` (the teacher's output) is detached here, so this loss trains F3 only.
    """
    _check_same(f3_real, y_real, "distill_loss (real)")
    _check_same(f3_ref, y_gt, "distill_loss (ref)")
    return l1(f3_real, y_real.detach()) + phi * l1(f3_ref, y_gt.detach())


@dataclass(frozen=True)
class LossWeights:
    """Loss weights and regularizer settings; defaults are the paper's (Sec. 3.1, 3.4).

    A weight of 0 disables its term (``direction=0`` is the lambda = 0 ablation of
    Table 4, ``distill=0`` the "w/o distillation" ablation of Table 5).
    """

    content: float = 1.0
    direction: float = 1.2  # lambda
    recons: float = 1.0
    tv: float = 0.001
    cycle: float = 0.01
    distill: float = 1.0
    phi: float = 10.0
    kernel_size: int = 5
    kernel_mode: str = "oriented"
    direction_padding: str = "reflect"
    missing_angle: str = "estimate"

    def __post_init__(self) -> None:
        for name in (*TERM_NAMES, "phi"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"LossWeights.{name}: expected a finite number >= 0, "
                                 f"got {value!r}")
        k = self.kernel_size
        if not isinstance(k, int) or k < 3 or k % 2 == 0:
            raise ValueError(f"LossWeights.kernel_size: expected an odd integer >= 3, got {k!r}")
        if self.kernel_mode not in KERNEL_MODES:
            raise ValueError(f"LossWeights.kernel_mode: expected one of {KERNEL_MODES}, "
                             f"got {self.kernel_mode!r}")
        if self.direction_padding not in PADDING_MODES:
            raise ValueError(f"LossWeights.direction_padding: expected one of {PADDING_MODES}, "
                             f"got {self.direction_padding!r}")
        if self.missing_angle not in MISSING_ANGLE_MODES:
            raise ValueError(f"LossWeights.missing_angle: expected one of "
                             f"{MISSING_ANGLE_MODES}, got {self.missing_angle!r}")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names of all settings (for config overrides such as ``--set loss.<name>=``)."""
        return tuple(f.name for f in fields(cls))

    def weight(self, term: str) -> float:
        """Weight of a loss term by name (one of :data:`TERM_NAMES`)."""
        _check_term(term)
        return float(getattr(self, term))

    def enabled(self, term: str) -> bool:
        """Whether ``term`` has a non-zero weight and must be computed."""
        return self.weight(term) != 0.0


def _check_term(term: str) -> None:
    if term not in TERM_NAMES:
        hint = difflib.get_close_matches(term, TERM_NAMES, n=3)
        extra = f" (did you mean {', '.join(hint)}?)" if hint else ""
        raise ValueError(f"unknown loss term {term!r}{extra}; known: {list(TERM_NAMES)}")


def total_loss(
    terms: Mapping[str, Tensor | Callable[[], Tensor]], weights: LossWeights
) -> tuple[Tensor, dict[str, Tensor]]:
    """Weighted sum of the given terms: ``(total, {name: weight * term})``.

    A term may be a tensor or a zero-argument callable; callables of disabled terms
    (weight 0) are never called, and disabled terms are absent from the returned dict.
    Only the terms passed are summed, so the teacher (F1, F2) and the student (F3)
    losses of the alternating update can be totalled separately.
    """
    weighted: dict[str, Tensor] = {}
    for name, term in terms.items():
        if not weights.enabled(name):
            continue
        value = term() if callable(term) else term
        weighted[name] = value * weights.weight(name)
    if not weighted:
        return torch.zeros(()), weighted
    values = iter(weighted.values())
    total = next(values)
    for value in values:
        total = total + value
    return total, weighted
