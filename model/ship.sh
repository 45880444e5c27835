#!/usr/bin/env bash
# Evaluate a trained checkpoint and export it as the shipped package, with its evaluation.
#   model/ship.sh [ckpt] [guidance] [time_shift] [guidance_interval lo,hi] [n_per_direction]
#   CONVERSATIONS=1 model/ship.sh model/runs/conv3/ckpt.pt     (a conversation-trained model)
#   GUIDANCE_BY_STEPS=1=2,4=3 model/ship.sh ...   (a request's default guidance for those steps, chosen on validation)
# The sampler settings are the ones chosen by evaluation (README, "What each change did").
set -euo pipefail
cd "$(dirname "$0")/.."
CK=${1:-model/runs/main/ckpt.pt}
G=${2:-6}
S=${3:-2}
GI=${4:-0.8,1}
N=${5:-1000}
RUN=$(dirname "$CK")
PY=.venv/bin/python
# The shipped weights are the slim checkpoint's (fp16 values), evaluated and exported as they
# are, so that storing the graph's weights as fp16 (compact.py) loses nothing. The slim
# checkpoint stays beside the run, out of git: the package holds the weights, and
# train.py --init_from=packages/shapes64 trains on from it (model/packaging/weights.py).
$PY -m model.packaging.slim "$CK" "$RUN/slim.pt"
CK=$RUN/slim.pt
ENDS=()
mkdir -p docs/images
if [ "${CONVERSATIONS:-0}" = 1 ]; then
  # A conversation-trained model (train.py --conversations=shapes64): edits, second turns and
  # refusals on the evaluation split, beside draw and describe (its sampler: the checkpoint's
  # time shift and interval, guidance G).
  $PY -m model.evaluation.eval_conversations --ckpt="$CK" --split=eval --n_per_kind=200 --n_turns=200 \
    --n_refusals=200 --n_draw="$N" --guidance="$G" --out="$RUN/eval"
  cp "$RUN/eval/edit-examples.png" docs/images/conversations-edits.png
  LOSS_IMAGE=conversations-loss-latest.png
  # Whether its answers end at their image (on validation: the declaration is a setting); the
  # export declares conversation.image_ends_answer only where none went on (exit 1 otherwise).
  $PY -m model.evaluation.ends_at_image --ckpt="$CK" --split=val --n=100 --out="$RUN/eval/ends-at-image.json" || true
  ENDS=(--ends_at_image="$RUN/eval/ends-at-image.json")
else
  $PY -m model.evaluation.eval --ckpt="$CK" --n="$N" --guidance="$G" --time_shift="$S" --guidance_interval="$GI" --out="$RUN/eval"
  cp "$RUN/eval/examples.png" docs/images/eval-examples.png
  LOSS_IMAGE=training-loss.png
fi
$PY -m model.packaging.export --ckpt="$CK" --out=packages/shapes64 --default_guidance="$G" --time_shift="$S" \
  ${GUIDANCE_BY_STEPS:+--guidance_by_steps="$GUIDANCE_BY_STEPS"} \
  --guidance_interval="$GI" --eval_json="$RUN/eval/results.json" "${ENDS[@]}"
[ -f "$RUN/loss.png" ] && cp "$RUN/loss.png" "docs/images/$LOSS_IMAGE"
# Cheaper CPU graphs (int8, denoise-only), then whether int8 holds quality on the split
# (recorded in the manifest; the runtime defaults to int8 on CPU only if it did).
# The fp32 denoise-only graph is left out (as large as the model, in git); `npm run bench`
# adds it to a temporary copy. The output projections (blocks' `out`, `patch_out`) stay
# fp32: their input, the gated attention output, has outliers that one uint8 scale per
# tensor cannot hold (all-int8 lost 18.5 points of draws, this 1.5; docs/performance.md).
$PY -m model.packaging.quantize packages/shapes64 --no-fp32-denoise --keep-fp32 'out/MatMul'
$PY -m model.packaging.compact packages/shapes64
$PY -m model.evaluation.eval_onnx --package=packages/shapes64 --n="${NQ:-200}" --precision=fp32,int8 --record \
  --out="$RUN/eval/quality-int8.json"
