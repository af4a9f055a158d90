"""Every compared method with released weights on the real test data (issue 8, Tables 1-3).

    python bench/baselines.py run [--lanes 2] [--shards N] [--only METHOD ...]  # resumable
    python bench/baselines.py time [--n 5]                          # benchmark time, 512x512
    python bench/baselines.py report                                # bench/results/baselines.md

``run`` scores every released weights file in ``../shared/data`` on Rain100L and Rain100H
(test, 100 pairs each: Y-PSNR/SSIM and rain-map PSNR/SSIM, y-matlab protocol, each
method's official output convention) and every method on the 147 SIRR-Data real images
(NIQE), through ``benchmark run`` into ``results/baselines`` (``--lanes`` processes at
once; ``--shards N`` splits every run into N ``--shard I/N`` processes, so that one long run
uses every lane; an interrupted run resumes, sharded or not). ``time`` runs ``benchmark
time`` for every registered network.
``report`` writes the measured-vs-published comparison with the paper's Table 1 and the
``benchmark table`` layouts to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BIN = Path(sys.executable).parent
RESULTS = ROOT / "results" / "baselines"
OUT = ROOT / "bench" / "results"
OFFICIAL = SHARED / "baselines_official"
PRENET = SHARED / "prenet_official"

# (method, weights relative to ../shared/data or None)
MODELS: tuple[tuple[str, str | None], ...] = (
    ("input", None),
    ("derainnet", "baselines_official/derainnet/model"),
    ("ddn", "baselines_official/ddn/model"),
    ("jorder-e", "baselines_official/jorder_e/model_practical.pt"),
    ("umrl", "baselines_official/umrl/Net_DIDMDN.pth"),
    ("umrl", "baselines_official/umrl/Net_JORDER.pth"),
    ("umrl", "baselines_official/umrl/Net_Rain800.pth"),
    ("prenet", "prenet_official/PReNet6_Rain100L.pth"),
    ("prenet", "prenet_official/PReNet6_Rain100H.pth"),
    ("prenet-real", "prenet_official/PReNet_real1.pth"),
    ("sirr", "baselines_official/sirr/model"),
    ("rain-over-me", "baselines_official/rain_over_me/latest_net_G_Rain200L.pth"),
    ("rain-over-me", "baselines_official/rain_over_me/latest_net_G_Rain1400.pth"),
    ("rain-over-me", "baselines_official/rain_over_me/latest_net_G_DID_data.pth"),
)

SIRR_WEIGHTS = {"model", "model_practical.pt", "Net_DIDMDN.pth", "PReNet_real1.pth",
                "latest_net_G_Rain1400.pth"}
"""The weights scored on SIRR-Data's real images (NIQE), one per method."""

SIRR_TILING: dict[str, tuple[str, ...]] = {"derainnet": ("--tile", "1440", "--overlap", "128")}
"""Tiling where a whole image cannot fit in this machine's 24 GiB: DerainNet holds two
512-channel float maps at full resolution, 2 x 23.3 GiB for SIRR-Data's 4288x2848
``91.jpg``. With 1440-pixel tiles (two 4.0 GiB maps; 10.1 GiB peak resident memory
measured) the four images with a side over 1440 are tiled; the other 143 run whole (a tile
covering the image is whole-image inference)."""

DATASETS: tuple[tuple[str, str, str], ...] = (
    ("rain100l", "rain100l_test", "psnr,ssim,rainmap"),
    ("rain100h", "rain100h_test", "psnr,ssim,rainmap"),
    ("sirr", "sirr_real", "niqe"),
)

# UDRDR Table 1 (y-matlab protocol): dataset -> method -> (PSNR, SSIM, rain-map PSNR, SSIM)
PAPER_TABLE1: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "rain100h": {"GMM": (15.23, 0.4511, 15.26, 0.3932), "Clear": (13.85, 0.4430, 14.24, 0.2344),
                 "DDN": (17.90, 0.5621, 17.91, 0.5287), "JORDER": (26.69, 0.8347, 26.54, 0.9083),
                 "DID-MDN": (17.36, 0.6103, 17.51, 0.6220),
                 "UMRL": (18.21, 0.5354, 18.21, 0.5377),
                 "PReNet": (29.46, 0.8979, 29.45, 0.9358),
                 "RCDNet": (31.28, 0.9081, 31.27, 0.9483), "Ours": (32.62, 0.9230, 32.62, 0.9590)},
    "rain100l": {"GMM": (29.06, 0.8720, 29.11, 0.7971), "Clear": (27.39, 0.8748, 28.83, 0.8016),
                 "DDN": (29.73, 0.9171, 29.75, 0.8380), "JORDER": (36.72, 0.9739, 36.61, 0.9467),
                 "DID-MDN": (25.76, 0.8597, 25.93, 0.7152),
                 "UMRL": (27.44, 0.8717, 27.52, 0.7601),
                 "PReNet": (37.42, 0.9784, 37.41, 0.9536),
                 "RCDNet": (39.97, 0.9856, 39.95, 0.9716), "Ours": (40.54, 0.9872, 40.53, 0.9741)},
}
PAPER_NAME = {"derainnet": "Clear", "ddn": "DDN", "jorder-e": "JORDER", "umrl": "UMRL",
              "prenet": "PReNet", "udrdr": "Ours"}


@dataclass(frozen=True)
class Job:
    method: str
    weights: str | None
    dataset: str
    root: str
    metrics: str

    def wanted(self) -> bool:
        """Every file on Rain100L/H (PReNet's Rain100H/L files each on its own set); on the
        SIRR real images (68.7 Mpx in all, 4.5x a Rain100 set) one file per method: the
        one trained on the widest data (:data:`SIRR_WEIGHTS`)."""
        if self.method == "prenet" and self.weights and self.dataset.startswith("rain100"):
            return self.dataset[-1].upper() == Path(self.weights).stem[-1]
        if self.dataset == "sirr":
            return self.weights is None or Path(self.weights).name in SIRR_WEIGHTS
        return True

    def command(self, shard: str | None = None) -> list[str]:
        """The ``benchmark run`` command line (of shard ``"I/N"`` of the run when given)."""
        cmd = [str(BIN / "benchmark"), "run", "--method", self.method, "--dataset", self.dataset,
               "--data-root", str(SHARED / self.root), "--metrics", self.metrics,
               "--results", str(RESULTS)]
        if self.weights:
            cmd += ["--weights", str(SHARED / self.weights)]
        if self.dataset == "sirr":
            cmd += list(SIRR_TILING.get(self.method, ()))
        if shard:
            cmd += ["--shard", shard]
        return cmd

    @property
    def name(self) -> str:
        w = Path(self.weights).name if self.weights else "-"
        return f"{self.method}-{w}-{self.dataset}"


SIRR_ORDER = ("input", "rain-over-me", "sirr", "ddn", "jorder-e", "prenet-real", "derainnet",
              "umrl", "prenet")
"""SIRR real jobs cheapest first (wall time on Rain100L x 4.5), so a short session still fills
most of the NIQE table."""


def jobs(only: list[str] | None) -> list[Job]:
    out = []
    for dataset, root, metrics in DATASETS:
        todo = [Job(method, weights, dataset, root, metrics) for method, weights in MODELS]
        if dataset == "sirr":
            todo.sort(key=lambda j: SIRR_ORDER.index(j.method))
        out += [j for j in todo if j.wanted() and (not only or j.method in only)]
    return out


def run_jobs(jobs_: list[Job], lanes: int, shards: int = 1) -> None:
    """Run the jobs ``lanes`` processes at a time, each job as ``shards`` shards (each
    resumes; a finished one does no work; the last shard of a run to finish merges it)."""
    from lanes import run_in_lanes

    logs = RESULTS / "logs"
    tasks = [(job.name + (f"-shard{i}of{shards}" if shards > 1 else ""),
              job.command(f"{i}/{shards}" if shards > 1 else None), logs / f"{job.name}.log")
             for job in jobs_ for i in range(shards)]
    failed = run_in_lanes(tasks, lanes, cwd=ROOT)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (logs in {logs})")


def time_all(n: int, warmup: int) -> None:
    """``benchmark time`` at 512x512 for every registered network, 1 thread, on the CPU."""
    from models.registry import get_card, list_methods

    for method in list_methods():
        if get_card(method).network is None:
            continue
        cmd = [str(BIN / "benchmark"), "time", "--method", method, "--size", "512",
               "--n", str(n), "--warmup", str(warmup), "--results", str(RESULTS)]
        print(shlex.join(cmd), flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def _fmt(v, digits):
    return "n/a" if v is None or v != v else f"{v:.{digits}f}"


def report() -> None:
    """The measured-vs-published table and the benchmark table layouts."""
    from benchmark.tables import long_table, render

    df = long_table(RESULTS)
    lines = [
        "# Compared methods on the real Rain100L/Rain100H test sets and SIRR-Data",
        "",
        f"Command: `python bench/baselines.py run && python bench/baselines.py report` "
        f"({date.today().isoformat()}, {platform.machine()}, commit {_commit()}).",
        "Protocol y-matlab (the paper's: rounded studio-range Y, PSNR peak 255, Wang SSIM); "
        "each method's official output convention; CPU, fp32.",
        "",
        "## Table 1: measured vs published (UDRDR paper)",
        "",
        "| method | weights | set | PSNR | SSIM | rain-map PSNR | rain-map SSIM | paper "
        "| diff PSNR |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset in ("rain100h", "rain100l"):
        part = df[df["dataset"] == dataset]
        for label in dict.fromkeys(part["method"]):
            mine = part[part["method"] == label]
            if (mine["n"] < mine["expected"]).any():  # a run still going: not a result yet
                lines.append(f"| {mine['base_method'].iloc[0]} | {label} | {dataset} | "
                             f"partial ({int(mine['n'].min())} of "
                             f"{int(mine['expected'].max())} images) | | | | | |")
                continue
            rows = mine.set_index("metric")["mean"].to_dict()
            base = mine["base_method"].iloc[0]
            paper = PAPER_TABLE1[dataset].get(PAPER_NAME.get(base, ""))
            ref = (f"{paper[0]:.2f} / {paper[1]:.4f} ({PAPER_NAME[base]})" if paper else "-")
            diff = f"{rows.get('psnr') - paper[0]:+.2f}" if paper and rows.get("psnr") else "-"
            lines.append(f"| {base} | {label} | {dataset} | {_fmt(rows.get('psnr'), 2)} | "
                         f"{_fmt(rows.get('ssim'), 4)} | {_fmt(rows.get('rainmap_psnr'), 2)} | "
                         f"{_fmt(rows.get('rainmap_ssim'), 4)} | {ref} | {diff} |")
    lines += ["", "## benchmark table --layout table1", "",
              render(RESULTS, "table1", "markdown"), "",
              "## benchmark table --layout table2 (NIQE, SIRR-Data real, 147 images)", "",
              render(RESULTS, "table2", "markdown")]
    timing = RESULTS / "_timing"
    if timing.is_dir():
        lines += ["", "## benchmark table --layout table3 (CPU, 512x512)", "",
                  render(RESULTS, "table3", "markdown")]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "baselines.md").write_text("\n".join(lines) + "\n")
    (OUT / "baselines_table1.tex").write_text(render(RESULTS, "table1", "latex"))
    print(f"wrote {OUT / 'baselines.md'}")


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, text=True,
                               capture_output=True, check=True).stdout.strip()
        return out + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phase", choices=["run", "time", "report"])
    ap.add_argument("--lanes", type=int, default=2)
    ap.add_argument("--shards", type=int, default=1, help="processes per run (run)")
    ap.add_argument("--only", nargs="*", help="methods (default: all)")
    ap.add_argument("--n", type=int, default=5, help="timed runs per method (time)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (time)")
    args = ap.parse_args(argv)
    if args.lanes < 1 or args.shards < 1:
        ap.error(f"--lanes {args.lanes} --shards {args.shards}: both must be at least 1")
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED}: the real test data is needed (see ../shared/data/README.md)")
    if args.phase == "run":
        run_jobs(jobs(args.only), args.lanes, args.shards)
    elif args.phase == "time":
        time_all(args.n, args.warmup)
    else:
        report()


if __name__ == "__main__":
    main()
