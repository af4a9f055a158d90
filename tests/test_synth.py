"""``raindata synth``: layout, determinism, equation (1), labels, resume, inputs, errors."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from raindata.angles import angle_distance, parse_angles, snap_to_grid
from raindata.cli import main
from raindata.errors import DataError
from raindata.imageio import read_image
from raindata.rain import compose
from raindata.synth import (
    DEMO_PER_IMAGE,
    DEMO_SPLITS,
    JOURNAL,
    SynthConfig,
    list_clean_images,
    synthesize,
)

ROLES = ("rainy", "latent", "streak")


def _textured(rng, h, w):
    small = rng.integers(0, 256, (max(2, h // 16), max(2, w // 16), 3)).astype(np.float32)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def clean(tmp_path) -> Path:
    """Three small clean images whose natural order differs from plain sort order."""
    folder = tmp_path / "clean"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, (h, w) in {"img10.png": (40, 56), "img2.png": (48, 64),
                         "img1.png": (33, 47)}.items():
        cv2.imwrite(str(folder / name), _textured(rng, h, w))
    (folder / "notes.txt").write_text("not an image")
    return folder


def _manifest(out: Path) -> list[dict[str, str]]:
    with open(out / "manifest.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _hashes(out: Path) -> dict[str, str]:
    """sha256 of every data file (synth.json holds dates and is left out)."""
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*")) if p.is_file() and p.name != "synth.json"
    }


def test_layout_counts_and_manifest(clean, tmp_path):
    out = tmp_path / "out"
    summary = synthesize(clean, out, SynthConfig(count=7, seed=7, layers=1))
    assert summary.count == 7 and summary.generated == 7 and summary.reused == 0
    for role in ROLES:
        assert sorted(p.name for p in (out / role).iterdir()) == sorted(
            f"{i}.png" for i in range(1, 8)
        )
    assert not (out / JOURNAL).exists()
    lines = (out / "direction" / "direction.txt").read_text().splitlines()
    assert [int(line.split()[0]) for line in lines] == list(range(1, 8))

    rows = _manifest(out)
    assert [int(r["id"]) for r in rows] == list(range(1, 8))
    natural = ["img1.png", "img2.png", "img10.png"]
    assert list_clean_images(clean) == natural
    assert [r["source"] for r in rows] == [natural[(i - 1) % 3] for i in range(1, 8)]
    for r, line in zip(rows, lines, strict=True):
        assert line == f"{r['id']} {r['label']}"
        assert r["split"] == "train" and r["layers"] == "2"
        for key in ("density", "length", "drop_width", "intensity", "density_2",
                    "length_2", "drop_width_2", "intensity_2", "sample_seed"):
            assert float(r[key]) > 0
        src = read_image(clean / r["source"])
        assert (int(r["width"]), int(r["height"])) == (src.shape[1], src.shape[0])
        for role in ROLES:
            data = (out / r[role]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == r[f"sha256_{role}"]

    meta = json.loads((out / "synth.json").read_text())
    cfg = meta["config"]
    assert cfg["count"] == 7 and cfg["split"] == "train" and cfg["seed"] == 7
    assert cfg["clean_files"] == natural and cfg["angles"] == list(range(0, 171, 10))
    assert {"git_commit", "packages", "created", "command"} <= set(meta)
    assert meta["summary"]["count"] == 7


def test_per_image_and_split(clean, tmp_path):
    out = tmp_path / "out"
    synthesize(clean, out, SynthConfig(per_image=2, split="test"))
    rows = _manifest(out)
    assert [r["source"] for r in rows] == [
        "img1.png", "img1.png", "img2.png", "img2.png", "img10.png", "img10.png"
    ]
    assert {r["split"] for r in rows} == {"test"}
    assert json.loads((out / "synth.json").read_text())["config"]["split"] == "test"
    # same seed, other split: different rain
    synthesize(clean, tmp_path / "train", SynthConfig(per_image=2, split="train"))
    assert _manifest(tmp_path / "train")[0]["sha256_streak"] != rows[0]["sha256_streak"]


def test_byte_identical_across_workers(clean, tmp_path):
    runner = CliRunner()
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        res = runner.invoke(main, ["synth", "--clean", str(clean), "--out", str(out),
                                   "--angles", "0:170:10", "--seed", "7", "--count", "8",
                                   "--workers", str(workers)])
        assert res.exit_code == 0, res.output
        assert "8 samples" in res.output and "labels" in res.output
        outs.append(out)
    assert _hashes(outs[0]) == _hashes(outs[1])
    assert _manifest(outs[0]) == _manifest(outs[1])
    assert len(_hashes(outs[0])) == 3 * 8 + 2


def test_equation_1_pixel_for_pixel(clean, tmp_path):
    out = tmp_path / "out"
    synthesize(clean, out, SynthConfig(count=6, seed=1))
    for r in _manifest(out):
        n = r["id"]
        latent = cv2.imread(str(out / "latent" / f"{n}.png"), cv2.IMREAD_UNCHANGED)
        streak = cv2.imread(str(out / "streak" / f"{n}.png"), cv2.IMREAD_UNCHANGED)
        rainy = cv2.imread(str(out / "rainy" / f"{n}.png"), cv2.IMREAD_UNCHANGED)
        assert streak.ndim == 2 and latent.shape == rainy.shape
        expected = np.clip(latent.astype(int) + streak[:, :, None], 0, 255)
        assert np.array_equal(rainy, expected)
        assert streak.max() > 0
        assert np.array_equal(latent[:, :, ::-1], read_image(clean / r["source"]))


def test_saturation_makes_effective_map_smaller():
    """Documented: rainy - latent (effective map) < streak where the sum saturates."""
    latent = np.full((4, 4, 3), 250, np.uint8)
    streak = np.full((4, 4), 30, np.uint8)
    rainy = compose(latent, streak)
    assert (rainy == 255).all()
    assert ((rainy.astype(int) - latent)[:, :, 0] == 5).all()


def test_labels_on_grid_and_jitter_bounded(clean, tmp_path):
    grid = parse_angles("0:170:10")
    out = tmp_path / "out"
    synthesize(clean, out, SynthConfig(count=40, seed=3, jitter=5.0))
    rows = _manifest(out)
    labels = {int(r["label"]) for r in rows}
    assert labels <= set(grid) and len(labels) > 10
    for r in rows:
        exact, label = float(r["angle"]), int(r["label"])
        assert 0 <= exact < 180
        assert angle_distance(exact, label) <= 5.0
        assert snap_to_grid(exact, grid) == label
    jitters = [angle_distance(float(r["angle"]), int(r["label"])) for r in rows]
    assert max(jitters) > 2.5  # the jitter is really used up to +-5
    cfg = json.loads((out / "synth.json").read_text())["config"]
    assert cfg["jitter"] == 5.0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (SynthConfig(jitter=6.0), "--jitter"),
        (SynthConfig(count=3, per_image=2), "exclusive"),
        (SynthConfig(angles="0:180:10"), "twice"),
        (SynthConfig(length=(0.0, 5.0)), "--length"),
        (SynthConfig(density=(0.5, 1.5)), "--density"),
        (SynthConfig(count=0), "--count"),
    ],
)
def test_bad_config_refused(clean, tmp_path, config, message):
    with pytest.raises(DataError, match=message):
        synthesize(clean, tmp_path / "out", config)
    assert not (tmp_path / "out").exists()


def test_rerun_refused_and_resume(clean, tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    args = ["synth", "--clean", str(clean), "--out", str(out), "--count", "6", "--seed", "4"]
    assert runner.invoke(main, args).exit_code == 0
    before = _hashes(out)

    res = runner.invoke(main, args)
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == [
        f"error: {out}: folder is not empty; use --resume to continue the same run, "
        f"or choose a new --out"
    ]

    (out / "rainy" / "3.png").unlink()
    (out / "streak" / "5.png").write_bytes(b"truncated")
    res = runner.invoke(main, [*args, "--resume"])
    assert res.exit_code == 0, res.output
    assert "2 generated, 4 reused" in res.output
    assert _hashes(out) == before
    meta = json.loads((out / "synth.json").read_text())
    assert len(meta["resumed"]) == 1

    res = runner.invoke(main, [*args[:-1], "5", "--resume", "--length", "5:9"])
    assert res.exit_code == 1
    assert "differs in length, seed" in res.output
    assert _hashes(out) == before


def test_interrupted_run_resumes_cleanly(clean, tmp_path):
    """A run stopped mid-way leaves whole files only; resuming equals a fresh run."""
    config = SynthConfig(count=9, seed=2)
    fresh = tmp_path / "fresh"
    synthesize(clean, fresh, config)

    out = tmp_path / "out"
    done = []

    def stop_after_four(k):
        done.append(k)
        if len(done) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        synthesize(clean, out, config, progress=stop_after_four)
    assert not (out / "manifest.csv").exists()
    assert (out / JOURNAL).exists()
    assert not list(out.rglob("*.tmp"))
    for role in ROLES:
        assert len(list((out / role).glob("*.png"))) == 4
    summary = synthesize(clean, out, config, resume=True)
    assert (summary.generated, summary.reused) == (5, 4)
    assert _hashes(out) == _hashes(fresh)


def test_resume_into_foreign_folder_refused(clean, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "something.txt").write_text("x")
    with pytest.raises(DataError, match=r"no synth\.json"):
        synthesize(clean, out, SynthConfig(), resume=True)


def test_input_formats(tmp_path):
    """16-bit, grey, alpha, JPEG, BMP and tiny images (smaller than the kernel)."""
    folder = tmp_path / "clean"
    folder.mkdir()
    rng = np.random.default_rng(4)
    rgb = _textured(rng, 30, 40)
    cv2.imwrite(str(folder / "a_deep.png"), rgb.astype(np.uint16) * 257)
    cv2.imwrite(str(folder / "b_grey.png"), rgb[:, :, 0])
    cv2.imwrite(str(folder / "c_alpha.png"), np.dstack([rgb, np.full((30, 40), 7, np.uint8)]))
    cv2.imwrite(str(folder / "d_photo.jpg"), rgb)
    cv2.imwrite(str(folder / "e_bitmap.bmp"), rgb)
    cv2.imwrite(str(folder / "f_tiny.png"), rgb[:1, :1])
    cv2.imwrite(str(folder / "g_small.png"), rgb[:5, :3])
    out = tmp_path / "out"
    synthesize(folder, out, SynthConfig(per_image=1, seed=9))
    rows = _manifest(out)
    assert [r["source"] for r in rows] == sorted(p.name for p in folder.iterdir())
    for r in rows:
        latent = read_image(out / r["latent"])
        assert np.array_equal(latent, read_image(folder / r["source"]))
        streak = cv2.imread(str(out / r["streak"]), cv2.IMREAD_UNCHANGED)
        assert streak.shape == latent.shape[:2]
    deep = read_image(out / "latent" / "1.png")
    assert np.array_equal(deep, rgb[:, :, ::-1])


def test_unreadable_image_one_line_error(clean, tmp_path):
    (clean / "img5.png").write_bytes(b"\x89PNG broken")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["synth", "--clean", str(clean), "--out", str(out)])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert lines[-1].startswith("error: ") and "img5.png" in lines[-1]
    assert sum(line.startswith("error") for line in lines) == 1
    assert not out.exists()  # the folder this run created is gone: nothing half-written
    (clean / "img5.png").unlink()
    res = CliRunner().invoke(main, ["synth", "--clean", str(clean), "--out", str(out)])
    assert res.exit_code == 0, res.output  # and a plain rerun after the fix just works


def test_missing_and_empty_folders(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["synth", "--clean", str(tmp_path / "nope"), "--out",
                               str(tmp_path / "o")])
    assert res.exit_code == 1 and "nope: no such folder" in res.output
    (tmp_path / "empty").mkdir()
    res = runner.invoke(main, ["synth", "--clean", str(tmp_path / "empty"), "--out",
                               str(tmp_path / "o")])
    assert res.exit_code == 1 and "empty: no images found" in res.output
    assert not (tmp_path / "o").exists()


def test_synth_help():
    res = CliRunner().invoke(main, ["synth", "--help"])
    assert res.exit_code == 0
    for opt in ("--clean", "--angles", "--count", "--per-image", "--workers", "--jitter",
                "--layers", "--resume", "--demo", "direction.txt"):
        assert opt in res.output


def test_demo_builds_train_test_and_real(tmp_path):
    out = tmp_path / "demo"
    runner = CliRunner()
    res = runner.invoke(main, ["synth", "--demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for split, images in DEMO_SPLITS.items():
        rows = _manifest(out / split)
        assert len(rows) == DEMO_PER_IMAGE[split] * len(images)
        assert {r["source"] for r in rows} == set(images)
        assert {r["split"] for r in rows} == {"train" if split == "real" else split}
        assert (out / split / "direction" / "direction.txt").is_file()
    assert not set(DEMO_SPLITS["train"]) & set(DEMO_SPLITS["test"])
    assert not set(DEMO_SPLITS["real"]) & set(DEMO_SPLITS["test"])
    # the stand-in "real" images carry another rain style than the paired training set
    train_len = [float(r["length"]) for r in _manifest(out / "train")]
    real_len = [float(r["length"]) for r in _manifest(out / "real")]
    assert max(train_len) <= 30 < max(real_len)
    res = runner.invoke(main, ["synth", "--demo", "--out", str(out), "--resume"])
    assert res.exit_code == 0 and "0 generated" in res.output
    res = runner.invoke(main, ["synth", "--demo", "--out", str(out), "--seed", "3"])
    assert res.exit_code == 1 and "--seed" in res.output
