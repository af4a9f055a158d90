"""Estimate the dominant streak direction of a rain map; read and write ``direction.txt``.

The estimator is the structure tensor of the grey rain map: Scharr gradients
``(gx, gy)`` in (column, row) coordinates, the tensor
``J = sum [[gx^2, gx gy], [gx gy, gy^2]]`` over the whole image (each pixel weighted
by its squared gradient magnitude, so bright sharp streaks dominate and flat areas
count for nothing). Its principal axis is the dominant *gradient* orientation; a
streak's gradients point across it, so the streak orientation is that axis plus 90
degrees. Rows grow downward, so ``gy`` is negated to express the result in the
counter-clockwise-as-displayed convention of :mod:`raindata.angles`.

``direction.txt`` (the released RainDirection format): one line per image,
``N LABEL`` separated by one space, where ``N`` is the image number (``N.png``) and
``LABEL`` the grid angle in whole degrees; lines sorted by ``N``; UTF-8, ``\\n``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from raindata.angles import normalize_angle, snap_to_grid
from raindata.atomic import atomic_write_text
from raindata.errors import DataError


def _cv2():
    import cv2

    return cv2


def _grey(rain_map: np.ndarray) -> np.ndarray:
    arr = np.asarray(rain_map)
    if arr.ndim == 3 and arr.shape[2] in (1, 3, 4):
        arr = arr[:, :, :3].astype(np.float32).mean(axis=2)
    elif arr.ndim != 2:
        raise ValueError(f"expected an HxW or HxWx3 rain map, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def structure_tensor(rain_map: np.ndarray) -> tuple[float, float, float]:
    """``(Jxx, Jxy, Jyy)`` summed over the image, in (column, row) coordinates."""
    cv2 = _cv2()
    grey = _grey(rain_map)
    if min(grey.shape) < 3:
        return 0.0, 0.0, 0.0
    gx = cv2.Scharr(grey, cv2.CV_32F, 1, 0, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Scharr(grey, cv2.CV_32F, 0, 1, borderType=cv2.BORDER_REPLICATE)
    gx = gx.astype(np.float64)
    gy = gy.astype(np.float64)
    return float(np.sum(gx * gx)), float(np.sum(gx * gy)), float(np.sum(gy * gy))


def estimate_angle(rain_map: np.ndarray) -> float:
    """Dominant streak orientation of ``rain_map`` in degrees, ``[0, 180)``.

    ``rain_map`` is ``H x W`` or ``H x W x 3`` (channels averaged), any dtype; only its
    structure matters, not its scale. A map without structure (all flat) gives 0.
    """
    jxx, jxy, jyy = structure_tensor(rain_map)
    if jxx + jyy <= 0:
        return 0.0
    # Display coordinates (y up): gy_up = -gy, so the cross term changes sign.
    gradient = 0.5 * math.degrees(math.atan2(-2.0 * jxy, jxx - jyy))
    return normalize_angle(gradient + 90.0)


def coherence(rain_map: np.ndarray) -> float:
    """How one-directional the map is: ``(l1 - l2) / (l1 + l2)`` of the tensor, in [0, 1]."""
    jxx, jxy, jyy = structure_tensor(rain_map)
    trace = jxx + jyy
    if trace <= 0:
        return 0.0
    return math.sqrt((jxx - jyy) ** 2 + 4.0 * jxy * jxy) / trace


def estimate_label(rain_map: np.ndarray, grid: Sequence[int]) -> int:
    """:func:`estimate_angle` snapped to the nearest angle of ``grid`` (modulo 180)."""
    return snap_to_grid(estimate_angle(rain_map), grid)


# --- direction.txt -------------------------------------------------------------------


def format_direction_txt(labels: dict[int, int]) -> str:
    """The text of a ``direction.txt`` for ``{image number: label}``."""
    return "".join(f"{n} {int(labels[n])}\n" for n in sorted(labels))


def parse_direction_txt(text: str, name: str = "direction.txt") -> dict[int, int]:
    """Parse ``direction.txt`` text into ``{image number: label}``; DataError if malformed."""
    labels: dict[int, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError
            n, label = int(parts[0]), int(float(parts[1]))
        except ValueError:
            raise DataError(
                f"{name}:{lineno}: expected 'N ANGLE' (two numbers), got {line.strip()!r}"
            ) from None
        if n in labels:
            raise DataError(f"{name}:{lineno}: image {n} is listed twice")
        labels[n] = label
    return labels


def write_direction_txt(path: str | os.PathLike, labels: dict[int, int]) -> None:
    """Write ``direction.txt`` atomically."""
    atomic_write_text(path, format_direction_txt(labels))


# --- labelling a folder --------------------------------------------------------------

SOURCES = ("streak", "diff")

_NUMBERED = re.compile(r"^(\d+)\.png$", re.IGNORECASE)
_RAINSTREAK = re.compile(r"^rainstreak-(\d+)\.png$", re.IGNORECASE)
_RAIN = re.compile(r"^rain-(\d+)\.png$", re.IGNORECASE)
_NORAIN = re.compile(r"^norain-(\d+)\.png$", re.IGNORECASE)


def _numbered(folder: Path, pattern: re.Pattern) -> dict[int, Path]:
    found: dict[int, Path] = {}
    if not folder.is_dir():
        return found
    for p in folder.iterdir():
        m = pattern.match(p.name)
        if m:
            n = int(m.group(1))
            if n in found:
                raise DataError(f"{p}: image number {n} also used by {found[n].name}")
            found[n] = p
    return found


def find_rain_maps(root: str | os.PathLike, source: str | None = None) -> tuple[str, dict]:
    """Locate the rain maps of a dataset folder, paired by image number (never sort order).

    Returns ``(source, items)`` where ``items`` maps the image number to either one
    rain-map path (``"streak"``: ``streak/N.png`` or Rain100L's ``rainstreak-N.png``)
    or a ``(rainy, clean)`` path pair (``"diff"``: ``rainy/N.png`` + ``latent/N.png``,
    or Rain100L's ``rain-N.png`` + ``norain-N.png``). ``source=None`` prefers streaks.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    if source not in (None, *SOURCES):
        raise DataError(f"--from: expected one of {', '.join(SOURCES)}, got {source!r}")
    if source in (None, "streak"):
        for folder, pattern in ((root / "streak", _NUMBERED), (root, _RAINSTREAK)):
            maps = _numbered(folder, pattern)
            if maps:
                return "streak", maps
        if source == "streak":
            raise DataError(f"{root}: no rain maps found (streak/N.png or rainstreak-N.png)")
    for (rf, rp), (cf, cp) in (
        ((root / "rainy", _NUMBERED), (root / "latent", _NUMBERED)),
        ((root, _RAIN), (root, _NORAIN)),
    ):
        rainy, clean = _numbered(rf, rp), _numbered(cf, cp)
        if rainy or clean:
            missing = sorted(set(rainy) ^ set(clean))
            if missing:
                n = missing[0]
                have = rainy.get(n) or clean.get(n)
                raise DataError(f"{have}: no matching rainy/clean partner for image {n}")
            return "diff", {n: (rainy[n], clean[n]) for n in rainy}
    raise DataError(
        f"{root}: no rain maps found (expected streak/N.png, rainstreak-N.png, "
        f"rainy/N.png + latent/N.png, or rain-N.png + norain-N.png)"
    )


def load_rain_map(item) -> np.ndarray:
    """Grey ``float32`` rain map for one item of :func:`find_rain_maps`.

    For a ``(rainy, clean)`` pair it is ``max(rainy - clean, 0)`` averaged over the
    channels: the effective (clipped) rain map; sizes must match.
    """
    from raindata.imageio import read_image

    if isinstance(item, tuple):
        rainy_path, clean_path = item
        rainy = read_image(rainy_path).astype(np.int16)
        clean = read_image(clean_path).astype(np.int16)
        if rainy.shape != clean.shape:
            raise DataError(
                f"{rainy_path}: size {rainy.shape[1]}x{rainy.shape[0]} does not match "
                f"{clean_path.name} ({clean.shape[1]}x{clean.shape[0]})"
            )
        return np.clip(rainy - clean, 0, None).astype(np.float32).mean(axis=2)
    return read_image(item, mode="gray").astype(np.float32)


def label_folder(
    root: str | os.PathLike,
    grid: Sequence[int],
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[int, int]:
    """Estimate ``{image number: grid label}`` for every rain map of a dataset folder."""
    _, items = find_rain_maps(root, source)
    labels: dict[int, int] = {}
    for n in sorted(items):
        labels[n] = estimate_label(load_rain_map(items[n]), grid)
        if progress is not None:
            progress(1)
    return labels


def label_histogram(labels: Iterable[int]) -> dict[int, int]:
    """``{label: count}`` sorted by label."""
    hist: dict[int, int] = {}
    for a in labels:
        hist[int(a)] = hist.get(int(a), 0) + 1
    return dict(sorted(hist.items()))
