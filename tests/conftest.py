"""Shared fixtures: the optional real data in ../shared/data and small helpers."""

from __future__ import annotations

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
