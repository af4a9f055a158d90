"""EDSR backbone and the UDRDR networks F1, F2, F3 (Sec. 3, 4.2; Table 3)."""

from __future__ import annotations

import pytest
import torch

from models import losses as L
from models.archs.edsr import EDSR, count_parameters
from models.archs.udrdr import UDRDR, UDRDRConfig, build_f1, build_f2, build_f3


def edsr_formula(c_in: int, c_out: int, feats: int, blocks: int) -> int:
    """3x3 convs with bias: head, 2 per residual block, body conv, tail."""
    conv = lambda i, o: 9 * i * o + o  # noqa: E731
    return conv(c_in, feats) + blocks * 2 * conv(feats, feats) + conv(feats, feats) + conv(
        feats, c_out)


def test_f3_paper_parameter_count_matches_table_3() -> None:
    """Table 3 lists 4.9M for UDRDR (F3 only runs at test time)."""
    n = count_parameters(build_f3(UDRDRConfig.paper()))
    assert n == edsr_formula(3, 3, 128, 16)
    # 3*128*9+128 + 16*2*(128*128*9+128) + (128*128*9+128) + 128*3*9+3
    assert n == 4_877_315
    assert round(n / 1e6, 1) == 4.9


def test_f1_f2_paper_parameter_counts() -> None:
    cfg = UDRDRConfig.paper()
    expected = edsr_formula(3, 3, 64, 16)
    assert expected == 1_222_147  # 1792 + 16*73856 + 36928 + 1731
    assert count_parameters(build_f1(cfg)) == expected
    assert count_parameters(build_f2(cfg)) == expected
    net = UDRDR(cfg)
    assert count_parameters(net) == 2 * expected + count_parameters(net.f3)


@pytest.mark.parametrize("size", [(7, 9), (13, 5), (1, 1)])
def test_shapes_preserved(size: tuple[int, int]) -> None:
    net = UDRDR(UDRDRConfig.tiny())
    x = torch.rand(2, 3, *size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        z, y = net.teacher(x)
        assert z.shape == x.shape and y.shape == x.shape
        assert net.student(x).shape == x.shape
        assert net(x).shape == x.shape


def test_single_channel_and_res_scale() -> None:
    net = EDSR(1, 1, n_feats=4, n_blocks=1, res_scale=0.1)
    assert net(torch.rand(1, 1, 5, 6)).shape == (1, 1, 5, 6)


def test_global_residual_switch() -> None:
    x = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    for residual in (False, True):
        net = UDRDR(UDRDRConfig(n_blocks=1, f1_feats=4, f2_feats=4, f3_feats=4,
                                global_residual=residual))
        for f in (net.f1, net.f2, net.f3):
            torch.nn.init.zeros_(f.tail.weight)
            torch.nn.init.zeros_(f.tail.bias)
        with torch.no_grad():
            z, y = net.teacher(x)
            assert torch.equal(z, torch.zeros_like(x))  # F1 never adds its input
            assert torch.equal(y, x if residual else torch.zeros_like(x))
            assert torch.equal(net.student(x), x if residual else torch.zeros_like(x))
    with pytest.raises(ValueError, match="in_channels == out_channels"):
        EDSR(3, 1, global_residual=True)


def test_config_validation_and_from_dict() -> None:
    assert UDRDRConfig.from_dict({"n_blocks": 3}).n_blocks == 3
    with pytest.raises(ValueError, match="did you mean f3_feats"):
        UDRDRConfig.from_dict({"f3_feat": 32})
    with pytest.raises(ValueError, match="n_blocks"):
        UDRDRConfig(n_blocks=-1)
    with pytest.raises(ValueError, match="res_scale"):
        UDRDRConfig(res_scale=0.0)


def test_tiny_forward_backward_no_nan() -> None:
    """One full set of UDRDR losses on the tiny config: finite, and every parameter trains."""
    torch.manual_seed(0)
    net = UDRDR(UDRDRConfig.tiny())
    g = torch.Generator().manual_seed(1)
    y_gt = torch.rand(2, 3, 11, 13, generator=g) * 0.8
    rain = torch.rand(2, 3, 11, 13, generator=g) * 0.2
    x_syn, x_real = (y_gt + rain).clamp(0, 1), torch.rand(2, 3, 11, 13, generator=g)
    z_gt = x_syn - y_gt
    theta = torch.tensor([30.0, float("nan")])

    z_syn, y_syn = net.teacher(x_syn)
    z_real, y_real = net.teacher(x_real)
    x_ref = L.make_reference(y_gt, z_real)
    w = L.LossWeights()
    terms = {
        "content": lambda: L.content_loss(z_syn, z_gt),
        "direction": lambda: L.direction_loss(z_syn, z_gt, theta, w.kernel_size),
        "recons": lambda: L.recons_loss(y_syn, y_gt),
        "tv": lambda: L.tv_loss(y_real),
        "cycle": lambda: L.cycle_loss(y_real, z_real, x_real),
        "distill": lambda: L.distill_loss(net.student(x_real), y_real, net.student(x_ref),
                                          y_gt, w.phi),
    }
    total, weighted = L.total_loss(terms, w)
    assert set(weighted) == set(L.TERM_NAMES)
    assert torch.isfinite(total)
    total.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
