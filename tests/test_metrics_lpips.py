"""LPIPS wiring with a deterministic stand-in AlexNet; unavailability; light imports."""

from __future__ import annotations

import datetime
import subprocess
import sys

import numpy as np
import pytest

from benchmark.metrics import MetricInputError, MetricUnavailable, create_metric


def _images(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-60, 61, a.shape), 0, 255).astype(np.uint8)
    return a, b


def test_lpips_identity_symmetry_and_scaling(standin_weights):
    m = create_metric("lpips", weights=standin_weights)
    a, b = _images(0)
    assert m(a, a) == 0.0
    d_ab, d_ba = m(a, b), m(b, a)
    assert d_ab > 0
    assert d_ab == pytest.approx(d_ba, rel=1e-6, abs=1e-9)
    assert m(a / 255.0, b / 255.0) == pytest.approx(d_ab, rel=1e-6)  # uint8 == float [0, 1]
    assert m.card.name == "lpips" and not m.card.higher_is_better
    assert len(m.weights_sha256) == 64


def test_lpips_loads_trunk_and_lin_weights(standin_weights):
    """The trunk holds exactly the stand-in tensors; the linear layers are the package's."""
    import lpips
    import torch

    m = create_metric("lpips", weights=standin_weights)
    sd = torch.load(standin_weights, weights_only=True)
    assert torch.equal(m.model.net.slice1[0].weight, sd["features.0.weight"])
    assert torch.equal(m.model.net.slice5._modules["10"].bias, sd["features.10.bias"])
    lin = torch.load(
        f"{lpips.__path__[0]}/weights/v0.1/alex.pth", map_location="cpu", weights_only=True
    )
    assert torch.equal(m.model.lin0.model[1].weight, lin["lin0.model.1.weight"])


def test_missing_weights_are_reported(tmp_path, monkeypatch):
    import torch

    missing = tmp_path / "nope.pth"
    with pytest.raises(MetricUnavailable, match=f"not found at {missing}"):
        create_metric("lpips", weights=missing)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(MetricUnavailable) as err:
        create_metric("lpips")
    msg = str(err.value)
    assert str(tmp_path / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth") in msg
    assert "--lpips-weights" in msg and "\n" not in msg


def test_wrong_weights_are_refused(tmp_path):
    import torch

    partial = tmp_path / "partial.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 11, 11)}, partial)
    with pytest.raises(MetricInputError, match=r"missing 'features\.0\.bias'"):
        create_metric("lpips", weights=partial)
    pickled = tmp_path / "object.pth"
    torch.save({"x": datetime.date(2021, 10, 1)}, pickled)
    with pytest.raises(MetricInputError, match="refused, not a plain tensor state dict"):
        create_metric("lpips", weights=pickled)


def test_import_is_light():
    """``import benchmark.metrics`` (and the pure metric modules) must not import torch."""
    code = (
        "import sys, benchmark.metrics, benchmark.metrics.psnr, benchmark.metrics.ssim, "
        "benchmark.metrics.niqe, benchmark.metrics.rainmap, benchmark.metrics.lpips_metric; "
        "bad = [m for m in ('torch', 'lpips', 'pyiqa', 'cv2') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
