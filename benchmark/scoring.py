"""Per-image scoring: which metrics a dataset gets and how each column is computed."""

from __future__ import annotations

import numpy as np

from raindata.errors import DataError

METRICS = ("psnr", "ssim", "rainmap", "lpips", "niqe")
NEEDS_REFERENCE = {"psnr", "ssim", "rainmap", "lpips"}
DEFAULT_PAIRED = ("psnr", "ssim", "rainmap", "lpips")
DEFAULT_UNPAIRED = ("niqe",)
NAN_REASONS = {
    "niqe": "NIQE is undefined for this image: fewer than two of its 96x96 blocks have "
            "complete features (a flat or nearly flat image; MATLAB's niqe gives NaN too)",
}
"""Why a score column can be NaN for an image (such scores are left out of means)."""


def nan_reason(column: str) -> str:
    """Why ``column`` is NaN for an image, in words."""
    return NAN_REASONS.get(column, f"{column} is undefined for this image")


def check_metrics(metrics, paired: bool, dataset: str) -> None:
    """Refuse unknown metric names, and reference metrics on no-reference data."""
    import difflib

    for m in metrics:
        if m not in METRICS:
            close = difflib.get_close_matches(m, METRICS, n=2)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise DataError(f"--metrics: unknown metric {m!r}{hint}; known: {', '.join(METRICS)}")
        if m in NEEDS_REFERENCE and not paired:
            raise DataError(
                f"--metrics: {m} needs ground truth, and {dataset} has none (use niqe)"
            )


class Scorer:
    """Computes the requested score columns for one image; notes unavailable metrics."""

    def __init__(self, metrics, protocol: str, device: str = "cpu", lpips_weights=None):
        from benchmark.metrics import MetricUnavailable

        self.metrics = tuple(metrics)
        self.protocol = protocol
        self.unavailable: dict[str, str] = {}
        self._lpips = None
        self._niqe = None
        if "lpips" in self.metrics:
            from benchmark.metrics.lpips_metric import LPIPSMetric

            try:
                self._lpips = LPIPSMetric(weights=lpips_weights, device=device)
            except MetricUnavailable as exc:
                self.unavailable["lpips"] = str(exc)
        if "niqe" in self.metrics:
            from benchmark.metrics.niqe import NIQE

            self._niqe = NIQE()

    @property
    def lpips_sha256(self) -> str | None:
        """sha256 of the AlexNet weights LPIPS runs with (None when it does not run)."""
        return getattr(self._lpips, "weights_sha256", None) if self._lpips else None

    def score(self, rainy: np.ndarray, derained: np.ndarray, clean: np.ndarray | None) -> dict:
        """Scores of ``derained`` (uint8 RGB); ``clean`` is None for no-reference data."""
        from benchmark.metrics.psnr import psnr
        from benchmark.metrics.rainmap import rainmap_scores
        from benchmark.metrics.ssim import ssim

        out: dict[str, float | None] = {}
        if "psnr" in self.metrics:
            out["psnr"] = psnr(derained, clean, self.protocol)
        if "ssim" in self.metrics:
            out["ssim"] = ssim(derained, clean, self.protocol)
        if "rainmap" in self.metrics:
            rm = rainmap_scores(rainy, derained, clean, self.protocol)
            out["rainmap_psnr"], out["rainmap_ssim"] = rm["psnr"], rm["ssim"]
        if self._lpips is not None:
            out["lpips"] = self._lpips(derained, clean)
        if self._niqe is not None:
            out["niqe"] = self._niqe(derained)
        return out
