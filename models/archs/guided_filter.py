"""The guided filter (He et al.) as DDN, DerainNet and SIRR use it to split base and detail.

:func:`box_filter` is the box sum of DDN's ``GuidedFilter.py`` (after Wu et al.'s
DeepGuidedFilter): a cumulative sum down the rows, window differences, then the same
along the columns. The window is cut at the image border (a sum over the pixels inside
only, i.e. zero padding), so ``N = box_filter(ones)`` counts the pixels of each window
and every mean is a sum divided by ``N``. This equals SIRR's ``cv2.boxFilter(...,
normalize=False, borderType=BORDER_CONSTANT) / N`` up to rounding. DDN's code asserts
that both sides exceed ``2 * radius + 1``; this one takes any size (windows cut at both
ends on shorter sides, as OpenCV's), and is term for term DDN's on larger ones.
"""

from __future__ import annotations

import torch


def _window_sums(c: torch.Tensor, r: int, dim: int) -> torch.Tensor:
    """Sums over the windows ``[i - r, i + r]`` cut at the ends, from cumulative sums
    ``c`` along ``dim``: ``c[min(i + r, n - 1)] - c[i - r - 1]`` (the second term 0 where
    ``i - r - 1 < 0``). For ``n > 2 r + 1`` this is term for term DDN's ``diff_x``
    (cumulative sums, then differences, then the total minus cumulative sums); shorter
    axes, which DDN's code refuses, get the same border-cut windows as OpenCV's."""
    n = c.shape[dim]
    idx = torch.arange(n, device=c.device)
    upper = c.index_select(dim, (idx + r).clamp(max=n - 1))
    if n <= r + 1:
        return upper
    lower = c.narrow(dim, 0, n - r - 1)
    return torch.cat((upper.narrow(dim, 0, r + 1),
                      upper.narrow(dim, r + 1, n - r - 1) - lower), dim=dim)


def box_filter(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Sum of ``x`` ([..., H, W]) over each ``(2r+1) x (2r+1)`` window cut at the border."""
    rows = _window_sums(torch.cumsum(x, dim=-2), radius, dim=-2)
    return _window_sums(torch.cumsum(rows, dim=-1), radius, dim=-1)


def guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int,
                  eps: float) -> torch.Tensor:
    """Guided filter of ``src`` by ``guide`` ([N, C, H, W], C of the guide 1 or C of src).

    Same operations in the same order as DDN's ``guided_filter``: means by box sums over
    the pixel counts, ``A = cov / (var + eps)``, ``b = mean_src - A * mean_guide``, output
    ``mean_A * guide + mean_b``.
    """
    height, width = guide.shape[-2:]
    if src.shape[-2:] != guide.shape[-2:]:
        raise ValueError(f"guided filter: guide {tuple(guide.shape)} and source "
                         f"{tuple(src.shape)} differ in size")
    n = box_filter(guide.new_ones((1, 1, height, width)), radius)
    mean_x = box_filter(guide, radius) / n
    mean_y = box_filter(src, radius) / n
    cov_xy = box_filter(guide * src, radius) / n - mean_x * mean_y
    var_x = box_filter(guide * guide, radius) / n - mean_x * mean_x
    a = cov_xy / (var_x + eps)
    b = mean_y - a * mean_x
    mean_a = box_filter(a, radius) / n
    mean_b = box_filter(b, radius) / n
    return mean_a * guide + mean_b


def base_and_detail(x: torch.Tensor, radius: int = 15,
                    eps: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(base, detail) of ``x``: the self-guided filter of each channel and ``x`` minus it
    (radius 15, eps 1 in all three official codes)."""
    base = guided_filter(x, x, radius, eps)
    return base, x - base
