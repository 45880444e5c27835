#!/usr/bin/env bash
# Score a few-step student beside its teacher on the evaluation split, then export it as the
# shipped package in the teacher's place (docs/few-step.md).
#   model/distill/ship.sh STUDENT_CKPT [default_steps=1] [steps served=1,2]
#   CORPUS=.cache/emoji/corpus/emoji-core.jsonl NAME=emoji64 CARD=.cache/emoji/corpus/card.json \
#     model/distill/ship.sh model/runs/distill-emoji64/student/ckpt.pt     (a corpus model's student)
# The teacher is packages/$NAME as it is before this runs, copied beside the run first (the
# student replaces it; the copy is what `npm run bench -- --sampling` compares against).
# Run it once per candidate you would ship: the evaluation split only reports.
set -euo pipefail
cd "$(dirname "$0")/../.."
CK=$1
DEFAULT_STEPS=${2:-1}
STEPS=${3:-1,2}
CORPUS=${CORPUS:-}  # a corpus model (Emoji64): its corpus manifest; Shapes64 without
NAME=${NAME:-shapes64}
PKG=${PKG:-packages/$NAME}  # another folder: a dry run that leaves the shipped package alone
RUN=$(dirname "$CK")
PY=.venv/bin/python
TEACHER=$RUN/teacher-package
if [ -n "$CORPUS" ] && [ -z "${CARD:-}" ]; then
  echo "a corpus model's package takes its card: CARD=.cache/emoji/corpus/card.json" >&2
  exit 2
fi
if [ ! -d "$TEACHER" ]; then
  # A package that is already a split student is not a teacher to compare against
  if $PY -c "import json, sys; sys.exit(not json.load(open(sys.argv[1]))['graph'].get('split_weights'))" "$PKG/manifest.json"; then
    echo "$PKG is already a few-step student (graph.split_weights): put its teacher in $TEACHER first" >&2
    exit 2
  fi
  cp -r "$PKG" "$TEACHER.tmp" && mv "$TEACHER.tmp" "$TEACHER"
fi
# The teacher's sampler, distilled into the student: declared as its fixed guidance.
read -r G S GI < <($PY -c "import json, sys
d = json.load(open(sys.argv[1]))['diffusion']
print(d['default_guidance'], d['time_shift'], ','.join(map(str, d['guidance_interval'])))" "$TEACHER/manifest.json")
$PY -m model.packaging.slim "$CK" "$RUN/slim.pt"
# Both in PyTorch, each as it ships: the teacher's 10 guided steps, the student's 1 and 2; then
# whether the student's answers end at their image, as model/ship.sh checks a teacher's.
if [ -n "$CORPUS" ]; then
  $PY -m model.evaluation.eval_few_step_corpus --teacher="$TEACHER" --student="$RUN/slim.pt" --corpus="$CORPUS" \
    --split=eval --student_steps="$STEPS" --out="$RUN/eval"
  ENDS=(--corpus="$CORPUS")
  ABOUT=(--name="$NAME" --card="$CARD")
else
  $PY -m model.evaluation.eval_few_step --teacher="$TEACHER" --student="$RUN/slim.pt" --split=eval \
    --student_steps="$STEPS" --out="$RUN/eval"
  ENDS=()
  ABOUT=()
fi
$PY -m model.evaluation.ends_at_image --ckpt="$RUN/slim.pt" --split=val --n=100 --steps="$DEFAULT_STEPS" \
  --guidance=1 "${ENDS[@]}" --out="$RUN/eval/ends-at-image.json" || true
$PY -m model.packaging.export --ckpt="$RUN/slim.pt" --out="$PKG" "${ABOUT[@]}" --default_guidance="$G" --time_shift="$S" \
  --guidance_interval="$GI" --default_steps="$DEFAULT_STEPS" --steps="$STEPS" --fixed_guidance \
  --eval_json="$RUN/eval/results.json" --ends_at_image="$RUN/eval/ends-at-image.json"
# The CPU graphs as ship.sh makes them (model/ship.sh explains the fp32 output projections).
# A denoise-only student (train.py --distill_reader) keeps its denoise graphs of both precisions
# and takes the teacher's serving graphs (model/packaging/join_reader.py).
if $PY -c "import sys, torch; sys.exit('reader' not in torch.load(sys.argv[1], weights_only=False))" "$RUN/slim.pt"; then
  $PY -m model.packaging.quantize "$PKG" --keep-fp32 'out/MatMul'
  $PY -m model.packaging.join_reader "$PKG" --reader="$TEACHER"
else
  $PY -m model.packaging.quantize "$PKG" --no-fp32-denoise --keep-fp32 'out/MatMul'
fi
$PY -m model.packaging.compact "$PKG"
if [ -n "$CORPUS" ]; then
  $PY -m model.evaluation.eval_corpus --package="$PKG" --corpus="$CORPUS" --precision=fp32,int8 --split=eval \
    --n="${NQ:-200}" --no_rank --record --out="$RUN/eval/quality-int8"
else
  $PY -m model.evaluation.eval_onnx --package="$PKG" --n="${NQ:-200}" --precision=fp32,int8 --record \
    --out="$RUN/eval/quality-int8.json"
fi
