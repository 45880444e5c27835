#!/usr/bin/env bash
# Evaluate a trained checkpoint and export it as the shipped package, with its evaluation.
#   model/ship.sh [ckpt] [guidance] [time_shift] [n_per_direction]
set -euo pipefail
cd "$(dirname "$0")/.."
CK=${1:-model/runs/main/ckpt.pt}
G=${2:-3}
S=${3:-1}
N=${4:-1000}
RUN=$(dirname "$CK")
PY=.venv/bin/python
$PY model/eval.py --ckpt="$CK" --n="$N" --guidance="$G" --time_shift="$S" --out="$RUN/eval"
$PY model/export.py --ckpt="$CK" --out=packages/shapes64 --default_guidance="$G" --time_shift="$S" \
  --eval_json="$RUN/eval/results.json"
mkdir -p docs/images
cp "$RUN/loss.png" docs/images/training-loss.png
cp "$RUN/eval/examples.png" docs/images/eval-examples.png
# Cheaper CPU graphs (int8, denoise-only), then whether int8 holds quality on the split
# (recorded in the manifest; the runtime defaults to int8 on CPU only if it did).
$PY model/quantize.py packages/shapes64
$PY model/eval_onnx.py --package=packages/shapes64 --n="${NQ:-200}" --precision=fp32,int8 --record \
  --out="$RUN/eval/quality-int8.json"
