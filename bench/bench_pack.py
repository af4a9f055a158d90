"""Patches/s for training input: HDF5 patch cache (raw, lzf, gzip) versus decoding PNGs.

Generates ``--pairs`` synthetic rainy/clean pairs (smooth random background plus
oriented streaks, ``rainy = clip(clean + streak)``) as PNG in a temporary folder,
packs them with :func:`raindata.pack.pack`, then times a training-style loop: a
DataLoader over :class:`raindata.loading.PairedDataset` giving batches of
``--batch`` random ``--patch`` crops with flips, with 0 and 2 worker processes.

* ``png``: every item decodes its rainy and clean PNG and crops one patch.
* ``h5 <compression>``: every item reads one cached patch pair.

Worker start-up is excluded (timing starts when the first batch arrives; workers
are persistent). Files are freshly written, so reads come from the page cache. Each
figure is the best of ``--repeats`` runs (the machine may be shared; the load average
is recorded).

Usage: ``python bench/bench_pack.py [--out bench/results/pack.md]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_pairs(folder: Path, count: int, size: int, seed: int = 0) -> list:
    """Write ``count`` synth-style pairs (rainy/, latent/) and return their Samples."""
    import cv2

    from raindata.imageio import write_png
    from raindata.layouts import Sample

    samples = []
    for n in range(1, count + 1):
        rng = np.random.default_rng([seed, n])
        coarse = rng.integers(0, 256, (size // 32, size // 32, 3), dtype=np.uint8)
        clean = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
        clean = np.clip(clean.astype(np.int16) + rng.integers(-3, 4, clean.shape), 0, 255)
        drops = (rng.random((size, size)) < 0.004).astype(np.float32) * 255.0
        angle = 10.0 * int(rng.integers(0, 18))
        kernel = np.zeros((15, 15), np.float32)
        t = math.radians(angle)
        cv2.line(kernel, (round(7 - 7 * math.cos(t)), round(7 + 7 * math.sin(t))),
                 (round(7 + 7 * math.cos(t)), round(7 - 7 * math.sin(t))), 1.0, 1)
        streak = cv2.filter2D(drops, -1, kernel / kernel.sum() * 4.0)
        rainy = np.clip(clean + streak[..., None], 0, 255).astype(np.uint8)
        clean = clean.astype(np.uint8)
        write_png(folder / "rainy" / f"{n}.png", rainy)
        write_png(folder / "latent" / f"{n}.png", clean)
        samples.append(Sample(id=str(n), split="train", rainy=folder / "rainy" / f"{n}.png",
                              clean=folder / "latent" / f"{n}.png", angle=angle))
    return samples


def patches_per_second(dataset, batch: int, workers: int, max_patches: int) -> float:
    """Patches/s of a DataLoader loop after the first batch (worker start-up excluded)."""
    from torch.utils.data import DataLoader

    from raindata.loading import worker_init_fn

    loader = DataLoader(dataset, batch_size=batch, shuffle=False, num_workers=workers,
                        worker_init_fn=worker_init_fn, persistent_workers=workers > 0,
                        drop_last=True)
    it = iter(loader)
    next(it)
    count, start = 0, time.perf_counter()
    for b in it:
        count += b["rainy"].shape[0]
        if count >= max_patches:
            break
    seconds = time.perf_counter() - start
    del it, loader
    return count / seconds


def machine() -> str:
    """CPU model from lscpu, plus the number of logical CPUs."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                     if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} logical CPUs"


def git_head() -> str:
    from raindata.provenance import git_commit

    return git_commit(Path(__file__).resolve().parent) or "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--batch", type=int, default=12, help="paper's minibatch size")
    parser.add_argument("--png-patches", type=int, default=240)
    parser.add_argument("--h5-patches", type=int, default=1200)
    parser.add_argument("--repeats", type=int, default=3, help="report the best of N runs")
    parser.add_argument("--out", type=Path, default=Path("bench/results/pack.md"))
    args = parser.parse_args(argv)

    import h5py
    import torch

    from raindata.atomic import atomic_write_text
    from raindata.loading import PairedDataset
    from raindata.pack import pack

    torch.set_num_threads(1)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    rows, packs = [], []
    with tempfile.TemporaryDirectory(prefix="bench_pack_") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        samples = make_pairs(folder / "data", args.pairs, args.size)
        gen_s = time.perf_counter() - t0
        png_bytes = sum(p.stat().st_size for p in (folder / "data").rglob("*.png"))
        caches = {}
        for comp in (None, "lzf", "gzip"):
            info = pack(samples, folder / f"{comp}.h5", patch_size=args.patch,
                        compression=comp, argv=["bench_pack.py"])
            caches[comp] = info
            packs.append(info)
        # enough PNG items for the measurement: repeat the list (new crops each time)
        reps = math.ceil((args.png_patches + 2 * args.batch) / len(samples))
        datasets = [("png (decode + crop)", "-", png_bytes,
                     PairedDataset(samples * reps, args.patch, seed=0))]
        for comp, info in caches.items():
            datasets.append((f"h5 cache, {comp or 'none'}", comp or "none", info.bytes,
                             PairedDataset(None, args.patch, seed=0, cache=info.path)))
        for name, _, nbytes, ds in datasets:
            limit = args.png_patches if name.startswith("png") else args.h5_patches
            for workers in (0, 2):
                rate = max(patches_per_second(ds, args.batch, workers, limit)
                           for _ in range(args.repeats))
                rows.append((name, nbytes, workers, rate))
                print(f"{name:24s} workers={workers}  {rate:8.0f} patches/s", flush=True)
        h5_version = h5py.version.hdf5_version
    total_s = time.perf_counter() - started
    load_after = os.getloadavg()[0]

    png_rate = {w: r for n, _, w, r in rows if n.startswith("png")}
    lines = [
        "# Patch cache benchmark (`raindata pack`)",
        "",
        f"- Command: `{shlex.join(['python', 'bench/bench_pack.py', *(argv or sys.argv[1:])])}`",
        f"- Date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- Commit: {git_head()} (`-dirty`: uncommitted changes)",
        f"- Machine: {machine()}; Python {platform.python_version()}, torch {torch.__version__}, "
        f"h5py {h5py.__version__} (HDF5 {h5_version}), torch threads 1",
        f"- Data: {args.pairs} generated {args.size}x{args.size} RGB pairs as PNG "
        f"({png_bytes / 2**20:.1f} MiB, written in {gen_s:.1f} s); patches "
        f"{args.patch}x{args.patch}, stride {args.patch}; batch {args.batch}; "
        "random crop + transpose/flips per item. The generated backgrounds carry +-3 "
        "grey-level grain, so per-patch chunks barely compress here; file sizes on real "
        "photographs will differ.",
        "- Timing starts after the first batch (worker start-up excluded, persistent "
        f"workers); files are in the page cache (warm reads); best of {args.repeats} runs "
        f"of {args.png_patches} (PNG) / {args.h5_patches} (cache) patches.",
        f"- 1-minute load average {load_before:.1f} before, {load_after:.1f} after "
        "(other processes shared the CPUs when above ~0.5).",
        "",
        "| source | file size (MiB) | workers | patches/s | vs PNG |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, nbytes, workers, rate in rows:
        lines.append(f"| {name} | {nbytes / 2**20:.1f} | {workers} | {rate:.0f} | "
                     f"{rate / png_rate[workers]:.1f}x |")
    lines += ["", "Building the caches (`pack`, one process):", "",
              "| compression | patches | file size (MiB) | seconds |",
              "| --- | ---: | ---: | ---: |"]
    for info in packs:
        lines.append(f"| {info.compression or 'none'} | {info.patches} | "
                     f"{info.bytes / 2**20:.1f} | {info.seconds:.1f} |")
    lines += ["", f"Whole benchmark: {total_s:.0f} s.", ""]
    atomic_write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out} ({total_s:.0f} s)")


if __name__ == "__main__":
    main()
