"""JORDER-E (Yang et al., TPAMI 2019), the released "practical" network: bare ``nn.Module``s.

Parameter names follow the official ``model/jorder_e.py`` of ``testing_practical/src``
(``jorder1.encoder.weight``, ``jorder1.updater.res1.conv1.weight``,
``jorder2.mask_F_w_encoder2.bias``, ``jorder2.decoder.1.weight``, ...) so that
``model_practical.pt`` loads with ``strict=True``. Two recurrent stages of one design;
images in and out are RGB on the [0, 255] scale. No down-sampling: any size.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import init


def _conv(cin: int, cout: int, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=dilation, dilation=dilation)


class ContextBlock(nn.Module):
    """Official ``ResBlock``: ``x + p(1, 1) + 0.1 p(2, 2) + 0.1 p(2, 4)`` (+ the previous
    stage's output of the same block), where ``p(a, b) = relu(conv_b(relu(conv_a(x))))``
    with 3x3 convs of dilations ``a`` and ``b``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = _conv(channels, channels)
        self.conv2 = _conv(channels, channels)
        self.conv3 = _conv(channels, channels, 2)
        self.conv4 = _conv(channels, channels, 2)
        self.conv5 = _conv(channels, channels, 2)
        self.conv6 = _conv(channels, channels, 4)

    def _path(self, x: torch.Tensor, a: nn.Conv2d, b: nn.Conv2d) -> torch.Tensor:
        return self.relu(b(self.relu(a(x))))

    def forward(self, x: torch.Tensor, prev: torch.Tensor | None = None) -> torch.Tensor:
        y = (x + self._path(x, self.conv1, self.conv2)
             + self._path(x, self.conv3, self.conv4) * 0.1
             + self._path(x, self.conv5, self.conv6) * 0.1)
        return y if prev is None else y + prev


class Updater(nn.Module):
    """Official ``ResNet``: ``blocks`` context blocks ``res1`` ... in a row; returns the last
    output and every block's output (the second stage adds them block by block)."""

    def __init__(self, channels: int, blocks: int = 3) -> None:
        super().__init__()
        if blocks < 1:
            raise ValueError(f"blocks must be >= 1, got {blocks}")
        self.blocks = blocks
        for k in range(1, blocks + 1):
            self.add_module(f"res{k}", ContextBlock(channels))

    def forward(
        self, x: torch.Tensor, prev: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        feats = []
        for k in range(self.blocks):
            block = getattr(self, f"res{k + 1}")
            x = block(x, None if prev is None else prev[k])
            feats.append(x)
        return x, feats


class JorderStage(nn.Module):
    """Official ``JORDER``: one stage of rain detection (``mask``, 2 channels), rain level
    estimation (``level``, 3 channels) and removal, features modulated by both."""

    def __init__(self, features: int = 32, blocks: int = 3) -> None:
        super().__init__()
        g = features
        self.encoder = _conv(6, g)
        self.updater = Updater(g, blocks)
        self.mask_estimator1 = _conv(g, 8)
        self.mask_estimator2 = _conv(8, 2)
        self.level_estimator1 = _conv(g, 8)
        self.level_estimator2 = _conv(8, 3)
        self.mask_F_w_encoder1 = _conv(2, 16)
        self.mask_F_w_encoder2 = _conv(16, g)
        self.mask_F_b_encoder1 = _conv(2, 16)
        self.mask_F_b_encoder2 = _conv(16, g)
        self.level_F_w_encoder1 = _conv(3, 16)
        self.level_F_w_encoder2 = _conv(16, g)
        self.level_F_b_encoder1 = _conv(3, 16)
        self.level_F_b_encoder2 = _conv(16, g)
        for scale in (self.mask_F_w_encoder2, self.level_F_w_encoder2):  # official init
            init.constant_(scale.weight, 0)
            init.constant_(scale.bias, 1)
        self.decoder = nn.Sequential(_conv(g, g), _conv(g, 3))
        self.relu = nn.ReLU()

    def _two(self, a: nn.Conv2d, b: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
        return b(self.relu(a(x)))

    def forward(
        self,
        rainy: torch.Tensor,
        prev: tuple[torch.Tensor, list[torch.Tensor], torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """(image, block features, mask, level); ``prev``: the first stage's outputs."""
        guide = rainy if prev is None else prev[0]
        feat, feats = self.updater(self.encoder(torch.cat((rainy, guide), dim=1)),
                                   None if prev is None else prev[1])
        mask = self.mask_estimator2(self.mask_estimator1(feat))
        level = self.level_estimator2(self.level_estimator1(feat))
        if prev is not None:
            mask = mask + prev[2]
            level = level + prev[3]
        shifted = (self._two(self.mask_F_b_encoder1, self.mask_F_b_encoder2, mask) + feat
                   + self._two(self.level_F_b_encoder1, self.level_F_b_encoder2, level))
        scaled = (self._two(self.mask_F_w_encoder1, self.mask_F_w_encoder2, mask) * feat
                  * self._two(self.level_F_w_encoder1, self.level_F_w_encoder2, level))
        return self.decoder(shifted + scaled) + rainy, feats, mask, level


class JORDERE(nn.Module):
    """Official ``JORDER_E``: two stages; returns ``(image2, image1, mask2, level2)`` for an
    ``N x 3 x H x W`` RGB input on [0, 255] (the first item is the result)."""

    def __init__(self, features: int = 32, blocks: int = 3) -> None:
        super().__init__()
        self.jorder1 = JorderStage(features, blocks)
        self.jorder2 = JorderStage(features, blocks)

    def forward(self, rainy: torch.Tensor) -> tuple[torch.Tensor, ...]:
        first = self.jorder1(rainy)
        image, _, mask, level = self.jorder2(rainy, first)
        return image, first[0], mask, level
