"""Deraining metrics: MATLAB-faithful PSNR/SSIM, rain-map scores, NIQE and LPIPS.

Pure functions (numpy in, float out)::

    from benchmark.metrics import psnr, ssim, rainmap_scores, niqe
    psnr(a, b, protocol="y-matlab"); ssim(a, b, protocol="y-matlab")
    rainmap_scores(rainy, derained, clean, protocol) -> {"psnr": ..., "ssim": ...}
    niqe(img)

Facade: ``create_metric(name, **kw)`` returns a callable with a ``.card``
(:class:`MetricCard`); ``list_metrics()`` names them; ``metric_card(name)`` gives the
card without building anything. Importing this package is light: numpy only (no torch,
cv2 or scipy until a metric runs). Note: the names ``psnr``, ``ssim`` and ``niqe`` here
are the functions, which shadow the submodules of the same name as attributes; import
the modules with ``from benchmark.metrics.psnr import ...`` or ``importlib``.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from benchmark.metrics.cards import CARDS, MetricCard
from benchmark.metrics.errors import MetricInputError, MetricUnavailable
from benchmark.metrics.niqe import niqe
from benchmark.metrics.psnr import psnr
from benchmark.metrics.rainmap import rainmap_scores
from benchmark.metrics.ssim import ssim

__all__ = [
    "METRICS",
    "MetricCard",
    "MetricInputError",
    "MetricUnavailable",
    "create_metric",
    "list_metrics",
    "metric_card",
    "niqe",
    "psnr",
    "rainmap_scores",
    "ssim",
]

def _registry(*entries: tuple[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, target in entries:
        if name in out:
            raise ValueError(f"duplicate metric name {name!r}")
        out[name] = target
    return out


METRICS: dict[str, str] = _registry(
    ("psnr", "benchmark.metrics.psnr:PSNR"),
    ("ssim", "benchmark.metrics.ssim:SSIM"),
    ("rainmap_psnr", "benchmark.metrics.rainmap:RainPSNR"),
    ("rainmap_ssim", "benchmark.metrics.rainmap:RainSSIM"),
    ("niqe", "benchmark.metrics.niqe:NIQE"),
    ("lpips", "benchmark.metrics.lpips_metric:LPIPSMetric"),
)
"""Metric name -> ``"module:attr"`` of its builder (loaded on first use)."""


def list_metrics() -> list[str]:
    """Names accepted by :func:`create_metric`, sorted."""
    return sorted(METRICS)


def _check_name(name: str) -> str:
    if name in METRICS:
        return name
    close = difflib.get_close_matches(str(name), list(METRICS), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise MetricInputError(
        f"unknown metric {name!r}: expected one of {', '.join(list_metrics())}{hint}"
    )


def metric_card(name: str) -> MetricCard:
    """The card of a metric (default protocol), without importing its module."""
    return CARDS[_check_name(name)]


def create_metric(name: str, **kwargs: Any) -> Any:
    """Build a metric by name; the result is callable and has ``.card``.

    ``psnr``, ``ssim``, ``rainmap_psnr``, ``rainmap_ssim`` take ``protocol=``; ``niqe`` takes
    ``convert=`` and ``params=``; ``lpips`` takes ``weights=`` and ``device=`` and raises
    :class:`MetricUnavailable` when its AlexNet weights are missing.
    """
    module, attr = METRICS[_check_name(name)].split(":")
    return getattr(importlib.import_module(module), attr)(**kwargs)
