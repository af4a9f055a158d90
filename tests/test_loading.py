"""Training Datasets: aligned crops, flips with the angle label, per-item seeds, workers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from raindata.errors import DataError
from raindata.imageio import read_image, write_png
from raindata.layouts import Sample
from raindata.loading import (
    PairedDataset,
    UnpairedDataset,
    Window,
    apply_window,
    sample_rng,
    sample_window,
    transform_angle,
    worker_init_fn,
)


# --- data helpers (also used by tests/test_pack.py) -----------------------------------
def write_synth_tree(folder: Path, count: int, size=(40, 48), seed: int = 0) -> list[float]:
    """A RainDirection/synth-style folder: rainy/, latent/, streak/, direction/direction.txt.

    ``rainy = clip(latent + streak)``; R and G of latent and rainy encode the pixel's row
    and column, so a misaligned crop shows up in ``rainy - clean``. Returns the angles.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    rows, cols = np.mgrid[0:h, 0:w]
    angles = []
    lines = []
    for n in range(1, count + 1):
        latent = np.zeros((h, w, 3), np.uint8)
        latent[..., 0] = (rows * 3 + n) % 256
        latent[..., 1] = (cols * 5 + n) % 256
        latent[..., 2] = rng.integers(0, 200, (h, w))
        streak = np.zeros((h, w, 3), np.uint8)
        streak[..., 2] = rng.integers(0, 120, (h, w)) * (rng.random((h, w)) < 0.3)
        rainy = np.clip(latent.astype(int) + streak, 0, 255).astype(np.uint8)
        for sub, img in (("rainy", rainy), ("latent", latent), ("streak", streak)):
            write_png(folder / sub / f"{n}.png", img)
        angle = float(10 * rng.integers(0, 18))
        angles.append(angle)
        lines.append(f"{n} {angle:g}")
    (folder / "direction").mkdir(parents=True, exist_ok=True)
    (folder / "direction" / "direction.txt").write_text("\n".join(lines) + "\n")
    return angles


def samples_of(folder: Path, angles: list[float], split: str = "train"):
    """Sample objects for a folder written by :func:`write_synth_tree`."""
    return [
        Sample(id=str(n), split=split, rainy=folder / "rainy" / f"{n}.png",
                       clean=folder / "latent" / f"{n}.png",
                       streak=folder / "streak" / f"{n}.png", angle=a)
        for n, a in enumerate(angles, start=1)
    ]


def line_image(angle: float, size: int = 64) -> np.ndarray:
    """A black RGB image with one bright straight line through the centre at ``angle``.

    Drawn in the RainDirection convention: direction ``(cos t, -sin t)`` in (col, row).
    """
    img = np.zeros((size, size, 3), np.uint8)
    t = math.radians(angle)
    c0 = r0 = (size - 1) / 2
    for s in np.linspace(-size, size, 8 * size):
        c, r = round(c0 + s * math.cos(t)), round(r0 - s * math.sin(t))
        if 0 <= r < size and 0 <= c < size:
            img[r, c] = 255
    return img


def orientation(img: np.ndarray) -> float:
    """Orientation (deg, mod 180, RainDirection convention) of the bright pixels of ``img``."""
    rows, cols = np.nonzero(img[..., 0] if img.ndim == 3 else img)
    xy = np.stack([cols, rows]).astype(float)
    xy -= xy.mean(axis=1, keepdims=True)
    vals, vecs = np.linalg.eigh(xy @ xy.T)
    dx, dy = vecs[:, np.argmax(vals)]
    return math.degrees(math.atan2(-dy, dx)) % 180.0


def angle_diff(a: float, b: float) -> float:
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d)


# --- transforms ------------------------------------------------------------------------
def test_transform_angle_rules():
    w = Window(0, 0, 8, 8)
    assert transform_angle(30, w) == 30
    assert transform_angle(30, Window(0, 0, 8, 8, hflip=True)) == 150
    assert transform_angle(30, Window(0, 0, 8, 8, vflip=True)) == 150
    assert transform_angle(30, Window(0, 0, 8, 8, transpose=True)) == 60
    assert transform_angle(170, Window(0, 0, 8, 8, transpose=True)) == 100
    assert transform_angle(0, Window(0, 0, 8, 8, hflip=True)) == 0
    assert transform_angle(30, Window(0, 0, 8, 8, hflip=True, vflip=True)) == 30
    assert math.isnan(transform_angle(math.nan, Window(0, 0, 8, 8, hflip=True)))


@pytest.mark.parametrize("angle", [0, 20, 45, 70, 90, 130, 160])
def test_angle_label_follows_every_flip(angle):
    """All eight flip combinations: the label moves as the drawn line does."""
    img = line_image(angle)
    assert angle_diff(orientation(img), angle) < 1.5  # the drawing matches the convention
    for code in range(8):
        win = Window(0, 0, 64, 64, bool(code & 1), bool(code & 2), bool(code & 4))
        moved = apply_window(img, win)
        assert angle_diff(orientation(moved), transform_angle(angle, win)) < 1.5, win


def test_sample_window_bounds_and_errors():
    rng = np.random.default_rng(0)
    for _ in range(50):
        win = sample_window(rng, 20, 30, 7, augment=True)
        assert 0 <= win.top <= 13 and 0 <= win.left <= 23
        assert apply_window(np.zeros((20, 30, 3)), win).shape == (7, 7, 3)
    full = sample_window(rng, 20, 30, None, augment=False)
    assert full == Window(0, 0, 20, 30)
    with pytest.raises(ValueError, match="larger than image"):
        sample_window(rng, 20, 30, 21, augment=False)


# --- paired ---------------------------------------------------------------------------
def test_paired_crop_alignment_and_flips(tmp_path):
    angles = write_synth_tree(tmp_path, 6)
    samples = samples_of(tmp_path, angles)
    ds = PairedDataset(samples, 16, augment=True, seed=3)
    ds.set_epoch(2)
    seen = set()
    for i in range(len(ds)):
        item = ds[i]
        rainy, clean = (read_image(tmp_path / sub / f"{i + 1}.png") for sub in ("rainy", "latent"))
        win = sample_window(sample_rng(3, 2, i), 40, 48, 16, True)
        seen.add((win.transpose, win.hflip, win.vflip))
        for key, src in (("rainy", rainy), ("clean", clean)):
            t = item[key]
            assert t.dtype == torch.float32 and t.shape == (3, 16, 16)
            expect = torch.from_numpy(apply_window(src, win).transpose(2, 0, 1).copy()) / 255.0
            assert torch.equal(t, expect.float())
        assert torch.equal(item["rain"], item["rainy"] - item["clean"])
        # R and G encode (row, col): zero in rain <=> same window and same flips
        assert torch.count_nonzero(item["rain"][:2]) == 0
        assert float(item["angle"]) == transform_angle(angles[i], win)
        assert bool(item["has_angle"]) and item["id"] == str(i + 1)
    assert len(seen) > 1


def test_paired_angle_label_matches_rain_map(tmp_path):
    """End to end: the returned label is the orientation of the returned rain map."""
    samples = []
    for k, angle in enumerate([20, 70, 130]):
        write_png(tmp_path / f"r{k}.png", line_image(angle))
        write_png(tmp_path / f"c{k}.png", np.zeros((64, 64, 3), np.uint8))
        samples.append(Sample(id=f"s{k}", split="train", rainy=tmp_path / f"r{k}.png",
                                      clean=tmp_path / f"c{k}.png", angle=float(angle)))
    ds = PairedDataset(samples * 8, 48, augment=True, seed=11)
    labels = set()
    for i in range(len(ds)):
        item = ds[i]
        rain = (item["rain"].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        assert angle_diff(orientation(rain), float(item["angle"])) < 1.5
        labels.add(float(item["angle"]))
    assert len(labels) > 3  # labels really were transformed, not passed through


def test_paired_whole_images_and_unknown_angle(tmp_path):
    angles = write_synth_tree(tmp_path, 2)
    samples = samples_of(tmp_path, angles)
    samples[1] = Sample(id="2", split="train", rainy=samples[1].rainy,
                                clean=samples[1].clean)
    ds = PairedDataset(samples, None, augment=False)
    item = ds[1]
    assert item["rainy"].shape == (3, 40, 48)
    expect = read_image(tmp_path / "latent" / "2.png").transpose(2, 0, 1) / 255.0
    assert torch.equal(item["clean"], torch.from_numpy(expect).float())
    assert math.isnan(float(item["angle"])) and not bool(item["has_angle"])


def test_paired_errors_name_the_file(tmp_path):
    angles = write_synth_tree(tmp_path, 1, size=(12, 20))
    samples = samples_of(tmp_path, angles)
    with pytest.raises(DataError, match=r"1\.png: image is 20x12 \(W x H\), smaller than"):
        PairedDataset(samples, 16)[0]
    gone = Sample(id="9", split="train", rainy=tmp_path / "nope.png", clean=None)
    with pytest.raises(DataError, match=r"nope\.png: no such file"):
        PairedDataset([gone], 8)
    with pytest.raises(DataError, match="no clean image"):
        PairedDataset([Sample(id="9", split="train", rainy=samples[0].rainy,
                                      clean=None)], 8)


def _batches(loader):
    return [(b["rainy"], b["clean"], b["rain"], b["angle"], b["id"]) for b in loader]


def _same(a, b):
    return len(a) == len(b) and all(
        all(torch.equal(x, y) if torch.is_tensor(x) else x == y for x, y in zip(p, q, strict=True))
        for p, q in zip(a, b, strict=True)
    )


def test_paired_same_batches_for_any_num_workers(tmp_path):
    angles = write_synth_tree(tmp_path, 10)
    ds = PairedDataset(samples_of(tmp_path, angles), 16, seed=5)
    runs = {}
    for workers in (0, 2):
        loader = DataLoader(ds, batch_size=4, num_workers=workers, worker_init_fn=worker_init_fn,
                            persistent_workers=workers > 0)
        for epoch in (0, 1):
            ds.set_epoch(epoch)
            runs[workers, epoch] = _batches(loader)
    assert _same(runs[0, 0], runs[2, 0])
    assert _same(runs[0, 1], runs[2, 1])  # set_epoch reaches persistent workers
    assert not _same(runs[0, 0], runs[0, 1])


# --- unpaired -------------------------------------------------------------------------
def test_unpaired_oversampling_and_seeds(tmp_path):
    write_synth_tree(tmp_path, 3)
    paths = [tmp_path / "rainy" / f"{n}.png" for n in (1, 2, 3)]
    ds = UnpairedDataset(paths, 16, seed=1, length=9)
    assert len(ds) == 9
    items = [ds[i] for i in range(9)]
    assert [it["id"] for it in items] == ["1", "2", "3"] * 3
    assert set(items[0]) == {"rainy", "id"}
    assert not torch.equal(items[0]["rainy"], items[3]["rainy"])  # own crop per repeat
    for i, it in enumerate(items):
        win = sample_window(sample_rng(1, 0, i), 40, 48, 16, True)
        src = read_image(paths[i % 3])
        expect = torch.from_numpy(apply_window(src, win).transpose(2, 0, 1).copy()) / 255.0
        assert torch.equal(it["rainy"], expect.float())
    loaders = [DataLoader(ds, batch_size=3, num_workers=w) for w in (0, 2)]
    a, b = ([(x["rainy"], x["id"]) for x in ld] for ld in loaders)
    assert _same(a, b)
    sample_ds = UnpairedDataset(samples_of(tmp_path, [0.0, 0.0, 0.0]), 16, seed=1,
                                length=9)
    assert torch.equal(sample_ds[4]["rainy"], items[4]["rainy"])


def test_unpaired_errors(tmp_path):
    write_png(tmp_path / "small.png", np.zeros((8, 30, 3), np.uint8))
    with pytest.raises(DataError, match=r"small\.png: image is 30x8"):
        UnpairedDataset([tmp_path / "small.png"], 16)[0]
    with pytest.raises(DataError, match=r"missing\.png: no such file"):
        UnpairedDataset([tmp_path / "missing.png"], 16)
    with pytest.raises(DataError, match="no rainy images"):
        UnpairedDataset([], 16)


def test_worker_init_fn_seeds_from_torch():
    values = []
    for seed in (7, 7, 8):
        torch.manual_seed(seed)
        worker_init_fn(0)
        values.append((np.random.random(), torch.rand(1).item()))
    assert values[0] == values[1] and values[0] != values[2]
