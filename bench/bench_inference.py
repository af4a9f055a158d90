"""CPU inference speed of F3 at the paper config (16 blocks, 128 filters) on a 512x512 image.

Variants: fp32 eager, fp32 channels-last, bf16 autocast and bf16 autocast + channels-last
(bf16 only where torch reports AVX512 or AMX). Each variant is warmed up on a small image,
then timed ``--repeats`` times on the full image through ``models.inference.derain_image``,
the variants interleaved (median wall time and process CPU time reported). The cost
of each variant is its output difference from fp32 eager:
max |diff| of the float outputs, and max |diff| and PSNR of the uint8 images
(``quantize(out, "round")``). Weights are random (seed 0): the difference measures the
arithmetic, not a trained model's PSNR cost. Input: the bundled ``astronaut.png`` demo
image resized to 512x512 (bicubic).

    .venv/bin/python bench/bench_inference.py [--repeats 1] [--out bench/results/inference.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from models.archs.udrdr import UDRDRConfig, build_f3
from models.inference import bf16_supported, derain_image, quantize
from raindata.atomic import atomic_write_text
from raindata.imageio import read_image

ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    """``Model name`` from lscpu, or the platform processor string."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        import platform

        return platform.processor() or "unknown"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def git_commit() -> str:
    """``git rev-parse HEAD`` of the checkout (``-dirty`` when tracked files changed)."""
    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout
    commit = run("rev-parse", "HEAD").strip() or "unknown"
    return commit + ("-dirty" if run("status", "--porcelain", "--untracked-files=no").strip()
                     else "")


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (peak 255) of two uint8 images over all channels; inf when equal."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512, help="image side (default 512)")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per variant")
    ap.add_argument("--blocks", type=int, default=16)
    ap.add_argument("--feats", type=int, default=128)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "inference.md")
    args = ap.parse_args(argv)

    cfg = UDRDRConfig(n_blocks=args.blocks, f3_feats=args.feats)
    torch.manual_seed(0)
    net = build_f3(cfg)
    params = sum(p.numel() for p in net.parameters())
    src = read_image(ROOT / "raindata" / "demo_images" / "astronaut.png")
    img = cv2.resize(src, (args.size, args.size), interpolation=cv2.INTER_CUBIC)
    warm = img[:64, :64].copy()

    variants = [("fp32 eager", "fp32", False), ("fp32 channels-last", "fp32", True)]
    bf16 = bf16_supported("cpu")
    if bf16:
        variants += [("bf16 autocast", "bf16", False),
                     ("bf16 autocast + channels-last", "bf16", True)]
    load_before = os.getloadavg()
    for _, precision, cl in variants:
        derain_image(net, warm, precision=precision, channels_last=cl)
    times: dict[str, list[float]] = {v[0]: [] for v in variants}
    cpu: dict[str, list[float]] = {v[0]: [] for v in variants}
    outs: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):  # interleaved, so that load from other jobs hits all alike
        for name, precision, cl in variants:
            t0, c0 = time.perf_counter(), time.process_time()
            outs[name] = derain_image(net, img, precision=precision, channels_last=cl)
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    ref = outs[variants[0][0]]
    qref = quantize(ref, "round")
    rows = []
    for name, _, _ in variants:
        sec, csec = statistics.median(times[name]), statistics.median(cpu[name])
        q = quantize(outs[name], "round")
        rows.append({
            "name": name, "sec": sec, "times": times[name], "cpu": csec,
            "speedup": rows[0]["sec"] / sec if rows else 1.0,
            "cpu_speedup": rows[0]["cpu"] / csec if rows else 1.0,
            "maxdiff": float(np.abs(outs[name] - ref).max()),
            "u8diff": int(np.abs(q.astype(int) - qref.astype(int)).max()),
            "psnr": psnr_uint8(q, qref),
        })
        print(f"{name:32s} {sec:7.2f} s/image  x{rows[-1]['speedup']:.2f}  CPU {csec:.2f} s "
              f"x{rows[-1]['cpu_speedup']:.2f}  max|diff| {rows[-1]['maxdiff']:.2e}  "
              f"PSNR {rows[-1]['psnr']:.2f} dB", flush=True)
    load_after = os.getloadavg()

    command = shlex.join(["python", "bench/bench_inference.py", *(argv or sys.argv[1:])])
    lines = [
        "# F3 inference speed on CPU",
        "",
        f"- Command: `{command}`",
        f"- Date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- Commit: {git_commit()}",
        f"- Machine: {cpu_model()}, {os.cpu_count()} CPU cores, torch "
        f"{torch.__version__} with {torch.get_num_threads()} threads, CPU capability "
        f"{torch.backends.cpu.get_cpu_capability()}",
        f"- Load average (1 min) before/after: {load_before[0]:.2f} / {load_after[0]:.2f} "
        "(runs of the variants are interleaved; CPU time = process time of the 2 torch "
        "threads, less sensitive to other jobs than wall time)",
        f"- Network: F3 at UDRDRConfig(n_blocks={cfg.n_blocks}, f3_feats={cfg.f3_feats}), "
        f"{params:,} parameters, random weights (seed 0)",
        f"- Input: astronaut.png resized to {args.size}x{args.size}; {args.repeats} timed "
        "run(s) per variant after a 64x64 warm-up; `derain_image` whole image (no tiling)",
        "",
        "| variant | wall s / image (median) | runs (s) | speed-up vs fp32 | CPU s / image "
        "| CPU-time speed-up | max abs diff vs fp32 | max uint8 diff | PSNR vs fp32 uint8 (dB) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        runs = ", ".join(f"{t:.2f}" for t in r["times"])
        psnr = "identical" if math.isinf(r["psnr"]) else f"{r['psnr']:.2f}"
        lines.append(f"| {r['name']} | {r['sec']:.2f} | {runs} | {r['speedup']:.2f}x "
                     f"| {r['cpu']:.2f} | {r['cpu_speedup']:.2f}x "
                     f"| {r['maxdiff']:.2e} | {r['u8diff']} | {psnr} |")
    if not bf16:
        lines += ["", "bf16 not measured: this CPU reports neither AVX512 nor AMX."]
    if max(load_before[0], load_after[0]) > (os.cpu_count() or 1):
        lines += ["", "The machine was busy with other jobs during this run (load average above "
                  "the core count): wall times are inflated; compare the speed-up columns, and "
                  "rerun on a quiet machine for absolute seconds."]
    lines += [
        "",
        "The differences are those of random weights on a natural image: they measure the "
        "arithmetic of each variant, not the PSNR cost for a trained model.",
        "",
    ]
    atomic_write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
