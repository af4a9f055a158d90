"""Scaling `benchmark run` (issue 13): worker processes, shards, torchrun ranks.

Every way of spreading a run ends in the same bytes of ``scores.csv`` as one process,
including a shard killed (an exception, or kill -9 of its process) and run again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark import parallel, store
from benchmark.cli import main
from benchmark.runner import RunRequest, run_one
from raindata.errors import DataError
from raindata.imageio import write_png

REPO = Path(__file__).resolve().parents[1]
N_IMAGES = 9


@pytest.fixture
def paired_root(tmp_path):
    """Nine 40x48 pairs in the generic paired layout (rainy/ + clean/); img9 is the flat
    grey image whose scores are inf (identical), to carry an odd value through."""
    rng = np.random.default_rng(13)
    root = tmp_path / "data"
    for i in range(1, N_IMAGES + 1):
        clean = rng.integers(30, 200, (40, 48, 3), dtype=np.uint8)
        streak = (rng.random((40, 48, 1)) < 0.1) * rng.integers(20, 60, (40, 48, 1))
        rainy = np.clip(clean.astype(int) + streak, 0, 255).astype(np.uint8)
        if i == N_IMAGES:
            rainy = clean = np.full((40, 48, 3), 128, np.uint8)
        write_png(root / "rainy" / f"img{i}.png", rainy)
        write_png(root / "clean" / f"img{i}.png", clean)
    return root


@pytest.fixture
def pooled(monkeypatch):
    """Worker processes even for a handful of images."""
    monkeypatch.setattr(parallel, "_IN_PROCESS_BELOW", 0)


def _req(root, results, **kw) -> RunRequest:
    base = dict(method="input", dataset="paired", data_root=str(root), results=results,
                metrics=("psnr", "ssim", "rainmap"), workers=1)
    return RunRequest(**{**base, **kw})


def _quiet(message: str) -> None:
    pass


def _single(root, tmp_path, **kw) -> bytes:
    out = run_one(_req(root, tmp_path / "single", **kw), log=_quiet)
    assert out.record.status == "complete"
    return (out.folder / "scores.csv").read_bytes()


def _only_whole_run_files(folder: Path) -> None:
    names = {p.name for p in folder.iterdir()}
    assert names <= {"scores.csv", "run.json", "images"}, names


def test_workers_give_the_bytes_of_one_process(paired_root, tmp_path, pooled):
    single = _single(paired_root, tmp_path)
    out = run_one(_req(paired_root, tmp_path / "w2", workers=2), log=_quiet)
    assert out.newly_scored == N_IMAGES and out.record.status == "complete"
    assert (out.folder / "scores.csv").read_bytes() == single
    _only_whole_run_files(out.folder)


def test_every_metric_gives_the_same_bytes_with_workers(tmp_path, pooled, standin_weights):
    """LPIPS (stand-in AlexNet, in the main process) and NIQE (in the workers) too, on
    96x192 images (two NIQE blocks each)."""
    rng = np.random.default_rng(5)
    root = tmp_path / "data"
    for i in range(2):
        clean = rng.integers(0, 256, (96, 192, 3), dtype=np.uint8)
        rainy = np.clip(clean.astype(int) + rng.integers(0, 50, (96, 192, 1)), 0, 255)
        write_png(root / "rainy" / f"{i}.png", rainy.astype(np.uint8))
        write_png(root / "clean" / f"{i}.png", clean)
    csv = []
    for workers in (1, 2):
        out = run_one(_req(root, tmp_path / f"w{workers}", workers=workers,
                           metrics=("psnr", "ssim", "rainmap", "lpips", "niqe"),
                           lpips_weights=str(standin_weights)), log=_quiet)
        assert not out.record.unavailable and out.record.status == "complete"
        csv.append((out.folder / "scores.csv").read_bytes())
    assert csv[0] == csv[1]
    header, first = csv[0].decode().splitlines()[:2]
    assert header.endswith("lpips,niqe") and ",," not in first and not first.endswith(",")


def test_network_run_with_workers_and_saved_images(paired_root, tmp_path, pooled):
    """The network (UDRDR's demo F3) in this process, decoding and metrics around it."""
    single = run_one(_req(paired_root, tmp_path / "a", method="udrdr", save_images=True,
                          limit=4), log=_quiet)
    spread = run_one(_req(paired_root, tmp_path / "b", method="udrdr", save_images=True,
                          limit=4, workers=2), log=_quiet)
    assert spread.newly_scored == 4
    assert (spread.folder / "scores.csv").read_bytes() == \
        (single.folder / "scores.csv").read_bytes()
    for png in (single.folder / "images").iterdir():
        assert (spread.folder / "images" / png.name).read_bytes() == png.read_bytes()


def test_batches_give_the_bytes_of_one_image_at_a_time(paired_root, tmp_path, pooled,
                                                       monkeypatch):
    """--batch-size: equal sizes share forward passes (a smaller image and an unreadable
    one in the middle of a block included); the same scores and images, the same run
    folder (a speed option, recorded in run.json, not part of the key)."""
    rng = np.random.default_rng(5)
    small = rng.integers(0, 255, (32, 40, 3), dtype=np.uint8)
    write_png(paired_root / "rainy" / "img5.png", small)
    write_png(paired_root / "clean" / "img5.png", small)
    (paired_root / "rainy" / "img3.png").write_bytes(b"not a png")
    from benchmark.methods import ModelMethod

    blocks, outputs = [], ModelMethod.outputs

    def spy(self, images):
        blocks.append([img.shape[:2] for img in images])
        return outputs(self, images)

    monkeypatch.setattr(ModelMethod, "outputs", spy)
    runs = [run_one(_req(paired_root, tmp_path / name, method="udrdr", save_images=True,
                         skip_bad=True, **kw), log=_quiet)
            for name, kw in (("one", {}), ("batched", {"batch_size": 4, "workers": 2}))]
    one, batched = runs
    assert batched.newly_scored == N_IMAGES - 1 and batched.record.extra["batch_size"] == 4
    assert one.record.extra["batch_size"] == 1 and one.folder.name == batched.folder.name
    assert [s["id"] for s in batched.record.skipped] == ["img3"]
    # blocks of 4 by position, the unreadable img3 left out: 1 2 4 | 5 6 7 8 | 9
    assert [len(b) for b in blocks] == [3, 4] and blocks[1][0] == (32, 40)
    assert (batched.folder / "scores.csv").read_bytes() == \
        (one.folder / "scores.csv").read_bytes()
    for png in (one.folder / "images").iterdir():
        assert (batched.folder / "images" / png.name).read_bytes() == png.read_bytes()
    with pytest.raises(DataError, match=r"batch_size apply to networks only"):
        run_one(_req(paired_root, tmp_path / "r", method=f"results:{paired_root / 'clean'}",
                     batch_size=2), log=_quiet)


def test_shards_take_whole_batches(paired_root, tmp_path):
    """With --batch-size 4 shard 0/2 takes images 1-4 and 9, shard 1/2 images 5-8; merged,
    the bytes of one process scoring one image at a time."""
    one = run_one(_req(paired_root, tmp_path / "one", method="udrdr"), log=_quiet)
    first = run_one(_req(paired_root, tmp_path / "sh", method="udrdr", batch_size=4,
                         shard="0/2"), log=_quiet)
    assert [r["id"] for r in store.read_scores(first.folder / "scores.csv")] == \
        ["img1", "img2", "img3", "img4", "img9"]
    last = run_one(_req(paired_root, tmp_path / "sh", method="udrdr", batch_size=4,
                        shard="1/2"), log=_quiet)
    parts = [first, last]
    assert [p.newly_scored for p in parts] == [5, 4]
    assert parts[1].record.status == "complete"
    assert (parts[1].folder / "scores.csv").read_bytes() == \
        (one.folder / "scores.csv").read_bytes()


def test_bad_image_stops_or_is_skipped_the_same_with_workers(paired_root, tmp_path, pooled):
    (paired_root / "rainy" / "img4.png").write_bytes(b"not a png")
    messages = {}
    for workers in (1, 2):
        with pytest.raises(DataError, match=r"img4\.png") as err:
            run_one(_req(paired_root, tmp_path / f"stop{workers}", workers=workers),
                    log=_quiet)
        messages[workers] = str(err.value)
        folder = next((tmp_path / f"stop{workers}").glob("paired/input/*"))
        assert len(store.read_scores(folder / "scores.csv")) == 3  # the rows before it
    assert messages[1] == messages[2]
    skipped = [run_one(_req(paired_root, tmp_path / f"skip{w}", workers=w, skip_bad=True),
                       log=_quiet) for w in (1, 2)]
    assert [s["id"] for s in skipped[1].record.skipped] == ["img4"]
    assert skipped[0].record.skipped == skipped[1].record.skipped
    assert (skipped[0].folder / "scores.csv").read_bytes() == \
        (skipped[1].folder / "scores.csv").read_bytes()


def test_two_shards_and_an_interrupted_one_give_the_bytes_of_one_process(paired_root,
                                                                         tmp_path):
    single = _single(paired_root, tmp_path)
    res = tmp_path / "sharded"

    def stop_after_two(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_one(_req(paired_root, res, shard="0/2"), progress=stop_after_two, log=_quiet)
    folder = next(res.glob("paired/input/*"))
    assert len(store.read_scores(folder / "scores.shard-0-of-2.csv")) == 2
    second = run_one(_req(paired_root, res, shard="1/2"), log=_quiet)
    assert second.newly_scored == 4 and second.shard == "1/2"
    # shard 1 finished last and merged both parts; the run waits for the rest of shard 0
    _only_whole_run_files(folder)
    assert second.record.status == "incomplete" and second.record.scored == 6
    again = run_one(_req(paired_root, res, shard="0/2"), log=_quiet)
    assert again.newly_scored == 3 and again.record.status == "complete"
    assert (folder / "scores.csv").read_bytes() == single
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "complete" and record["scored"] == N_IMAGES
    assert [s["shard"] for s in record["extra"]["shards"]] == ["0/2", "1/2", "0/2"]
    _only_whole_run_files(folder)
    assert run_one(_req(paired_root, res, shard="1/2"), log=_quiet).newly_scored == 0
    assert run_one(_req(paired_root, res), log=_quiet).newly_scored == 0


_KILLED_SHARD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from benchmark.runner import RunRequest, run_one

    def progress(done, total):
        if done == 3:
            os.kill(os.getpid(), signal.SIGKILL)

    run_one(RunRequest(method="input", dataset="paired", data_root=sys.argv[1],
                       results=Path(sys.argv[2]), metrics=("psnr", "ssim", "rainmap"),
                       workers=1, shard="1/3"), progress=progress, log=lambda m: None)
""")


def test_a_shard_killed_with_sigkill_resumes_from_its_journal(paired_root, tmp_path):
    single = _single(paired_root, tmp_path)
    res = tmp_path / "sharded"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", _KILLED_SHARD, str(paired_root), str(res)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    folder = next(res.glob("paired/input/*"))
    assert len(store.read_journal(folder / "scores.shard-1-of-3.csv.journal")) == 3
    # the others run meanwhile; the table sees every row there is, merged or not
    for shard in ("0/3", "2/3"):
        run_one(_req(paired_root, res, shard=shard), log=_quiet)
    record, rows = store.load_run(folder)
    assert len(rows) == N_IMAGES and record.status == "complete"
    assert (folder / "scores.csv").read_bytes() == single  # the killed part was folded in
    assert run_one(_req(paired_root, res, shard="1/3"), log=_quiet).newly_scored == 0
    _only_whole_run_files(folder)


def test_table_merges_finished_parts(paired_root, tmp_path):
    single = _single(paired_root, tmp_path)
    res = tmp_path / "sharded"
    for shard in ("0/2", "1/2"):
        run_one(_req(paired_root, res, shard=shard), log=_quiet)
    folder = next(res.glob("paired/input/*"))
    whole = (folder / "scores.csv").read_bytes()
    # put the run back into parts, as two shards killed before their merge would leave it
    rows = store.read_scores(folder / "scores.csv")
    for k in (0, 1):
        store.write_scores(folder / f"scores.shard-{k}-of-2.csv",
                           [r for r in rows if r["index"] % 2 == k])
    (folder / "scores.csv").unlink()
    res_cli = CliRunner().invoke(main, ["table", "--results", str(res), "--layout", "long",
                                        "--format", "csv"])
    assert res_cli.exit_code == 0, res_cli.output
    assert (folder / "scores.csv").read_bytes() == whole == single
    _only_whole_run_files(folder)


@pytest.mark.parametrize("value, expected", [
    ("3/2", "--shard 3/2: expected 0 <= I < N"),
    ("2/2", "shards count from 0"),
    ("x", "--shard 'x': expected I/N, e.g. 0/4"),
    ("1/0", "--shard 1/0: expected 0 <= I < N"),
])
def test_bad_shard_is_one_line(paired_root, tmp_path, value, expected):
    res = CliRunner().invoke(main, ["run", "--method", "input", "--dataset", "paired",
                                    "--data-root", str(paired_root), "--results",
                                    str(tmp_path / "r"), "--shard", value])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert not (tmp_path / "r").exists()


def test_cli_workers_and_shard(paired_root, tmp_path):
    single = _single(paired_root, tmp_path)
    base = ["run", "--method", "input", "--dataset", "paired", "--data-root",
            str(paired_root), "--metrics", "psnr,ssim,rainmap", "--results",
            str(tmp_path / "r"), "--workers", "2"]
    first = CliRunner().invoke(main, [*base, "--shard", "1/2"])
    assert first.exit_code == 0, first.output
    assert "as shard 1/2" in first.output and "status incomplete" in first.output
    last = CliRunner().invoke(main, [*base, "--shard", "0/2"])
    assert last.exit_code == 0 and "status complete" in last.output
    folder = next((tmp_path / "r").glob("paired/input/*"))
    assert (folder / "scores.csv").read_bytes() == single
    bad = CliRunner().invoke(main, [*base, "--workers", "0"])
    assert bad.exit_code == 2 and "--workers" in bad.output
    batched = CliRunner().invoke(main, [*base, "--batch-size", "4"])  # input: no network
    assert batched.exit_code == 0, batched.output
    assert [p.name for p in (tmp_path / "r").glob("paired/input/*")] == [folder.name]
    assert (folder / "scores.csv").read_bytes() == single  # the same run: nothing redone
    bad = CliRunner().invoke(main, [*base, "--batch-size", "0"])
    assert bad.exit_code == 2 and "--batch-size" in bad.output


def test_torchrun_ranks_are_shards_and_rank_0_merges(paired_root, tmp_path):
    """Two CPU ranks under PyTorch's launcher: each scores its share, rank 0 merges."""
    pytest.importorskip("torch.distributed.run")
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    single = _single(paired_root, tmp_path)
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = str(REPO)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", "-m", "benchmark", "run", "--method", "input", "--dataset", "paired",
           "--data-root", str(paired_root), "--metrics", "psnr,ssim,rainmap", "--results",
           str(tmp_path / "r"), "--workers", "1"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = next((tmp_path / "r").glob("paired/input/*"))
    assert (folder / "scores.csv").read_bytes() == single
    _only_whole_run_files(folder)
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "complete"
    assert sorted(s["shard"] for s in record["extra"]["shards"]) == ["0/2", "1/2"]
    assert "as shard 0/2" in proc.stdout and "as shard 1/2" in proc.stdout
