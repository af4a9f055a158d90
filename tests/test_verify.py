"""`raindata verify` / `raindata index`: every problem reported, manifests, real data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from raindata.cli import main
from raindata.errors import DataError
from raindata.manifest import read_manifest
from raindata.verify import index, verify


def img(path: Path, value: int = 0, w: int = 8, h: int = 8) -> Path:
    """Write a tiny constant-colour image (PNG or JPEG by suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((h, w, 3), value, np.uint8))
    return path


def paired_tree(root: Path, stems=("a", "b", "c")) -> Path:
    for i, stem in enumerate(stems):
        img(root / f"rainy/{stem}.png", 10 + i)
        img(root / f"clean/{stem}.png", 20 + i)
    return root


def demo_tree(root: Path) -> Path:
    """The demo layout with its per-split manifest.csv (id + sha256_<role>, as synth writes)."""
    for split in ("train", "test"):
        rows = ["id,angle,sha256_rainy,sha256_latent,sha256_streak"]
        for n in (1, 2):
            sums = []
            for d in ("rainy", "latent", "streak"):
                p = img(root / split / d / f"{n}.png", 40 * n)
                sums.append(hashlib.sha256(p.read_bytes()).hexdigest())
            rows.append(f"{n},{10 * n},{','.join(sums)}")
        (root / split / "direction").mkdir()
        (root / split / "direction/direction.txt").write_text("1 10\n2 20\n")
        (root / split / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for needle in needles:
        assert needle in lines[0]


def test_verify_ok_summary(tmp_path):
    root = paired_tree(tmp_path / "p")
    calls = []
    report = verify("paired", root, progress=lambda done, total: calls.append((done, total)))
    assert report.ok and report.variant == "rainy-clean" and report.images_decoded == 6
    assert calls[-1] == (3, 3)
    result = run("verify", "paired", root)
    assert result.exit_code == 0
    assert result.output.strip() == (
        "OK paired, rainy-clean variant: test 3 pairs; 6 images decoded, 0 sha256 checked"
    )


def test_every_problem_is_listed_one_line_each(tmp_path):
    root = paired_tree(tmp_path / "p", stems=("a", "b", "c", "d"))
    img(root / "clean/a.png", w=9)                      # size mismatch in a pair
    (root / "rainy/b.png").write_bytes(b"not a png")     # unreadable
    (root / "clean/c.png").unlink()                      # missing partner
    img(root / "clean/z.png")                            # extra file
    result = run("verify", "paired", root)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("FAILED (4 problem(s)) paired")
    problems = "\n".join(lines[:-1])
    assert "clean/a.png: size 9x8 differs from its rainy image rainy/a.png (8x8)" in problems
    assert "rainy/b.png: not a readable image" in problems
    assert "rainy/c.png: no clean partner clean/c.*" in problems
    assert "clean/z.png: no rainy partner rainy/z.*" in problems
    assert len(lines) == 5


def test_counts_are_checked(tmp_path):
    root = tmp_path / "rain100l_test"
    for n in (1, 2):
        img(root / f"small/rain/norain-{n}.png")
        img(root / f"small/norain/norain-{n}.png")
    report = verify("rain100l", root)
    assert [str(p) for p in report.problems] == [".: expected 100 test samples, found 2"]
    assert not report.ok and report.summary().startswith("FAILED (1 problem(s)) rain100l")
    assert report.variant == "rcdnet"


def test_side_by_side_odd_width(tmp_path):
    img(tmp_path / "DID-MDN-test/0.jpg", w=16)
    img(tmp_path / "DID-MDN-test/1.jpg", w=15)
    report = verify("did-data", tmp_path, split="test")
    messages = [str(p) for p in report.problems]
    assert "DID-MDN-test/1.jpg: side-by-side image has odd width 15; [rainy | clean] halves " \
        "must be equal" in messages


def test_missing_empty_and_mixed_roots_are_one_line_errors(tmp_path):
    for cmd in (["verify", "rain100l"], ["index", "rain100l"]):
        extra = ["--out", tmp_path / "m.csv"] if cmd[0] == "index" else []
        one_line_error(run(*cmd, tmp_path / "nope", *extra), "nope: no such folder")
        (tmp_path / "empty").mkdir(exist_ok=True)
        one_line_error(run(*cmd, tmp_path / "empty", *extra), "empty: empty folder")
    mixed = tmp_path / "mixed"
    img(mixed / "rainy/rain-001.png")
    img(mixed / "norain-001.png")
    img(mixed / "input/1.png")
    img(mixed / "target/1.png")
    one_line_error(run("verify", "rain100l", mixed), "mixes rain100l layout variants",
                   "prenet (rainy/rain-001.png)", "restormer (input/1.png)")
    one_line_error(run("verify", "rain100x", mixed), "did you mean rain100l")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "mixed"]


def test_index_then_verify_round_trip_detects_tampering(tmp_path):
    root = demo_tree(tmp_path / "demo")
    out = tmp_path / "manifests" / "demo.csv"
    result = run("index", "demo", root, "--out", out)
    assert result.exit_code == 0, result.output
    assert "14 files (test 2, train 2), demo raindirection variant" in result.output
    entries = read_manifest(out)
    assert {e.role for e in entries} == {"rainy", "clean", "streak", "labels"}
    first = entries[0]
    assert (first.path, first.split, first.id, first.width, first.height) == (
        "test/rainy/1.png", "test", "1", 8, 8)
    assert first.sha256 == hashlib.sha256((root / first.path).read_bytes()).hexdigest()
    assert (tmp_path / "manifests/demo.provenance.json").is_file()

    ok = run("verify", "demo", root, "--manifest", out)
    assert ok.exit_code == 0, ok.output
    assert "OK demo, raindirection variant: test 2 pairs, train 2 pairs" in ok.output
    assert "26 sha256 checked" in ok.output  # 12 images x 2 manifests + 2 label files

    img(root / "train/latent/2.png", value=7)  # same size, other pixels
    bad = run("verify", "demo", root, "--manifest", out)
    assert bad.exit_code == 1
    assert bad.output.count("train/latent/2.png: sha256") == 2  # both manifests notice
    assert "differs from train/manifest.csv" in bad.output


def test_index_refuses_to_overwrite_and_writes_nothing_on_bad_input(tmp_path):
    root = paired_tree(tmp_path / "p")
    out = tmp_path / "m.csv"
    assert run("index", "paired", root, "--out", out).exit_code == 0
    before = out.read_text()
    one_line_error(run("index", "paired", root, "--out", out), "already exists", "--force")
    assert out.read_text() == before
    assert run("index", "paired", root, "--out", out, "--force").exit_code == 0

    (root / "rainy/b.png").write_bytes(b"junk")
    new = tmp_path / "new" / "n.csv"
    one_line_error(run("index", "paired", root, "--out", new), "rainy/b.png: not a readable")
    assert not new.parent.exists() or not any(new.parent.iterdir())
    with pytest.raises(DataError, match="cannot index"):
        index("paired", root, new)


def test_verify_against_manifest_lists_missing_and_unlisted(tmp_path):
    root = paired_tree(tmp_path / "p")
    out = tmp_path / "m.csv"
    index("paired", root, out)
    for d in ("rainy", "clean"):
        (root / f"{d}/c.png").unlink()
    img(root / "rainy/new.png")
    img(root / "clean/new.png")
    messages = [str(p) for p in verify("paired", root, manifest=out).problems]
    assert f"rainy/c.png: listed in {out} but missing" in messages
    assert f"clean/new.png: not listed in {out}" in messages


def test_verify_refuses_unsafe_manifest(tmp_path):
    root = paired_tree(tmp_path / "p")
    bad = tmp_path / "bad.csv"
    bad.write_text("path,role,split,id,width,height,sha256\n../etc/x.png,rainy,test,x,8,8,\n")
    one_line_error(run("verify", "paired", root, "--manifest", bad),
                   "bad.csv line 2", "'..' leaves the dataset root")


@pytest.mark.parametrize("command", ["verify", "index"])
def test_help(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert f"{command} [OPTIONS] NAME ROOT" in result.output
    assert "--split" in result.output


@pytest.mark.shared
@pytest.mark.parametrize("name", ["rain100l", "rain100h"])
def test_real_rain100_test_sets(shared_data, name):
    """The real test sets (../shared/data, RCDNet layout) pass with 100 pairs."""
    result = run("verify", name, shared_data / f"{name}_test")
    assert result.exit_code == 0, result.output
    title = {"rain100l": "Rain100L", "rain100h": "Rain100H"}[name]
    assert result.output.strip().splitlines() == [
        f"test: matches the canonical original {title} test set (200 files)",
        f"OK {name}, rcdnet variant: test 100 pairs (expected 100); "
        "200 images decoded, 0 sha256 checked",
    ]


@pytest.mark.shared
def test_real_sirr(shared_data):
    report = verify("sirr", shared_data / "sirr_real")
    assert report.ok, report.lines()
    assert report.variant == "released"
    assert [(s.split, s.count) for s in report.splits] == [("test", 147)]
    assert report.images_decoded == 147
