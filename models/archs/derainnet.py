"""DerainNet (Fu et al., "Clearing the Skies", TIP 2017), the paper's "Clear".

:class:`DerainNetCore` is the network of the official TensorFlow re-implementation
(``TIP17_training_code/training.py``): on the detail layer, a 16x16 convolution to 512
channels, ReLU, a 1x1 convolution 512 -> 512, ReLU, and an 8x8 transposed convolution to
3 channels, all 'valid' with stride 1, so an ``H x W`` detail gives an ``(H - 8) x (W - 8)``
detail estimate. 754,691 parameters.

:class:`DerainNet` is the official test (``testing.py``) as one module: pad the image by
10 pixels on each side by mirroring with the edge repeated (``tf.pad`` ``SYMMETRIC``),
split base and detail with the guided filter (radius 15, eps 1) on the padded image, run
the network on the detail, crop 6 pixels per side of its output and 10 of the base (both
back to ``H x W``) and add them.
"""

from __future__ import annotations

import torch
from torch import nn

from models.archs.guided_filter import base_and_detail

PAD = 10
"""Mirror padding per side of the official test, and the crop of the base."""


class DerainNetCore(nn.Module):
    """conv 16x16 -> ReLU -> conv 1x1 -> ReLU -> transposed conv 8x8, all 'valid'."""

    def __init__(self, features: int = 512, channels: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, features, 16)
        self.conv2 = nn.Conv2d(features, features, 1)
        self.deconv = nn.ConvTranspose2d(features, channels, 8)

    def forward(self, detail: torch.Tensor) -> torch.Tensor:
        """Detail estimate, 8 pixels smaller than ``detail`` in each direction."""
        return self.deconv(torch.relu(self.conv2(torch.relu(self.conv1(detail)))))


def symmetric_index(length: int, pad: int, device: torch.device) -> torch.Tensor:
    """Source indices that pad an axis of ``length`` by ``pad`` on both ends, mirrored
    with the edge repeated (repeatedly when ``pad`` exceeds ``length``)."""
    k = torch.arange(-pad, length + pad, device=device) % (2 * length)
    return torch.where(k < length, k, 2 * length - 1 - k)


def symmetric_pad(x: torch.Tensor, pad: int) -> torch.Tensor:
    """Pad rows and columns by ``pad`` mirroring with the edge repeated: ``tf.pad``
    ``SYMMETRIC`` (which needs ``pad`` <= each side) and ``numpy.pad`` ``symmetric``."""
    height, width = x.shape[-2:]
    rows = symmetric_index(height, pad, x.device)
    cols = symmetric_index(width, pad, x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


class DerainNet(nn.Module):
    """Test-time DerainNet on RGB in [0, 1]: the output has the input's size.

    The official test needs sides >= 12 (``tf.pad`` SYMMETRIC needs sides >= 10, DDN's
    guided filter padded sides > 31); here any size runs, with the padding mirrored
    repeatedly and the guided filter's windows cut at the border.
    """

    def __init__(self, features: int = 512, channels: int = 3, radius: int = 15,
                 eps: float = 1.0) -> None:
        super().__init__()
        self.net = DerainNetCore(features, channels)
        self.radius = radius
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Derained estimate of ``x`` (N x 3 x H x W), same size."""
        padded = symmetric_pad(x, PAD)
        base, detail = base_and_detail(padded, self.radius, self.eps)
        out = self.net(detail)
        crop = (out.shape[-1] - x.shape[-1]) // 2
        out = out[..., crop:out.shape[-2] - crop, crop:out.shape[-1] - crop]
        return base[..., PAD:-PAD, PAD:-PAD] + out
