"""Syn2Real network (Yasarla, Sindagi and Patel, CVPR 2020): the bare ``nn.Module``.

The deraining network of the official ``test.py``, class ``DeRain_v2`` in ``model.py``: a
U-shaped net of Res2Net-style blocks (:class:`Res2Block`, official ``Bottle2neckX`` with
base width 12, cardinality 8, scale 6) down to 1/8 of the input size, whose 1/8-scale
latent ``z`` is what the Gaussian process of the training models. Parameter names follow
the official class (``conv_input.weight``, ``dense_block4.convs.2.weight``,
``trans_block7_o.conv1.weight``, ``refineclean2.bias``, ...) so that a released
``derain_best`` (a ``DataParallel`` state dict, ``module.`` prefix) loads with
``strict=True`` once the prefix is dropped. Each block's squeeze-excitation layer
(``SE.fc.*``) is built and saved but not used by the official forward; it is kept, frozen.
Batch norm runs on its stored statistics (the official test calls ``net.eval()``).
Input RGB in [-1, 1], sides multiples of 8; output ``(clean in [0, 1], z)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from models.archs.dense import Transition

LEAK = 0.2
BASE_WIDTH = 12
CARDINALITY = 8
SCALE = 6


class SqueezeExcite(nn.Module):
    """Squeeze-excitation (official ``SEBlock``): built by every block, never applied."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(),
                                nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(x.mean(dim=(2, 3))).view(*x.shape[:2], 1, 1)


class Res2Block(nn.Module):
    """Official ``Bottle2neckX`` (stride 1, type ``normal``): BN-ReLU-conv1x1 to
    ``scale`` groups of ``width`` channels; hierarchical grouped 3x3 convs on all groups
    but the last (each after BN-ReLU, each fed the previous output plus its group);
    BN-ReLU-conv1x1 back to ``channels``, plus the input; output ``cat(input, result)``."""

    def __init__(self, channels: int, planes: int, base_width: int = BASE_WIDTH,
                 cardinality: int = CARDINALITY, scale: int = SCALE) -> None:
        super().__init__()
        if scale < 2:
            raise ValueError(f"scale must be >= 2, got {scale}")
        width = math.floor(planes * base_width / 64.0) * cardinality
        self.width = width
        self.conv1 = nn.Conv2d(channels, width * scale, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * scale)
        self.SE = SqueezeExcite(channels, cardinality)
        self.SE.requires_grad_(False)
        self.convs = nn.ModuleList(
            nn.Conv2d(width, width, 3, padding=1, groups=cardinality, bias=False)
            for _ in range(scale - 1))
        self.bns = nn.ModuleList(nn.BatchNorm2d(width) for _ in range(scale - 1))
        self.conv3 = nn.Conv2d(width * scale, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        groups = torch.split(self.conv1(F.relu(self.bn1(x))), self.width, 1)
        outs = []
        sp = groups[0]
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns, strict=True)):
            if i > 0:
                sp = sp + groups[i]
            sp = conv(F.relu(bn(sp)))
            outs.append(sp)
        out = torch.cat([*outs, groups[-1]], 1)
        out = self.conv3(F.relu(self.bn3(out))) + x
        return torch.cat([x, out], 1)


def _transition(channels: int, out_channels: int, resample: str) -> Transition:
    return Transition(channels, out_channels, resample, norm=nn.BatchNorm2d)


class Syn2RealNet(nn.Module):
    """The official ``DeRain_v2`` (2,618,294 parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_input = nn.Conv2d(3, 16, 3, padding=1)
        self.dense_block1 = Res2Block(16, 16)
        self.trans_block2 = _transition(32, 32, "down")
        self.dense_block2 = Res2Block(32, 32)
        self.trans_block2_o = _transition(64, 32, "same")
        self.trans_block3 = _transition(32, 32, "down")
        self.dense_block3 = Res2Block(32, 32)
        self.trans_block3_o = _transition(64, 64, "same")
        self.trans_block4 = _transition(64, 128, "down")
        self.dense_block4 = Res2Block(128, 128)
        self.trans_block4_o = _transition(256, 128, "same")
        self.dense_block5 = Res2Block(128, 128)
        self.trans_block5_o = _transition(256, 128, "same")
        self.dense_block6 = Res2Block(128, 128)
        self.trans_block6_o = _transition(256, 128, "same")
        self.trans_block7 = _transition(32, 64, "up")
        self.dense_block7 = Res2Block(128, 128)
        self.trans_block7_o = _transition(256, 32, "same")
        self.trans_block8 = _transition(32, 32, "up")
        self.dense_block8 = Res2Block(64, 64)
        self.trans_block8_o = _transition(128, 32, "same")
        self.trans_block9 = _transition(32, 32, "up")
        self.dense_block9 = Res2Block(80, 80)
        self.trans_block9_o = _transition(160, 16, "same")
        self.conv_refin = nn.Conv2d(16, 16, 3, padding=1)
        self.refine3 = nn.Conv2d(16, 3, 3, padding=1)
        self.zout = nn.Conv2d(128, 32, 3, padding=1)
        self.refineclean1 = nn.Conv2d(3, 8, 7, padding=3)
        self.refineclean2 = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(clean image in [0, 1], latent ``z`` at 1/8 scale) for ``x`` in [-1, 1]."""
        x0 = self.conv_input(x)
        x1 = self.dense_block1(x0)
        x2 = self.trans_block2_o(self.dense_block2(self.trans_block2(x1)))
        x3 = self.trans_block3_o(self.dense_block3(self.trans_block3(x2)))
        x4 = self.trans_block4_o(self.dense_block4(self.trans_block4(x3)))
        x5 = self.trans_block5_o(self.dense_block5(x4))
        x6 = self.trans_block6_o(self.dense_block6(x5))
        z = self.zout(F.leaky_relu(x6, LEAK))
        x7 = self.trans_block7_o(self.dense_block7(torch.cat([self.trans_block7(z), x3], 1)))
        x8 = self.trans_block8_o(self.dense_block8(torch.cat([self.trans_block8(x7), x2], 1)))
        x9 = self.trans_block9_o(self.dense_block9(
            torch.cat([self.trans_block9(x8), x1, x0], 1)))
        residual = torch.tanh(self.refine3(x0 - F.leaky_relu(self.conv_refin(x9), LEAK)))
        clean = F.leaky_relu(self.refineclean1(residual), LEAK)
        return torch.sigmoid(self.refineclean2(clean)), z
