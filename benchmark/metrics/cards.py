"""Metric cards: what a score means and how it was produced (metadata, no computation)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class MetricCard:
    """Describes one metric; recorded beside every result column.

    ``arity`` is how many images one call takes: 1 (no-reference), 2 (image and
    reference) or 3 (rain map: rainy, derained, clean). ``protocol`` is the colour
    space / preparation (a name from :mod:`benchmark.metrics.protocols` where one
    applies). ``crop`` is the border crop in pixels (always 0 here).
    """

    name: str
    higher_is_better: bool
    needs_reference: bool
    protocol: str
    crop: int
    reference: str
    notes: str = ""
    arity: int = 2


def with_protocol(card: MetricCard, protocol: str) -> MetricCard:
    """A copy of ``card`` for the given protocol."""
    return dataclasses.replace(card, protocol=protocol)


_WANG = (
    "Wang et al. 2004, ssim_index.m (11x11 Gaussian sigma 1.5, K1 0.01, K2 0.03, L 255, "
    "'valid')"
)

CARDS: dict[str, MetricCard] = {
    c.name: c
    for c in (
        MetricCard(
            "psnr", True, True, "y-matlab", 0,
            "MATLAB: 10 log10(peak^2 / MSE) on the protocol's planes",
            "peak 255 (peak 1 for y-double); identical images give inf",
        ),
        MetricCard(
            "ssim", True, True, "y-matlab", 0, _WANG,
            "mean over channels for rgb; y-double adds ssim.m's automatic downsampling",
        ),
        MetricCard(
            "rainmap_psnr", True, True, "y-matlab", 0,
            "PSNR of rain maps rainy - derained vs rainy - clean",
            "maps are uint8 differences clipped to [0, 255] (MATLAB uint8 subtraction "
            "saturates at 0; rain is additive, O = clip(B + R)), then scored as images",
            arity=3,
        ),
        MetricCard(
            "rainmap_ssim", True, True, "y-matlab", 0,
            "SSIM of rain maps rainy - derained vs rainy - clean",
            "maps as for rainmap_psnr; SSIM as for ssim",
            arity=3,
        ),
        MetricCard(
            "niqe", False, False, "gray (MATLAB rgb2gray on uint8)", 0,
            "Mittal et al. 2013, niqe_release (computequality.m): 96x96 blocks, 2 scales, "
            "pristine model mu 36 / cov 36x36 (modelparameters.mat)",
            "own numpy port of the MATLAB release; pristine parameters shipped in "
            "benchmark/metrics/data/niqe_pris_params.npz",
            arity=1,
        ),
        MetricCard(
            "lpips", False, True, "rgb in [-1, 1]", 0,
            "Zhang et al. 2018, lpips package, AlexNet, v0.1",
            "AlexNet backbone weights from torchvision (alexnet-owt-7be5be79.pth), found "
            "on the weights search path (the torch hub cache among it) or given as a path; "
            "never downloaded while scoring (`benchmark weights fetch` gets it)",
        ),
    )
}
