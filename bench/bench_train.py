"""Training speed of UDRDR on this machine: steps/s for configs/demo.toml and configs/paper.toml.

    .venv/bin/python bench/bench_train.py                 # both, results to bench/results/train.md
    .venv/bin/python bench/bench_train.py --prepare-only --data data   # just make the demo data

Data: the demo set of ``raindata synth --demo`` (``DATA/demo``: train, test, and ``real``,
a second synthesis over the demo *training* images with another rain style that stands in
for real rainy photographs); made when missing. The paper
config runs on the same images (384 px, so its 128-px crops fit), with its batch 12 and
patch 128, on the CPU in fp32, for a few steps only.

Figure: steps/s = 1 / median wall time of a step, from the ``seconds`` column of the
training log, skipping the first step (warm-up); the whole run's rate is shown too.
Data loading runs in the training process (``data.workers = 0``) and is included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

def prepare_demo_data(root: Path) -> tuple[Path, Path]:
    """Make ``ROOT/demo`` (``raindata synth --demo``: train, test and the "real" part)."""
    from raindata.synth import synthesize_demo

    demo = root / "demo"
    if not all((demo / part / "manifest.csv").is_file() for part in ("train", "test", "real")):
        synthesize_demo(demo, workers=2, resume=demo.exists())
    return demo, demo / "real"


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or platform.machine()


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def measure(config: Path, overrides: list[str], steps: int) -> dict[str, float]:
    """Train ``steps`` steps into a temporary folder; steps/s from the log."""
    import torch

    from models.train.config import load_config
    from models.train.log import read_log
    from models.train.trainer import train

    default_threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(config, [*overrides, f"run.out={tmp}/run", f"run.max_steps={steps}",
                                   "run.progress=false", "run.checkpoint_every=0",
                                   "data.workers=0", "run.device=cpu"])
        t0 = time.perf_counter()
        result = train(cfg, echo=lambda _: None)
        wall = time.perf_counter() - t0
        threads = torch.get_num_threads()
        torch.set_num_threads(default_threads)  # run.threads of one config must not leak
        rows = read_log(Path(tmp) / "run" / "train_log.csv")
    per_step = [float(r["seconds"]) for r in rows[1:]] or [float(rows[0]["seconds"])]
    med = statistics.median(per_step)
    return {"steps": steps, "median_s": med, "steps_per_s": 1.0 / med,
            "loop_steps_per_s": result.steps_per_second, "wall_s": wall,
            "batch": cfg.optim.batch_size, "patch": cfg.data.patch_size,
            "blocks": cfg.model.n_blocks, "threads": threads,
            "feats": f"{cfg.model.f1_feats}/{cfg.model.f2_feats}/{cfg.model.f3_feats}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None,
                    help="folder for demo/ (default: a temporary folder)")
    ap.add_argument("--demo-steps", type=int, default=40)
    ap.add_argument("--paper-steps", type=int, default=3)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "train.md")
    ap.add_argument("--prepare-only", action="store_true")
    args = ap.parse_args()

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        root = args.data or Path(tmp)
        demo, real = prepare_demo_data(root)
        if args.prepare_only:
            print(f"demo data in {demo} and {real}")
            return
        data = [f"data.synthetic.root={demo}", f"data.real.root={real / 'rainy'}"]
        paper_data = ["data.synthetic.name=demo", *data, "data.real.name=unpaired",
                      "data.real.split=train"]
        rows = [("demo", measure(REPO / "configs" / "demo.toml", data, args.demo_steps)),
                ("paper", measure(REPO / "configs" / "paper.toml", paper_data,
                                  args.paper_steps))]

    load = os.getloadavg()
    cmd = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    lines = [
        "# UDRDR training speed (CPU)",
        "",
        f"- machine: {machine()}, {os.cpu_count()} logical CPUs, "
        f"torch {torch.__version__}",
        f"- commit: {commit()}",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- command: `{cmd}`",
        f"- load average at the end (1/5/15 min): {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f} (other jobs running on the same cores slow every figure)",
        "- fp32, data loading in the training process (`data.workers = 0`), "
        "generated demo data (384 px images)",
        "",
        "| config | blocks | filters F1/F2/F3 | batch | patch | torch threads | steps timed | "
        "median s/step | steps/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        lines.append(f"| {name} | {r['blocks']} | {r['feats']} | {r['batch']} | {r['patch']} | "
                     f"{r['threads']} | {r['steps'] - 1} | {r['median_s']:.3f} | "
                     f"{r['steps_per_s']:.4f} |")
    demo_r = rows[0][1]
    from models.train.config import load_config

    dcfg = load_config(REPO / "configs" / "demo.toml")
    steps = dcfg.optim.epochs * (120 // dcfg.optim.batch_size)
    lines += [
        "",
        f"demo.toml: {dcfg.optim.epochs} epochs x {120 // dcfg.optim.batch_size} steps "
        f"(120 demo pairs) = {steps} steps, about {steps / demo_r['steps_per_s'] / 60:.1f} "
        "min at this rate.",
        "paper.toml: 200 epochs x 243 steps = 48,600 steps, about "
        f"{48600 / rows[1][1]['steps_per_s'] / 86400:.1f} days on this CPU (use a GPU).",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    from raindata.atomic import atomic_write_text

    atomic_write_text(args.out, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
