"""Kernel bank of the rain direction regularizer (UDRDR eq. 5).

Angle convention (the released RainDirection one, shared with ``raindata``): 0 deg points
right and angles grow counter-clockwise *as the image is displayed*. Image rows grow
downward, so direction ``t`` has the unit vector ``d(t) = (cos t, -sin t)`` in
``(column, row)`` coordinates. Streaks are undirected, so 18 angles 0, 10, ..., 170 deg
cover every direction and angles are taken modulo 180.

Construction of the ``l x l`` kernel for angle ``t`` (``l`` odd, default 5 as in the
paper, 3 and 7 for its Fig. 7 sensitivity study): a first-order directional difference.
With centre ``c = ((l-1)/2, (l-1)/2)`` and radius ``r = (l-1)/2``, weight ``+1`` goes to
the point ``c + r d(t)`` and ``-1`` to the opposite point ``c - r d(t)``; each point is
bilinearly spread over the four grid cells around it (both points lie inside the grid
since ``|r d(t)| = r``). Every kernel therefore sums to 0 (its L1 norm is 2, less for
``l = 3`` where both spreads can share the centre cell and cancel there). For ``l = 3``
the 0 deg kernel is the horizontal central difference ``[[0,0,0],[-1,0,1],[0,0,0]]`` and
the 90 deg kernel the vertical one ``[[0,1,0],[0,0,0],[0,-1,0]]`` (``+1`` at the *top*,
because 90 deg points up on screen) - the paper's special case of image gradients.

Kernels are applied as cross-correlation (``torch.nn.functional.conv2d``), depthwise
(one kernel per channel), so the response at pixel ``p`` is the (interpolated)
difference ``z(p + r d) - z(p - r d)``: close to 0 along a streak lying in direction
``d`` and large across it. Borders are padded by ``l // 2`` pixels with *reflect*
padding by default (no artificial edge where a streak touches the border; ``"zeros"``
and ``"replicate"`` are available). Kernels are fixed (no gradient); the response is
differentiable with respect to the input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

N_ANGLES = 18
ANGLE_STEP_DEG = 10.0
GRID_ANGLES_DEG: tuple[float, ...] = tuple(ANGLE_STEP_DEG * i for i in range(N_ANGLES))
PADDING_MODES = ("reflect", "replicate", "zeros")

AngleLike = Tensor | Sequence[float] | float


def _check_size(l: int) -> None:  # noqa: E741 - the paper's name for the kernel size
    if not isinstance(l, int) or isinstance(l, bool) or l < 3 or l % 2 == 0:
        raise ValueError(f"kernel size must be an odd integer >= 3, got {l!r}")


@lru_cache(maxsize=16)
def _bank_values(l: int) -> tuple[tuple[tuple[float, ...], ...], ...]:  # noqa: E741
    """The 18 kernels as nested tuples of floats (cached; immutable)."""
    r = (l - 1) / 2
    bank = []
    for angle in GRID_ANGLES_DEG:
        rad = math.radians(angle)
        dcol, drow = r * math.cos(rad), -r * math.sin(rad)
        k = [[0.0] * l for _ in range(l)]
        for sign in (1.0, -1.0):
            # round away float noise such as cos(90 deg) = 6e-17 before splitting
            col = round(r + sign * dcol, 9)
            row = round(r + sign * drow, 9)
            c0, r0 = math.floor(col), math.floor(row)
            fc, fr = col - c0, row - r0
            for rr, wr in ((r0, 1.0 - fr), (r0 + 1, fr)):
                for cc, wc in ((c0, 1.0 - fc), (c0 + 1, fc)):
                    w = wr * wc
                    if w != 0.0:
                        k[rr][cc] += sign * w
        bank.append(tuple(tuple(row_) for row_ in k))
    return tuple(bank)


def kernel_bank(
    l: int = 5,  # noqa: E741
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """The bank of directional kernels, shape ``[18, l, l]``; index ``i`` is ``10 * i`` deg."""
    _check_size(l)
    return torch.tensor(_bank_values(l), dtype=dtype, device=device)


def angle_index(theta_deg: AngleLike) -> Tensor | int:
    """Index (0..17) of the grid angle nearest to ``theta_deg``, modulo 180 deg.

    Ties round up (5 deg -> 10 deg). A Python number gives an ``int``; a tensor or a
    sequence gives a ``long`` tensor of the same shape. Non-finite angles raise
    ``ValueError`` (mask or estimate unknown labels before calling).
    """
    if isinstance(theta_deg, int | float) and not isinstance(theta_deg, bool):
        if not math.isfinite(theta_deg):
            raise ValueError(f"rain angle must be finite degrees, got {theta_deg!r}")
        return math.floor(theta_deg / ANGLE_STEP_DEG + 0.5) % N_ANGLES
    t = torch.as_tensor(theta_deg, dtype=torch.float64)
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"rain angles must be finite degrees, got {t.tolist()!r}")
    return torch.remainder(torch.floor(t / ANGLE_STEP_DEG + 0.5), N_ANGLES).long()


def _per_sample_angles(theta: AngleLike, batch: int) -> Tensor:
    t = torch.as_tensor(theta, dtype=torch.float64).detach().cpu()
    if t.ndim == 0:
        t = t.expand(batch)
    if t.shape != (batch,):
        raise ValueError(f"expected one angle per sample, shape ({batch},), got {tuple(t.shape)}")
    return t


def apply_bank(z: Tensor, bank: Tensor, theta: AngleLike, padding: str = "reflect") -> tuple[
    Tensor, Tensor
]:
    """Filter ``z`` [B,C,H,W] with ``bank[theta_b]`` and ``bank[theta_b + 90]`` per sample.

    Returns ``(k_par * z, k_perp * z)``, each [B,C,H,W]. Vectorised: the per-sample
    kernels are stacked into one grouped convolution over the flattened batch.
    """
    if z.ndim != 4:
        raise ValueError(f"expected a batch [B,C,H,W], got shape {tuple(z.shape)}")
    if padding not in PADDING_MODES:
        raise ValueError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
    b, c, h, w = z.shape
    n, l, l2 = bank.shape  # noqa: E741
    if n != N_ANGLES or l != l2:
        raise ValueError(f"expected a kernel bank [18,l,l], got shape {tuple(bank.shape)}")
    idx = angle_index(_per_sample_angles(theta, b)).to(bank.device)
    pair = torch.stack([idx, (idx + N_ANGLES // 2) % N_ANGLES], dim=1)  # [B, 2]
    weight = bank.to(dtype=z.dtype, device=z.device)[pair.to(z.device)]  # [B, 2, l, l]
    weight = weight[:, None].expand(b, c, 2, l, l).reshape(b * c * 2, 1, l, l)
    pad = l // 2
    x = z.reshape(1, b * c, h, w)
    if padding == "zeros":
        out = F.conv2d(x, weight, padding=pad, groups=b * c)
    else:
        if padding == "reflect" and min(h, w) <= pad:
            raise ValueError(f"reflect padding of {pad} needs H, W > {pad}, got {h}x{w}")
        out = F.conv2d(F.pad(x, (pad, pad, pad, pad), mode=padding), weight, groups=b * c)
    out = out.reshape(b, c, 2, h, w)
    return out[:, :, 0], out[:, :, 1]


def directional_response(
    z: Tensor, theta: AngleLike, l: int = 5, padding: str = "reflect"  # noqa: E741
) -> tuple[Tensor, Tensor]:
    """``(k_par * z, k_perp * z)`` for a batch ``z`` [B,C,H,W] and angles ``theta`` [B] (deg).

    ``k_par`` is the bank kernel nearest to ``theta`` and ``k_perp`` the one at
    ``theta + 90`` (mod 180). Differentiable with respect to ``z``.
    """
    return apply_bank(z, kernel_bank(l, dtype=z.dtype, device=z.device), theta, padding)


class DirectionalFilter(nn.Module):
    """Module form of :func:`directional_response`; the bank is a fixed, non-persistent buffer."""

    bank: Tensor

    def __init__(self, kernel_size: int = 5, padding: str = "reflect") -> None:
        super().__init__()
        if padding not in PADDING_MODES:
            raise ValueError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
        self.kernel_size = kernel_size
        self.padding = padding
        self.register_buffer("bank", kernel_bank(kernel_size), persistent=False)

    def forward(self, z: Tensor, theta: AngleLike) -> tuple[Tensor, Tensor]:
        """``(k_par * z, k_perp * z)``, each shaped like ``z``."""
        return apply_bank(z, self.bank, theta, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, padding={self.padding!r}, angles=0..170 step 10"
