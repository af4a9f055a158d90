"""Minimal SVG line charts for the bench reports (no plotting dependency).

``line_chart({"name": (xs, ys), ...}, path, title=..., xlabel=..., ylabel=...)`` writes a
self-contained SVG: axes with round ticks, one polyline (with point markers when there are
few points) per series, a legend. Deterministic output for the same input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8")
WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 64, 180, 36, 48


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}"


def line_chart(series: Mapping[str, tuple[Sequence[float], Sequence[float]]], path: Path, *,
               title: str, xlabel: str, ylabel: str, log_x: bool = False) -> Path:
    """Write the chart to ``path`` (SVG); returns ``path``."""
    pts = {k: [(float(x), float(y)) for x, y in zip(*v, strict=True)
               if math.isfinite(float(y)) and (not log_x or float(x) > 0)]
           for k, v in series.items()}
    xs = [x for p in pts.values() for x, _ in p]
    ys = [y for p in pts.values() for _, y in p]
    if not xs:
        raise ValueError(f"{path}: nothing to plot")
    fx = (lambda v: math.log10(v)) if log_x else (lambda v: v)
    x_lo, x_hi = fx(min(xs)), fx(max(xs))
    y_ticks = nice_ticks(min(ys), max(ys))
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (fx(x) - x_lo) / (x_hi - x_lo) * w

    def py(y: float) -> float:
        return TOP + h - (y - y_lo) / (y_hi - y_lo or 1) * h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT + w / 2}" y="20" text-anchor="middle" font-size="14">'
           f'{escape(title)}</text>']
    for t in y_ticks:
        y = py(t)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + w}" y2="{y:.1f}" '
                   f'stroke="#e5e5e5"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    x_ticks = sorted(set(xs)) if len(set(xs)) <= 8 else nice_ticks(min(xs), max(xs))
    for t in x_ticks:
        if log_x and t <= 0:
            continue
        x = px(t)
        if LEFT - 1 <= x <= LEFT + w + 1:
            out.append(f'<line x1="{x:.1f}" y1="{TOP + h}" x2="{x:.1f}" y2="{TOP + h + 4}" '
                       f'stroke="black"/>')
            out.append(f'<text x="{x:.1f}" y="{TOP + h + 18}" text-anchor="middle">'
                       f'{_fmt(t)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{w}" height="{h}" fill="none" '
               f'stroke="black"/>')
    out.append(f'<text x="{LEFT + w / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
               f'{escape(xlabel)}</text>')
    out.append(f'<text x="16" y="{TOP + h / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {TOP + h / 2})">{escape(ylabel)}</text>')
    for i, (name, p) in enumerate(pts.items()):
        colour = COLOURS[i % len(COLOURS)]
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(p))
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                   f'stroke-width="1.5"/>')
        if len(p) <= 20:
            out += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>'
                    for x, y in p]
        ly = TOP + 14 + 16 * i
        out.append(f'<line x1="{LEFT + w + 12}" y1="{ly - 4}" x2="{LEFT + w + 32}" '
                   f'y2="{ly - 4}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{LEFT + w + 36}" y="{ly}">{escape(name)}</text>')
    out.append("</svg>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path
