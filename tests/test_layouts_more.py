"""The layouts of issue 12: Rain200H/L, Rain800/Test100, Rain1400/Test2800, Test1200, Rain12,
Rain13K, SPA-Data, DIV2K and Flickr2K. Every variant gets a small fake tree with the real
naming; detection, pairing by name (one ground truth shared by many rainy images
included), the counts ``verify`` reports and the listing are checked on them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from test_layouts import CASES, img

from raindata.cli import main
from raindata.errors import DataError
from raindata.layouts import detect, find_samples, get_layout, list_datasets, load_pair
from raindata.layouts.export import layout_spec
from raindata.layouts.listing import format_listing
from raindata.layouts.spec import Pattern, SplitLayout
from raindata.verify import verify

#: Pixel values of the two halves of a fake side-by-side file.
RAINY, CLEAN = 40, 200


def pair(root: Path, rainy: str, clean: str, value: int) -> None:
    """A rainy file and its partner, both tagged with ``value`` (so pairing can be checked)."""
    img(root / rainy, value=value)
    img(root / clean, value=value)


def side_by_side(path: Path, clean_left: bool = False) -> None:
    """A 16x8 ``[rainy | clean]`` file (``[clean | rainy]`` with ``clean_left``)."""
    arr = np.full((8, 16, 3), RAINY, np.uint8)
    arr[:, slice(0, 8) if clean_left else slice(8, 16)] = CLEAN
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), arr)


# --- fake trees, one per dataset and variant --------------------------------------------

def rain200h_jorder(root: Path) -> Path:
    for n in (1, 2, 10):  # sorted names would pair norain-10x2 with norain-1
        pair(root, f"rain_data_test_Heavy/rain/X2/norain-{n}x2.png",
             f"rain_data_test_Heavy/norain/norain-{n}.png", 10 * n)
    for n in (1, 2):  # a copy without the X2 folder
        pair(root, f"rain_data_train_Heavy/rain/norain-{n}x2.png",
             f"rain_data_train_Heavy/norain/norain-{n}.png", 5 * n + 1)
    return root


def rain200l_jorder_nested(root: Path) -> Path:
    for n in (1, 200):
        pair(root, f"rain_data_test_light/rain_light_test/rain/X2/norain-{n}x2.png",
             f"rain_data_test_light/rain_light_test/norain/norain-{n}.png", n % 250)
    return root


def rain200_drsformer(root: Path) -> Path:
    for n in (1, 2, 3):
        pair(root, f"train/Rain200H/input/{n}.png", f"train/Rain200H/target/{n}.png", n)
    for n in (1, 2):
        pair(root, f"test/Rain200H/input/{n}.png", f"test/Rain200H/target/{n}.png", 20 + n)
    return root


def rain800_idcgan(root: Path) -> Path:
    for n in (1, 2, 3):
        side_by_side(root / f"training/{n}.jpg", clean_left=True)
    for n in (1, 2):
        side_by_side(root / f"test_syn/{n}.jpg", clean_left=True)
    return root


def mprnet_test100(root: Path) -> Path:
    for n in (1, 2, 98):
        pair(root, f"input/{n}.png", f"target/{n}.png", n)
    return root


def mspfn_test100(root: Path) -> Path:
    for n in (1, 10, 2):
        pair(root, f"inputcrop/{n}.png", f"cleancrop/{n}.png", n)
    return root


def rain800_rain_norain(root: Path) -> Path:
    for n in (1, 100):
        pair(root, f"test/rain/rain-{n:03d}.png", f"test/norain/norain-{n:03d}.png", n)
    return root


def rain1400_prenet(root: Path) -> Path:
    for n, value in ((901, 60), (1000, 160)):
        img(root / f"Rain1400/ground_truth/{n}.jpg", value=value)
        for k in (1, 2, 14):
            img(root / f"Rain1400/rainy_image/{n}_{k}.jpg", value=value)
    img(root / "Rain12600/ground_truth/1.jpg", value=90)
    for k in (1, 2):
        img(root / f"Rain12600/rainy_image/1_{k}.jpg", value=90)
    return root


def mprnet_test2800(root: Path) -> Path:
    for n, k in ((801, 1), (801, 2), (1000, 14)):
        pair(root, f"input/{n}_{k}.jpg", f"target/{n}_{k}.jpg", n % 250)
    return root


def mspfn_test2800(root: Path) -> Path:
    pair(root, "inputcrop/801_1.jpg", "cleancrop/801_1.jpg", 70)
    return root


def didmdn_test1200(root: Path) -> Path:
    for n in (0, 1):
        side_by_side(root / f"DID-MDN-test/{n}.jpg")
    return root


def mprnet_test1200(root: Path) -> Path:
    for n in (1, 600, 1200):
        pair(root, f"input/{n}.png", f"target/{n}.png", n % 250)
    return root


def mspfn_test1200(root: Path) -> Path:
    pair(root, "inputcrop/1.png", "cleancrop/1.png", 5)
    return root


def rain12_released(root: Path) -> Path:
    for n in range(1, 13):  # complete: verify finds nothing wrong
        pair(root, f"{n:03d}_in.png", f"{n:03d}_GT.png", 10 * n)
    return root


def rain12_prenet(root: Path) -> Path:
    for n in (1, 2, 12):
        pair(root, f"rainy/{n}.png", f"groundtruth/{n}.png", 10 * n)
    return root


def rain13k(root: Path) -> Path:
    for i, name in enumerate(("1.jpg", "norain-2.jpg", "901_3.jpg")):
        pair(root, f"train/Rain13K/input/{name}", f"train/Rain13K/target/{name}", 30 + i)
    return root


def spa_spanet(root: Path) -> Path:
    train = root / "Training/real_world"
    for v, x, y, value in ((0, 0, 0, 11), (0, 0, 256, 22), (12, 256, 0, 33)):
        img(train / f"real_world_gt/{v:03d}/{v:03d}_{x}_{y}.png", value=value)
        for f in (1, 2):
            img(train / f"real_world/{v:03d}/{v:03d}-{f}/{v:03d}-{f}_{x}_{y}.png", value=value)
    for n in (0, 1, 999):
        pair(root, f"Testing/real_test_1000/rain/{n:03d}.png",
             f"Testing/real_test_1000/gt/{n:03d}gt.png", n % 250)
    return root


def spa_rcdnet(root: Path) -> Path:
    for name in ("1", "2", "10"):
        pair(root, f"test/small/rain/{name}.png", f"test/small/norain/{name}.png", int(name))
    return root


def spa_drsformer(root: Path) -> Path:
    for n in (1, 2):
        pair(root, f"test/SPA-Data/input/{n}.png", f"test/SPA-Data/target/{n}.png", n)
    pair(root, "train/SPA-Data/input/a.png", "train/SPA-Data/target/a.png", 9)
    return root


def div2k(root: Path) -> Path:
    for n in (1, 800):
        img(root / f"DIV2K_train_HR/{n:04d}.png", value=n % 250)
    img(root / "DIV2K_valid_HR/0801.png", value=3)
    return root


def flickr2k(root: Path) -> Path:
    for n in (1, 2650):
        img(root / f"Flickr2K_HR/{n:06d}.png", value=n % 250)
    return root


MORE = [
    # name, builder, root suffix, variant, {split: found}, (split, id, rainy, clean)
    ("rain200h", rain200h_jorder, "rain200h", "jorder", {"test": 3, "train": 2},
     ("test", "10", "rain_data_test_Heavy/rain/X2/norain-10x2.png",
      "rain_data_test_Heavy/norain/norain-10.png")),
    ("rain200l", rain200l_jorder_nested, "Rain200L", "jorder", {"test": 2},
     ("test", "200", "rain_data_test_light/rain_light_test/rain/X2/norain-200x2.png",
      "rain_data_test_light/rain_light_test/norain/norain-200.png")),
    ("rain200h", rain200_drsformer, "Datasets", "drsformer", {"test": 2, "train": 3},
     ("train", "3", "train/Rain200H/input/3.png", "train/Rain200H/target/3.png")),
    ("rain800", rain800_idcgan, "rain", "idcgan", {"train": 3, "test": 2},
     ("train", "2", "training/2.jpg", None)),
    ("rain800", mprnet_test100, "Test100", "restormer", {"test": 3},
     ("test", "98", "input/98.png", "target/98.png")),
    ("rain800", mspfn_test100, "TEST100", "mspfn", {"test": 3},
     ("test", "10", "inputcrop/10.png", "cleancrop/10.png")),
    ("rain800", rain800_rain_norain, "Rain800", "rain-norain", {"test": 2},
     ("test", "100", "test/rain/rain-100.png", "test/norain/norain-100.png")),
    ("rain1400", rain1400_prenet, "DDN", "prenet", {"test": 6, "train": 2},
     ("test", "901-14", "Rain1400/rainy_image/901_14.jpg", "Rain1400/ground_truth/901.jpg")),
    ("rain1400", mprnet_test2800, "Test2800", "restormer", {"test2800": 3},
     ("test2800", "1000-14", "input/1000_14.jpg", "target/1000_14.jpg")),
    ("rain1400", mspfn_test2800, "TEST2800", "mspfn", {"test2800": 1},
     ("test2800", "801_1", "inputcrop/801_1.jpg", "cleancrop/801_1.jpg")),
    ("test1200", didmdn_test1200, "DID", "didmdn", {"test": 2},
     ("test", "1", "DID-MDN-test/1.jpg", None)),
    ("test1200", mprnet_test1200, "Test1200", "restormer", {"test": 3},
     ("test", "600", "input/600.png", "target/600.png")),
    ("test1200", mspfn_test1200, "TEST1200", "mspfn", {"test": 1},
     ("test", "1", "inputcrop/1.png", "cleancrop/1.png")),
    ("rain12", rain12_released, "Rain12", "released", {"test": 12},
     ("test", "7", "007_in.png", "007_GT.png")),
    ("rain12", rain12_prenet, "Rain12", "prenet", {"test": 3},
     ("test", "12", "rainy/12.png", "groundtruth/12.png")),
    ("rain13k", rain13k, "Datasets", "restormer", {"train": 3},
     ("train", "901_3", "train/Rain13K/input/901_3.jpg", "train/Rain13K/target/901_3.jpg")),
    ("spa-data", spa_spanet, "SPA", "spanet", {"test": 3, "train": 6},
     ("train", "12-2-256-0", "Training/real_world/real_world/012/012-2/012-2_256_0.png",
      "Training/real_world/real_world_gt/012/012_256_0.png")),
    ("spa-data", spa_rcdnet, "data", "rcdnet", {"test": 3},
     ("test", "10", "test/small/rain/10.png", "test/small/norain/10.png")),
    ("spa-data", spa_drsformer, "Datasets", "drsformer", {"test": 2, "train": 1},
     ("train", "a", "train/SPA-Data/input/a.png", "train/SPA-Data/target/a.png")),
    ("div2k", div2k, "DIV2K", "released", {"train": 2, "val": 1},
     ("val", "801", None, "DIV2K_valid_HR/0801.png")),
    ("flickr2k", flickr2k, "Flickr2K", "released", {"train": 2},
     ("train", "2650", None, "Flickr2K_HR/002650.png")),
]
IDS = [f"{c[0]}-{c[1].__name__}" for c in MORE]


def _counts(samples) -> dict[str, int]:
    return {s: sum(1 for x in samples if x.split == s) for s in {x.split for x in samples}}


@pytest.mark.parametrize(("name", "build", "sub", "variant", "counts", "probe"), MORE, ids=IDS)
def test_every_variant_is_detected_and_paired_by_name(tmp_path, name, build, sub, variant,
                                                      counts, probe):
    root = build(tmp_path / sub)
    assert detect(name, root).variant.name == variant
    samples = find_samples(name, root)
    assert _counts(samples) == counts
    split, ident, rainy, clean = probe
    (sample,) = [s for s in samples if s.split == split and s.id == ident]
    assert sample.rainy == (root / rainy if rainy else None)
    assert sample.clean == (root / clean if clean else None)
    for s in samples:  # partners carry the same pixel tag: pairing followed the names
        if s.side_by_side:
            r, c = load_pair(s)
            assert abs(int(r.mean()) - RAINY) <= 3 and abs(int(c.mean()) - CLEAN) <= 3, s
        elif s.rainy is not None and s.clean is not None:
            r, c = load_pair(s)
            assert abs(int(r.mean()) - int(c.mean())) <= 3, s


@pytest.mark.parametrize(("name", "build", "sub", "variant", "counts", "probe"), MORE, ids=IDS)
def test_verify_reports_counts_on_every_variant(tmp_path, name, build, sub, variant, counts,
                                                probe):
    """On the small trees the only problems are the counts, each said as expected vs found."""
    root = build(tmp_path / sub)
    report = verify(name, root)
    assert report.variant == variant
    got = {s.split: s.count for s in report.splits}
    assert got == counts
    layout = get_layout(name).variant(variant)
    expected = {s.split: s.expected for s in report.splits}
    assert expected == {s: layout.split(s).count for s in counts}
    count_lines = {f"expected {n} {s} samples, found {counts[s]}"
                   for s, n in expected.items() if n is not None and n != counts[s]}
    assert {p.message for p in report.problems} == count_lines
    assert report.images_decoded == sum(2 if s.rainy and s.clean else 1
                                        for s in find_samples(name, root))


def test_full_rain12_verifies_ok_on_the_command_line(tmp_path):
    root = rain12_released(tmp_path / "Rain12")
    result = CliRunner().invoke(main, ["verify", "rain12", str(root)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "OK rain12, released variant: test 12 pairs (expected 12); 24 images decoded, "
        "0 sha256 checked"
    )


def test_clean_sources_are_images_not_pairs(tmp_path):
    root = div2k(tmp_path / "DIV2K")
    result = CliRunner().invoke(main, ["verify", "div2k", str(root / "DIV2K_valid_HR")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith(
        "FAILED (1 problem(s)) div2k, released variant: val 1 images (expected 100)")
    lay = get_layout("div2k")
    assert lay.clean_only and not lay.paired and lay.paired_splits == ()
    (sample,) = find_samples("div2k", root, "val")
    with pytest.raises(DataError, match="no rainy image"):
        load_pair(sample)
    img(root / "DIV2K_train_HR/801.png")
    with pytest.raises(DataError, match=r"801.png: unexpected file name for div2k train"):
        find_samples("div2k", root, "train")


def test_one_ground_truth_serves_its_rainy_images_and_is_checked(tmp_path):
    """Rain1400: 901_1..901_14 share ground_truth/901.jpg; a missing or orphan ground truth
    is named, as is a rainy image whose ground truth is absent."""
    root = rain1400_prenet(tmp_path / "DDN")
    test = find_samples("rain1400", root, "test")
    assert {s.clean.name for s in test if s.id.startswith("901-")} == {"901.jpg"}
    assert {s.clean.name for s in test if s.id.startswith("1000-")} == {"1000.jpg"}
    (root / "Rain1400/ground_truth/1000.jpg").unlink()
    img(root / "Rain1400/ground_truth/950.jpg")
    report = verify("rain1400", root, split="test")
    messages = {str(p) for p in report.problems}
    for k in (1, 2, 14):
        assert (f"Rain1400/rainy_image/1000_{k}.jpg: no clean partner "
                "Rain1400/ground_truth/1000.jpg") in messages
    assert "Rain1400/ground_truth/950.jpg: no rainy partner Rain1400/rainy_image/950_1.jpg" \
        in messages


def test_spa_training_names_must_agree_with_their_folders(tmp_path):
    root = spa_spanet(tmp_path / "SPA")
    train = root / "Training/real_world"
    img(train / "real_world/000/000-3/001-3_0_0.png")  # video number differs from its folder
    report = verify("spa-data", root, split="train")
    (problem,) = report.problems
    assert problem.path.endswith("real_world/000/000-3/001-3_0_0.png")
    assert "unexpected file name for spa-data train (spanet variant)" in problem.message


def test_test2800_duplicate_of_early_downloads_is_reported(tmp_path):
    """MPRNet issue 23: the Test2800 input folder once held a 2801st file 926_10(1).jpg."""
    root = mprnet_test2800(tmp_path / "Test2800")
    img(root / "input/926_10(1).jpg")
    report = verify("rain1400", root)
    assert any(p.path == "input/926_10(1).jpg" and "unexpected file name" in p.message
               for p in report.problems)


def test_rain800_halves_are_clean_left(tmp_path):
    root = rain800_idcgan(tmp_path / "rain")
    (sample, *_) = find_samples("rain800", root, "test")
    assert sample.side_by_side and sample.clean_left and sample.clean is None
    rainy, clean = load_pair(sample)
    assert rainy.shape == clean.shape == (8, 8, 3)
    assert abs(int(rainy.mean()) - RAINY) <= 3 and abs(int(clean.mean()) - CLEAN) <= 3
    spec = layout_spec(get_layout("rain800"))
    idcgan = next(v for v in spec["variants"] if v["name"] == "idcgan")
    assert idcgan["splits"][0]["side_by_side"] == "left half clean, right half rainy"


def test_ids_agree_between_ddn_and_test2800_copies(tmp_path):
    """The same rainy image (926_10) has the same id in PReNet's and MPRNet's copies, so a
    leakage check can match them by name as well as by pixels."""
    ddn = tmp_path / "DDN"
    img(ddn / "Rain1400/rainy_image/926_10.jpg")
    img(ddn / "Rain1400/ground_truth/926.jpg")
    copy = tmp_path / "Test2800"
    pair(copy, "input/926_10.jpg", "target/926_10.jpg", 1)
    assert [s.id for s in find_samples("rain1400", ddn)] == ["926-10"]
    assert [s.id for s in find_samples("rain1400", copy)] == ["926-10"]


def test_split_spec_checks_shared_and_side_by_side():
    rainy = Pattern("rainy", "*", r"(?P<n>\d+)_(?P<k>\d+)\.jpg", "{n}_{k}.jpg")
    with pytest.raises(ValueError, match="cannot be shared"):
        SplitLayout("test", ("x",), (Pattern("rainy", "*", r"(?P<n>\d+)\.jpg", "{n}.jpg",
                                             shared=True),))
    with pytest.raises(ValueError, match="uses groups the primary"):
        SplitLayout("test", ("x",), (rainy, Pattern("clean", "gt/*", r"gt/(?P<m>\d+)\.jpg",
                                                    "gt/{m}.jpg", shared=True)))
    with pytest.raises(ValueError, match="clean_left describes side-by-side files"):
        SplitLayout("test", ("x",), (rainy,), clean_left=True)
    gt = Pattern("clean", "gt/*", r"gt/(?P<n>\d+)\.jpg", "gt/{n}.jpg", shared=True)
    assert gt.partner_groups({"n": 901, "k": 3}) == {"n": 901}
    assert rainy.example == "1_1.jpg"


def test_every_registered_layout_has_a_fake_tree_here_or_in_test_layouts():
    assert {c[0] for c in CASES} | {c[0] for c in MORE} == set(list_datasets())


def test_list_shows_the_new_sets_with_counts_variants_and_notes():
    rows = {line.split()[0]: line for line in format_listing()[1:]}
    expect = {
        "rain200h": ("paired", "test 200, train 1800", "jorder, drsformer"),
        "rain200l": ("paired", "test 200, train 1800", "jorder, drsformer"),
        "rain800": ("paired", "train 700, test 100", "idcgan, restormer, mspfn, rain-norain"),
        "rain1400": ("paired", "train 12600, test 1400, test2800 2800",
                     "prenet, restormer, mspfn"),
        "rain12": ("paired", "test 12", "released, prenet"),
        "rain13k": ("paired", "train 13712", "restormer"),
        "test1200": ("paired", "test 1200", "didmdn, restormer, mspfn"),
        "spa-data": ("paired", "test 1000, train 638492", "spanet, rcdnet, drsformer"),
        "div2k": ("clean images", "train 800, val 100", "released"),
        "flickr2k": ("clean images", "train 2650", "released"),
    }
    for name, parts in expect.items():
        for part in parts:
            assert part in rows[name], (name, part)
    verbose = "\n".join(format_listing(verbose=True))
    assert "rain800: Rain800 (ID-CGAN)" in verbose
    assert "note: The release puts the clean image on the LEFT" in verbose
    assert "real_world/001/001-1/001-1_1_1.png + real_world_gt/001/001_1_1.png" in verbose
    assert "rain_data_test_Heavy" in verbose and "rain/X2/norain-1x2.png" in verbose
    assert "13,711" in verbose and "Rain14000" in verbose


def test_shipped_specs_describe_shared_ground_truth():
    spec = layout_spec(get_layout("spa-data"))
    train = next(s for s in spec["variants"][0]["splits"] if s["split"] == "train")
    assert train["files"][1]["shared"].startswith("one file serves")
    assert train["count"] is None
    assert {s["name"]: s["count"] for s in spec["splits"]} == {"test": 1000, "train": 638492}
