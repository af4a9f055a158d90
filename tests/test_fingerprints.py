"""Fingerprints of canonical copies: the pixel hash, the table, and what `verify` says."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from raindata.cli import main
from raindata.errors import DataError
from raindata.fingerprints import (
    COLUMNS,
    TABLES,
    canonical,
    parse_table,
    pixel_sha256,
    read_table,
    table_path,
)
from raindata.fingerprints.build import build, fingerprint_split
from raindata.imageio import read_image, write_png
from raindata.verify import verify

N = 100  # Rain100L's test split must hold 100 pairs


def tiny(n: int, role: str, salt: int = 0) -> np.ndarray:
    """A distinct 6x8 RGB image per (n, role, salt), drawn from its own generator."""
    rng = np.random.default_rng([n, ("rainy", "clean").index(role), salt])
    return rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)


def rcdnet_tree(root: Path, salt: int = 0) -> Path:
    """Rain100L test in the RCDNet layout: small/rain/norain-N.png + small/norain/norain-N.png."""
    for n in range(1, N + 1):
        write_png(root / f"small/rain/norain-{n}.png", tiny(n, "rainy", salt))
        write_png(root / f"small/norain/norain-{n}.png", tiny(n, "clean", salt))
    return root


def restormer_copy(src: Path, dst: Path, compression: int | None = None,
                   renumber=lambda n: n) -> Path:
    """The same images as input/N.png + target/N.png, byte copies or re-encoded PNGs."""
    for n in range(1, N + 1):
        for folder, sub in (("input", "rain"), ("target", "norain")):
            out = dst / folder / f"{renumber(n)}.png"
            out.parent.mkdir(parents=True, exist_ok=True)
            source = src / f"small/{sub}/norain-{n}.png"
            if compression is None:
                shutil.copyfile(source, out)
            else:
                write_png(out, read_image(source), compression)
    return dst


@pytest.fixture(scope="module")
def canon(tmp_path_factory) -> tuple[Path, Path]:
    """A fake canonical tree and its fingerprint table, written by the build command."""
    base = tmp_path_factory.mktemp("canon")
    root = rcdnet_tree(base / "rain100l_test")
    written = build([f"rain100l:{root}:test"], "original", out_dir=base)
    return root, written["rain100l"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# --- the pixel hash and the table -----------------------------------------------------


def test_pixel_hash_ignores_encoding_and_includes_shape(tmp_path):
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    write_png(tmp_path / "a.png", img, compression=0)
    write_png(tmp_path / "b.png", img, compression=9)
    cv2.imwrite(str(tmp_path / "c.bmp"), img[:, :, ::-1])
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "b.png").read_bytes()
    hashes = {pixel_sha256(read_image(tmp_path / n)) for n in ("a.png", "b.png", "c.bmp")}
    assert hashes == {pixel_sha256(img)}
    grey = rng.integers(0, 256, (4, 6), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "g.png"), grey)
    assert pixel_sha256(read_image(tmp_path / "g.png")) == pixel_sha256(np.dstack([grey] * 3))
    flat = np.zeros((2, 6, 3), np.uint8)  # same bytes, other shape
    assert pixel_sha256(flat) != pixel_sha256(flat.reshape(3, 4, 3))
    header = b"5x7x3\n"
    import hashlib

    assert pixel_sha256(img) == hashlib.sha256(header + img.tobytes()).hexdigest()


def test_table_columns_and_one_line_errors():
    header = ",".join(COLUMNS)
    sha = "a" * 64
    row = f"rain100l,original,rcdnet,test,rainy,1,small/rain/norain-1.png,8,6,{sha},{sha}"
    good = f"{header}\n{row}\n"
    assert parse_table(good, "t.csv")[0].path == "small/rain/norain-1.png"
    with pytest.raises(DataError, match=r"t.csv: not a fingerprint table: missing column\(s\) "
                                         "pixel_sha256"):
        parse_table(good.replace("pixel_sha256", "pixels"), "t.csv")
    with pytest.raises(DataError, match=r"t\.csv line 2: file_sha256 must be 64 hex digits"):
        parse_table(good.replace(f",{sha}\n", ",xyz\n"), "t.csv")
    with pytest.raises(DataError, match=r"t\.csv line 3: 'small/rain/norain-1\.png' listed twice"):
        parse_table(good + good.split("\n", 1)[1], "t.csv")
    with pytest.raises(DataError, match=r"'\.\.' leaves the dataset root"):
        parse_table(good.replace("small/rain", "../rain"), "t.csv")
    with pytest.raises(DataError, match=r"t\.csv line 2: width must be a positive whole number"):
        parse_table(good.replace(",8,6,", ",0,6,"), "t.csv")


def test_build_writes_table_and_provenance(canon):
    _, table = canon
    rows = read_table(table)
    assert len(rows) == 2 * N
    first = rows[0]
    assert (first.dataset, first.version, first.variant, first.split, first.role, first.id,
            first.path, first.width, first.height) == (
        "rain100l", "original", "rcdnet", "test", "rainy", "1", "small/rain/norain-1.png", 8, 6)
    assert first.pixel_sha256 == pixel_sha256(tiny(1, "rainy"))
    assert table.with_name("rain100l.provenance.json").is_file()
    assert table.read_text().splitlines()[0] == ",".join(COLUMNS)


def test_build_refuses_a_tree_with_problems(tmp_path):
    root = rcdnet_tree(tmp_path / "t")
    (root / "small/norain/norain-3.png").unlink()
    with pytest.raises(DataError, match=r"cannot fingerprint .*norain-3"):
        fingerprint_split("rain100l", root, "test", "original")
    with pytest.raises(DataError, match="expected NAME:ROOT:SPLIT"):
        build([f"rain100l:{root}"], "original", out_dir=tmp_path)


def test_build_replaces_only_its_own_group(canon, tmp_path):
    _, table = canon
    local = shutil.copy(table, tmp_path / "rain100l.csv")
    other = rcdnet_tree(tmp_path / "other", salt=9)
    build([f"rain100l:{other}:test"], "rerelease", out_dir=tmp_path)
    build([f"rain100l:{other}:test"], "rerelease", out_dir=tmp_path)  # again: replaced
    rows = read_table(local)
    assert [sum(r.version == v for r in rows) for v in ("original", "rerelease")] == [2 * N, 2 * N]
    report = verify("rain100l", other, fingerprints=local)
    assert report.fingerprints[0].headline() == (
        "test: matches the canonical rerelease Rain100L test set (200 files)")


# --- verify against the fingerprints ----------------------------------------------------


def test_identical_copy_matches(canon):
    root, table = canon
    result = run("verify", "rain100l", root, "--fingerprints", table)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "test: matches the canonical original Rain100L test set (200 files)",
        "OK rain100l, rcdnet variant: test 100 pairs (expected 100); 200 images decoded, "
        "0 sha256 checked",
    ]


def test_restormer_copy_matches_by_pixels(canon, tmp_path):
    root, table = canon
    same = restormer_copy(root, tmp_path / "same" / "test")
    report = verify("rain100l", same.parent, fingerprints=table)
    assert report.variant == "restormer"
    assert report.fingerprints[0].matches
    assert report.lines()[0] == "test: matches the canonical original Rain100L test set (200 files)"

    recoded = restormer_copy(root, tmp_path / "recoded" / "test", compression=0)
    m = verify("rain100l", recoded.parent, fingerprints=table).fingerprints[0]
    assert m.headline() == (
        "test: differs from the canonical original Rain100L test set (200 files) in 200 files: "
        "200 re-encoded (same pixels, other bytes); the pixels of every file match")
    assert "test/input/1.png: re-encoded: same pixels as the canonical small/rain/norain-1.png, "\
        "other bytes" in [str(d) for d in m.differences]
    lines = m.lines()
    assert len(lines) == 1 + 20 + 1 and lines[-1] == "  ... and 180 more re-encoded"


def test_renumbered_copy_matches_and_says_so(canon, tmp_path):
    root, table = canon
    copy = restormer_copy(root, tmp_path / "r" / "test", renumber=lambda n: N + 1 - n)
    m = verify("rain100l", copy.parent, fingerprints=table).fingerprints[0]
    assert m.matches
    assert m.headline().endswith("; 100 samples carry other ids than in the canonical copy")


def test_every_kind_of_difference_is_named(canon, tmp_path):
    root, table = canon
    tree = shutil.copytree(root, tmp_path / "rain100l_test")
    for sub in ("rain", "norain"):                        # sample 7 gone, sample 101 new
        (tree / f"small/{sub}/norain-7.png").unlink()
    write_png(tree / "small/rain/norain-101.png", tiny(101, "rainy", 5))
    write_png(tree / "small/norain/norain-101.png", tiny(101, "clean", 5))
    write_png(tree / "small/rain/norain-5.png", tiny(5, "rainy", 5))    # other pixels
    write_png(tree / "small/norain/norain-9.png", tiny(9, "clean"), 0)  # same pixels, re-encoded
    a, b = (tree / f"small/norain/norain-{n}.png" for n in (1, 2))     # clean images swapped
    a.rename(tmp_path / "x.png")
    b.rename(a)
    (tmp_path / "x.png").rename(b)
    result = run("verify", "rain100l", tree, "--fingerprints", table)
    assert result.exit_code == 0, result.output  # fingerprints inform, they do not fail
    assert result.output.splitlines()[:-1] == [
        "test: differs from the canonical original Rain100L test set (200 files) in 8 files: "
        "2 missing, 2 extra, 1 different pixels, 1 re-encoded (same pixels, other bytes), "
        "2 mispaired",
        "  small/rain/norain-7.png: missing (the canonical rainy image of sample 7)",
        "  small/norain/norain-7.png: missing (the canonical clean image of sample 7)",
        "  small/rain/norain-101.png: extra: its pixels are in no canonical file",
        "  small/norain/norain-101.png: extra: its pixels are in no canonical file",
        "  small/rain/norain-5.png: different pixels from the canonical small/rain/norain-5.png",
        "  small/norain/norain-9.png: re-encoded: same pixels as the canonical "
        "small/norain/norain-9.png, other bytes",
        "  small/norain/norain-1.png: mispaired: holds the canonical small/norain/norain-2.png "
        "(sample 2), the other files of its sample are canonical sample 1",
        "  small/norain/norain-2.png: mispaired: holds the canonical small/norain/norain-1.png "
        "(sample 1), the other files of its sample are canonical sample 2",
    ]


def test_other_role_and_second_copies(canon, tmp_path):
    root, table = canon
    tree = shutil.copytree(root, tmp_path / "rain100l_test")
    shutil.copyfile(tree / "small/norain/norain-4.png", tree / "small/rain/norain-4.png")
    shutil.copyfile(tree / "small/norain/norain-6.png", tree / "small/norain/norain-8.png")
    m = verify("rain100l", tree, fingerprints=table).fingerprints[0]
    assert m.counts() == {"missing": 2, "extra": 1, "other role": 1}
    text = [str(d) for d in m.differences]
    assert "small/rain/norain-4.png: rainy file holds the canonical clean image " \
           "small/norain/norain-4.png" in text
    assert "small/norain/norain-8.png: extra: a second copy of the canonical " \
           "small/norain/norain-6.png" in text


def test_clean_images_shared_rain_differs(canon, tmp_path):
    root, table = canon
    tree = shutil.copytree(root, tmp_path / "rain100l_test")
    for n in range(1, N + 1):
        write_png(tree / f"small/rain/norain-{n}.png", tiny(n, "rainy", 7))
    headline = verify("rain100l", tree, fingerprints=table).fingerprints[0].headline()
    assert headline.endswith("100 different pixels; the clean images match, the rainy ones do "
                             "not (other rain on the same backgrounds)")


def test_unrelated_tree_and_wrong_split(canon, tmp_path):
    root, table = canon
    other = rcdnet_tree(tmp_path / "rain100l_test", salt=1)
    assert verify("rain100l", other, fingerprints=table).lines()[0] == (
        "test: shares no image with the canonical original Rain100L test set (200 files): "
        "another version or dataset")
    train = shutil.copytree(root, tmp_path / "train" / "RainTrainL")
    report = verify("rain100l", train, fingerprints=table)
    assert report.splits[0].split == "train"
    assert report.fingerprints[0].headline() == (
        "train: matches the canonical original Rain100L test set (200 files); these are test "
        "images, not train (use --split test)")


def test_verify_fingerprints_option_errors(canon, tmp_path):
    root, table = canon
    result = run("verify", "rain100h", root, "--fingerprints", table)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {table}: no fingerprints of rain100h (it lists rain100l)"]
    result = run("verify", "rain100l", root, "--fingerprints", tmp_path / "none.csv")
    assert result.output.strip() == f"error: {tmp_path / 'none.csv'}: no such fingerprint table"


def test_layouts_without_a_table_say_nothing(tmp_path):
    for stem in ("a", "b"):
        write_png(tmp_path / "p/rainy" / f"{stem}.png", tiny(1, "rainy"))
        write_png(tmp_path / "p/clean" / f"{stem}.png", tiny(1, "clean"))
    report = verify("paired", tmp_path / "p")
    assert report.fingerprints == [] and len(report.lines()) == 1


def test_packaged_tables_are_well_formed():
    """The committed tables parse, and hold 100 + 100 (+ 200 RainTrainL) pairs."""
    assert set(TABLES) == {"rain100l", "rain100h"}
    for name, splits in (("rain100l", {"test": 200, "train": 400}), ("rain100h", {"test": 200})):
        rows = canonical(name)
        assert table_path(name).is_file()
        assert {s: sum(r.split == s for r in rows) for s in splits} == splits
        assert {r.version for r in rows} == {"original"}
        assert {r.variant for r in rows} == {"rcdnet"}
        assert {(r.width, r.height) for r in rows} <= {(481, 321), (321, 481)}


# --- the real copies in ../shared/data -------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize("name, folder, split", [
    ("rain100l", "rain100l_test", "test"),
    ("rain100h", "rain100h_test", "test"),
    ("rain100l", "raintrainl", "train"),
])
def test_real_copies_match_their_fingerprints(shared_data, name, folder, split):
    report = verify(name, shared_data / folder, split=split)
    assert report.ok, report.lines()
    [m] = report.fingerprints
    assert m.matches, m.lines()
    title = {"test": f"{name[:-1].title()}{name[-1].upper()} test set (200 files)",
             "train": "Rain100L train set, RainTrainL (400 files)"}[split]
    assert report.lines()[0] == f"{split}: matches the canonical original {title}"


@pytest.mark.shared
def test_real_tables_regenerate_identically(shared_data):
    """The committed rows are what the build command gives on the real copy today."""
    rows = fingerprint_split("rain100h", shared_data / "rain100h_test", "test", "original")
    assert rows == [r for r in canonical("rain100h") if r.split == "test"]


@pytest.mark.shared
def test_real_rain100h_is_not_rain100l(shared_data):
    """Verifying the Rain100H test set as Rain100L: same backgrounds (re-encoded), other rain."""
    [m] = verify("rain100l", shared_data / "rain100h_test").fingerprints
    assert m.counts() == {"different pixels": 100, "re-encoded": 100}
    assert m.clean_match_rainy_differ


@pytest.mark.shared
def test_real_copy_renumbered_in_restormer_layout(shared_data, tmp_path):
    """A renumbered Restormer-style copy of the real Rain100L test set is recognised, though
    its clean images 3 and 4 (and eight more pairs) have the same pixels."""
    src = shared_data / "rain100l_test"
    copy = restormer_copy(src, tmp_path / "Rain100L", renumber=lambda n: N + 1 - n)
    for n in (1, 2):  # two files re-encoded
        write_png(copy / f"target/{n}.png", read_image(copy / f"target/{n}.png"), 0)
    [m] = verify("rain100l", copy).fingerprints
    assert m.counts() == {"re-encoded": 2}
    assert m.renumbered == 100
    assert [str(d) for d in m.differences] == [
        "target/1.png: re-encoded: same pixels as the canonical small/norain/norain-100.png, "
        "other bytes",
        "target/2.png: re-encoded: same pixels as the canonical small/norain/norain-99.png, "
        "other bytes",
    ]
