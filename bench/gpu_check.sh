#!/usr/bin/env bash
# UDRDR on a CUDA machine, one short run (a few minutes): prints the figures with the GPU name.
#   bash bench/gpu_check.sh            (from the repository root, venv in .venv or on PATH)
# 1. paper config (16 blocks, 64/64/128, batch 12, patch 128) with AMP fp16 for 50 steps on
#    generated demo data: steps/s (median of steps 6-50) and peak GPU memory;
# 2. F3 (paper config) on one 512x512 image, fp32, as in Table 3 (0.17 s on a TITAN RTX):
#    mean seconds over 100 passes after 3 warm-ups, and its peak memory;
# 3. `benchmark time` of every registered network on the GPU (the paper's Table 3);
# 4. a short sharded `benchmark run` under torchrun (one rank per GPU) against one process;
# 5. the score cost of fp16/bf16 and the speed of --batch-size on the GPU.
# Record the output in bench/results/ with the GPU name and the commit.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}; [ -x "$PY" ] || PY=python
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown)  date $(date -u +%FT%TZ)"
"$PY" -c "import torch; print('GPU', torch.cuda.get_device_name(0), '| torch', torch.__version__, '| CUDA', torch.version.cuda)"

"$PY" bench/bench_train.py --prepare-only --data "$TMP/data" >/dev/null
"$PY" - "$TMP" <<'PYEOF'
import json, statistics, sys
from pathlib import Path
from models.train.config import load_config
from models.train.log import read_log
from models.train.trainer import train
tmp = Path(sys.argv[1])
cfg = load_config("configs/paper.toml", [
    "data.synthetic.name=demo", f"data.synthetic.root={tmp}/data/demo",
    "data.real.name=unpaired", f"data.real.root={tmp}/data/demo/real/rainy",
    "data.real.split=train", "run.device=cuda", "run.amp=true", "run.max_steps=50",
    "run.checkpoint_every=0", "run.progress=false", f"run.out={tmp}/run"])
train(cfg, echo=lambda s: None)
rows = read_log(tmp / "run" / "train_log.csv")
med = statistics.median(float(r["seconds"]) for r in rows[5:])
prov = json.loads((tmp / "run" / "provenance.json").read_text())["sessions"][-1]
print(f"train paper config, AMP fp16, batch 12, patch 128: {1 / med:.2f} steps/s "
      f"(median {med * 1000:.0f} ms/step over steps 6-50), peak memory "
      f"{prov.get('cuda_max_memory_allocated', 0) / 2**30:.2f} GiB, "
      f"last total loss {float(rows[-1]['total']):.4f}")

import time, torch
from models.archs.udrdr import UDRDRConfig, build_f3
torch.cuda.reset_peak_memory_stats()
net = build_f3(UDRDRConfig.paper()).cuda().eval()
x = torch.rand(1, 3, 512, 512, device="cuda")
with torch.inference_mode():
    for _ in range(3):
        net(x)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(100):
        net(x)
    torch.cuda.synchronize()
sec = (time.perf_counter() - t0) / 100
params = sum(p.numel() for p in net.parameters())
print(f"F3 inference 512x512 fp32: {sec:.4f} s/image ({params / 1e6:.2f}M parameters), "
      f"peak memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
PYEOF
BENCH="$(dirname "$PY")/benchmark"; [ -x "$BENCH" ] || BENCH=benchmark
# 3. Table 3 on the GPU: every registered network at 512x512 through the inference engine
#    (the method's own pre/post-processing included), fp32, 100 passes after 3 warm-ups.
for METHOD in $("$PY" -c "from models.registry import get_card, list_methods
print(' '.join(n for n in list_methods() if get_card(n).network))"); do
  "$BENCH" time --method "$METHOD" --device cuda --size 512 --n 100 --results "$TMP/results" \
    || echo "benchmark time --method $METHOD failed"
done
"$BENCH" table --results "$TMP/results" --layout table3 --format markdown

# 4. A short sharded benchmark run under torchrun (issue 13): `input` and UDRDR's demo F3 on
#    the 30 generated demo test images (384x255), in one process and with one rank per GPU
#    (two ranks sharing cuda:0 on a one-GPU machine); wall times, and whether the merged
#    scores.csv of every method is byte-identical to the one-process one.
NGPU=$("$PY" -c "import torch; print(torch.cuda.device_count())")
if [ "$NGPU" -ge 2 ]; then RANKS=$NGPU; DEV=cuda; else RANKS=2; DEV=cuda:0; fi
RUN=(run --method input,udrdr --dataset demo --data-root "$TMP/data/demo" --device "$DEV"
     --metrics psnr,ssim,rainmap)
T0=$(date +%s.%N)
"$PY" -m benchmark "${RUN[@]}" --results "$TMP/one" >"$TMP/one.log" 2>&1 \
  || { echo "one-process benchmark run failed:"; tail -5 "$TMP/one.log"; }
T1=$(date +%s.%N)
"$PY" -m torch.distributed.run --standalone --nproc_per_node "$RANKS" -m benchmark "${RUN[@]}" \
  --results "$TMP/ranks" >"$TMP/ranks.log" 2>&1 \
  || { echo "torchrun benchmark run failed:"; tail -5 "$TMP/ranks.log"; }
T2=$(date +%s.%N)
for METHOD in input udrdr; do
  A=$(ls "$TMP"/one/demo/$METHOD/*/scores.csv 2>/dev/null | head -1)
  B=$(ls "$TMP"/ranks/demo/$METHOD/*/scores.csv 2>/dev/null | head -1)
  if [ -n "$A" ] && [ -n "$B" ] && cmp -s "$A" "$B"; then SAME=identical; else SAME=DIFFERENT; fi
  echo "benchmark run $METHOD on demo: scores.csv of $RANKS torchrun ranks ($DEV) vs one process: $SAME"
done
"$PY" -c "import sys; a, b, c = map(float, sys.argv[1:]); print(f'benchmark run input,udrdr on 30 demo images: one process {b - a:.1f} s, $RANKS torchrun ranks {c - b:.1f} s (wall, process start included)')" "$T0" "$T1" "$T2"

# 5. Precision and batching on the GPU (issue 13): UDRDR's demo F3 on the 30 demo test images
#    in fp32, fp16 and bf16 (the score each costs) and fp32 with --batch-size 8 (same
#    scores expected up to the GPU's rounding; wall time of each run).
for OPTS in "--precision fp32" "--precision fp16" "--precision bf16" "--precision fp32 --batch-size 8"; do
  S0=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$PY" -m benchmark run --method udrdr --weights models/weights/udrdr_demo_f3.pt --dataset demo \
    --data-root "$TMP/data/demo" --device cuda --metrics psnr,ssim --workers 2 $OPTS \
    --results "$TMP/prec-${OPTS// /_}" >"$TMP/prec.log" 2>&1 \
    || { echo "benchmark run $OPTS failed:"; tail -3 "$TMP/prec.log"; continue; }
  S1=$(date +%s.%N)
  echo "udrdr demo F3 $OPTS: $(grep -m1 'mean:' "$TMP/prec.log" | sed 's/^ *//') ($("$PY" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$S0" "$S1") s wall)"
done
