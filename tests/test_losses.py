"""UDRDR loss functions (eq. 4, 5, 8, 9, 10; Sec. 3.4)."""

from __future__ import annotations

import pytest
import torch

from models import losses as L
from models.direction_kernels import directional_response


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def test_l1_is_the_mean_absolute_error() -> None:
    for shape in ((1, 3, 4, 4), (5, 1, 7, 3)):
        assert L.content_loss(torch.ones(shape), torch.zeros(shape)).item() == 1.0
        assert L.recons_loss(torch.full(shape, 0.25), torch.zeros(shape)).item() == 0.25


def test_pairwise_losses_zero_iff_equal() -> None:
    a, b = rand(2, 3, 9, 7, seed=1), rand(2, 3, 9, 7, seed=2)
    theta = torch.tensor([10.0, 100.0])
    for fn in (L.content_loss, L.recons_loss,
               lambda x, y: L.direction_loss(x, y, theta)):
        assert fn(a, a.clone()).item() == 0.0
        assert fn(a, b).item() > 0.0


def test_direction_loss_is_the_sum_of_two_l1_terms() -> None:
    zs, zg = rand(3, 3, 10, 11, seed=3), rand(3, 3, 10, 11, seed=4)
    theta = torch.tensor([0.0, 47.0, 160.0])
    for ksize in (3, 5, 7):
        ps, qs = directional_response(zs, theta, ksize)
        pg, qg = directional_response(zg, theta, ksize)
        expected = (ps - pg).abs().mean() + (qs - qg).abs().mean()
        got = L.direction_loss(zs, zg, theta, ksize)
        assert torch.allclose(got, expected, atol=1e-6)


def test_direction_loss_skips_unknown_angles() -> None:
    zs, zg = rand(3, 3, 8, 8, seed=5), rand(3, 3, 8, 8, seed=6)
    theta = torch.tensor([20.0, float("nan"), 140.0])
    got = L.direction_loss(zs, zg, theta)
    keep = torch.tensor([0, 2])
    assert torch.allclose(got, L.direction_loss(zs[keep], zg[keep], theta[keep]))

    zs.requires_grad_(True)
    none_known = L.direction_loss(zs, zg, torch.full((3,), float("nan")))
    assert none_known.item() == 0.0
    none_known.backward()
    assert zs.grad is not None and zs.grad.abs().sum() == 0


def test_direction_loss_estimates_unknown_angles() -> None:
    zs, zg = rand(2, 3, 8, 8, seed=7), rand(2, 3, 8, 8, seed=8)
    seen: list[torch.Tensor] = []

    def estimator(z_gt: torch.Tensor) -> torch.Tensor:
        seen.append(z_gt)
        return torch.full((z_gt.shape[0],), 60.0)

    theta = torch.tensor([float("nan"), 130.0])
    got = L.direction_loss(zs, zg, theta, missing="estimate", estimator=estimator)
    assert len(seen) == 1 and seen[0].shape == (1, 3, 8, 8) and not seen[0].requires_grad
    assert torch.allclose(got, L.direction_loss(zs, zg, torch.tensor([60.0, 130.0])))
    with pytest.raises(ValueError, match="estimator"):
        L.direction_loss(zs, zg, theta, missing="estimate")
    with pytest.raises(ValueError, match="missing"):
        L.direction_loss(zs, zg, theta, missing="ignore")


def test_tv_loss() -> None:
    assert L.tv_loss(torch.full((2, 3, 5, 6), 0.3)).item() == 0.0
    assert L.tv_loss(rand(2, 3, 5, 6, seed=9)).item() > 0.0
    # hand-computed: vertical |2-0|, |4-1| -> 2.5; horizontal |1-0|, |4-2| -> 1.5
    y = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])
    assert L.tv_loss(y).item() == pytest.approx(4.0)
    assert L.tv_loss(torch.tensor([[[[0.0, 1.0, 3.0]]]])).item() == pytest.approx(1.5)


def test_cycle_loss() -> None:
    y, z = rand(2, 3, 6, 5, seed=10), rand(2, 3, 6, 5, seed=11)
    assert L.cycle_loss(y, z, y + z).item() == 0.0
    assert L.cycle_loss(y, z, y).item() == pytest.approx(z.abs().mean().item())


def test_make_reference_detaches_rain_map() -> None:
    y_gt = rand(1, 3, 4, 4, seed=12)
    z_real = rand(1, 3, 4, 4, seed=13).requires_grad_(True)
    x_ref = L.make_reference(y_gt, z_real)
    assert torch.equal(x_ref, y_gt + z_real.detach())
    assert not x_ref.requires_grad
    clipped = L.make_reference(y_gt, z_real, clip=True)
    assert clipped.max() <= 1.0 and (x_ref > 1).any()


def test_distill_loss_value_and_detaching() -> None:
    f3_real, f3_ref = rand(2, 3, 5, 5, seed=14), rand(2, 3, 5, 5, seed=15)
    y_gt = rand(2, 3, 5, 5, seed=16)
    leaf = rand(2, 3, 5, 5, seed=17).requires_grad_(True)
    y_real = leaf * 1.0  # a teacher output: part of a graph
    y_real.retain_grad()
    f3_real.requires_grad_(True)
    f3_ref.requires_grad_(True)
    loss = L.distill_loss(f3_real, y_real, f3_ref, y_gt, phi=10.0)
    expected = (f3_real - y_real).abs().mean() + 10.0 * (f3_ref - y_gt).abs().mean()
    assert torch.allclose(loss, expected)
    loss.backward()
    assert y_real.grad is None and leaf.grad is None
    assert f3_real.grad is not None and f3_ref.grad is not None
    assert L.distill_loss(y_gt, y_gt, y_gt, y_gt).item() == 0.0


def test_shape_mismatch_is_reported() -> None:
    with pytest.raises(ValueError, match=r"expected \(1, 3, 4, 4\), got \(1, 3, 4, 5\)"):
        L.content_loss(torch.zeros(1, 3, 4, 5), torch.zeros(1, 3, 4, 4))


def test_loss_weights_defaults_are_the_papers() -> None:
    """Sec. 3.4: L_content + 1.2 L_direction + L_recons + 0.001 L_TV + 0.01 L_cycle
    + L_distill, phi = 10; Sec. 3.1: l = 5."""
    w = L.LossWeights()
    assert (w.content, w.direction, w.recons, w.tv, w.cycle, w.distill) == (
        1.0, 1.2, 1.0, 0.001, 0.01, 1.0)
    assert (w.phi, w.kernel_size) == (10.0, 5)
    for bad in ({"direction": -1.0}, {"tv": float("nan")}, {"kernel_size": 4},
                {"direction_padding": "wrap"}, {"missing_angle": "drop"}):
        with pytest.raises(ValueError, match="LossWeights"):
            L.LossWeights(**bad)


def test_total_loss_weights_and_sums() -> None:
    terms = {name: torch.tensor(float(i + 1)) for i, name in enumerate(L.TERM_NAMES)}
    w = L.LossWeights()
    total, weighted = L.total_loss(terms, w)
    assert set(weighted) == set(L.TERM_NAMES)
    expected = sum(w.weight(n) * float(i + 1) for i, n in enumerate(L.TERM_NAMES))
    assert total.item() == pytest.approx(expected)
    assert weighted["direction"].item() == pytest.approx(1.2 * 2)


def test_disabled_terms_are_never_computed() -> None:
    def boom() -> torch.Tensor:
        raise AssertionError("a disabled term was computed")

    base = {"content": torch.tensor(1.0), "recons": torch.tensor(2.0)}
    total, weighted = L.total_loss({**base, "direction": boom}, L.LossWeights(direction=0.0))
    assert "direction" not in weighted and total.item() == pytest.approx(3.0)
    total, weighted = L.total_loss({**base, "distill": boom}, L.LossWeights(distill=0))
    assert "distill" not in weighted
    _, weighted = L.total_loss({"direction": lambda: torch.tensor(1.0)}, L.LossWeights())
    assert weighted["direction"].item() == pytest.approx(1.2)


def test_unknown_term_name_gets_a_hint() -> None:
    with pytest.raises(ValueError, match="did you mean direction"):
        L.total_loss({"directoin": torch.tensor(1.0)}, L.LossWeights())
