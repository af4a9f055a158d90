"""Rain-map scores (lower half of the paper's Table 1).

The rain map of a result is ``rainy - derained``; the reference map is
``rainy - clean``. Range handling: both images are quantized to ``uint8`` first
(rounding, as every protocol does), the signed difference is taken in integers and
clipped to [0, 255]. That is what MATLAB's saturating ``uint8`` subtraction gives
(``uint8(a) - uint8(b)`` = ``max(a - b, 0)``), and it matches the additive rain
model ``O = clip(B + R)`` (equation 1): rain only adds brightness, so the true rain
map is non-negative and a negative difference carries no rain. The clipped maps are
then ``uint8`` images scored with PSNR/SSIM under the chosen protocol (for
``y-double`` they are converted with ``im2double``).
"""

from __future__ import annotations

import numpy as np

from benchmark.metrics.cards import CARDS, MetricCard, with_protocol
from benchmark.metrics.color import check_pair, to_uint8
from benchmark.metrics.protocols import DEFAULT_PROTOCOL, get_protocol
from benchmark.metrics.psnr import psnr
from benchmark.metrics.ssim import ssim


def rain_map(rainy: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``clip(rainy - other, 0, 255)`` computed on ``uint8`` images; returns ``uint8``."""
    rainy, other = check_pair(rainy, other)
    diff = to_uint8(rainy).astype(np.int16) - to_uint8(other).astype(np.int16)
    return np.clip(diff, 0, 255).astype(np.uint8)


def rainmap_scores(
    rainy: np.ndarray,
    derained: np.ndarray,
    clean: np.ndarray,
    protocol: str = DEFAULT_PROTOCOL,
) -> dict[str, float]:
    """PSNR and SSIM between the rain maps ``rainy - derained`` and ``rainy - clean``.

    Returns ``{"psnr": ..., "ssim": ...}``; all three images share one shape.
    """
    get_protocol(protocol)
    check_pair(rainy, clean)
    est = rain_map(rainy, derained)
    ref = rain_map(rainy, clean)
    return {"psnr": psnr(est, ref, protocol), "ssim": ssim(est, ref, protocol)}


class _RainMapMetric:
    _key = ""

    def __init__(self, protocol: str = DEFAULT_PROTOCOL) -> None:
        self.protocol = get_protocol(protocol).name
        self.card: MetricCard = with_protocol(CARDS[self._key], self.protocol)

    def _maps(self, rainy, derained, clean) -> tuple[np.ndarray, np.ndarray]:
        check_pair(rainy, clean)
        return rain_map(rainy, derained), rain_map(rainy, clean)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(protocol={self.protocol!r})"


class RainPSNR(_RainMapMetric):
    """Callable ``(rainy, derained, clean) -> PSNR`` of the rain maps."""

    _key = "rainmap_psnr"

    def __call__(self, rainy: np.ndarray, derained: np.ndarray, clean: np.ndarray) -> float:
        est, ref = self._maps(rainy, derained, clean)
        return psnr(est, ref, self.protocol)


class RainSSIM(_RainMapMetric):
    """Callable ``(rainy, derained, clean) -> SSIM`` of the rain maps."""

    _key = "rainmap_ssim"

    def __call__(self, rainy: np.ndarray, derained: np.ndarray, clean: np.ndarray) -> float:
        est, ref = self._maps(rainy, derained, clean)
        return ssim(est, ref, self.protocol)
