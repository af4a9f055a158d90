"""Do the direction labels describe the rain maps? Checked before training starts.

Eq. 5 sums the responses at ``theta`` and ``theta + 90``, so a label that is off by
exactly 90 deg is invisible to the loss, and a mirrored convention (``180 - theta``) nearly
so: a dataset whose labels follow another convention than the toolkit's (0 deg right,
counter-clockwise as displayed) would switch the regularizer off without any error. So
before the first step the labels of a few training crops are compared with the angle
``raindata``'s structure-tensor estimator reads from their true rain maps ``z_gt``
(crops and flips are the training ones: the label transform is checked too). When the
labels disagree systematically the run stops and says which convention would fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from raindata.errors import DataError

MIN_COHERENCE = 0.3
"""Crops whose rain map has a weaker dominant orientation (coherence of the structure
tensor, 0..1) give no reliable estimate and are left out."""
MAX_MEDIAN_DIFF = 20.0
"""Median |label - estimate| (degrees, modulo 180) above which the labels are refused;
on the toolkit's own data it is about 1 degree."""
MIN_SAMPLES = 8

HYPOTHESES: tuple[tuple[str, str], ...] = (
    ("label", "as given"),
    ("label + 90", "perpendicular: the labels give the direction across the streaks"),
    ("180 - label", "mirrored: angles grow clockwise as displayed (rows pointing up?)"),
    ("90 - label", "transposed: angles measured from the vertical axis"),
)


def angle_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Undirected difference of angles in degrees, in [0, 90]."""
    d = np.abs(np.mod(np.asarray(a, float) - np.asarray(b, float), 180.0))
    return np.minimum(d, 180.0 - d)


def _apply(hypothesis: str, labels: np.ndarray) -> np.ndarray:
    return {"label": labels, "label + 90": labels + 90.0, "180 - label": 180.0 - labels,
            "90 - label": 90.0 - labels}[hypothesis]


@dataclass(frozen=True)
class LabelCheck:
    """Outcome of :func:`check_labels`."""

    samples: int
    median_diff: dict[str, float]
    """Median |hypothesis(label) - estimate| per hypothesis of :data:`HYPOTHESES`."""

    @property
    def ok(self) -> bool:
        """Whether the labels as given fit (or too few crops could be judged)."""
        return self.samples < MIN_SAMPLES or self.median_diff["label"] <= MAX_MEDIAN_DIFF

    def describe(self) -> str:
        """One line for logs and errors."""
        best = min(self.median_diff, key=self.median_diff.get)
        why = dict(HYPOTHESES)[best]
        return (f"median |label - estimated angle| {self.median_diff['label']:.1f} deg over "
                f"{self.samples} crops; best fit: {best} ({why}, "
                f"median {self.median_diff[best]:.1f} deg)")


def check_labels(dataset, count: int = 64) -> LabelCheck:
    """Compare labels and estimated angles of up to ``count`` labelled items of ``dataset``
    (a :class:`raindata.loading.PairedDataset` giving ``rain``, ``angle``, ``has_angle``)."""
    from raindata.direction import coherence, estimate_angle

    labels, estimates = [], []
    for index in range(min(len(dataset), 4 * count)):
        item = dataset[index]
        if not bool(item["has_angle"]):
            continue
        rain = item["rain"].permute(1, 2, 0).numpy()
        if coherence(rain) < MIN_COHERENCE:
            continue
        labels.append(float(item["angle"]))
        estimates.append(estimate_angle(rain))
        if len(labels) >= count:
            break
    lab, est = np.array(labels), np.array(estimates)
    medians = {h: float(np.median(angle_diff(_apply(h, lab), est))) if lab.size else math.nan
               for h, _ in HYPOTHESES}
    return LabelCheck(len(labels), medians)


def require_consistent_labels(dataset, where: str) -> LabelCheck:
    """:func:`check_labels`, raising DataError (one line) when the labels do not fit."""
    result = check_labels(dataset)
    if not result.ok:
        raise DataError(f"{where}: direction labels disagree with the rain maps: "
                        f"{result.describe()}; fix the labels or set loss.check_labels = false")
    return result
