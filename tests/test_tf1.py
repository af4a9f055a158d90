"""The TensorFlow 1 checkpoint reader (models.io.tf1): real checkpoints, made-up ones, damage."""

from __future__ import annotations

import shutil
import struct

import numpy as np
import pytest

from models.io import read_weights
from models.io.tf1 import (
    TABLE_MAGIC,
    Tf1Checkpoint,
    checkpoint_digest,
    crc32c,
    read_variables,
    resolve_checkpoint,
)
from raindata.errors import DataError

# ------------------------------------------------------------------ a tiny writer (tests only)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire) + payload


def _mask(crc: int) -> int:
    return ((crc >> 15 | crc << 17) + 0xA282EAD8) & 0xFFFFFFFF


def _block(entries: list[tuple[bytes, bytes]], restart_every: int = 2) -> bytes:
    """A LevelDB block with prefix-compressed keys and a restart point every few keys."""
    out, restarts, last = bytearray(), [], b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % restart_every:
            while shared < min(len(key), len(last)) and key[shared] == last[shared]:
                shared += 1
        else:
            restarts.append(len(out))
        out += _varint(shared) + _varint(len(key) - shared) + _varint(len(value))
        out += key[shared:] + value
        last = key
    restarts = restarts or [0]
    out += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def _with_trailer(contents: bytes) -> bytes:
    return contents + b"\0" + struct.pack("<I", _mask(crc32c(contents + b"\0")))


def write_checkpoint(prefix, tensors: dict[str, tuple[int, tuple[int, ...], bytes]],
                     shards: int = 1, big_endian: bool = False) -> None:
    """A TF1 V2 checkpoint: ``tensors`` = name -> (TF dtype code, shape, raw bytes); the
    tensors go round-robin over ``shards`` data files; one data block per two keys."""
    data = [bytearray() for _ in range(shards)]
    entries = []
    header = _field(1, 0, _varint(shards)) + _field(2, 0, _varint(int(big_endian)))
    entries.append((b"", header))
    for i, (name, (dtype, shape, raw)) in enumerate(sorted(tensors.items())):
        shard = i % shards
        dims = b"".join(_field(2, 2, _varint(len(d)) + d)
                        for d in (_field(1, 0, _varint(s)) for s in shape))
        entry = (_field(1, 0, _varint(dtype)) + _field(2, 2, _varint(len(dims)) + dims)
                 + _field(3, 0, _varint(shard)) + _field(4, 0, _varint(len(data[shard])))
                 + _field(5, 0, _varint(len(raw))) + _field(6, 5, struct.pack(
                     "<I", _mask(crc32c(raw)))))
        data[shard] += raw
        entries.append((name.encode(), entry))
    table, index_entries = bytearray(), []
    for start in range(0, len(entries), 2):
        chunk = entries[start:start + 2]
        handle = _varint(len(table))
        contents = _block(chunk)
        table += _with_trailer(contents)
        index_entries.append((chunk[-1][0] + b"\xff", handle + _varint(len(contents))))
    meta = (len(table), 0)
    table += _with_trailer(_block([]))
    index = (len(table), len(_block(index_entries)))
    table += _with_trailer(_block(index_entries))
    handles = _varint(meta[0]) + _varint(meta[1]) + _varint(index[0]) + _varint(index[1])
    table += handles + b"\0" * (40 - len(handles)) + struct.pack("<Q", TABLE_MAGIC)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    prefix.with_name(prefix.name + ".index").write_bytes(bytes(table))
    for k, blob in enumerate(data):
        prefix.with_name(f"{prefix.name}.data-{k:05d}-of-{shards:05d}").write_bytes(bytes(blob))


def _one_line(err: pytest.ExceptionInfo, name: str) -> str:
    msg = str(err.value)
    assert "\n" not in msg and name in msg, msg
    return msg


# ------------------------------------------------------------------ crc32c


def test_crc32c_check_values():
    """Check values of CRC-32C (Castagnoli): '123456789' from the CRC catalogue, the
    32-byte zeros/ones vectors from RFC 3720 (iSCSI) B.4; a long input takes the chunked
    path and must agree with a byte-by-byte reference."""
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(b"") == 0
    data = np.random.default_rng(0).integers(0, 256, 70_001, dtype=np.uint8).tobytes()
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = crc >> 1 ^ 0x82F63B78 if crc & 1 else crc >> 1
    assert crc32c(data) == crc ^ 0xFFFFFFFF


# ------------------------------------------------------------------ made-up checkpoints


def test_round_trip_of_dtypes_shapes_and_shards(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {
        "a/kernel": (1, rng.standard_normal((3, 3, 2, 4)).astype("<f4")),
        "a/bias": (2, rng.standard_normal(4).astype("<f8")),
        "step": (9, np.array(123456789012, "<i8")),
        "flags": (10, np.array([True, False, True])),
        "half": (19, np.array([1.5, -2.25], "<f2")),
        "bytes": (4, np.arange(7, dtype=np.uint8)),
        "empty": (1, np.zeros((0, 5), "<f4")),
    }
    prefix = tmp_path / "ck" / "model-10"
    write_checkpoint(prefix, {k: (c, a.shape, a.tobytes()) for k, (c, a) in arrays.items()},
                     shards=3)
    ckpt = resolve_checkpoint(prefix)
    assert len(ckpt.shards) == 3
    got = read_variables(ckpt)
    assert set(got) == set(arrays)
    for name, (_, a) in arrays.items():
        assert got[name].dtype == a.dtype.newbyteorder("=") and got[name].shape == a.shape
        np.testing.assert_array_equal(got[name], a)
    blob = b"".join(s.read_bytes() for s in ckpt.shards)
    import hashlib

    assert checkpoint_digest(ckpt) == hashlib.sha256(blob).hexdigest()


def test_big_endian_bundles(tmp_path):
    a = np.arange(6, dtype=">f4").reshape(2, 3)
    write_checkpoint(tmp_path / "m", {"x": (1, a.shape, a.tobytes())}, big_endian=True)
    got = read_variables(resolve_checkpoint(tmp_path / "m"))["x"]
    np.testing.assert_array_equal(got, np.arange(6, dtype=np.float32).reshape(2, 3))


def test_resolve_accepts_prefix_index_shard_and_folder(tmp_path):
    write_checkpoint(tmp_path / "run" / "model", {"x": (1, (1,), b"\0\0\x80?")})
    folder = tmp_path / "run"
    expected = resolve_checkpoint(folder / "model")
    assert isinstance(expected, Tf1Checkpoint)
    for p in (folder / "model.index", folder / "model.data-00000-of-00001", folder):
        assert resolve_checkpoint(p) == expected
    # a `checkpoint` state file names which of several checkpoints a folder means
    write_checkpoint(folder / "model-2", {"x": (1, (1,), b"\0\0\0@")})
    with pytest.raises(DataError, match="found 2"):
        resolve_checkpoint(folder)
    (folder / "checkpoint").write_text('model_checkpoint_path: "/elsewhere/model-2"\n'
                                       'all_model_checkpoint_paths: "model"\n')
    assert resolve_checkpoint(folder).prefix == folder / "model-2"
    assert read_variables(resolve_checkpoint(folder))["x"][0] == 2.0


def test_missing_files_are_one_line_errors(tmp_path):
    with pytest.raises(DataError) as err:
        resolve_checkpoint(tmp_path / "nothing")
    _one_line(err, "nothing")
    with pytest.raises(DataError) as err:
        resolve_checkpoint(tmp_path)
    _one_line(err, str(tmp_path))
    write_checkpoint(tmp_path / "m", {"x": (1, (1,), bytes(4))})
    (tmp_path / "m.data-00000-of-00001").unlink()
    with pytest.raises(DataError) as err:
        resolve_checkpoint(tmp_path / "m")
    assert "no data shard" in _one_line(err, "m.index")
    write_checkpoint(tmp_path / "s", {"x": (1, (1,), bytes(4)), "y": (1, (1,), bytes(4))},
                     shards=2)
    (tmp_path / "s.data-00001-of-00002").unlink()
    with pytest.raises(DataError, match=r"incomplete.*missing \[1\]"):
        resolve_checkpoint(tmp_path / "s")


def test_unknown_and_unsupported_dtypes(tmp_path):
    write_checkpoint(tmp_path / "m", {"s": (7, (1,), b"\x01\0\0\0\0a")})  # DT_STRING
    with pytest.raises(DataError) as err:
        read_variables(resolve_checkpoint(tmp_path / "m"))
    assert "dtype 7" in _one_line(err, "m.data-00000-of-00001")
    write_checkpoint(tmp_path / "q", {"x": (99, (1,), bytes(4))})
    with pytest.raises(DataError, match="dtype 99"):
        read_variables(resolve_checkpoint(tmp_path / "q"))


def test_entry_size_must_match_shape(tmp_path):
    write_checkpoint(tmp_path / "m", {"x": (1, (3,), bytes(8))})
    with pytest.raises(DataError, match=r"takes 8 bytes.*needs 12"):
        read_variables(resolve_checkpoint(tmp_path / "m"))


@pytest.fixture
def small_ckpt(tmp_path):
    tensors = {f"layer_{i}/w": (1, (5, 7), np.full((5, 7), i, "<f4").tobytes())
               for i in range(9)}
    write_checkpoint(tmp_path / "m", tensors)
    return tmp_path / "m"


def test_corrupt_index_is_refused(small_ckpt):
    index = small_ckpt.with_name("m.index")
    good = index.read_bytes()
    assert len(read_variables(resolve_checkpoint(small_ckpt))) == 9
    for cut in (10, len(good) // 2, len(good) - 20):
        index.write_bytes(good[:cut])
        with pytest.raises(DataError) as err:
            read_variables(resolve_checkpoint(small_ckpt))
        _one_line(err, "m.index")
    for pos in (5, 30, len(good) - 60):  # data block, data block, index block
        bad = bytearray(good)
        bad[pos] ^= 0x10
        index.write_bytes(bytes(bad))
        with pytest.raises(DataError) as err:
            read_variables(resolve_checkpoint(small_ckpt))
        assert "checksum mismatch" in _one_line(err, "m.index")
    index.write_bytes(b"\x80" * 100)
    with pytest.raises(DataError, match="bad table magic"):
        read_variables(resolve_checkpoint(small_ckpt))


def test_corrupt_or_truncated_data_is_refused(small_ckpt):
    shard = small_ckpt.with_name("m.data-00000-of-00001")
    good = shard.read_bytes()
    bad = bytearray(good)
    bad[100] ^= 1
    shard.write_bytes(bytes(bad))
    with pytest.raises(DataError) as err:
        read_variables(resolve_checkpoint(small_ckpt))
    assert "checksum mismatch in variable 'layer_0/w'" in _one_line(err, shard.name)
    shard.write_bytes(good[:-3])
    with pytest.raises(DataError) as err:
        read_variables(resolve_checkpoint(small_ckpt))
    assert "truncated" in _one_line(err, shard.name)


# ------------------------------------------------------------------ the released checkpoints

REFERENCE = {
    "ddn": (156, 58_175, {
        "layer_1/conv_1/kernel": ((3, 3, 3, 16), 0.26038919130223803, 0.04827415943145752,
                                  0.0020253004040569067),
        "layer_26/bn_26/moving_variance": ((3,), 379.27941131591797, 124.1808853149414,
                                           122.59097290039062),
        "layer_13/bn_13/gamma": ((16,), 16.039599359035492, 1.0687260627746582,
                                 0.9731216430664062),
    }),
    "derainnet": (6, 754_691, {
        "DerainNet/conv2d/kernel": ((16, 16, 3, 512), -306.50319950035623,
                                    -0.01864808239042759, -0.09229855984449387),
        "DerainNet/conv2d_transpose/kernel": ((8, 8, 3, 512), -35.18968268647703,
                                              0.02776508778333664, -0.06960435211658478),
        "DerainNet/conv2d_transpose/bias": ((3,), -0.0013500803906936198,
                                            -0.0005170173826627433, -0.0001435121230315417),
    }),
    "sirr": (548, 175_736, {
        "conv_1/weights_1": ((3, 3, 3, 16), 9.82770426326897, -0.6016315221786499,
                             0.24466340243816376),
        "conv_26/beta_26": ((3,), -0.1803603582084179, -0.05843630060553551,
                            -0.06267917156219482),
        "conv_10_1/scale_10": ((16,), 9.985135889612138, 0.6076249480247498,
                               0.5852475762367249),
        "beta1_power": ((), 0.0, 0.0, 0.0),
    }),
}
"""From TensorFlow's own reader (``tf.train.load_checkpoint``, TensorFlow 2.21, in a
scratch environment outside the project): per checkpoint, the number of variables and of
values; per tensor, shape, ``float(v.astype(np.float64).sum())``, first and last value.
Every tensor of the three files was also compared whole with TensorFlow's: bit-identical."""

README_SHA256 = {
    "ddn": "0a1b3fab590369026ff857cd9450e381d37e1beecc4a1457c275ce1355cec3df",
    "derainnet": "6e1a0f3260102771d6c5e6b8801cf7cb6b2504f370ff72e32d13ffff62ae9262",
    "sirr": "d517f00242279c059c535eb9a2b16d5be7fd206ae340314d222ee339ee03f6ee",
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_released_checkpoints_match_tensorflows_reader(name, shared_data):
    count, values, tensors = REFERENCE[name]
    ckpt = resolve_checkpoint(shared_data / "baselines_official" / name / "model")
    got = read_variables(ckpt)
    assert len(got) == count and sum(a.size for a in got.values()) == values
    assert all(a.dtype == np.float32 for a in got.values())
    for key, (shape, total, first, last) in tensors.items():
        a = got[key]
        assert a.shape == shape
        assert float(a.astype(np.float64).sum()) == pytest.approx(total, rel=1e-12, abs=1e-15)
        assert float(a.reshape(-1)[0]) == first and float(a.reshape(-1)[-1]) == last
    assert checkpoint_digest(ckpt) == README_SHA256[name]


@pytest.mark.shared
def test_read_weights_gives_torch_tensors_and_the_data_hash(shared_data, tmp_path):
    folder = tmp_path / "sirr"
    shutil.copytree(shared_data / "baselines_official" / "sirr", folder)
    state, digest, path = read_weights(folder, "tf1")
    assert digest == README_SHA256["sirr"] and path == folder / "model.index"
    assert tuple(state["conv_1/weights_1"].shape) == (3, 3, 3, 16)
