"""Property-based tests (Hypothesis) for the code that parses outside data.

Each property holds for any input: the image decoder, the manifest reader, the
layout scanner, the ``--set KEY=VALUE`` parser and the pairing of a results folder
either give a result or raise the documented one-line error, never another
exception. Example counts are small and every test has a deadline, so the file runs
in a few seconds; the example database is off and Hypothesis' caches go to the temporary
folder (no files in the checkout).
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from raindata.errors import DataError

# Hypothesis keeps caches in ./.hypothesis by default: keep the checkout clean
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "derain-toolkit-hypothesis")

BOUNDED = settings(max_examples=60, deadline=2000, database=None,
                   suppress_health_check=[HealthCheck.too_slow])
SMALL_LIMIT = 1 << 16  # decode nothing larger than 256 x 256 here, whatever a header says

MAGICS = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*", b"RIFF",
          b"P6\n", b"P5 "]


def _png(w: int, h: int, channels: int, depth: int, rng) -> bytes:
    kind = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    raw = rng.integers(0, 256, h * (1 + w * channels * depth // 8), dtype=np.uint8)
    raw[:: 1 + w * channels * depth // 8] = 0  # filter byte of each row
    body = zlib.compress(raw.tobytes())

    def chunk(t: bytes, b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, kind,
                                                               0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def _check_image(img, mode="rgb"):
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8
    assert img.ndim == (3 if mode == "rgb" else 2) and img.shape[0] >= 1 and img.shape[1] >= 1
    assert img.shape[0] * img.shape[1] <= SMALL_LIMIT
    if mode == "rgb":
        assert img.shape[2] == 3


@BOUNDED
@given(head=st.sampled_from([b"", *MAGICS]), tail=st.binary(max_size=300),
       mode=st.sampled_from(["rgb", "gray"]))
def test_decoding_any_bytes_gives_an_image_or_a_data_error(head, tail, mode):
    from raindata.imageio import decode_image

    try:
        img = decode_image(head + tail, "f.png", mode, max_pixels=SMALL_LIMIT)
    except DataError as exc:
        assert str(exc).startswith("f.png: ") and "\n" not in str(exc)
    else:
        _check_image(img, mode)


@BOUNDED
@given(w=st.integers(1, 40), h=st.integers(1, 40), channels=st.sampled_from([1, 2, 3, 4]),
       depth=st.sampled_from([8, 16]), seed=st.integers(0, 2**16),
       flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), max_size=4),
       cut=st.integers(0, 10_000))
def test_damaged_pngs_give_an_image_or_a_data_error(w, h, channels, depth, seed, flips, cut):
    """Valid PNGs of any shape and depth, then bytes flipped and the end cut off."""
    from raindata.imageio import decode_image

    rng = np.random.default_rng(seed)
    data = bytearray(_png(w, h, channels, depth, rng))
    if not flips and cut >= len(data):
        img = decode_image(bytes(data), "p.png")
        assert img.shape == (h, w, 3)  # an undamaged file always decodes
        return
    for at, xor in flips:
        data[at % len(data)] ^= xor
    try:
        img = decode_image(bytes(data[: max(cut, 1)]), "p.png", max_pixels=SMALL_LIMIT)
    except DataError as exc:
        assert str(exc).startswith("p.png: ")
    else:
        _check_image(img)


SAFE = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"),
                             whitelist_characters="-_"), min_size=1, max_size=8)


@BOUNDED
@given(st.text(max_size=300) | st.lists(
    st.sampled_from(["path,role,split,id,width,height,sha256\n", ",", "\n", "\r", '"', "a.png",
                     "../x", "/abs", "\\", "0", "-3", "12", "rainy", "f" * 64, " ", "\x00"]),
    max_size=40).map("".join))
def test_manifest_text_gives_entries_or_a_data_error(text):
    from raindata.manifest import parse_manifest

    try:
        entries = parse_manifest(text, "m.csv")
    except DataError as exc:
        assert str(exc).startswith("m.csv") and "\n" not in str(exc)
    else:
        for e in entries:
            assert e.path and not e.path.startswith("/") and ".." not in e.path.split("/")


@BOUNDED
@given(st.lists(st.tuples(st.lists(SAFE, min_size=1, max_size=3).map("/".join), SAFE, SAFE,
                          SAFE, st.none() | st.integers(1, 10**6),
                          st.none() | st.binary(min_size=8, max_size=8)),
                max_size=6, unique_by=lambda t: t[0]))
def test_manifest_round_trip(rows):
    import hashlib

    from raindata.manifest import ManifestEntry, format_manifest, parse_manifest

    entries = [ManifestEntry(path + ".png", role, split, ident, size, size,
                             None if seed is None else hashlib.sha256(seed).hexdigest())
               for path, role, split, ident, size, seed in rows]
    assert parse_manifest(format_manifest(entries)) == entries


NAME = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
               min_size=1, max_size=16).filter(lambda s: s not in (".", "..")
                                               and len(s.encode()) < 200)
FOLDER = st.sampled_from(["", "rainy", "clean", "input", "target", "test/rainy", "test/clean",
                          "train/rainy", "small/rain", "small/norain", "test", "streak",
                          "Rain100L/rainy", "rainy/deeper"])
SUFFIX = st.sampled_from([".png", ".PNG", ".jpg", ".tif", ".webp", ".txt", ""])


def _tree(files) -> Path:
    root = Path(tempfile.mkdtemp(prefix="prop-"))
    for folder, name, suffix in files:
        path = root / folder / (name + suffix)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x")
        except (FileExistsError, IsADirectoryError, NotADirectoryError):
            pass  # a name taken by a folder, or the reverse
    return root


@BOUNDED
@given(files=st.lists(st.tuples(FOLDER, NAME, SUFFIX), max_size=10),
       layout=st.sampled_from(["paired", "unpaired", "rain100l", "rain100h", "raindirection",
                               "did-data", "real3000", "demo"]),
       split=st.sampled_from([None, "test", "train", "val"]))
def test_scanning_any_file_names_gives_samples_or_a_data_error(files, layout, split):
    from raindata.layouts import find_samples
    from raindata.verify import verify

    root = _tree(files)
    try:
        try:
            samples = find_samples(layout, root, split)
        except DataError as exc:
            assert "\n" not in str(exc)
        else:
            for s in samples:
                assert s.rainy.is_file() and s.rainy.resolve().is_relative_to(root.resolve())
                assert split is None or s.split == split
        try:
            report = verify(layout, root, split, workers=1)
        except DataError:
            pass
        else:  # every file of the tree is a 1-byte non-image: nothing decodes
            assert report.images_decoded == 0
    finally:
        shutil.rmtree(root)


def test_scanner_knows_the_layout_names():
    from raindata.layouts import list_datasets

    assert {"paired", "unpaired", "rain100l", "rain100h", "raindirection", "did-data",
            "real3000", "demo"} <= set(list_datasets())


TOML_VALUE = (st.integers(-10**12, 10**12) | st.booleans()
              | st.floats(allow_nan=False, allow_infinity=False, width=32)
              | st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd", "Zs")), max_size=10))


@pytest.fixture(scope="module")
def parse_override():
    """``models.train.config.parse_override``, imported outside the timed examples (the
    module imports torch)."""
    from models.train.config import parse_override

    return parse_override


@BOUNDED
@given(text=st.text(max_size=80))
def test_set_parser_takes_any_text(parse_override, text):
    try:
        key, _ = parse_override(text)
    except ValueError as exc:
        assert "--set" in str(exc)
    else:
        assert key and all(key.split("."))


@BOUNDED
@given(key=st.lists(st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True), min_size=1,
                    max_size=3).map(".".join), value=TOML_VALUE)
def test_set_parser_round_trips_toml_values(parse_override, key, value):
    import json

    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else (
        str(value).lower() if isinstance(value, bool) else repr(value))
    got_key, got = parse_override(f"{key}={text}")
    assert got_key == key
    assert got == value and type(got) is type(value)


@BOUNDED
@given(stems=st.lists(NAME, min_size=1, max_size=6, unique=True),
       results=st.lists(st.tuples(NAME, st.sampled_from([".png", ".jpg", ".PNG", ".txt"])),
                        max_size=8))
def test_results_folder_pairing(stems, results):
    """Any names in a results folder: open refuses (no image, two results for one stem)
    or pairs; every dataset image is then either paired or missing, and every result
    file either used or extra."""
    from benchmark.methods import open_results_folder
    from raindata.layouts.spec import Sample

    folder = Path(tempfile.mkdtemp(prefix="prop-res-"))
    try:
        for name, suffix in results:
            (folder / (name + suffix)).write_bytes(b"x")
        try:
            rf = open_results_folder(f"results:{folder}")
        except DataError as exc:
            assert str(exc).startswith(str(folder))
            return
        samples = [Sample(id=s, split="test", rainy=Path("/data/rainy") / f"{s}.png", clean=None)
                   for s in stems]
        missing, extra = rf.check_against(samples)
        paired = [s for s in samples if rf.lookup(s.id, s.rainy) is not None]
        assert sorted(missing) == sorted(s.rainy.name for s in samples if s not in paired)
        used = {rf.lookup(s.id, s.rainy).name for s in paired}
        assert sorted(used | set(extra)) == sorted(p.name for p in rf.files.values())
    finally:
        shutil.rmtree(folder)


def test_a_file_name_with_a_newline_stays_on_one_line(tmp_path):
    """Found by the property test above: ``rainy/\\n.png`` once broke the message in two."""
    from raindata.layouts import find_samples

    (tmp_path / "rainy").mkdir()
    (tmp_path / "rainy" / "\n.png").write_bytes(b"x")
    with pytest.raises(DataError) as err:
        find_samples("paired", tmp_path, None)
    assert "\n" not in str(err.value) and "rainy/\\n.png: no clean partner" in str(err.value)
    assert str(DataError("a\nb.png: unreadable")) == "a\\nb.png: unreadable"
