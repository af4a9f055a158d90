"""PReNet networks (Ren et al., CVPR 2019): the bare ``nn.Module``s, no training code.

Parameter names follow the official release (``conv0.0.weight``, ``res_conv1.2.bias``,
``conv_i.0.weight``, ``conv.0.weight``, ...) so that the released state dicts load with
``strict=True``. Two forwards share that parameter layout:

- :class:`PReNet` - ``networks.PReNet``: ConvLSTM, then 5 residual blocks, output + input.
- :class:`PReNetGenerator` - ``generator.Generator_lstm`` used by the official
  ``test_real.py``: 5 residual blocks, then the ConvLSTM, output without residual.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

N_RES_BLOCKS = 5


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=1)


class _PReNetBase(nn.Module):
    """Layers shared by both PReNet forwards; subclasses define one stage."""

    def __init__(self, stages: int = 6, features: int = 32, channels: int = 3) -> None:
        super().__init__()
        if stages < 1:
            raise ValueError(f"stages must be >= 1, got {stages}")
        self.stages = stages
        self.features = features
        n = features
        self.conv0 = nn.Sequential(_conv(2 * channels, n), nn.ReLU())
        for k in range(1, N_RES_BLOCKS + 1):
            block = nn.Sequential(_conv(n, n), nn.ReLU(), _conv(n, n), nn.ReLU())
            self.add_module(f"res_conv{k}", block)
        self.conv_i = nn.Sequential(_conv(2 * n, n), nn.Sigmoid())
        self.conv_f = nn.Sequential(_conv(2 * n, n), nn.Sigmoid())
        self.conv_g = nn.Sequential(_conv(2 * n, n), nn.Tanh())
        self.conv_o = nn.Sequential(_conv(2 * n, n), nn.Sigmoid())
        self.conv = nn.Sequential(_conv(n, channels))

    def _res_blocks(self, x: torch.Tensor) -> torch.Tensor:
        for k in range(1, N_RES_BLOCKS + 1):
            x = F.relu(getattr(self, f"res_conv{k}")(x) + x)
        return x

    def _lstm(
        self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        xh = torch.cat((x, h), dim=1)
        i, f = self.conv_i(xh), self.conv_f(xh)
        g, o = self.conv_g(xh), self.conv_o(xh)
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, c

    def _stage(
        self, rainy: torch.Tensor, prev: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def forward_stages(self, rainy: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of every stage for an ``N x 3 x H x W`` input in [0, 1]; last = result."""
        n, _, rows, cols = rainy.shape
        h = rainy.new_zeros((n, self.features, rows, cols))
        c = torch.zeros_like(h)
        if rainy.is_contiguous(memory_format=torch.channels_last):
            h = h.contiguous(memory_format=torch.channels_last)
            c = c.contiguous(memory_format=torch.channels_last)
        x = rainy
        outputs = []
        for _ in range(self.stages):
            x, h, c = self._stage(rainy, x, h, c)
            outputs.append(x)
        return outputs

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        """Derained estimate (last stage) of an ``N x 3 x H x W`` input in [0, 1]."""
        return self.forward_stages(rainy)[-1]


class PReNet(_PReNetBase):
    """PReNet as in the official ``networks.PReNet`` (6 stages, 168,963 parameters)."""

    def _stage(
        self, rainy: torch.Tensor, prev: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.conv0(torch.cat((rainy, prev), dim=1))
        h, c = self._lstm(x, h, c)
        x = self.conv(self._res_blocks(h))
        return x + rainy, h, c


class PReNetGenerator(_PReNetBase):
    """The official ``generator.Generator_lstm`` of ``test_real.py`` (4 stages there)."""

    def __init__(self, stages: int = 4, features: int = 32, channels: int = 3) -> None:
        super().__init__(stages=stages, features=features, channels=channels)

    def _stage(
        self, rainy: torch.Tensor, prev: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self._res_blocks(self.conv0(torch.cat((rainy, prev), dim=1)))
        h, c = self._lstm(x, h, c)
        return self.conv(h), h, c


def count_parameters(net: nn.Module) -> int:
    """Number of parameters of ``net`` (all of them, as the PReNet paper counts)."""
    return sum(p.numel() for p in net.parameters())
