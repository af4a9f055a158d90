"""UMRL network (Yasarla and Patel, CVPR 2019): the bare ``nn.Module``s, no training code.

Parameter names follow the official ``models/derain_mulcmp.py`` (class ``UMRL``:
``dense_block1.bn1.weight``, ``trans_block3_2.conv1.weight``, ``res_est.conv1.bn1.weight``,
``conf_res.refine3.bias``, ...) so that the released state dicts (280 tensors with the
batch-norm buffers) load with ``strict=True``.

The official test runs the network in training mode, so every batch-norm layer normalises
with the statistics of the image it is given. :class:`ImageStatsBatchNorm2d` does that for
each image of a batch separately, in train and eval mode alike, and never reads or updates
the stored running statistics (they are kept only so that the released file loads).

- :class:`UMRL` - the network; ``forward(x)`` makes the 1/2 and 1/4 scale inputs as the
  official ``umrl_test.py`` does and returns its seven outputs (index 1: the image).
- :class:`UMRLCycleSpin` - the official cycle-spinning test ``umrl_cycspn_test.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.archs.dense import DenseLayer, Transition

LEAK = 0.2
"""Negative slope of the LeakyReLUs of the official network."""

CYCLE_SPIN_STEP = 50
"""Shift step (pixels, both axes) of the official ``umrl_cycspn_test.py``."""


class ResidualEstimator(nn.Module):
    """Rain residual at one scale from decoder and encoder features (``scale_residue_est``)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = DenseLayer(64, 32, 3)
        self.trans_block1 = Transition(96, 32, "same")
        self.conv2 = DenseLayer(32, 32, 3)
        self.trans_block2 = Transition(64, 32, "same")
        self.conv3 = DenseLayer(32, 32, 3)
        self.trans_block3 = Transition(64, 32, "same")
        self.conv_refin = nn.Conv2d(32, 16, 3, 1, 1)
        self.refine3 = nn.Conv2d(16, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.trans_block1(self.conv1(x))
        x = self.trans_block2(self.conv2(x))
        x = self.trans_block3(self.conv3(x))
        x = F.leaky_relu(self.conv_refin(x), LEAK)
        return torch.tanh(self.refine3(x))


class ResidualConfidence(nn.Module):
    """Confidence map in (0, 1) of a residual from features + residual (35 channels,
    ``scale_residue_conf``). ``conv_refin`` is in the release but unused, as officially."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(35, 16, 3, 1, 1)
        self.conv2 = DenseLayer(16, 16, 3)
        self.trans_block2 = Transition(32, 16, "same")
        self.conv3 = DenseLayer(16, 16, 3)
        self.trans_block3 = Transition(32, 16, "same")
        self.conv_refin = nn.Conv2d(16, 16, 3, 1, 1)
        self.refine3 = nn.Conv2d(16, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.trans_block2(self.conv2(self.conv1(x)))
        x = self.trans_block3(self.conv3(x))
        return torch.sigmoid(self.refine3(x))


class UMRL(nn.Module):
    """UMRL as the official class ``UMRL`` (984,356 parameters, inputs in [-1, 1]).

    An encoder of five dense + transition pairs down to 1/16 scale, a decoder back up
    that estimates the rain residual and its confidence at 1/4 and 1/2 scale (the
    confidence-weighted residual is fed on), the full-scale residual, and a small
    refinement (conv 7x7, LeakyReLU, conv 3x3, tanh) of ``x - residual``. Both image
    sides must be multiples of 16 (the skip concatenations). ``batchnorm20``,
    ``batchnorm1`` and ``conf_res.conv_refin`` are in the release but unused, as
    officially; they are frozen (``requires_grad=False``) since nothing reaches them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.dense_block1 = DenseLayer(3, 29, 5)
        self.trans_block1 = Transition(32, 32, "down")
        self.dense_block2 = DenseLayer(32, 32, 5)
        self.trans_block2 = Transition(64, 32, "down")
        self.dense_block3 = DenseLayer(32, 32, 5)
        self.trans_block3 = Transition(64, 32, "down")
        self.dense_block3_1 = DenseLayer(32, 32, 5)
        self.trans_block3_1 = Transition(64, 32, "down")
        self.dense_block3_2 = DenseLayer(32, 32, 5)
        self.trans_block3_2 = Transition(64, 32, "up")
        self.dense_block4 = DenseLayer(64, 32, 5)
        self.trans_block4 = Transition(96, 32, "up")
        self.dense_block5 = DenseLayer(67, 32, 5)
        self.trans_block5 = Transition(99, 32, "up")
        self.dense_block6 = DenseLayer(67, 16, 5)
        self.trans_block6 = Transition(83, 16, "up")
        self.dense_block6_1 = DenseLayer(16, 16, 5)
        self.trans_block6_1 = Transition(32, 16, "same")
        self.conv_refin = nn.Conv2d(16, 16, 3, 1, 1)
        self.refine3 = nn.Conv2d(16, 3, 3, 1, 1)
        self.refineclean1 = nn.Conv2d(3, 8, 7, 1, 3)
        self.refineclean2 = nn.Conv2d(8, 3, 3, 1, 1)
        self.batchnorm20 = nn.BatchNorm2d(20)
        self.batchnorm1 = nn.BatchNorm2d(1)
        self.res_est = ResidualEstimator()
        self.conf_res = ResidualConfidence()
        for unused in (self.batchnorm20, self.batchnorm1, self.conf_res.conv_refin):
            unused.requires_grad_(False)

    def refine(self, x: torch.Tensor) -> torch.Tensor:
        """The shared clean-image refinement of ``x - residual``."""
        return torch.tanh(self.refineclean2(F.leaky_relu(self.refineclean1(x), LEAK)))

    def forward(
        self,
        x: torch.Tensor,
        x_half: torch.Tensor | None = None,
        x_quarter: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        """(residual, clean, clean 1/4, clean 1/2, confidence 1/4, 1/2, 1) for ``N x 3 x H x
        W`` in [-1, 1]; ``clean`` (index 1) is the image the official test saves.

        ``x_half``/``x_quarter`` (used only for the two small clean outputs) default to
        ``x`` downscaled by nearest-neighbour interpolation, as the official test makes
        them.
        """
        if x.shape[-2] % 16 or x.shape[-1] % 16:
            raise ValueError(f"UMRL needs both sides to be multiples of 16, got "
                             f"{tuple(x.shape[-2:])}")
        if x_half is None:
            x_half = F.interpolate(x, scale_factor=0.5, mode="nearest")
        if x_quarter is None:
            x_quarter = F.interpolate(x, scale_factor=0.25, mode="nearest")
        x1 = self.trans_block1(self.dense_block1(x))
        x2 = self.trans_block2(self.dense_block2(x1))
        x3 = self.trans_block3(self.dense_block3(x2))
        x3_1 = self.trans_block3_1(self.dense_block3_1(x3))
        x3_2 = self.trans_block3_2(self.dense_block3_2(x3_1))
        x4 = self.trans_block4(self.dense_block4(torch.cat([x3_2, x3], 1)))
        res_quarter = self.res_est(torch.cat([x4, x2], 1))
        conf_quarter = self.conf_res(torch.cat([x4, res_quarter], 1))
        x5 = self.trans_block5(self.dense_block5(
            torch.cat([x4, x2, res_quarter * conf_quarter], 1)))
        res_half = self.res_est(torch.cat([x5, x1], 1))
        conf_half = self.conf_res(torch.cat([x5, res_half], 1))
        x6 = self.trans_block6(self.dense_block6(torch.cat([x5, x1, res_half * conf_half], 1)))
        x6 = self.trans_block6_1(self.dense_block6_1(x6))
        residual = torch.tanh(self.refine3(F.leaky_relu(self.conv_refin(x6), LEAK)))
        conf_full = self.conf_res(torch.cat([x6, x6, residual], 1))
        return (residual, self.refine(x - residual), self.refine(x_quarter - res_quarter),
                self.refine(x_half - res_half), conf_quarter, conf_half, conf_full)


class UMRLCycleSpin(UMRL):
    """The official cycle-spinning test (``umrl_cycspn_test.py``) around :class:`UMRL`.

    For every shift ``(r, c)`` with ``r`` in ``range(0, H, step)`` and ``c`` in
    ``range(0, W, step)``: roll the input cyclically by ``(r, c)``, take the clean output,
    min-max normalise it per image (over all pixels and channels), roll it back; the
    result is the mean of these, on the [0, 1] scale (the official script weights each by
    a fixed 1/121 and min-max normalises the sum before saving, so only the final
    min-max-normalised image is comparable).
    """

    def __init__(self, step: int = CYCLE_SPIN_STEP) -> None:
        super().__init__()
        if step < 1:
            raise ValueError(f"step must be >= 1, got {step}")
        self.step = step

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Cycle-spun clean estimate of ``N x 3 x H x W`` in [-1, 1], on the [0, 1] scale."""
        from models.inference.pipeline import minmax

        height, width = x.shape[-2:]
        total = torch.zeros_like(x)
        shifts = [(r, c) for r in range(0, height, self.step) for c in range(0, width, self.step)]
        for r, c in shifts:
            clean = super().forward(torch.roll(x, (r, c), dims=(2, 3)))[1]
            total = total + torch.roll(minmax(clean), (-r, -c), dims=(2, 3))
        return total / len(shifts)
