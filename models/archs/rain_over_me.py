"""Rain O'er Me's deraining network (Lin et al., TIP 2020): the bare ``nn.Module``s.

Parameter names follow the official ``derainnet`` (``inc.0.weight``,
``block1.conv1.dilated_conv.weight``, ``merge11.0.weight``, ``outc.0.weight``,
``out2.0.weight``, ...) so that the released ``latest_net_G.pth`` files load with
``strict=True``. Sixteen features throughout:

- ``inc``: 3x3 conv 3->16, ReLU;
- three aggregation blocks, each two dilated units and a 3x3 merge of both (ReLU); a
  dilated unit is ``l = relu(conv(x))``, ``relu(dilated_conv(x - l) + l)`` (dilation 3);
- ``f01 = merge11(cat(block1(x), block2(block1(x))))``, ``merge12(cat(f01, block3(f01)))``;
- ``outc``: 3x3 conv 16->3, tanh: the rain layer ``res``; the image is ``input - res``;
- ``out2``: the "detail enhancement" branch on ``res`` that gives ``res2`` and a second
  image ``input - res2``, used by the training losses only. Its depth differs between the
  released files (``detail_convs``): 3 convs (conv-ReLU-conv-ReLU-conv) in
  ``code_for_Rain200L``/``code_for_Rain1400``, 2 convs ending in a ReLU
  (conv-ReLU-conv-ReLU) in ``code_for_DID_data``.
"""

from __future__ import annotations

import torch
from torch import nn

DETAIL_CONVS: tuple[int, ...] = (2, 3)
"""Depths of the ``out2`` branch in the released files (DID-Data: 2; the others: 3)."""


def _conv(cin: int, cout: int, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=dilation, dilation=dilation)


class DilatedUnit(nn.Module):
    """``l = relu(conv1(x))``; ``relu(dilated_conv(x - l) + l)`` (official ``ms_module0``)."""

    def __init__(self, channels: int, dilation: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(_conv(channels, channels), nn.ReLU())
        self.dilated_conv = _conv(channels, channels, dilation)
        self.nolinear = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.conv1(x)
        return self.nolinear(self.dilated_conv(x - low) + low)


class AggregationBlock(nn.Module):
    """Two dilated units in a row; both outputs merged by a 3x3 conv (``aggre_module``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = DilatedUnit(channels)
        self.conv2 = DilatedUnit(channels)
        self.merge = nn.Sequential(_conv(2 * channels, channels), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a1 = self.conv1(x)
        a2 = self.conv2(a1)
        return self.merge(torch.cat((a1, a2), dim=1))


def _detail_branch(detail_convs: int) -> nn.Sequential:
    if detail_convs == 3:
        return nn.Sequential(_conv(3, 16), nn.ReLU(), _conv(16, 16), nn.ReLU(), _conv(16, 3))
    if detail_convs == 2:
        return nn.Sequential(_conv(3, 16), nn.ReLU(), _conv(16, 3), nn.ReLU())
    raise ValueError(f"detail_convs must be one of {DETAIL_CONVS}, got {detail_convs}")


class RainOverMe(nn.Module):
    """The official ``derainnet``: ``(res, input - res, res2, input - res2)`` for an
    ``N x 3 x H x W`` RGB input in [0, 1]; any size (no down-sampling)."""

    def __init__(self, features: int = 16, detail_convs: int = 3) -> None:
        super().__init__()
        n = features
        self.inc = nn.Sequential(_conv(3, n), nn.ReLU())
        self.block1 = AggregationBlock(n)
        self.block2 = AggregationBlock(n)
        self.block3 = AggregationBlock(n)
        self.merge11 = nn.Sequential(_conv(2 * n, n), nn.ReLU())
        self.merge12 = nn.Sequential(_conv(2 * n, n), nn.ReLU())
        self.outc = nn.Sequential(_conv(n, 3), nn.Tanh())
        self.out2 = _detail_branch(detail_convs)
        self.detail_convs = detail_convs

    def rain_layer(self, x: torch.Tensor) -> torch.Tensor:
        """``res``: the estimated rain layer (tanh, in (-1, 1))."""
        f0 = self.block1(self.inc(x))
        f01 = self.merge11(torch.cat((f0, self.block2(f0)), dim=1))
        f33 = self.merge12(torch.cat((f01, self.block3(f01)), dim=1))
        return self.outc(f33)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        res = self.rain_layer(x)
        res2 = self.out2(res)
        return res, x - res, res2, x - res2


class RainOverMeTest(RainOverMe):
    """What the official ``test.py`` evaluates: ``(res, input - res)``.

    The saved image is ``Y_hat = input - res``; the ``out2`` branch feeds no test output,
    so it is not run, and its parameters are frozen (they exist only so that the released
    files load strictly, and no loss through this forward could reach them).
    """

    def __init__(self, features: int = 16, detail_convs: int = 3) -> None:
        super().__init__(features=features, detail_convs=detail_convs)
        self.out2.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        res = self.rain_layer(x)
        return res, x - res


def detail_convs_of(state: dict[str, torch.Tensor]) -> int:
    """Depth of the ``out2`` branch a state dict was saved with: 2 when ``out2.2`` is the
    last conv (16 -> 3, DID-Data), else 3 (the default, also for foreign files)."""
    last = state.get("out2.2.weight")
    if last is not None and "out2.4.weight" not in state and last.shape[0] == 3:
        return 2
    return 3
