"""Dense-network layers shared by UMRL, DID-MDN and Syn2Real (the same authors' code).

Their official ``BottleneckBlock*`` / ``TransitionBlock*`` classes share one shape, and
their official tests run batch norm in training mode on batches of one image;
:class:`ImageStatsBatchNorm2d` reproduces that for every image of a batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ImageStatsBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` with training-mode arithmetic on each image alone, in train and eval
    mode alike: what the official test computes for its batches of one image. The
    running buffers are neither read nor changed (they are kept for loading).

    The images of a batch are laid side by side as channels of one image, so that the
    arithmetic is PyTorch's training-mode ``batch_norm`` itself (``instance_norm`` gives
    the same formula but differs by up to 1e-4 after a few layers).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        weight = self.weight.repeat(n) if self.weight is not None else None
        bias = self.bias.repeat(n) if self.bias is not None else None
        flat = x.reshape(1, n * c, *x.shape[2:])
        return F.batch_norm(flat, None, None, weight, bias, True, 0.0, self.eps).view_as(x)


class DenseLayer(nn.Module):
    """BN-ReLU-conv1x1 (4 x growth) then BN-ReLU-conv(k x k) to ``growth`` channels,
    concatenated to the input (official ``BottleneckBlock``, ``...1`` (5x5), ``...2`` (7x7))."""

    def __init__(self, channels: int, growth: int, kernel: int = 3,
                 norm: type[nn.BatchNorm2d] = ImageStatsBatchNorm2d) -> None:
        super().__init__()
        inter = 4 * growth
        self.bn1 = norm(channels)
        self.conv1 = nn.Conv2d(channels, inter, 1, bias=False)
        self.bn2 = norm(inter)
        self.conv2 = nn.Conv2d(inter, growth, kernel, padding=kernel // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([x, out], 1)


class Transition(nn.Module):
    """BN-ReLU-(1x1 transposed conv), then ``down`` (2x2 average pool), ``up`` (nearest
    x2) or ``same`` (official ``TransitionBlock1`` / ``TransitionBlock`` / ``...3``)."""

    def __init__(self, channels: int, out_channels: int, resample: str = "same",
                 norm: type[nn.BatchNorm2d] = ImageStatsBatchNorm2d) -> None:
        super().__init__()
        if resample not in ("down", "up", "same"):
            raise ValueError(f"resample must be down, up or same, got {resample!r}")
        self.resample = resample
        self.bn1 = norm(channels)
        self.conv1 = nn.ConvTranspose2d(channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        if self.resample == "down":
            return F.avg_pool2d(out, 2)
        if self.resample == "up":
            return F.interpolate(out, scale_factor=2, mode="nearest")
        return out
