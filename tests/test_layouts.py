"""Dataset layouts: registry, variant detection, pairing by name, loading, shipped specs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from raindata.cli import main
from raindata.errors import DataError
from raindata.layouts import (
    DatasetLayout,
    detect,
    find_samples,
    get_layout,
    list_datasets,
    load_pair,
    registry,
)
from raindata.layouts.export import SUFFIX, public_layouts, render
from raindata.layouts.listing import format_listing

PROJECT = Path(__file__).resolve().parents[1]


def img(path: Path, value: int = 0, w: int = 8, h: int = 8) -> Path:
    """Write a tiny constant-colour image (PNG or JPEG by suffix) whose value tags it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.full((h, w, 3), value, np.uint8)
    assert cv2.imwrite(str(path), arr)
    return path


def tree(root: Path, names: list[str]) -> Path:
    for i, name in enumerate(names):
        img(root / name, value=10 + i)
    return root


# --- fake trees with the real naming, one per dataset and variant ---------------------

def prenet_test(root: Path) -> Path:
    return tree(root, [f"rainy/rain-{n:03d}.png" for n in (1, 2, 3)]
                + [f"norain-{n:03d}.png" for n in (1, 2, 3)])


def prenet_train_l(root: Path) -> Path:
    return tree(root, [f"{k}-{n}.png" for n in (1, 2) for k in ("rain", "norain", "rainstreak")])


def prenet_train_h(root: Path) -> Path:
    # PReNet's RainTrainH lacks some rainy images: unpaired ground truths are allowed there.
    return tree(root, ["rain-1.png", "norain-1.png", "norain-2.png", "rain-3.png", "norain-3.png"])


def rcdnet(root: Path) -> Path:
    return tree(root, [f"small/{d}/norain-{n}.png" for n in (1, 2, 10) for d in ("rain", "norain")])


def restormer(root: Path) -> Path:
    return tree(root, [f"{d}/{n}.png" for n in (1, 2) for d in ("input", "target")])


def did(root: Path) -> Path:
    for level in ("Heavy", "Medium", "Light"):
        for n in (0, 1):
            img(root / f"DID-MDN-training/Rain_{level}/train2018new/{n}.jpg", w=16)
    for n in (0, 1, 2):
        img(root / f"DID-MDN-test/{n}.jpg", w=16)
    return root


def raindirection(root: Path) -> Path:
    for part, ids in (("RainDirection2920train", (1, 2, 3)), ("RainDirection430test", (1, 2))):
        for n in ids:
            for d in ("rainy", "latent", "streak"):
                img(root / part / d / f"{n}.png", value=n)
    labels = root / "RainDirection2920train/direction/direction.txt"
    labels.parent.mkdir(parents=True)
    labels.write_text("1 0\n2 90\n3 170\n")
    return root


def real3000(root: Path) -> Path:
    return tree(root, [f"{n}.png" for n in (1, 1704, 1705, 2004, 2005, 3000)])


def sirr(root: Path) -> Path:
    tree(root / "real_input", [f"{n}.jpg" for n in (1, 2, 147)])
    return tree(root, ["input_val/input1.png", "label_val/norain1.png",
                       "input_val/input2.png", "label_val/norain2.png"])


def sirr_flat(root: Path) -> Path:
    return tree(root, [f"{n}.jpg" for n in (1, 2, 3)])


def real200(root: Path) -> Path:
    return tree(root, ["street.jpg", "IMG_0042.JPG", "3.png"])


def demo(root: Path) -> Path:
    for split, ids in (("train", (1, 2)), ("test", (1,))):
        for n in ids:
            for d in ("rainy", "latent", "streak"):
                img(root / split / d / f"{n}.png", value=n)
        (root / split / "direction").mkdir()
        (root / split / "direction/direction.txt").write_text(
            "".join(f"{n} {10 * n}\n" for n in ids))
    return root


def paired_rc(root: Path) -> Path:
    return tree(root, ["rainy/a.png", "clean/a.png", "rainy/b.jpg", "clean/b.png"])


def paired_it(root: Path) -> Path:
    return tree(root, ["train/input/x.png", "train/target/x.png",
                       "test/input/y.png", "test/target/y.png"])


def unpaired(root: Path) -> Path:
    return tree(root, ["one.png", "two.jpg"])


CASES = [
    # name, builder, root suffix, variant, {split: count}, (split, id, rainy, clean, streak)
    ("rain100l", prenet_test, "Rain100L", "prenet", {"test": 3},
     ("test", "1", "rainy/rain-001.png", "norain-001.png", None)),
    ("rain100l", prenet_train_l, "RainTrainL", "prenet", {"train": 2},
     ("train", "2", "rain-2.png", "norain-2.png", "rainstreak-2.png")),
    ("rain100h", prenet_train_h, "RainTrainH", "prenet", {"train": 2},
     ("train", "3", "rain-3.png", "norain-3.png", None)),
    ("rain100h", prenet_test, "Rain100H", "prenet", {"test": 3},
     ("test", "3", "rainy/rain-003.png", "norain-003.png", None)),
    ("rain100l", rcdnet, "rain100l_test", "rcdnet", {"test": 3},
     ("test", "10", "small/rain/norain-10.png", "small/norain/norain-10.png", None)),
    ("rain100h", rcdnet, "rain100H/train", "rcdnet", {"train": 3},
     ("train", "2", "small/rain/norain-2.png", "small/norain/norain-2.png", None)),
    ("rain100h", restormer, "Rain100H", "restormer", {"test": 2},
     ("test", "2", "input/2.png", "target/2.png", None)),
    ("did-data", did, "DID", "didmdn", {"test": 3, "train": 6},
     ("train", "Medium-1", "DID-MDN-training/Rain_Medium/train2018new/1.jpg", None, None)),
    ("raindirection", raindirection, "RD", "released", {"test": 2, "train": 3},
     ("train", "3", "RainDirection2920train/rainy/3.png", "RainDirection2920train/latent/3.png",
      "RainDirection2920train/streak/3.png")),
    ("real3000", real3000, "Real3000", "released", {"test": 2, "train": 4},
     ("test", "1705", "1705.png", None, None)),
    ("sirr", sirr, "rainy_image_dataset", "released", {"test": 3, "val": 2},
     ("val", "2", "input_val/input2.png", "label_val/norain2.png", None)),
    ("sirr", sirr_flat, "sirr_real", "released", {"test": 3},
     ("test", "3", "3.jpg", None, None)),
    ("real200", real200, "Real200", "folder", {"test": 3},
     ("test", "IMG_0042", "IMG_0042.JPG", None, None)),
    ("demo", demo, "demo_data", "raindirection", {"test": 1, "train": 2},
     ("test", "1", "test/rainy/1.png", "test/latent/1.png", "test/streak/1.png")),
    ("paired", paired_rc, "mine", "rainy-clean", {"test": 2},
     ("test", "b", "rainy/b.jpg", "clean/b.png", None)),
    ("paired", paired_it, "mine", "input-target", {"test": 1, "train": 1},
     ("train", "x", "train/input/x.png", "train/target/x.png", None)),
    ("unpaired", unpaired, "photos", "folder", {"test": 2},
     ("test", "two", "two.jpg", None, None)),
]


@pytest.mark.parametrize(
    ("name", "build", "sub", "variant", "counts", "probe"), CASES,
    ids=[f"{c[0]}-{c[1].__name__}" for c in CASES],
)
def test_every_dataset_and_variant_is_found(tmp_path, name, build, sub, variant, counts, probe):
    root = build(tmp_path / sub)
    det = detect(name, root)
    assert det.variant.name == variant
    samples = find_samples(name, root)
    got = {s: sum(1 for x in samples if x.split == s) for s in {x.split for x in samples}}
    assert got == counts
    split, ident, rainy, clean, streak = probe
    (sample,) = [s for s in samples if s.split == split and s.id == ident]
    assert sample.rainy == root / rainy and sample.rainy.is_absolute()
    assert sample.clean == (root / clean if clean else None)
    assert sample.streak == (root / streak if streak else None)
    assert find_samples(name, root, split) == [s for s in samples if s.split == split]


def test_every_registered_layout_has_a_fake_tree():
    """This file covers the original layouts; tests/test_layouts_more.py the others (and
    checks that the two together cover the registry)."""
    assert {c[0] for c in CASES} <= set(list_datasets())


def test_pairing_is_by_name_not_sort_order(tmp_path):
    """Rainy files zero-padded, ground truths not: sorted lists would pair 2 with 10."""
    root = tmp_path / "Rain100L"
    ids = range(1, 13)
    for n in ids:
        img(root / f"rainy/rain-{n:03d}.png", value=n)
        img(root / f"norain-{n}.png", value=n)
    by_sort = list(zip(sorted(p.name for p in (root / "rainy").iterdir()),
                       sorted(p.name for p in root.glob("norain-*.png")), strict=True))
    assert ("rain-002.png", "norain-10.png") in by_sort  # what sort order would do
    samples = find_samples("rain100l", root)
    assert [s.id for s in samples] == [str(n) for n in ids]
    for s in samples:
        rainy, clean = load_pair(s)
        assert rainy[0, 0, 0] == clean[0, 0, 0] == int(s.id)
        assert s.clean.name == f"norain-{s.id}.png"


def test_mixed_variants_fail_naming_both(tmp_path):
    root = rcdnet(prenet_test(tmp_path / "mixed"))
    with pytest.raises(DataError, match=r"mixes rain100l layout variants") as err:
        detect("rain100l", root)
    msg = str(err.value)
    assert "prenet (rainy/rain-001.png)" in msg and "rcdnet (small/rain/norain-1.png)" in msg
    assert "\n" not in msg


def test_missing_and_extra_partners_are_named(tmp_path):
    root = rcdnet(tmp_path / "r")
    (root / "small/norain/norain-2.png").unlink()
    img(root / "small/norain/norain-7.png")
    img(root / "small/rain/rain-9.png")
    with pytest.raises(DataError) as err:
        find_samples("rain100l", root)
    msg = str(err.value)
    assert "small/rain/norain-2.png: no clean partner small/norain/norain-2.png" in msg
    assert "small/norain/norain-7.png: no rainy partner small/rain/norain-7.png" in msg
    assert "small/rain/rain-9.png: unexpected file name" in msg


def test_raindirection_streak_and_labels_are_checked(tmp_path):
    root = raindirection(tmp_path / "rd")
    (root / "RainDirection430test/streak/2.png").unlink()
    with pytest.raises(DataError, match=r"RainDirection430test/rainy/2.png: no streak partner"):
        find_samples("raindirection", root, "test")
    labels = root / "RainDirection2920train/direction/direction.txt"
    labels.write_text("1 0\n2 ninety\n")
    with pytest.raises(DataError) as err:
        find_samples("raindirection", root, "train")
    assert "direction.txt line 2: expected 'N angle_degrees'" in str(err.value)
    assert "rainy/3.png: no direction label" in str(err.value)
    labels.unlink()
    with pytest.raises(DataError, match=r"direction\.txt: direction label file missing"):
        find_samples("raindirection", root, "train")


def test_direction_labels_become_angles(tmp_path):
    root = raindirection(tmp_path / "rd")
    train = find_samples("raindirection", root, "train")
    assert [s.angle for s in train] == [0.0, 90.0, 170.0]
    assert all(s.angle is None for s in find_samples("raindirection", root, "test"))
    assert [s.angle for s in find_samples("demo", demo(tmp_path / "d"), "train")] == [10.0, 20.0]


def test_real3000_split_by_image_number(tmp_path):
    root = real3000(tmp_path / "Real3000")
    assert [s.id for s in find_samples("real3000", root, "test")] == ["1705", "2004"]
    assert [s.id for s in find_samples("real3000", root, "train")] == ["1", "1704", "2005", "3000"]


def test_bare_split_root_is_named_by_folder_or_split(tmp_path):
    root = rcdnet(tmp_path / "whatever")
    assert detect("rain100l", root).splits == {"test": root}
    assert detect("rain100l", root, "train").splits == {"train": root}
    named = rcdnet(tmp_path / "train")
    assert list(detect("rain100l", named).splits) == ["train"]
    both = tmp_path / "rain100L"
    rcdnet(both / "train")
    rcdnet(both / "test")
    assert set(detect("rain100l", both).splits) == {"train", "test"}
    with pytest.raises(DataError, match=r"unknown split 'val' for rain100l \(expected one of"):
        detect("rain100l", both, "val")
    with pytest.raises(DataError, match=r"no 'train' split of rain100l \(restormer variant\)"):
        detect("rain100l", restormer(tmp_path / "Rain100L"), "train")


def test_missing_empty_and_foreign_roots(tmp_path):
    with pytest.raises(DataError, match=r"nope: no such folder$"):
        find_samples("rain100l", tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: empty folder; expected prenet"):
        find_samples("rain100l", tmp_path / "empty")
    foreign = sirr_flat(tmp_path / "jpgs")
    with pytest.raises(DataError, match="no rain100l layout found"):
        find_samples("rain100l", foreign)
    with pytest.raises(DataError, match="no 'test' split"):
        find_samples("rain100l", prenet_train_l(tmp_path / "RainTrainL"), "test")


def test_unknown_names_get_close_matches():
    with pytest.raises(DataError, match=r"unknown dataset 'rain100x'; did you mean rain100l"):
        get_layout("rain100x")
    with pytest.raises(DataError, match="did you mean did-data"):
        get_layout("did_data")


def test_registry_is_explicit_and_rejects_duplicates():
    table = registry.build(registry.ENTRIES)
    assert list(table) == list_datasets()
    with pytest.raises(ValueError, match="registered twice"):
        registry.build((("a", "m:x"), ("a", "m:y")))
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("rain100l", "raindata.layouts.rain100:RAIN100L")
    for name in list_datasets():
        layout = get_layout(name)
        assert isinstance(layout, DatasetLayout) and layout.name == name
        assert layout.variants and all(v.splits for v in layout.variants)


def test_layout_metadata():
    rain = get_layout("rain100l")
    assert rain.paired and rain.variant_names == ("prenet", "rcdnet", "restormer")
    assert {s.name: s.count for s in rain.splits} == {"test": 100, "train": 200}
    assert {s.name: s.count for s in get_layout("real3000").splits} == {"test": 300, "train": 2700}
    assert not get_layout("sirr").paired
    assert get_layout("did-data").variant("didmdn").split("test").side_by_side


def test_load_pair_side_by_side_and_checks(tmp_path):
    root = tmp_path / "DID-MDN-test"
    arr = np.zeros((8, 16, 3), np.uint8)
    arr[:, 8:] = 200
    root.mkdir()
    cv2.imwrite(str(root / "0.png"), arr)  # lossless stand-in to check the halves exactly
    (root / "0.png").rename(root / "0.jpg")
    (sample,) = find_samples("did-data", tmp_path, "test")
    assert sample.side_by_side and sample.clean is None
    rainy, clean = load_pair(sample)
    assert rainy.shape == clean.shape == (8, 8, 3)
    assert rainy.max() == 0 and clean.min() == 200
    img(root / "0.jpg", w=15)
    with pytest.raises(DataError, match=r"0.jpg: side-by-side image has odd width 15"):
        load_pair(sample)


def test_load_pair_refuses_size_mismatch(tmp_path):
    root = paired_rc(tmp_path / "p")
    img(root / "clean/a.png", w=9)
    (sample, _) = find_samples("paired", root)
    with pytest.raises(DataError, match=r"clean/a.png: size 9x8 differs from its rainy image"):
        load_pair(sample)
    (unref,) = find_samples("sirr", sirr_flat(tmp_path / "s"))[:1]
    rainy, clean = load_pair(unref)
    assert rainy.dtype == np.uint8 and rainy.shape == (8, 8, 3) and clean is None


def test_shipped_layout_specs_match_the_registry():
    """manifests/*.layout.json are generated by raindata.layouts.export; regenerate with
    `python -m raindata.layouts.export` when a layout changes."""
    folder = PROJECT / "manifests"
    expected = {f"{lay.name}{SUFFIX}": render(lay) for lay in public_layouts()}
    shipped = {p.name: p.read_text(encoding="utf-8") for p in folder.glob(f"*{SUFFIX}")}
    assert sorted(shipped) == sorted(expected)
    for name, text in expected.items():
        assert shipped[name] == text, f"manifests/{name} is stale"
    assert "sha256" not in "".join(shipped.values())


def test_list_shows_every_layout():
    lines = format_listing()
    for name in list_datasets():
        assert any(line.split()[0] == name for line in lines[1:])
    row = next(line for line in lines if line.startswith("rain100l "))
    assert "paired" in row and "test 100" in row and "prenet, rcdnet, restormer" in row
    assert "no-reference" in next(line for line in lines if line.startswith("sirr "))
    result = CliRunner().invoke(main, ["list", "--verbose"])
    assert result.exit_code == 0
    assert "small/rain/norain-1.png + small/norain/norain-1.png" in result.output


def test_list_help():
    result = CliRunner().invoke(main, ["list", "--help"])
    assert result.exit_code == 0 and "List the dataset layouts" in result.output


def test_import_stays_light():
    code = ("import sys, raindata.layouts, raindata.commands.layouts; "
            "print([m for m in ('numpy', 'cv2', 'torch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_paired_stems_are_not_number_padded_and_outside_symlinks_are_ignored(tmp_path):
    """``paired`` matches by stem as written (``001`` is not ``1``), and a symlink that leads
    out of the dataset folder is not taken as part of it."""
    import numpy as np
    import pytest as _pytest

    from raindata.errors import DataError
    from raindata.imageio import write_png
    from raindata.layouts import find_samples

    img = np.zeros((8, 8, 3), np.uint8)
    root = tmp_path / "p"
    write_png(root / "rainy" / "001.png", img)
    write_png(root / "clean" / "1.png", img)
    with _pytest.raises(DataError):
        find_samples("paired", root)
    write_png(root / "clean" / "001.png", img)
    (root / "clean" / "1.png").unlink()
    write_png(tmp_path / "outside.png", img)
    (root / "rainy" / "x.png").symlink_to(tmp_path / "outside.png")
    (root / "clean" / "x.png").symlink_to(tmp_path / "outside.png")
    assert [s.id for s in find_samples("paired", root)] == ["001"]
