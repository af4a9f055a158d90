"""`raindata overlap`: the perceptual hash, the band index, the pairs found, the CLI, real data."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from raindata.cli import main
from raindata.errors import DataError
from raindata.hashindex import BandIndex, popcount
from raindata.imageio import read_image, write_png
from raindata.overlap import COLUMNS, format_csv, hash_items, overlap
from raindata.phash import (
    BITS,
    DEFAULT_THRESHOLD,
    hamming,
    hash_bits,
    low_frequency_vector,
    similarity,
)
from raindata.rain import LayerParams, compose, render_rain, to_uint8
from raindata.sources import list_items, parse_source

DEMO = Path(__file__).resolve().parents[1] / "raindata" / "demo_images"
NAMES = ("astronaut", "chelsea", "coffee", "rocket")


def photo(name: str) -> np.ndarray:
    return read_image(DEMO / f"{name}.png")


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]


def resized(img: np.ndarray, factor: float) -> np.ndarray:
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(img, None, fx=factor, fy=factor, interpolation=interp)


def rained(img: np.ndarray, seed: int) -> np.ndarray:
    """Rain streaks from raindata.rain: 0.4 % drops, 20 px long, intensity 120."""
    rng = np.random.default_rng(seed)
    layer = LayerParams(density=0.004, length=20.0, width=0.8, intensity=120.0,
                        angle=float(rng.uniform(-30, 30)))
    return compose(img, to_uint8(render_rain(img.shape[:2], [layer], rng)))


COPIES = {
    "jpeg q30": lambda img, seed: jpeg(img, 30),
    "resized 0.5x": lambda img, seed: resized(img, 0.5),
    "resized 1.5x": lambda img, seed: resized(img, 1.5),
    "rain streaks": rained,
    "rain + jpeg q50 + 0.5x": lambda img, seed: resized(jpeg(rained(img, seed), 50), 0.5),
}


def vec(img: np.ndarray) -> np.ndarray:
    return low_frequency_vector(img)


# --- the perceptual hash ----------------------------------------------------------------


@pytest.mark.parametrize("copy", list(COPIES))
@pytest.mark.parametrize("name", NAMES)
def test_copies_stay_similar(name, copy):
    img = photo(name)
    a, b = vec(img), vec(COPIES[copy](img, NAMES.index(name)))
    assert similarity(a, b) >= 0.9 > DEFAULT_THRESHOLD
    assert hamming(hash_bits(a), hash_bits(b)) <= BandIndex(np.zeros(1, np.uint64)).max_distance


def test_distinct_images_are_not_similar():
    """The four photographs, and unrelated quarters of them, stay far below the threshold."""
    images = [photo(n) for n in NAMES]
    for img in list(images):
        h, w = img.shape[:2]
        images += [img[: h // 2, : w // 2], img[h // 2:, w // 2:]]
    vectors = [vec(i) for i in images]
    worst = max(similarity(a, b) for a, b in itertools.combinations(vectors, 2))
    assert worst < 0.6


def test_vector_properties():
    img = photo("coffee")
    v = vec(img)
    assert v.shape == (BITS,) and v.dtype == np.float32
    assert abs(float(np.linalg.norm(v)) - 1) < 1e-5
    assert similarity(v, vec(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))) > 0.999  # grey input
    brighter = np.clip(img.astype(np.int16) + 30, 0, 255).astype(np.uint8)
    assert similarity(v, vec(brighter)) > 0.95  # no DC term
    flat = np.full((40, 60, 3), 128, np.uint8)
    assert not vec(flat).any() and similarity(vec(flat), v) == 0.0
    assert vec(np.zeros((1, 1, 3), np.uint8)).shape == (BITS,)  # tiny images work
    codes = hash_bits(np.stack([v, -v]))
    assert codes.dtype == np.uint64 and hamming(codes[0], codes[1]) == BITS
    with pytest.raises(ValueError, match="expected a uint8 image"):
        vec(img.astype(np.float32))


def test_band_index_equals_brute_force():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**63, size=400, dtype=np.uint64)
    flips = [np.uint64(sum(1 << int(b) for b in rng.choice(63, int(k), replace=False)))
             for k in rng.integers(0, 16, size=200)]
    codes = np.concatenate([base, base[:200] ^ np.array(flips, np.uint64)])
    dist = popcount(codes[::-1][:, None] ^ codes[None, :])
    want = {(int(i), int(j)) for i, j in zip(*np.nonzero(dist <= 11), strict=True)}
    for bands, radius in ((4, 2), (3, 3)):  # narrow bands (small sets), wide (large sets)
        index = BandIndex(codes, bands=bands)
        assert (index.radius, index.max_distance) == (radius, 11)
        q, c, d = index.search(codes[::-1])
        assert set(zip(q.tolist(), c.tolist(), strict=True)) == want
        assert np.array_equal(d, dist[q, c])
    q, c, _ = index.search(codes, max_distance=3)
    assert (dist[::-1][q, c] <= 3).all()
    with pytest.raises(ValueError, match="above what this index finds exactly"):
        index.search(codes, max_distance=12)
    assert BandIndex(codes).bands == 4 and BandIndex(np.zeros(70_000, np.uint64)).bands == 3


# --- overlap on folders and datasets -----------------------------------------------------


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """A: the four photographs. B: one copy of each kind, and two unrelated images."""
    base = tmp_path_factory.mktemp("overlap")
    a, b = base / "a", base / "b"
    for n in NAMES:
        write_png(a / f"{n}.png", photo(n))
    write_png(b / "same_pixels.png", photo("astronaut"), compression=9)  # exact
    jpg = b / "sub" / "jpeg.jpg"
    jpg.parent.mkdir(parents=True)
    cv2.imwrite(str(jpg), photo("chelsea")[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 40])
    write_png(b / "half.png", resized(photo("coffee"), 0.5))
    write_png(b / "larger.png", resized(photo("rocket"), 1.5))
    write_png(b / "rainy.png", rained(photo("astronaut"), 7))
    rng = np.random.default_rng(1)
    smooth = cv2.resize(rng.integers(0, 256, (6, 9, 3), dtype=np.uint8), (300, 200),
                        interpolation=cv2.INTER_CUBIC)
    write_png(b / "unrelated.png", smooth)
    write_png(b / "quarter.png", photo("astronaut")[192:, :192])  # a crop: another image
    return a, b


def test_finds_exact_jpeg_resized_and_rainy_copies(folders):
    a, b = folders
    report = overlap(str(a), str(b), workers=1)
    found = {(p.kind, report.a.items[p.a_index].id, report.b.items[p.b_index].id)
             for p in report.pairs}
    assert found == {
        ("exact", "astronaut.png", "same_pixels.png"),
        ("near", "astronaut.png", "rainy.png"),
        ("near", "chelsea.png", "sub/jpeg.jpg"),
        ("near", "coffee.png", "half.png"),
        ("near", "rocket.png", "larger.png"),
    }
    assert report.pairs[0].kind == "exact" and report.pairs[0].score == 1.0
    assert all(DEFAULT_THRESHOLD <= p.score <= 1.0 for p in report.pairs)
    assert report.summary()[0] == (
        f"{a} (4 images) vs {b} (7 images): 1 exact duplicate(s) (same pixels), "
        "4 near-duplicate(s) (similarity >= 0.80)")


def test_csv_columns(folders):
    a, b = folders
    report = overlap(str(a), str(b), workers=1)
    rows = list(csv.DictReader(io.StringIO(format_csv(report))))
    assert tuple(rows[0]) == COLUMNS == (
        "kind", "score", "hamming", "a_source", "a_split", "a_id", "a_role", "a_path",
        "b_source", "b_split", "b_id", "b_role", "b_path")
    first = rows[0]
    assert (first["kind"], first["score"], first["hamming"], first["a_role"],
            first["a_path"], first["b_path"]) == (
        "exact", "1.0000", "0", "image", f"{a.as_posix()}/astronaut.png",
        f"{b.as_posix()}/same_pixels.png")
    assert len(rows) == 5
    assert format_csv(overlap(str(a), str(a / "..") + "/a", workers=1)).count("\n") == 1


def paired_split_tree(root: Path) -> Path:
    """The generic paired layout with train/ and test/; one train clean image is a resized
    copy of a test clean image, one test rainy image is a byte copy of a train rainy one."""
    for split, names in (("test", NAMES[:2]), ("train", NAMES[2:])):
        for n in names:
            img = photo(n)
            write_png(root / split / "clean" / f"{n}.png", img)
            write_png(root / split / "rainy" / f"{n}.png", rained(img, NAMES.index(n)))
    write_png(root / "train/clean/copy.png", resized(photo("chelsea"), 0.75))
    write_png(root / "train/rainy/copy.png", rained(photo("coffee"), 11))
    (root / "test/rainy/astronaut.png").write_bytes(
        (root / "train/rainy/rocket.png").read_bytes())
    return root


def test_one_dataset_reports_train_test_overlap(tmp_path):
    root = paired_split_tree(tmp_path / "p")
    report = overlap(f"paired:{root}", workers=1)
    found = sorted((p.kind, report.a.items[p.a_index].split, report.a.items[p.a_index].id,
                    p.a_role, report.a.items[p.b_index].split, report.a.items[p.b_index].id,
                    p.b_role) for p in report.pairs)
    # train copy.png's rainy image is coffee + rain, its clean is chelsea: the clean side
    # decides, so the pair with train coffee (same split) is no leakage and is not listed
    assert found == [
        ("exact", "test", "astronaut", "rainy", "train", "rocket", "rainy"),
        ("near", "test", "chelsea", "clean", "train", "copy", "clean"),
    ]
    assert report.summary()[1:] == [
        "4 of 5 samples involved",
        "  test / train: 1 exact",
        "  test / train: 1 near",
    ]
    only_test = overlap(f"paired:{root}:test", f"paired:{root}:train", workers=1)
    assert len(only_test.pairs) == 2


def test_single_split_dataset_is_checked_within_itself(tmp_path):
    root = tmp_path / "flat"
    for n in NAMES:
        write_png(root / f"{n}.png", photo(n))
    write_png(root / "again" / "rocket_small.png", resized(photo("rocket"), 0.5))
    report = overlap(str(root), workers=1)
    assert [(report.a.items[p.a_index].id, report.a.items[p.b_index].id)
            for p in report.pairs] == [("rocket.png", "again/rocket_small.png")] or [
        (report.a.items[p.b_index].id, report.a.items[p.a_index].id) for p in report.pairs
    ] == [("rocket.png", "again/rocket_small.png")]
    assert "within itself" in report.summary()[0]


def test_unreadable_images_are_left_out_and_counted(tmp_path):
    root = tmp_path / "f"
    for n in NAMES[:2]:
        write_png(root / f"{n}.png", photo(n))
    (root / "broken.png").write_bytes(b"not a png")
    report = overlap(str(root), workers=1)
    assert report.pairs == []
    assert report.summary()[-1] == (
        f"1 image(s) of {root} could not be read and were left out, e.g. "
        f"{root / 'broken.png'}: not a readable image")


def test_worker_processes_give_the_same_hashes(folders):
    """Two worker processes (both cores) hash exactly as one process does."""
    a, b = folders
    items = (list_items(parse_source(str(a))) + list_items(parse_source(str(b)))) * 3
    one = hash_items(items, workers=1)
    calls = []
    two = hash_items(items, workers=2, progress=lambda d, t: calls.append((d, t)))
    assert [h.pixels for h in one] == [h.pixels for h in two]
    assert all(np.array_equal(x.vector, y.vector) for x, y in zip(one, two, strict=True))
    assert calls[0] == (0, len(items)) and calls[-1] == (len(items), len(items))


def test_sources_parse_and_fail_in_one_line(tmp_path):
    (tmp_path / "d").mkdir()
    src = parse_source(f"rain100l:{tmp_path}:train")
    assert (src.name, src.root, src.split) == ("rain100l", tmp_path, "train")
    assert parse_source(str(tmp_path / "d")).name is None
    for text, message in [
        (str(tmp_path / "nope"), f"{tmp_path / 'nope'}: no such folder (expected "
                                 "NAME:ROOT[:SPLIT] or a folder)"),
        (f"rain100x:{tmp_path}", "unknown dataset 'rain100x'"),
        (f"rain100l:{tmp_path}:bogus", "unknown split 'bogus'"),
        ("rain100l:", "no ROOT folder"),
        (str(tmp_path / "d"), f"{tmp_path / 'd'}: no image files in this folder"),
    ]:
        with pytest.raises(DataError) as err:
            list_items(parse_source(text))
        assert message in str(err.value) and "\n" not in str(err.value)


# --- the command line -------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_writes_csv_and_summary(folders, tmp_path):
    a, b = folders
    out = tmp_path / "pairs.csv"
    result = run("overlap", a, b, "--out", out, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"wrote {out}: 5 pair(s)"
    assert out.read_text().splitlines()[0] == ",".join(COLUMNS)
    again = run("overlap", a, b, "--out", out)
    assert again.exit_code == 1
    assert again.output.strip() == f"error: {out}: already exists (use --force to overwrite)"
    to_stdout = run("overlap", a, b, "--workers", "1", "--check")
    assert to_stdout.exit_code == 1  # --check: pairs found
    assert to_stdout.stdout.splitlines()[0] == ",".join(COLUMNS)
    assert len(to_stdout.stdout.splitlines()) == 6
    assert to_stdout.stderr.startswith(f"{a} (4 images) vs {b}")


@pytest.mark.parametrize("args, message", [
    (["rain100x:/tmp"], "error: unknown dataset 'rain100x'"),
    (["/no/such/folder"], "error: /no/such/folder: no such folder"),
    (["rain100l:/no/such/root"], "error: /no/such/root: no such folder"),
    ([".", "--threshold", "1.5"], "error: threshold must be in (0, 1], got 1.5"),
    ([".", "--workers", "0"], "error: workers must be at least 1, got 0"),
])
def test_cli_errors_are_one_line(args, message):
    result = run("overlap", *args)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.output


def test_cli_help():
    result = run("overlap", "--help")
    assert result.exit_code == 0
    assert "overlap [OPTIONS] A [B]" in result.output
    for option in ("--out", "--threshold", "--workers", "--check", "--force"):
        assert option in result.output


# --- the real data in ../shared/data -----------------------------------------------------


@pytest.mark.shared
def test_real_raintrainl_and_rain100l_test_do_not_overlap(shared_data):
    report = overlap(f"rain100l:{shared_data / 'raintrainl'}:train",
                     f"rain100l:{shared_data / 'rain100l_test'}", workers=2)
    assert [len(report.a.items), len(report.b.items)] == [200, 100]
    assert report.pairs == []


@pytest.mark.shared
def test_real_rain100l_and_rain100h_tests_share_their_backgrounds(shared_data):
    """The two test sets have the same 100 clean images (91 distinct: nine backgrounds are
    used twice, ids 3/4, 5/14, 6/25, ... 12/91), so 100 + 2 * 9 = 118 exact pairs."""
    report = overlap(f"rain100l:{shared_data / 'rain100l_test'}",
                     f"rain100h:{shared_data / 'rain100h_test'}", workers=2)
    assert {(p.kind, p.a_role, p.b_role) for p in report.pairs} == {("exact", "clean", "clean")}
    assert len(report.pairs) == 118
    ids = {(report.a.items[p.a_index].id, report.b.items[p.b_index].id) for p in report.pairs}
    assert {(str(n), str(n)) for n in range(1, 101)} <= ids
    within = overlap(f"rain100l:{shared_data / 'rain100l_test'}", workers=1)
    assert sorted((within.a.items[p.a_index].id, within.a.items[p.b_index].id)
                  for p in within.pairs) == sorted(
        [("3", "4")] + [(str(n), str(14 + 11 * (n - 5))) for n in range(5, 13)])
