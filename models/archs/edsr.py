"""EDSR-style backbone at scale 1 (Lim et al., CVPRW 2017), as used by UDRDR Sec. 4.2.

Layout: head conv (in -> F) -> ``n_blocks`` residual blocks (conv-ReLU-conv, scaled by
``res_scale``, plus identity) -> body conv, added to the head output (the long skip) ->
tail conv (F -> out). All convolutions are 3x3 with bias and padding 1, so the spatial
size never changes (any H, W, odd included). There is no upsampler (scale 1).

Deliberate departures from the super-resolution EDSR:
- No ``MeanShift`` (DIV2K RGB mean subtraction/addition). Deraining networks here work
  on ``[0, 1]`` images and rain maps; a rain map has no meaningful DIV2K mean, and the
  paper names no normalisation, so inputs go in unchanged.
- ``global_residual=True`` (off by default) adds the input to the tail output,
  ``out = x + tail(...)``; the paper's EDSR predicts its output directly.
"""

from __future__ import annotations

from torch import Tensor, nn


def conv3x3(in_ch: int, out_ch: int) -> nn.Conv2d:
    """3x3 convolution with bias and 'same' padding."""
    return nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1, bias=True)


class ResBlock(nn.Module):
    """EDSR residual block without batch norm: ``x + res_scale * conv(relu(conv(x)))``."""

    def __init__(self, n_feats: int, res_scale: float = 1.0) -> None:
        super().__init__()
        self.body = nn.Sequential(conv3x3(n_feats, n_feats), nn.ReLU(inplace=True),
                                  conv3x3(n_feats, n_feats))
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x) * self.res_scale


class EDSR(nn.Module):
    """Scale-1 EDSR: head, residual body with the long skip, tail; no upsampler, no MeanShift."""

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        n_feats: int = 64,
        n_blocks: int = 16,
        res_scale: float = 1.0,
        global_residual: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("n_feats", n_feats)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0, got {n_blocks}")
        if global_residual and in_channels != out_channels:
            raise ValueError(
                f"global_residual needs in_channels == out_channels, "
                f"got {in_channels} -> {out_channels}"
            )
        self.global_residual = global_residual
        self.head = conv3x3(in_channels, n_feats)
        self.body = nn.Sequential(
            *(ResBlock(n_feats, res_scale) for _ in range(n_blocks)), conv3x3(n_feats, n_feats)
        )
        self.tail = conv3x3(n_feats, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        h = self.head(x)
        out = self.tail(self.body(h) + h)
        return x + out if self.global_residual else out


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
