"""TensorFlow 1 checkpoints read without TensorFlow (and without protobuf).

A TF1 "V2" checkpoint is a prefix ``P`` with an index ``P.index`` and data shards
``P.data-00000-of-0000N``. The index is a LevelDB-format table (SSTable): a 48-byte footer
(two block handles and a magic number) points at an index block, whose entries point at
the data blocks; a block holds prefix-compressed key/value entries, then its restart
points, then a 5-byte trailer (compression type, masked crc32c). The table maps the key
``""`` to a ``BundleHeaderProto`` (number of shards, endianness) and every variable name to
a ``BundleEntryProto`` (dtype, shape, shard, offset, size, masked crc32c of the bytes), all
decoded here by a small protobuf reader. Every checksum is verified: the block trailers
of the index and the crc32c of every tensor.

:func:`resolve_checkpoint` finds the files, :func:`read_variables` reads every tensor as a
numpy array in TensorFlow's layout, :func:`checkpoint_digest` identifies the checkpoint.
Every failure is a :class:`~raindata.errors.DataError` with one line naming the file.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from raindata.errors import DataError

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5

_DTYPES: dict[int, str] = {
    1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8",
    9: "int64", 10: "bool", 17: "uint16", 19: "float16", 22: "uint32", 23: "uint64",
}
"""TensorFlow ``DataType`` enum values this reader supports, as numpy dtype names."""

_DATA_RE = re.compile(r"\.data-(\d{5})-of-(\d{5})$")


@dataclass(frozen=True)
class Tf1Checkpoint:
    """The files of one checkpoint: its prefix, ``.index`` and data shards in order."""

    prefix: Path
    index: Path
    shards: tuple[Path, ...]


# ------------------------------------------------------------------ finding the files


def resolve_checkpoint(path: str | os.PathLike) -> Tf1Checkpoint:
    """The checkpoint at ``path``: its prefix (``.../model``), its ``.index``, one of its
    data shards, or a folder holding one checkpoint (the one its ``checkpoint`` file names,
    else the only ``*.index`` in it)."""
    p = Path(path)
    if p.is_dir():
        prefix = _prefix_in_folder(p)
    elif p.name.endswith(".index") and p.is_file():
        prefix = p.with_name(p.name[: -len(".index")])
    elif _DATA_RE.search(p.name) and p.is_file():
        prefix = p.with_name(_DATA_RE.sub("", p.name))
    else:
        prefix = p
    index = _index_of(prefix)
    if not index.is_file():
        raise DataError(f"{p}: not a TensorFlow checkpoint (no {index.name} beside it; "
                        "expected the prefix, its .index or a folder holding one)")
    return Tf1Checkpoint(prefix, index, _shards(prefix))


def _index_of(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".index")


def _prefix_in_folder(folder: Path) -> Path:
    state = folder / "checkpoint"
    if state.is_file():
        text = state.read_text(encoding="utf-8", errors="replace")
        found = re.search(r'^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"', text, re.M)
        if found:
            named = Path(found.group(1))
            if not named.is_absolute():
                return folder / named
            # an absolute path from the machine that saved it: use it only if it exists
            return named if _index_of(named).is_file() else folder / named.name
    indexes = sorted(folder.glob("*.index"))
    if len(indexes) != 1:
        raise DataError(f"{folder}: expected one TensorFlow checkpoint (*.index) in the "
                        f"folder, found {len(indexes)}")
    return indexes[0].with_name(indexes[0].name[: -len(".index")])


def _shards(prefix: Path) -> tuple[Path, ...]:
    found = {}
    for f in prefix.parent.glob(glob.escape(prefix.name) + ".data-*-of-*"):
        m = _DATA_RE.search(f.name)
        if m and f.name[: m.start()] == prefix.name:
            found[int(m.group(1))] = (int(m.group(2)), f)
    if not found:
        raise DataError(f"{prefix}.index: no data shard {prefix.name}.data-00000-of-NNNNN "
                        "beside it")
    totals = {total for total, _ in found.values()}
    count = max(totals)
    missing = [i for i in range(count) if i not in found]
    if len(totals) > 1 or missing:
        raise DataError(f"{prefix}.index: data shards incomplete or mixed (of {sorted(totals)}; "
                        f"missing {missing[:3]})")
    return tuple(found[i][1] for i in range(count))


def checkpoint_digest(ckpt: Tf1Checkpoint) -> str:
    """Hex sha256 of the data: of the one data shard, which is what the method cards
    record; with several shards, of their bytes concatenated in shard order."""
    h = hashlib.sha256()
    for shard in ckpt.shards:
        try:
            with open(shard, "rb") as fh:
                while block := fh.read(1 << 20):
                    h.update(block)
        except OSError as exc:
            raise DataError(f"{shard}: cannot read ({exc.strerror})") from exc
    return h.hexdigest()


# ------------------------------------------------------------------ reading the tensors


@dataclass(frozen=True)
class _Entry:
    """The fields of a ``BundleEntryProto`` this reader uses."""

    dtype: int
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc32c: int | None


def read_variables(ckpt: Tf1Checkpoint) -> dict[str, np.ndarray]:
    """Every variable of the checkpoint by name, as numpy arrays in TensorFlow's layout."""
    where = ckpt.index
    try:
        table = read_table(where.read_bytes(), where)
    except OSError as exc:
        raise DataError(f"{where}: cannot read ({exc.strerror})") from exc
    if b"" not in table:
        raise DataError(f"{where}: no bundle header (not a TensorFlow V2 checkpoint index)")
    header = parse_message(table.pop(b""), where)
    shards = _int(header, 1, 1)
    big_endian = _int(header, 2, 0) == 1
    if shards != len(ckpt.shards):
        raise DataError(f"{where}: the header says {shards} data shard(s), found "
                        f"{len(ckpt.shards)}")
    entries = {name.decode("utf-8", "replace"): _entry(value, where, name)
               for name, value in table.items()}
    out: dict[str, np.ndarray] = {}
    handles = {}
    try:
        for name, e in entries.items():
            if not 0 <= e.shard < len(ckpt.shards):
                raise DataError(f"{where}: variable {name!r} is in data shard {e.shard} of "
                                f"{len(ckpt.shards)} (corrupt index)")
            shard = ckpt.shards[e.shard]
            if shard not in handles:
                handles[shard] = open(shard, "rb")  # noqa: SIM115 - closed below
            out[name] = _tensor(handles[shard], shard, name, e, big_endian)
    except OSError as exc:
        raise DataError(f"{exc.filename or where}: cannot read ({exc.strerror})") from exc
    finally:
        for fh in handles.values():
            fh.close()
    return out


def _entry(value: bytes, where: Path, name: bytes) -> _Entry:
    fields = parse_message(value, where)
    label = name.decode("utf-8", "replace")
    if 7 in fields:
        raise DataError(f"{where}: variable {label!r} is saved in slices (partitioned "
                        "variables are not supported)")
    dims = []
    for dim in parse_message(_bytes(fields, 2, b""), where).get(2, []):
        dims.append(_signed(_int(parse_message(_as_bytes(dim, where), where), 1, 0)))
    crc = fields.get(6)
    return _Entry(dtype=_int(fields, 1, 0), shape=tuple(dims), shard=_int(fields, 3, 0),
                  offset=_int(fields, 4, 0), size=_int(fields, 5, 0),
                  crc32c=int(crc[-1]) if crc else None)


def _tensor(fh, shard: Path, name: str, e: _Entry, big_endian: bool) -> np.ndarray:
    if e.dtype not in _DTYPES:
        raise DataError(f"{shard}: variable {name!r} has TensorFlow dtype {e.dtype}, which "
                        f"this reader does not support (supported: "
                        f"{', '.join(_DTYPES.values())})")
    dtype = np.dtype(_DTYPES[e.dtype]).newbyteorder(">" if big_endian else "<")
    if any(d < 0 for d in e.shape):
        raise DataError(f"{shard}: variable {name!r} has an unknown shape {e.shape}")
    count = int(np.prod(e.shape, dtype=np.int64))
    if e.size != count * dtype.itemsize:
        raise DataError(f"{shard}: variable {name!r} takes {e.size} bytes, its shape "
                        f"{list(e.shape)} needs {count * dtype.itemsize}")
    fh.seek(e.offset)
    raw = fh.read(e.size)
    if len(raw) != e.size:
        raise DataError(f"{shard}: truncated (variable {name!r} needs bytes {e.offset}.."
                        f"{e.offset + e.size}, the file ends at {e.offset + len(raw)})")
    if e.crc32c is not None and unmask(e.crc32c) != crc32c(raw):
        raise DataError(f"{shard}: checksum mismatch in variable {name!r} (corrupt file)")
    return np.frombuffer(raw, dtype=dtype).reshape(e.shape).astype(dtype.newbyteorder("="))


# ------------------------------------------------------------------ the SSTable


def read_table(data: bytes, where: Path) -> dict[bytes, bytes]:
    """All key -> value entries of a LevelDB-format table (uncompressed blocks)."""
    if len(data) < FOOTER_SIZE:
        raise DataError(f"{where}: truncated ({len(data)} bytes, shorter than a table footer)")
    footer = data[-FOOTER_SIZE:]
    (magic,) = struct.unpack("<Q", footer[-8:])
    if magic != TABLE_MAGIC:
        raise DataError(f"{where}: not a TensorFlow checkpoint index (bad table magic "
                        f"{magic:#x}; truncated or another file)")
    _, pos = _handle(footer, 0, where)  # the metaindex block: unused by checkpoints
    index_handle, _ = _handle(footer, pos, where)
    table: dict[bytes, bytes] = {}
    for _, handle in _block_entries(_block(data, index_handle, where), where):
        block_handle, _ = _handle(handle, 0, where)
        for key, value in _block_entries(_block(data, block_handle, where), where):
            if table and key <= next(reversed(table)):
                raise DataError(f"{where}: corrupt table (keys out of order at {key[:40]!r})")
            table[key] = value
    return table


def _handle(buf: bytes, pos: int, where: Path) -> tuple[tuple[int, int], int]:
    offset, pos = read_varint(buf, pos, where)
    size, pos = read_varint(buf, pos, where)
    return (offset, size), pos


def _block(data: bytes, handle: tuple[int, int], where: Path) -> bytes:
    offset, size = handle
    end = offset + size + BLOCK_TRAILER_SIZE
    if end > len(data) - FOOTER_SIZE:
        raise DataError(f"{where}: corrupt or truncated table (a block at {offset}+{size} runs "
                        "past the end)")
    contents, kind = data[offset:offset + size], data[offset + size]
    (stored,) = struct.unpack("<I", data[offset + size + 1:end])
    if unmask(stored) != crc32c(data[offset:offset + size + 1]):
        raise DataError(f"{where}: checksum mismatch in the table block at {offset} "
                        "(corrupt file)")
    if kind != 0:
        raise DataError(f"{where}: compressed table block (type {kind}) not supported")
    return contents


def _block_entries(block: bytes, where: Path) -> list[tuple[bytes, bytes]]:
    """The entries of one block, keys restored from their shared prefixes; the restart
    points are checked to start entries that share nothing."""
    if len(block) < 4:
        raise DataError(f"{where}: corrupt table (a block of {len(block)} bytes)")
    (restarts,) = struct.unpack("<I", block[-4:])
    limit = len(block) - 4 - 4 * restarts
    if restarts < 1 or limit < 0:
        raise DataError(f"{where}: corrupt table (a block with {restarts} restart points)")
    points = set(struct.unpack(f"<{restarts}I", block[limit:-4]))
    entries, key, pos = [], b"", 0
    while pos < limit:
        start = pos
        shared, pos = read_varint(block, pos, where)
        unshared, pos = read_varint(block, pos, where)
        length, pos = read_varint(block, pos, where)
        if shared > len(key) or pos + unshared + length > limit or (
                start in points and shared):
            raise DataError(f"{where}: corrupt table (bad entry at block offset {start})")
        points.discard(start)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        entries.append((key, block[pos:pos + length]))
        pos += length
    if points:
        raise DataError(f"{where}: corrupt table (restart points {sorted(points)[:3]} are "
                        "not entries)")
    return entries


# ------------------------------------------------------------------ protobuf wire format


def read_varint(buf: bytes, pos: int, where: Path) -> tuple[int, int]:
    """The unsigned varint at ``buf[pos:]`` and the position after it."""
    value, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise DataError(f"{where}: corrupt or truncated (a varint runs past its record)")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def parse_message(buf: bytes, where: Path) -> dict[int, list[int | bytes]]:
    """A protobuf message as field number -> values in order (varints and fixed-width
    numbers as unsigned ints, length-delimited fields as bytes)."""
    fields: dict[int, list[int | bytes]] = {}
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos, where)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = read_varint(buf, pos, where)
        elif wire == 1 or wire == 5:
            width = 8 if wire == 1 else 4
            if pos + width > len(buf):
                raise DataError(f"{where}: corrupt record (a fixed field runs past its end)")
            value = int.from_bytes(buf[pos:pos + width], "little")
            pos += width
        elif wire == 2:
            length, pos = read_varint(buf, pos, where)
            if pos + length > len(buf):
                raise DataError(f"{where}: corrupt record (a field runs past its end)")
            value = bytes(buf[pos:pos + length])
            pos += length
        else:
            raise DataError(f"{where}: corrupt record (protobuf wire type {wire})")
        if number == 0:
            raise DataError(f"{where}: corrupt record (protobuf field number 0)")
        fields.setdefault(number, []).append(value)
    return fields


def _int(fields: dict[int, list[int | bytes]], number: int, default: int) -> int:
    values = fields.get(number)
    return int(values[-1]) if values and isinstance(values[-1], int) else default


def _bytes(fields: dict[int, list[int | bytes]], number: int, default: bytes) -> bytes:
    values = fields.get(number)
    return values[-1] if values and isinstance(values[-1], bytes) else default


def _as_bytes(value: int | bytes, where: Path) -> bytes:
    if not isinstance(value, bytes):
        raise DataError(f"{where}: corrupt record (expected a message, got a number)")
    return value


def _signed(value: int) -> int:
    """An int64 field read as an unsigned varint, back to its sign."""
    return value - (1 << 64) if value >= 1 << 63 else value


# ------------------------------------------------------------------ crc32c (Castagnoli)

_CHUNK = 1024
_SMALL = 32 * 1024


@functools.cache
def _crc_table() -> np.ndarray:
    t = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        t = np.where(t & 1, (t >> 1) ^ np.uint32(0x82F63B78), t >> 1).astype(np.uint32)
    return t


@functools.cache
def _crc_list() -> list[int]:
    return _crc_table().tolist()


def _raw_crc(states: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The CRC registers after feeding each row of bytes to its state (no final xor)."""
    table = _crc_table()
    s = states.astype(np.uint32)
    for col in rows.T:
        s = table[(s ^ col) & 0xFF] ^ (s >> 8)
    return s


@functools.cache
def _zeros_operator(length: int) -> tuple[list[int], ...]:
    """Byte tables of the linear map 'feed ``length`` zero bytes' on the CRC register."""
    basis = np.uint32(1) << np.arange(32, dtype=np.uint32)
    cols = _raw_crc(basis, np.zeros((32, length), np.uint8))
    bits = (np.arange(256)[:, None] >> np.arange(8)) & 1
    return tuple(np.bitwise_xor.reduce(np.where(bits, cols[8 * k:8 * k + 8], 0), axis=1)
                 .astype(np.uint32).tolist() for k in range(4))


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data``. Past a few kilobytes, equal chunks run side by side in numpy
    and are combined through the linearity of the CRC (megabytes in tens of ms)."""
    state = 0xFFFFFFFF
    n_chunks = len(data) // _CHUNK if len(data) >= _SMALL else 0
    if n_chunks:
        rows = np.frombuffer(data, np.uint8, n_chunks * _CHUNK).reshape(n_chunks, _CHUNK)
        partial = _raw_crc(np.zeros(n_chunks, np.uint32), rows)
        t0, t1, t2, t3 = _zeros_operator(_CHUNK)
        for p in partial.tolist():
            state = (t0[state & 0xFF] ^ t1[state >> 8 & 0xFF] ^ t2[state >> 16 & 0xFF]
                     ^ t3[state >> 24] ^ p)
    table = _crc_list()
    for byte in memoryview(data)[n_chunks * _CHUNK:]:
        state = table[(state ^ byte) & 0xFF] ^ (state >> 8)
    return state ^ 0xFFFFFFFF


def unmask(masked: int) -> int:
    """The CRC a LevelDB/TensorFlow masked checksum stands for."""
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF
