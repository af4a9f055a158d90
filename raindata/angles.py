"""The rain-direction angle convention, defined once for the whole project.

Convention (the released RainDirection one): an angle ``t`` in degrees points right
at 0 and grows **counter-clockwise as the image is displayed**. Image rows grow
downward, so a streak at angle ``t`` has the unit direction

    (dx, dy) = (cos t, -sin t)        in (column, row) coordinates,

i.e. 30 deg rises to the right on screen, 90 deg is vertical, 0 deg horizontal.
Streaks are undirected: ``t`` and ``t + 180`` are the same streak, so angles live in
``[0, 180)`` and every distance between angles is taken modulo 180 (at most 90).

A *grid* is the tuple of whole-degree labels a dataset uses, ``0:170:10`` (18 labels,
the 18 directional kernels of the UDRDR paper) by default.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from raindata.errors import DataError

DEFAULT_ANGLES = "0:170:10"


def normalize_angle(angle: float) -> float:
    """``angle`` folded into ``[0, 180)`` (streaks are undirected)."""
    a = math.fmod(float(angle), 180.0)
    if a < 0:
        a += 180.0
    return 0.0 if a >= 180.0 else a


def angle_distance(a: float, b: float) -> float:
    """Circular distance between two streak angles, modulo 180, in ``[0, 90]``."""
    d = abs(normalize_angle(a) - normalize_angle(b))
    return min(d, 180.0 - d)


def direction_vector(angle: float) -> tuple[float, float]:
    """Unit direction ``(dx, dy)`` of a streak in (column, row) image coordinates."""
    t = math.radians(angle)
    return math.cos(t), -math.sin(t)


def parse_angles(text: str) -> tuple[int, ...]:
    """Parse an angle grid: ``"START:STOP:STEP"`` (inclusive), ``"A,B,C"`` or ``"A"``.

    Values are whole degrees, folded into ``[0, 180)`` and returned sorted. A grid
    that names the same direction twice (``0:180:10`` holds 0 and 180) is refused.
    """
    spec = str(text).strip()
    if not spec:
        raise DataError("angles: empty grid, expected START:STOP:STEP, A,B,C or A")
    try:
        if ":" in spec:
            parts = [int(p) for p in spec.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if step <= 0 or stop < start:
                raise DataError(
                    f"angles: expected START:STOP:STEP with STEP > 0 and STOP >= START, "
                    f"got {spec!r}"
                )
            values = list(range(start, stop + 1, step))
        else:
            values = [int(p) for p in spec.split(",")]
    except ValueError:
        raise DataError(
            f"angles: expected whole degrees as START:STOP:STEP, A,B,C or A, got {spec!r}"
        ) from None
    folded = [int(normalize_angle(v)) for v in values]
    if len(set(folded)) != len(folded):
        dup = sorted({v for v in folded if folded.count(v) > 1})
        raise DataError(
            f"angles: {spec!r} names direction(s) {dup} twice (angles are taken modulo 180)"
        )
    return tuple(sorted(folded))


def grid_step(grid: Sequence[float]) -> float:
    """Smallest circular gap between neighbouring grid angles (180 for a single angle)."""
    values = sorted(normalize_angle(a) for a in grid)
    if not values:
        raise ValueError("empty angle grid")
    if len(values) == 1:
        return 180.0
    gaps = [b - a for a, b in itertools.pairwise(values)]
    gaps.append(values[0] + 180.0 - values[-1])
    return min(gaps)


def snap_to_grid(angle: float, grid: Sequence[int]) -> int:
    """The grid angle nearest to ``angle`` (circular, modulo 180); ties go to the first."""
    if not grid:
        raise ValueError("empty angle grid")
    best = min(range(len(grid)), key=lambda i: (angle_distance(angle, grid[i]), i))
    return grid[best]
