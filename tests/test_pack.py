"""The HDF5 patch cache: round trip, compression, atomic writes, the Dataset and the CLI."""

from __future__ import annotations

import json
import math

import h5py
import numpy as np
import pytest
import torch
from click.testing import CliRunner

# data helpers shared with the Dataset tests (tests/ is on sys.path under pytest)
from test_loading import samples_of, write_synth_tree
from torch.utils.data import DataLoader

from raindata.cli import main
from raindata.errors import DataError
from raindata.imageio import read_image, write_png
from raindata.layouts import Sample
from raindata.loading import PairedDataset, apply_window, sample_rng, sample_window
from raindata.pack import PatchCache, pack, patch_origins


@pytest.fixture
def tree(tmp_path):
    """Five synth-style pairs of 40x48 and their Sample objects."""
    folder = tmp_path / "data"
    angles = write_synth_tree(folder, 5)
    return folder, samples_of(folder, angles), angles


def test_patch_origins_cover_the_edges():
    # rows: grid 0,3,6 and 7 flush with the bottom (11 - 4); cols: grid 0,3 reaches 7 - 4
    assert patch_origins(11, 7, 4, 3) == [(t, c) for t in (0, 3, 6, 7) for c in (0, 3)]
    assert patch_origins(8, 8, 4, 4) == [(0, 0), (0, 4), (4, 0), (4, 4)]
    assert patch_origins(3, 8, 4, 4) == []


def test_round_trip_equals_png_crops(tmp_path, tree):
    _, samples, angles = tree
    calls = []
    info = pack(samples, tmp_path / "c.h5", patch_size=16, stride=12, progress=calls.append)
    where = patch_origins(40, 48, 16, 12)
    assert info.patches == 5 * len(where) and info.sources == 5 and len(calls) == 5
    assert info.bytes == (tmp_path / "c.h5").stat().st_size
    with PatchCache(tmp_path / "c.h5") as cache:
        assert len(cache) == info.patches and cache.source_ids == ["1", "2", "3", "4", "5"]
        assert (cache.patch_size, cache.stride, cache.compression) == (16, 12, "none")
        assert cache.provenance["config"]["patch_size"] == 16
        k = 0
        for s, sample in enumerate(samples):
            rainy, clean = read_image(sample.rainy), read_image(sample.clean)
            for t, c in where:
                got_r, got_c = cache.read(k)
                assert np.array_equal(got_r, rainy[t : t + 16, c : c + 16])
                assert np.array_equal(got_c, clean[t : t + 16, c : c + 16])
                assert tuple(cache.origin[k]) == (t, c) and cache.sample_index[k] == s
                assert cache.angle[k] == np.float32(angles[s]) and cache.source_id(k) == sample.id
                k += 1
    with h5py.File(tmp_path / "c.h5") as f:
        assert f["rainy"].chunks == (1, 16, 16, 3) and f["rainy"].dtype == np.uint8
        json.loads(f.attrs["provenance"])


def test_compressed_caches_hold_the_same_patches(tmp_path, tree):
    _, samples, _ = tree
    paths = {}
    for comp in (None, "gzip", "lzf"):
        paths[comp] = tmp_path / f"{comp}.h5"
        pack(samples, paths[comp], patch_size=16, compression=comp, chunk=4)
    with h5py.File(paths[None]) as ref:
        for comp in ("gzip", "lzf"):
            with h5py.File(paths[comp]) as f:
                assert f["rainy"].compression == comp and f["rainy"].chunks == (4, 16, 16, 3)
                for key in ("rainy", "clean", "angle", "sample_index", "origin"):
                    assert np.array_equal(f[key][()], ref[key][()], equal_nan=key == "angle")


def test_dataset_reads_the_cache(tmp_path, tree):
    _, samples, angles = tree
    pack(samples, tmp_path / "c.h5", patch_size=16, stride=16)
    plain = PairedDataset(None, None, augment=False, cache=tmp_path / "c.h5")
    with PatchCache(tmp_path / "c.h5") as cache:
        assert len(plain) == len(cache)
        for i in (0, 7, len(cache) - 1):
            item = plain[i]
            r, _ = cache.read(i)
            assert torch.equal(item["rainy"], torch.from_numpy(r.transpose(2, 0, 1) / 255).float())
            assert torch.equal(item["rain"], item["rainy"] - item["clean"])
            assert item["id"] == cache.source_id(i)
            assert float(item["angle"]) == angles[int(cache.sample_index[i])]
        cropped = PairedDataset(samples, 8, seed=4, cache=tmp_path / "c.h5")
        cropped.set_epoch(3)
        for i in range(len(cropped)):
            win = sample_window(sample_rng(4, 3, i), 16, 16, 8, True)
            item = cropped[i]
            expect = apply_window(cache.read(i)[1], win).transpose(2, 0, 1) / 255.0
            assert torch.equal(item["clean"], torch.from_numpy(expect).float())
            assert torch.count_nonzero(item["rain"][:2]) == 0  # aligned (see write_synth_tree)
    with pytest.raises(DataError, match="cannot crop 32x32"):
        PairedDataset(None, 32, cache=tmp_path / "c.h5")
    with pytest.raises(DataError, match="other samples"):
        PairedDataset(samples[:3], 8, cache=tmp_path / "c.h5")


def test_cache_dataset_same_batches_for_any_num_workers(tmp_path, tree):
    _, samples, _ = tree
    pack(samples, tmp_path / "c.h5", patch_size=16, stride=8, compression="lzf")
    ds = PairedDataset(samples, 12, seed=2, cache=tmp_path / "c.h5")
    ds[0]  # open the file in this process first: workers must reopen it, not share it
    out = []
    for workers in (0, 2):
        loader = DataLoader(ds, batch_size=8, num_workers=workers)
        out.append([(b["rainy"], b["angle"]) for b in loader])
    assert len(out[0]) == len(out[1])
    for (r0, a0), (r1, a1) in zip(*out, strict=True):
        assert torch.equal(r0, r1) and torch.equal(a0, a1)


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_failures_leave_nothing_behind(tmp_path, tree):
    _, samples, _ = tree
    out = tmp_path / "out"
    out.mkdir()

    def boom(_):
        raise RuntimeError("interrupted mid-pack")

    with pytest.raises(RuntimeError, match="mid-pack"):
        pack(samples, out / "c.h5", patch_size=16, progress=boom)
    assert _listing(out) == []

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    broken = [*samples[:2], Sample(id="x", split="train", rainy=bad, clean=bad)]
    with pytest.raises(DataError, match=r"bad\.png"):
        pack(broken, out / "c.h5", patch_size=16)
    assert _listing(out) == []

    write_png(tmp_path / "wide.png", np.zeros((40, 50, 3), np.uint8))
    mismatch = Sample(id="y", split="train", rainy=samples[0].rainy,
                              clean=tmp_path / "wide.png")
    with pytest.raises(DataError, match=r"1\.png|wide\.png"):
        pack([mismatch], out / "c.h5", patch_size=16)
    assert _listing(out) == []


def test_overwrite_needs_permission(tmp_path, tree):
    _, samples, _ = tree
    pack(samples[:1], tmp_path / "c.h5", patch_size=16)
    with pytest.raises(DataError, match="already exists"):
        pack(samples, tmp_path / "c.h5", patch_size=16)
    info = pack(samples, tmp_path / "c.h5", patch_size=16, overwrite=True)
    with PatchCache(tmp_path / "c.h5") as cache:
        assert len(cache) == info.patches == 5 * len(patch_origins(40, 48, 16, 16))
    (tmp_path / "junk.h5").write_bytes(b"junk")
    with pytest.raises(DataError, match=r"junk\.h5: not a readable HDF5 file"):
        PatchCache(tmp_path / "junk.h5")


# --- command line ---------------------------------------------------------------------
def test_cli_help():
    result = CliRunner().invoke(main, ["pack", "--help"])
    assert result.exit_code == 0
    for flag in ("--out", "--split", "--patch", "--stride", "--compression", "--force"):
        assert flag in result.output


def test_cli_packs_a_demo_tree(tmp_path):
    write_synth_tree(tmp_path / "demo" / "train", 3)
    write_synth_tree(tmp_path / "demo" / "test", 2, seed=1)
    out = tmp_path / "train.h5"
    args = ["pack", "demo", str(tmp_path / "demo"), "--out", str(out), "--split", "train",
            "--patch", "16", "--compression", "gzip"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    n = 3 * len(patch_origins(40, 48, 16, 16))
    assert f"{n} patches of 16x16 (stride 16) from 3 samples" in result.output
    with PatchCache(out) as cache:
        assert len(cache) == n and cache.compression == "gzip"
        assert cache.provenance["config"]["compression"] == "gzip"
        assert not math.isnan(float(cache.angle[0]))
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "already exists (use --force" in again.output
    assert CliRunner().invoke(main, [*args, "--force"]).exit_code == 0


def test_cli_errors_are_one_line(tmp_path):
    missing = CliRunner().invoke(main, ["pack", "demo", str(tmp_path / "nowhere"),
                                        "--out", str(tmp_path / "x.h5")])
    assert missing.exit_code == 1
    assert missing.output.strip() == f"error: {tmp_path / 'nowhere'}: no such folder"
    write_synth_tree(tmp_path / "demo" / "train", 2)
    (tmp_path / "demo" / "train" / "latent" / "2.png").write_bytes(b"garbage")
    broken = CliRunner().invoke(main, ["pack", "demo", str(tmp_path / "demo"), "--split",
                                       "train", "--patch", "16", "--out", str(tmp_path / "x.h5")])
    assert broken.exit_code == 1
    last = broken.output.strip().splitlines()[-1]
    assert last.startswith("error: ") and "2.png" in last
    assert _listing(tmp_path) == ["demo"]  # no output, no temporary file


def test_pack_without_split_refuses_a_tree_with_several_splits(tmp_path):
    """A cache mixing train and test would leak test images into training."""
    import numpy as np
    from click.testing import CliRunner

    from raindata.cli import main
    from raindata.imageio import write_png

    img = np.zeros((16, 16, 3), np.uint8)
    root = tmp_path / "d"
    for split in ("train", "test"):
        write_png(root / split / "rainy" / "a.png", img)
        write_png(root / split / "clean" / "a.png", img)
    res = CliRunner().invoke(main, ["pack", "paired", str(root), "--out",
                                    str(tmp_path / "c.h5"), "--patch", "8"])
    assert res.exit_code == 1 and "--split" in res.output and "test, train" in res.output
    assert not (tmp_path / "c.h5").exists()
    res = CliRunner().invoke(main, ["pack", "paired", str(root), "--split", "train", "--out",
                                    str(tmp_path / "c.h5"), "--patch", "8"])
    assert res.exit_code == 0, res.output
