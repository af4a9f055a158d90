"""Per-image scoring: which metrics a dataset gets and how each column is computed.

:class:`Scorer` computes the score columns of one image; :class:`ImageScorer` does all a
run does for one image - read it, make the method's output (methods without a network),
check the sizes, score, keep the derained PNG - and is the same object in the main process
and in the worker processes of :mod:`benchmark.parallel`, so a score never depends on
where it was computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.store import SCORE_COLUMNS
from raindata.errors import DataError

METRICS = ("psnr", "ssim", "rainmap", "lpips", "niqe")
NEEDS_REFERENCE = {"psnr", "ssim", "rainmap", "lpips"}
DEFAULT_PAIRED = ("psnr", "ssim", "rainmap", "lpips")
DEFAULT_UNPAIRED = ("niqe",)
ON_DEVICE = ("lpips",)
"""Metrics that run on ``--device`` (a network); the others run on the CPU in numpy."""
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

    @property
    def lpips_path(self) -> str | None:
        """The AlexNet weights file LPIPS runs with (None when it does not run)."""
        return str(self._lpips.weights_path) if self._lpips else None

    def score(self, rainy: np.ndarray, derained: np.ndarray, clean: np.ndarray | None,
              only: tuple[str, ...] | None = None) -> dict:
        """Scores of ``derained`` (uint8 RGB); ``clean`` is None for no-reference data.
        ``only``: compute just these of the metrics."""
        from benchmark.metrics.psnr import psnr
        from benchmark.metrics.rainmap import rainmap_scores
        from benchmark.metrics.ssim import ssim

        wanted = set(self.metrics if only is None else only)
        out: dict[str, float | None] = {}
        if "psnr" in wanted:
            out["psnr"] = psnr(derained, clean, self.protocol)
        if "ssim" in wanted:
            out["ssim"] = ssim(derained, clean, self.protocol)
        if "rainmap" in wanted:
            rm = rainmap_scores(rainy, derained, clean, self.protocol)
            out["rainmap_psnr"], out["rainmap_ssim"] = rm["psnr"], rm["ssim"]
        if self._lpips is not None and "lpips" in wanted:
            out["lpips"] = self._lpips(derained, clean)
        if self._niqe is not None and "niqe" in wanted:
            out["niqe"] = self._niqe(derained)
        return out


@dataclass(frozen=True)
class ImageSpec:
    """How a run scores each image: everything an :class:`ImageScorer` needs, picklable
    so that a worker process builds the same scorer from it."""

    method_name: str
    metrics: tuple[str, ...]
    protocol: str
    root: Path
    images_dir: Path | None = None
    """Where the derained PNGs go (``--save-images``), else None."""
    lpips_weights: str | None = None
    method: Any = None
    """The method when its output is made where the image is read (no network), else None:
    the caller runs the network and passes the output to :meth:`ImageScorer.score`."""


@dataclass(frozen=True)
class Scored:
    """One image's result: its row, or the one-line message of why it could not be scored."""

    index: int
    sample: Any
    row: dict[str, Any] | None = None
    error: str | None = None


class ImageScorer:
    """Reads, scores and keeps one image at a time, as ``spec`` says (see the module)."""

    def __init__(self, spec: ImageSpec, scorer: Scorer | None = None) -> None:
        self.spec = spec
        if scorer is None:
            scorer = Scorer(spec.metrics, spec.protocol, "cpu", spec.lpips_weights)
            if scorer.unavailable:
                raise DataError("; ".join(scorer.unavailable.values()))
        self.scorer = scorer

    def load(self, sample) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``(rainy, derained or None, clean or None)`` of ``sample`` (DataError if unreadable)."""
        from raindata.layouts import load_pair

        rainy, clean = load_pair(sample)
        method = self.spec.method
        derained = None if method is None else method.output(sample.id, sample.rainy, rainy)
        return rainy, derained, clean

    def run(self, index: int, sample) -> Scored:
        """Load and score image ``index``: for methods without a network."""
        try:
            rainy, derained, clean = self.load(sample)
        except DataError as exc:
            return Scored(index, sample, error=naming(sample.rainy, exc))
        return self.score(index, sample, rainy, derained, clean)

    def score(self, index: int, sample, rainy: np.ndarray, derained: np.ndarray,
              clean: np.ndarray | None, extra: dict | None = None) -> Scored:
        """Check and score ``derained``; ``extra``: columns already computed (on the device)."""
        try:
            check_output(self.spec.method_name, sample, rainy, derained, clean)
            scores = self.scorer.score(rainy, derained, clean)
        except DataError as exc:
            return Scored(index, sample, error=naming(sample.rainy, exc))
        scores.update(extra or {})
        if self.spec.images_dir is not None:
            from raindata.imageio import write_png

            write_png(self.spec.images_dir / f"{Path(sample.rainy).stem}.png", derained)
        row = {"index": index, "id": sample.id, "file": rel(sample.rainy, self.spec.root),
               **{c: scores[c] for c in SCORE_COLUMNS if c in scores}}
        return Scored(index, sample, row=row)


def check_output(method: str, sample, rainy: np.ndarray, derained: np.ndarray,
                 clean: np.ndarray | None) -> None:
    """DataError naming the image when the output's size is not its reference's."""
    reference = clean if clean is not None else rainy
    if derained.shape != reference.shape:
        what = "ground truth" if clean is not None else "rainy input"
        raise DataError(
            f"{method}: output for {sample.rainy.name} is {derained.shape[1]}x"
            f"{derained.shape[0]}, its {what} is {reference.shape[1]}x{reference.shape[0]}"
        )


def naming(image: Path, exc: DataError) -> str:
    """The message of ``exc``, prefixed with the image it is about unless it names it."""
    message = str(exc)
    if str(image) in message or Path(image).name in message:
        return message
    return f"{image}: {message}"


def rel(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX), or its name when outside."""
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).name
