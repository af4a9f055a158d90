"""Shared fixtures: the optional real data in ../shared/data and small helpers."""

from __future__ import annotations

import importlib
import socket
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the project; the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real third-party data not found at {SHARED_DATA} (clone without ../shared)")
    return SHARED_DATA


@pytest.fixture
def bench_script(monkeypatch):
    """``bench_script(NAME)`` imports ``bench/NAME.py`` with its siblings importable, as
    ``python bench/NAME.py`` sees them."""
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "bench"))
    return importlib.import_module


@pytest.fixture(autouse=True)
def _no_weights_from_the_user_environment(tmp_path_factory, monkeypatch):
    """Tests never find weights a user fetched (``~/.cache/derain-toolkit/weights``, the
    torch hub cache, ``$DERAIN_WEIGHTS_DIR``): each sees an empty cache of its own."""
    home = tmp_path_factory.mktemp("weights-home")
    monkeypatch.setenv("DERAIN_WEIGHTS_CACHE", str(home / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(home / "torch"))
    # setenv before delenv records the variable, so that teardown also removes a value the
    # code under test sets for its own process (``--max-pixels`` sets RAINDATA_MAX_PIXELS)
    for name in ("DERAIN_WEIGHTS_DIR", "DERAIN_WEIGHTS_BASE_URL", "RAINDATA_MAX_PIXELS"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


ALEX_SHAPES = {0: (64, 3, 11, 11), 3: (192, 64, 5, 5), 6: (384, 192, 3, 3),
               8: (256, 384, 3, 3), 10: (256, 256, 3, 3)}


@pytest.fixture
def standin_weights(tmp_path, monkeypatch):
    """Seeded random tensors shaped like torchvision's AlexNet state dict (features.*,
    plus a classifier entry that must be ignored); network access is refused."""
    import torch

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    gen = torch.Generator().manual_seed(1234)
    sd = {}
    for idx, shape in ALEX_SHAPES.items():
        sd[f"features.{idx}.weight"] = torch.randn(shape, generator=gen) * 0.05
        sd[f"features.{idx}.bias"] = torch.randn(shape[0], generator=gen) * 0.01
    sd["classifier.1.weight"] = torch.zeros(4, 4)
    path = tmp_path / "alexnet-standin.pth"
    torch.save(sd, path)
    return path
