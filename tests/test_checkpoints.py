"""Safe checkpoint loading: tensors only, one-line errors naming the file."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from models.io import torch_state as checkpoints
from models.io.torch_state import load_state_dict
from raindata import atomic
from raindata.errors import DataError


def _state(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"conv.weight": torch.randn(4, 3, 3, 3, generator=g), "conv.bias": torch.zeros(4)}


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert list(a) == list(b)
    for k in a:
        assert torch.equal(a[k], b[k])


def _assert_one_line_naming(err: pytest.ExceptionInfo, path) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


@pytest.mark.parametrize("zipfile", [True, False], ids=["zip", "legacy"])
def test_plain_state_dict_round_trip(tmp_path, zipfile):
    path = tmp_path / "w.pth"
    torch.save(_state(), path, _use_new_zipfile_serialization=zipfile)
    _assert_same(load_state_dict(path), _state())


@pytest.mark.parametrize("key", ["state_dict", "model"])
def test_wrapped_state_dict_is_unwrapped(tmp_path, key):
    path = tmp_path / "ckpt.pth"
    torch.save({key: _state(), "epoch": 7, "optimizer": {"lr": 1e-3}}, path)
    _assert_same(load_state_dict(path), _state())


def test_dataparallel_prefix_is_stripped(tmp_path):
    path = tmp_path / "dp.pth"
    torch.save({f"module.{k}": v for k, v in _state().items()}, path)
    _assert_same(load_state_dict(path), _state())


def test_prefix_on_some_keys_only_is_kept(tmp_path):
    state = {"module.a": torch.ones(1), "b": torch.zeros(1)}
    path = tmp_path / "mixed.pth"
    torch.save(state, path)
    assert list(load_state_dict(path)) == ["module.a", "b"]


class _Exploit:
    """Unpickling this would run a shell command (the classic malicious checkpoint)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_pickle_with_os_system_reduce_is_refused_without_running(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    with open(path, "wb") as fh:
        pickle.dump({"conv.weight": _Exploit(str(marker))}, fh, protocol=protocol)
    with pytest.raises(DataError) as err:
        load_state_dict(path)
    msg = _assert_one_line_naming(err, path)
    assert "refused" in msg
    if protocol == 2:  # torch's unpickler names the blocked global
        assert "system" in msg
    assert not marker.exists()


class _Custom:
    def __init__(self) -> None:
        self.x = 1


def test_custom_class_in_torch_save_is_refused(tmp_path):
    path = tmp_path / "custom.pth"
    torch.save({"conv.weight": torch.ones(1), "extra": _Custom()}, path)
    with pytest.raises(DataError) as err:
        load_state_dict(path)
    assert "refused" in _assert_one_line_naming(err, path)


@pytest.mark.parametrize(
    ("obj", "words"),
    [
        ({"conv.weight": torch.ones(1), "epoch": 3}, "key 'epoch' holding int"),
        ([torch.ones(1)], "got list"),
        ({}, "empty"),
        ({"state_dict": {"a": 1}}, "key 'a' holding int"),
    ],
    ids=["number-value", "list", "empty", "wrapped-non-tensor"],
)
def test_non_state_dicts_are_refused(tmp_path, obj, words):
    path = tmp_path / "odd.pth"
    torch.save(obj, path)
    with pytest.raises(DataError) as err:
        load_state_dict(path)
    assert words in _assert_one_line_naming(err, path)


@pytest.mark.parametrize("zipfile", [True, False], ids=["zip", "legacy"])
def test_truncated_file_is_refused(tmp_path, zipfile):
    path = tmp_path / "cut.pth"
    torch.save(_state(), path, _use_new_zipfile_serialization=zipfile)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError) as err:
        load_state_dict(path)
    _assert_one_line_naming(err, path)


def test_garbage_and_missing_files(tmp_path):
    path = tmp_path / "garbage.pth"
    path.write_bytes(b"this is not a checkpoint\n" * 10)
    with pytest.raises(DataError) as err:
        load_state_dict(path)
    _assert_one_line_naming(err, path)
    missing = tmp_path / "absent.pth"
    with pytest.raises(DataError, match="not found") as err:
        load_state_dict(missing)
    _assert_one_line_naming(err, missing)


def test_expected_sha256(tmp_path):
    path = tmp_path / "w.pth"
    torch.save(_state(), path)
    digest = atomic.sha256_file(path)
    _assert_same(load_state_dict(path, expected_sha256=digest.upper()), _state())
    with pytest.raises(DataError, match=f"expected {'0' * 64}, got {digest}") as err:
        load_state_dict(path, expected_sha256="0" * 64)
    _assert_one_line_naming(err, path)


def test_sha256_file_is_raindatas():
    assert checkpoints.sha256_file is atomic.sha256_file
