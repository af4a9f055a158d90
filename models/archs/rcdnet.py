"""RCDNet (Wang et al., CVPR 2020): the bare ``nn.Module``, no training code.

A rain convolutional dictionary network: the rainy image ``O`` is modelled as background
``B`` plus rain ``sum_n C_n * M_n`` (rain kernels ``C`` convolved with rain maps ``M``),
and each of the ``S`` stages is one proximal-gradient step on ``M`` then on ``B``, each
proximal operator a small residual network.

Parameter names follow the official ``RCDNet_code/for_syn/src/model/rcdnet.py`` (class
``Mainnet``: ``eta1``, ``eta11``, ``weight0``, ``conv``, ``w_z_f``, ``tau``,
``xnet.resx1.0.weight``, ``m_stage.3.tau``, ``fxnet.resx4.4.running_var``, ...) so that a
released ``model_best.pt`` (a plain state dict) loads with ``strict=True``. Facts of the
official forward kept as they are:

- step sizes and rain kernels enter divided by 10 (:data:`STEP_DIVISOR`);
- ``conv`` holds one kernel tensor per iteration, but every iteration uses ``conv[1]``
  (the kernels are shared between stages), so ``stages`` must be at least 3;
- ``eta1`` and the proximal network ``mnet`` are built and saved but never used; they are
  kept (frozen) so that the released files load.

The official code starts the kernels from ``init_kernel.mat`` (rain-streak shapes drawn by
its MATLAB script); here they start random, which only matters for training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

STEP_DIVISOR = 10.0
"""The official forward divides every step size and rain kernel by 10."""

KERNEL_SIZE = 9
"""Side of the rain kernels (``init_kernel.mat`` holds 3 x 32 x 9 x 9)."""

PROX_BLOCKS = 4
"""Residual blocks in each proximal network (the official option ``T``)."""


def _res_block(channels: int) -> nn.Sequential:
    """conv-BN-ReLU-conv-BN, 3x3 convolutions with bias (indices 0, 1, 3, 4 hold weights)."""
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
        nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels),
    )


class ProxNet(nn.Module):
    """``PROX_BLOCKS`` blocks ``x = relu(x + block(x))``; blocks named ``<prefix>1``..."""

    def __init__(self, channels: int, prefix: str) -> None:
        super().__init__()
        self.names = [f"{prefix}{k}" for k in range(1, PROX_BLOCKS + 1)]
        for name in self.names:
            self.add_module(name, _res_block(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in self.names:
            x = F.relu(x + getattr(self, name)(x))
        return x


class BackgroundProx(ProxNet):
    """Proximal network of the background and its dual channels (official ``Xnet``)."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, "resx")


class RainMapProx(ProxNet):
    """Proximal network of the rain maps, then a learned soft threshold (official ``Mnet``)."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, "resm")
        self.tau = nn.Parameter(torch.full((1, channels, 1, 1), 0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(super().forward(x) - self.tau)


class RCDNet(nn.Module):
    """RCDNet as the official ``Mainnet`` (17 stages, 32 maps, 32 dual channels:
    3,166,355 parameters). Works on RGB in [0, 255] (the official ``rgb_range``)."""

    def __init__(self, stages: int = 17, num_maps: int = 32, num_dual: int = 32) -> None:
        super().__init__()
        if stages < 3:
            raise ValueError(f"stages must be >= 3 (every iteration uses conv[1]), got {stages}")
        iters = stages - 1
        self.stages = stages
        kernel = torch.rand(3, num_maps, KERNEL_SIZE, KERNEL_SIZE) * 0.05
        self.eta1 = nn.Parameter(torch.ones(1))
        self.eta2 = nn.Parameter(torch.full((1,), 5.0))
        self.eta11 = nn.Parameter(torch.ones(iters, 1))
        self.eta12 = nn.Parameter(torch.full((iters, 1), 5.0))
        self.weight0 = nn.Parameter(kernel.clone())
        self.conv = nn.Parameter(kernel.expand(iters, -1, -1, -1, -1).clone())
        self.w_z_f = nn.Parameter(torch.full((num_dual, 3, 3, 3), 1 / 9))
        self.tau = nn.Parameter(torch.ones(1))
        self.xnet = BackgroundProx(num_dual + 3)
        self.mnet = RainMapProx(num_maps)
        self.x_stage = nn.Sequential(*(BackgroundProx(num_dual + 3) for _ in range(stages)))
        self.m_stage = nn.Sequential(*(RainMapProx(num_maps) for _ in range(stages)))
        self.fxnet = BackgroundProx(num_dual + 3)
        for p in (self.eta1, *self.mnet.parameters()):  # never used by the official forward
            p.requires_grad_(False)

    def forward_stages(
        self, rainy: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """(B0, backgrounds of stages 1..S and the refined last one, rain layers C*M of
        stages 1..S), as the official forward returns them; ``rainy`` in [0, 255]."""
        pad = KERNEL_SIZE // 2
        kernel = self.conv[1] / STEP_DIVISOR
        z0 = F.conv2d(rainy, self.w_z_f, padding=1)
        out = self.xnet(torch.cat((rainy, z0), dim=1))
        b0, dual = out[:, :3], out[:, 3:]
        rain_resid = F.relu(rainy - b0 - self.tau)
        maps = self.m_stage[0](
            F.conv_transpose2d(rain_resid, self.weight0 / STEP_DIVISOR, padding=pad))
        rain = F.conv2d(maps, kernel, padding=pad)
        out = self.x_stage[0](torch.cat((b0 - self.eta2 / STEP_DIVISOR * (b0 - (rainy - rain)),
                                         dual), dim=1))
        background, dual = out[:, :3], out[:, 3:]
        backgrounds, rains = [background], [rain]
        for i in range(self.stages - 1):
            grad_m = F.conv_transpose2d(rain - (rainy - background), kernel, padding=pad)
            maps = self.m_stage[i + 1](maps - self.eta11[i, :] / STEP_DIVISOR * grad_m)
            rain = F.conv2d(maps, kernel, padding=pad)
            rains.append(rain)
            step = self.eta12[i, :] / STEP_DIVISOR * (background - (rainy - rain))
            out = self.x_stage[i + 1](torch.cat((background - step, dual), dim=1))
            background, dual = out[:, :3], out[:, 3:]
            backgrounds.append(background)
        backgrounds.append(self.fxnet(out)[:, :3])
        return b0, backgrounds, rains

    def forward(self, rainy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(derained image: the refined last background, rain layer of the last stage),
        both on the [0, 255] scale of ``rainy``."""
        _, backgrounds, rains = self.forward_stages(rainy)
        return backgrounds[-1], rains[-1]
