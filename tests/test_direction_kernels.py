"""Kernel bank of the rain direction regularizer (UDRDR eq. 5)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from models.direction_kernels import (
    DirectionalFilter,
    angle_index,
    directional_response,
    kernel_bank,
)

SIZES = (3, 5, 7)


def render_streak(theta_deg: float, size: int = 41, sigma: float = 0.8) -> torch.Tensor:
    """Anti-aliased straight streak through the centre along (cos t, -sin t) in (col, row)."""
    rows = torch.arange(size, dtype=torch.float64)[:, None] - (size - 1) / 2
    cols = torch.arange(size, dtype=torch.float64)[None, :] - (size - 1) / 2
    dc, dr = math.cos(math.radians(theta_deg)), -math.sin(math.radians(theta_deg))
    dist = cols * dr - rows * dc  # signed distance to the line through the centre
    return torch.exp(-(dist**2) / (2 * sigma**2))


@pytest.mark.parametrize("ksize", SIZES)
def test_bank_shape_zero_sum_and_norm(ksize: int) -> None:
    bank = kernel_bank(ksize)
    assert bank.shape == (18, ksize, ksize)
    assert bank.dtype == torch.float32
    assert torch.allclose(bank.sum(dim=(1, 2)), torch.zeros(18), atol=1e-6)
    norms = bank.abs().sum(dim=(1, 2))
    assert bool((norms <= 2 + 1e-6).all())
    assert norms[0].item() == pytest.approx(2.0) and norms[9].item() == pytest.approx(2.0)


@pytest.mark.parametrize("ksize", SIZES)
def test_first_moment_points_along_the_angle(ksize: int) -> None:
    """+1 at c + r d and -1 at c - r d, bilinearly spread: the first moment is 2 r d."""
    bank = kernel_bank(ksize, dtype=torch.float64)
    r = (ksize - 1) / 2
    rows, cols = torch.meshgrid(torch.arange(ksize, dtype=torch.float64),
                                torch.arange(ksize, dtype=torch.float64), indexing="ij")
    for i in range(18):
        t = math.radians(10 * i)
        assert (bank[i] * cols).sum().item() == pytest.approx(2 * r * math.cos(t), abs=1e-9)
        assert (bank[i] * rows).sum().item() == pytest.approx(-2 * r * math.sin(t), abs=1e-9)


def test_l3_special_case_is_central_difference() -> None:
    bank = kernel_bank(3)
    horizontal = torch.tensor([[0.0, 0, 0], [-1, 0, 1], [0, 0, 0]])
    vertical = torch.tensor([[0.0, 1, 0], [0, 0, 0], [0, -1, 0]])  # 90 deg points up
    assert torch.equal(bank[0], horizontal)
    assert torch.equal(bank[9], vertical)


def test_45_degrees_points_up_right_on_screen() -> None:
    k = kernel_bank(5)[angle_index(45.0)]
    assert k[:2, 3:].sum() > 0.9  # top-right quadrant positive
    assert k[3:, :2].sum() < -0.9  # bottom-left negative


@pytest.mark.parametrize("bad", [1, 2, 4, 0, -3])
def test_bad_kernel_size(bad: int) -> None:
    with pytest.raises(ValueError, match="odd integer"):
        kernel_bank(bad)


def test_angle_index_wraps_mod_180() -> None:
    cases = {0.0: 0, 10.0: 1, 14.9: 1, 5.0: 1, 170.0: 17, 175.0: 0, 180.0: 0, 190.0: 1,
             -10.0: 17, -4.0: 0, 364.0: 0, 359.0: 0, 90.0: 9}
    for theta, expected in cases.items():
        assert angle_index(theta) == expected, theta
    as_tensor = angle_index(torch.tensor(list(cases)))
    assert as_tensor.dtype == torch.long
    assert as_tensor.tolist() == list(cases.values())
    with pytest.raises(ValueError, match="finite"):
        angle_index(float("nan"))
    with pytest.raises(ValueError, match="finite"):
        angle_index(torch.tensor([10.0, float("nan")]))


def test_response_matches_explicit_per_sample_conv() -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.rand(3, 2, 9, 11, generator=g)
    theta = torch.tensor([0.0, 33.0, 128.0])
    par, perp = directional_response(z, theta, 5, padding="zeros")
    assert par.shape == z.shape and perp.shape == z.shape
    bank = kernel_bank(5)
    for b, t in enumerate(theta.tolist()):
        i = angle_index(t)
        for out, k in ((par, bank[i]), (perp, bank[(i + 9) % 18])):
            ref = F.conv2d(z[b : b + 1], k.expand(2, 1, 5, 5), padding=2, groups=2)
            assert torch.allclose(out[b : b + 1], ref, atol=1e-6)


def test_padding_modes_agree_in_the_interior() -> None:
    z = torch.rand(2, 3, 12, 13, generator=torch.Generator().manual_seed(1))
    theta = [20.0, 110.0]
    outs = {m: directional_response(z, theta, 7, padding=m) for m in ("reflect", "zeros",
                                                                      "replicate")}
    for m in ("zeros", "replicate"):
        for a, b in zip(outs["reflect"], outs[m], strict=True):
            assert torch.allclose(a[..., 3:-3, 3:-3], b[..., 3:-3, 3:-3], atol=1e-6)
    with pytest.raises(ValueError, match="padding"):
        directional_response(z, theta, 5, padding="circular")


def test_module_equals_function_and_has_fixed_buffer() -> None:
    filt = DirectionalFilter(5)
    assert list(filt.parameters()) == []
    assert "bank" not in filt.state_dict()
    assert not filt.bank.requires_grad
    z = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    theta = torch.tensor([70.0, 160.0])
    for a, b in zip(filt(z, theta), directional_response(z, theta, 5), strict=True):
        assert torch.equal(a, b)


def test_wrong_angle_count() -> None:
    with pytest.raises(ValueError, match="one angle per sample"):
        directional_response(torch.zeros(2, 1, 8, 8), [10.0, 20.0, 30.0])


@pytest.mark.parametrize("padding", ["reflect", "zeros"])
def test_gradcheck(padding: str) -> None:
    z = torch.rand(2, 1, 6, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    z.requires_grad_(True)
    theta = torch.tensor([30.0, 100.0])
    assert torch.autograd.gradcheck(
        lambda x: directional_response(x, theta, 5, padding), (z,), eps=1e-6, atol=1e-5
    )


def test_streak_renderer_follows_the_convention() -> None:
    img = render_streak(45.0, size=21)
    assert img[10 - 6, 10 + 6] > 0.9  # up-right of the centre on screen
    assert img[10 + 6, 10 + 6] < 0.01


@pytest.mark.parametrize("ksize", SIZES)
def test_streak_responds_weakly_along_and_strongly_across(ksize: int) -> None:
    """A straight streak at theta: mean |k_par * z| << mean |k_perp * z| (interior only)."""
    m = ksize  # crop the border where the streak leaves the image
    for theta in (0.0, 30.0, 60.0, 90.0, 120.0, 150.0, 170.0):
        z = render_streak(theta)[None, None]
        par, perp = directional_response(z, [theta], ksize)
        ratio = par[..., m:-m, m:-m].abs().mean() / perp[..., m:-m, m:-m].abs().mean()
        assert ratio < 0.1, (ksize, theta, float(ratio))
    # off-grid labels (5 deg from the nearest kernel) still favour the parallel kernel
    for theta in (25.0, 85.0, 145.0):
        z = render_streak(theta)[None, None]
        par, perp = directional_response(z, [theta], ksize)
        ratio = par[..., m:-m, m:-m].abs().mean() / perp[..., m:-m, m:-m].abs().mean()
        assert ratio < 0.4, (ksize, theta, float(ratio))
