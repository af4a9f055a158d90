"""Reproduce the published PReNet rows on the real Rain100L / Rain100H test sets (issue 5).

For each set: score ``input`` and ``prenet`` (official weights, official output convention:
clamp + truncating ``uint8(255 * out)``) under ``y-matlab``, keep the derained images, then
rescore those images under ``y-double`` (PReNet's own MATLAB scripts) through
``results:DIR`` - no second network pass. A second PReNet pass with ``--quantize round``
gives the fair-comparison row. Runs resume, so an interrupted reproduction continues.

    python bench/reproduce_prenet.py [--shared ../shared/data] [--results results/reproduce]

Writes ``bench/results/reproduce_prenet.md`` (figures, published values, commands, time,
machine, commit).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import subprocess
import sys
import time
from pathlib import Path

from benchmark.runner import RunRequest, describe_device, run_one

PUBLISHED = {
    # (set, protocol): (psnr, ssim, source)
    ("rain100l", "y-matlab"): (37.42, 0.9784, "UDRDR paper, Table 1"),
    ("rain100h", "y-matlab"): (29.46, 0.8979, "UDRDR paper, Table 1"),
    ("rain100l", "y-double"): (37.48, 0.979, "PReNet paper (its MATLAB scripts)"),
    ("rain100h", "y-double"): (29.46, 0.899, "PReNet paper (its MATLAB scripts)"),
}
PUBLISHED_RAINMAP = {"rain100l": (37.41, 0.9536), "rain100h": (29.45, 0.9358)}
WEIGHTS = {"rain100l": "PReNet6_Rain100L.pth", "rain100h": "PReNet6_Rain100H.pth"}
METRICS = ("psnr", "ssim", "rainmap", "lpips")


def mean(rows, col):
    vals = [r[col] for r in rows if r.get(col) is not None]
    return sum(vals) / len(vals)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--results", type=Path, default=Path("results/reproduce"))
    ap.add_argument("--results-y-double", type=Path, default=Path("results/reproduce-y-double"),
                    help="where the y-double rescoring of the saved images goes (kept apart "
                         "so that `benchmark table --results RESULTS` is Table 1's protocol)")
    ap.add_argument("--out", type=Path, default=Path("bench/results/reproduce_prenet.md"))
    ap.add_argument("--sets", default="rain100l,rain100h")
    args = ap.parse_args()

    lines, timings = [], {}
    rows_out = []
    for name in args.sets.split(","):
        root = args.shared / f"{name}_test"
        weights = str(args.shared / "prenet_official" / WEIGHTS[name])
        base = dict(dataset=name, data_root=str(root), metrics=METRICS, results=args.results)
        found = {}
        for method, quantize in (("input", "official"), ("prenet", "official"),
                                 ("prenet", "round")):
            t0 = time.perf_counter()
            out = run_one(RunRequest(method=method, quantize=quantize, save_images=True,
                                     weights=weights if method == "prenet" else None, **base),
                          log=lambda m: print(m, file=sys.stderr))
            timings[(name, method, quantize)] = (time.perf_counter() - t0, out.newly_scored,
                                                 out.record.seconds)
            found[(method, quantize, "y-matlab")] = out.rows
            images = out.folder / "images"
            rescored = run_one(RunRequest(method=f"results:{images}", protocol="y-double",
                                          **{**base, "results": args.results_y_double}),
                               log=lambda m: print(m, file=sys.stderr))
            found[(method, quantize, "y-double")] = rescored.rows
        for (method, quantize, protocol), rows in found.items():
            pub = PUBLISHED.get((name, protocol)) if (method, quantize) == ("prenet",
                                                                            "official") else None
            rows_out.append((name, method, quantize, protocol, len(rows), mean(rows, "psnr"),
                             mean(rows, "ssim"), mean(rows, "rainmap_psnr"),
                             mean(rows, "rainmap_ssim"), pub))

    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    lines += [
        "# Reproducing the published PReNet numbers (Rain100L / Rain100H test sets)",
        "",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- commit: {commit.strip()}",
        f"- machine: {describe_device('cpu')}, {platform.machine()}, python "
        f"{platform.python_version()}",
        f"- command: `python bench/reproduce_prenet.py --results {args.results}`; Table 1 "
        f"layout: `benchmark table --results {args.results} --layout table1`",
        "- data: ../shared/data/rain100{l,h}_test (100 pairs each, RCDNet layout); weights: "
        "official PReNet6_Rain100{L,H}.pth",
        "",
        "| set | method | quantize | protocol | n | PSNR | SSIM | rain-map PSNR | rain-map SSIM "
        "| published PSNR / SSIM | diff |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, method, quantize, protocol, n, p, s, rp, rs, pub in rows_out:
        if pub:
            pub_txt = f"{pub[0]} / {pub[1]} ({pub[2]})"
            diff = f"{p - pub[0]:+.3f} dB / {s - pub[1]:+.4f}"
        else:
            pub_txt, diff = "", ""
        lines.append(f"| {name} | {method} | {quantize} | {protocol} | {n} | {p:.4f} | {s:.4f} "
                     f"| {rp:.4f} | {rs:.4f} | {pub_txt} | {diff} |")
    lines += ["", "Published rain-map rows (UDRDR Table 1, PReNet): "
              + ", ".join(f"{k} {v[0]} / {v[1]}" for k, v in PUBLISHED_RAINMAP.items()), "",
              "| set | method | quantize | wall s this call | images scored now | "
              "s/image (run record) |", "|---|---|---|---|---|---|"]
    for (name, method, quantize), (wall, n, rec_s) in timings.items():
        per = f"{rec_s / 100:.3f}" if n == 100 else "resumed/reused"
        lines.append(f"| {name} | {method} | {quantize} | {wall:.1f} | {n} | {per} |")
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
