"""Scaling `benchmark run` (issue 13): worker processes, a network run, shards, memory.

Writes ``bench/results/scale.md``:

1. **Metric-only run** (method ``input``, PSNR/SSIM/rain-map) over the 100 real Rain100L
   test pairs with ``--workers 1`` and ``--workers 2``, against the sum of the decode and
   metric times measured image by image in one process (target: 2 workers at least 1.7x
   faster than 1). The CSVs must be byte-identical.
2. **PReNet on the CPU** over the first ``--prenet-images`` images: the run's wall time and
   scoring-loop time with the default workers and with one, against the network alone (the
   method's output for images already decoded; target: within 1.15x).
3. **Two shards under torchrun** (2 CPU ranks, ``--workers 1`` each) over the metric-only
   run of 1.: wall time, and the merged ``scores.csv`` against the one-process CSV.
4. **Peak memory** (max RSS of the main process and of the largest worker) of runs over
   100, 300 and 1,000 generated 48x64 images, to show it does not grow with the images.

The machine may be shared; the 1-minute load average is recorded before and after.
Usage: ``python bench/bench_scale.py [--prenet-images 10] [--out bench/results/scale.md]
[--note "what else ran"]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
RAIN100L = DATA / "rain100l_test"
PRENET = DATA / "prenet_official" / "PReNet6_Rain100L.pth"
METRICS = ("psnr", "ssim", "rainmap")


def _request(method: str, results: Path, root: Path = RAIN100L, dataset: str = "rain100l",
             **kw):
    from benchmark.runner import RunRequest

    return RunRequest(method=method, dataset=dataset, data_root=str(root), results=results,
                      metrics=METRICS, **kw)


def _timed_run(req) -> tuple[float, object]:
    from benchmark.runner import run_one

    t0 = time.perf_counter()
    out = run_one(req, log=lambda m: None)
    return time.perf_counter() - t0, out


def serial_parts(method, samples, limit: int | None = None) -> tuple[float, float, float]:
    """Seconds spent decoding, making the output, and in metrics, image by image."""
    from benchmark.scoring import Scorer
    from raindata.layouts import load_pair

    scorer = Scorer(METRICS, "y-matlab")
    decode = output = metrics = 0.0
    for s in samples[:limit]:
        t0 = time.perf_counter()
        rainy, clean = load_pair(s)
        t1 = time.perf_counter()
        derained = method.output(s.id, s.rainy, rainy)
        t2 = time.perf_counter()
        scorer.score(rainy, derained, clean)
        t3 = time.perf_counter()
        decode, output, metrics = decode + t1 - t0, output + t2 - t1, metrics + t3 - t2
    return decode, output, metrics


def metric_only(tmp: Path) -> tuple[list[str], bytes]:
    from benchmark.methods import open_method
    from raindata.layouts import find_samples

    samples = find_samples("rain100l", RAIN100L, "test")
    decode, output, metrics = serial_parts(open_method("input", None, "cpu", "official"),
                                           samples)
    floor = decode + output + metrics
    w1, out1 = _timed_run(_request("input", tmp / "w1", workers=1))
    w2, out2 = _timed_run(_request("input", tmp / "w2", workers=2))
    csv1 = (out1.folder / "scores.csv").read_bytes()
    same = csv1 == (out2.folder / "scores.csv").read_bytes()
    lines = [
        f"## 1. Metric-only run, {len(samples)} Rain100L pairs (`input`, PSNR/SSIM/rain-map)",
        "",
        "| what | seconds | vs the sum |",
        "| --- | ---: | ---: |",
        f"| decode (sum over images, one process) | {decode:.2f} | |",
        f"| `input`'s output, rainy / 255 rounded back (sum) | {output:.2f} | |",
        f"| metrics (sum over images, one process) | {metrics:.2f} | |",
        f"| decode + output + metrics | {floor:.2f} | 1.00x |",
        f"| `benchmark run --workers 1` (wall) | {w1:.2f} | {w1 / floor:.2f}x |",
        f"| `benchmark run --workers 2` (wall) | {w2:.2f} | {w2 / floor:.2f}x |",
        "",
        f"2 workers are **{w1 / w2:.2f}x** faster than 1 (target 1.7x); `scores.csv` "
        f"byte-identical: **{'yes' if same else 'NO'}**. The wall times include starting the "
        "command's run (dataset scan, folder lock, record) and, for 2 workers, starting the "
        "worker processes.",
        "",
    ]
    return lines, csv1


def prenet(tmp: Path, n: int) -> list[str]:
    from benchmark.methods import open_method
    from benchmark.parallel import default_workers
    from raindata.layouts import find_samples

    samples = find_samples("rain100l", RAIN100L, "test")
    method = open_method("prenet", str(PRENET), "cpu", "official")
    from raindata.layouts import load_pair

    decoded = [(s, load_pair(s)[0]) for s in samples[:n]]
    method.output(decoded[0][0].id, decoded[0][0].rainy, decoded[0][1])  # warm-up
    t0 = time.perf_counter()
    for s, rainy in decoded:
        method.output(s.id, s.rainy, rainy)
    network = time.perf_counter() - t0
    rows = []
    for workers in (default_workers(), 1):
        wall, out = _timed_run(_request("prenet", tmp / f"prenet{workers}", limit=n,
                                        weights=str(PRENET), workers=workers))
        rows.append(f"| `benchmark run --workers {workers}` | {wall:.1f} | "
                    f"{out.record.seconds:.1f} | {out.record.seconds / network:.2f}x |")
    return [
        f"## 2. PReNet on the CPU, first {n} Rain100L images (481x321, fp32)",
        "",
        "| what | wall seconds | scoring-loop seconds | loop vs network alone |",
        "| --- | ---: | ---: | ---: |",
        f"| network alone (images decoded beforehand, after one warm-up) | {network:.1f} | "
        f"{network:.1f} | 1.00x |",
        *rows,
        "",
        "Target: the run within 1.15x of the network alone. The wall time adds loading the "
        "weights and starting the run; the loop time is what `run.json` records.",
        "",
    ]


def torchrun(tmp: Path, reference: bytes) -> list[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(":")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", "-m", "benchmark", "run", "--method", "input", "--dataset", "rain100l",
           "--data-root", str(RAIN100L), "--metrics", ",".join(METRICS), "--results",
           str(tmp / "torchrun"), "--workers", "1"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return ["## 3. Two shards under torchrun", "", "FAILED:", "",
                "```", proc.stderr[-2000:], "```", ""]
    merged = next((tmp / "torchrun").glob("rain100l/input/*/scores.csv")).read_bytes()
    return [
        "## 3. Two shards under torchrun (2 CPU ranks, gloo barrier, `--workers 1` each)",
        "",
        f"`torchrun --standalone --nproc_per_node 2 -m benchmark run --method input "
        f"--dataset rain100l ... --workers 1`: **{wall:.1f} s** wall (launcher, two "
        f"Python processes starting, 50 images each, rank 0 merging); merged `scores.csv` "
        f"byte-identical to the one-process run: **{'yes' if merged == reference else 'NO'}**.",
        "",
    ]


def memory(tmp: Path, sizes: tuple[int, ...] = (100, 300, 1000)) -> list[str]:
    import numpy as np

    from raindata.imageio import write_png

    root = tmp / "generated"
    rng = np.random.default_rng(0)
    for i in range(max(sizes)):
        clean = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        rainy = np.clip(clean.astype(np.int16) + rng.integers(0, 40, (48, 64, 1)), 0, 255)
        write_png(root / "rainy" / f"{i:04d}.png", rainy.astype(np.uint8))
        write_png(root / "clean" / f"{i:04d}.png", clean)
    rows = []
    for workers in (1, 2):
        for n in sizes:
            out = subprocess.run(
                [sys.executable, __file__, "--memory-child", str(root),
                 str(tmp / f"mem{workers}-{n}"), str(n), str(workers)],
                capture_output=True, text=True, check=True, env={**os.environ,
                                                                 "PYTHONPATH": str(ROOT)})
            got = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(f"| {workers} | {n:,} | {got['self_mib']:.0f} | "
                        f"{got['children_mib']:.0f} | {got['seconds']:.1f} |")
    return [
        f"## 4. Peak memory, generated 48x64 pairs (one dataset of {max(sizes):,}, "
        "`--limit N`)",
        "",
        "| workers | images | main process peak RSS (MiB) | largest child process peak "
        "RSS (MiB) | seconds |",
        "| ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        "Main process: `VmHWM` of a fresh process running the command's `run_one`. Child "
        "processes: `ru_maxrss` of the largest one waited for (the workers, or `git` run for "
        "the record's provenance with 1 worker), which counts what it shared with its parent "
        "when forked. Rows are journalled as they finish and the sorted CSV is rewritten "
        "every 20 images; at most a few images per worker are in flight (bounded queues).",
        "",
    ]


def peak_rss_mib() -> float:
    """This process's peak resident memory since it started (``VmHWM``: unlike
    ``ru_maxrss``, not inherited from the process that forked it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def memory_child(root: str, results: str, n: int, workers: int) -> None:
    """One run in a fresh process; prints its peak memory as JSON."""
    wall, _ = _timed_run(_request("input", Path(results), Path(root), "paired", limit=n,
                                  workers=workers))
    print(json.dumps({
        "self_mib": peak_rss_mib(),
        # ru_maxrss (KiB) of the largest child waited for: the workers (and git, for the
        # record's provenance); an upper bound, as it counts what a child inherited at fork
        "children_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
        "seconds": wall}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prenet-images", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.md")
    parser.add_argument("--note", default="", help="what else ran on the machine, in words")
    parser.add_argument("--memory-only", action="store_true",
                        help="print part 4 (peak memory) only")
    parser.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        root, results, n, workers = args.memory_child
        memory_child(root, results, int(n), int(workers))
        return
    if args.memory_only:
        with tempfile.TemporaryDirectory() as tmp_name:
            print("\n".join(memory(Path(tmp_name))))
        return
    if not RAIN100L.is_dir() or not PRENET.is_file():
        sys.exit(f"needs {RAIN100L} and {PRENET}")
    from bench_pack import git_head, machine

    load_before = os.getloadavg()[0]
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        part1, reference = metric_only(tmp)
        part2 = prenet(tmp, args.prenet_images)
        part3 = torchrun(tmp, reference)
        part4 = memory(tmp)
    load_after = os.getloadavg()[0]
    head = [
        "# Scaling `benchmark run`: workers, a network run, shards, memory",
        "",
        f"- Command: `{shlex.join(['python', 'bench/bench_scale.py', *(argv or sys.argv[1:])])}`",
        f"- Date: {started}",
        f"- Commit: {git_head()}",
        f"- Machine: {machine()}; Python {sys.version.split()[0]}",
        f"- 1-minute load average {load_before:.1f} before, {load_after:.1f} after (2 logical "
        "CPUs: above ~1, other processes shared them and the figures are inflated)."
        + (f" {args.note}" if args.note else ""),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(head + part1 + part2 + part3 + part4), encoding="utf-8")
    print(args.out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
