"""DDN (Fu et al., CVPR 2017) and SIRR (Wei et al., CVPR 2019): the deep detail network.

:class:`DetailNetwork` is the 26-layer residual network of DDN's official ``training.py``
(SIRR's ``training.py`` has the same layers): on the detail layer, 26 convolutions 3x3
('same' padding, stride 1, with bias), each followed by a batch normalisation; ReLU after
the first 25; a shortcut adds the output of every second layer pair to the running
features (12 pairs after layer 1); the last layer gives 3 channels, the negative residual.
57,369 parameters.

The normalisation differs between the two releases:

- ``norm="running"`` (DDN, ``tf.layers.batch_normalization``, ``is_training=False`` at
  test time): the stored moving mean and variance, epsilon 1e-3.
- ``norm="image"`` (SIRR, ``tf.nn.moments`` over batch, rows and columns followed by
  ``tf.nn.batch_normalization``, in training and testing alike): the statistics of the
  batch being processed, epsilon 1e-5; the official test feeds one image at a time.

:class:`DDN` is the whole test-time model: guided-filter base/detail split, network,
``rainy + negative residual``.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from models.archs.guided_filter import base_and_detail

NORMS: dict[str, float] = {"running": 1e-3, "image": 1e-5}
"""Normalisation kinds and the epsilon each official code uses."""


class DetailNetwork(nn.Module):
    """The 26 conv + norm layers; ``forward(detail)`` returns the negative residual.

    Parameters: ``conv.{i}`` (weight OIHW, bias) and ``norm.{i}`` (weight = gamma, bias =
    beta; with ``norm="running"`` also ``running_mean``/``running_var``), i = 0..25 for
    the official layers 1..26.
    """

    def __init__(self, features: int = 16, channels: int = 3, pairs: int = 12,
                 norm: str = "running") -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {sorted(NORMS)}, got {norm!r}")
        self.norm_kind = norm
        widths = [channels] + [features] * (2 * pairs + 1) + [channels]
        self.conv = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1)
                                  for a, b in itertools.pairwise(widths))
        running = norm == "running"
        self.norm = nn.ModuleList(nn.BatchNorm2d(b, eps=NORMS[norm], track_running_stats=running)
                                  for b in widths[1:])
        self.pairs = pairs

    def _layer(self, i: int, x: torch.Tensor) -> torch.Tensor:
        return self.norm[i](self.conv[i](x))

    def forward(self, detail: torch.Tensor) -> torch.Tensor:
        """Negative residual (N x 3 x H x W) of a detail layer."""
        shortcut = torch.relu(self._layer(0, detail))
        for k in range(self.pairs):
            x = torch.relu(self._layer(2 * k + 1, shortcut))
            x = torch.relu(self._layer(2 * k + 2, x))
            shortcut = shortcut + x
        return self._layer(2 * self.pairs + 1, shortcut)


class DDN(nn.Module):
    """Test-time DDN/SIRR: ``x + net(x - guided_filter(x))`` on RGB in [0, 1].

    The guided filter is self-guided per channel with radius 15 and eps 1 (both official
    codes), so both sides of the input must exceed 31 pixels. ``guide_dtype`` is the
    precision the base/detail split is computed in (SIRR's official test computes it in
    float64 with numpy and OpenCV, DDN's in float32 inside the TensorFlow graph); the
    detail is cast back to the input's dtype before the network.
    """

    def __init__(self, features: int = 16, channels: int = 3, pairs: int = 12,
                 norm: str = "running", radius: int = 15, eps: float = 1.0,
                 guide_dtype: str = "float32") -> None:
        super().__init__()
        self.net = DetailNetwork(features, channels, pairs, norm)
        self.radius = radius
        self.eps = eps
        self.guide_dtype = guide_dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Derained estimate of ``x`` (N x 3 x H x W, RGB in [0, 1], sides > 2 r + 1)."""
        dtype = getattr(torch, self.guide_dtype)
        _, detail = base_and_detail(x.to(dtype), self.radius, self.eps)
        return x + self.net(detail.to(x.dtype))
