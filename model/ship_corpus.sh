#!/usr/bin/env bash
# Evaluate a corpus model's checkpoint and export it as a served package, with its evaluation
# and its int8 verdict (the same steps as ship.sh for Shapes64).
#   model/ship_corpus.sh CKPT NAME CORPUS [CARD] [N_INT8]
# The sampler (chosen on the validation cells) from G (guidance), S (time shift), GI (lo,hi); default: the checkpoint's.
#   model/ship_corpus.sh model/runs/emoji/ckpt.pt emoji64 .cache/emoji/corpus/emoji-core.jsonl .cache/emoji/corpus/card.json
# A conversation-trained model (train.py --conversations=corpus) with its conversations scored too:
#   CONVERSATIONS=1 model/ship_corpus.sh model/runs/econv1/ckpt.pt emoji64 .cache/emoji/corpus/emoji-core.jsonl \
#     .cache/emoji/corpus/card+conversations.json
set -euo pipefail
cd "$(dirname "$0")/.."
CK=$1
NAME=$2
CORPUS=$3
CARD=${4:-}
N=${5:-0}
RUN=$(dirname "$CK")
PY=.venv/bin/python
PKG=packages/$NAME
# The shipped weights are the slim checkpoint's (fp16 values), evaluated and exported as they
# are, so that storing the graph's weights as fp16 (compact.py) loses nothing. The slim
# checkpoint stays beside the run, out of git: the package holds the weights (see ship.sh).
$PY -m model.packaging.slim "$CK" "$RUN/slim.pt"
CK=$RUN/slim.pt
SAMPLER=(${G:+--guidance=$G} ${S:+--time_shift=$S} ${GI:+--guidance_interval=$GI})
# Ranking every caption for an image takes seconds on a CPU: RANK_N of the held-out images (default 150).
$PY -m model.evaluation.eval_corpus --ckpt="$CK" --corpus="$CORPUS" --split=eval --out="$RUN/eval" --rank_n="${RANK_N:-150}" "${SAMPLER[@]}"
if [ "${CONVERSATIONS:-0}" = 1 ]; then
  # A conversation-trained model (train.py --conversations=corpus): restyles, every style,
  # second turns and refusals on the evaluation split (fluent scored here once), merged into
  # the package's eval.json beside draw and describe; the restyle picture for the docs.
  $PY -m model.evaluation.eval_emoji_conversations --ckpt="$CK" --corpus="$CORPUS" --split=eval \
    ${G:+--guidance=$G} --out="$RUN/eval-conversations"
  $PY - "$RUN/eval/results.json" "$RUN/eval-conversations/results.json" <<'PYEOF'
import json, sys
results = json.load(open(sys.argv[1]))
results["conversations"] = json.load(open(sys.argv[2]))
json.dump(results, open(sys.argv[1], "w"), indent=2)
PYEOF
  mkdir -p docs/images
  cp "$RUN/eval-conversations/restyles.png" "docs/images/$NAME-restyles.png"
fi
$PY -m model.packaging.export --ckpt="$CK" --out="$PKG" --name="$NAME" ${CARD:+--card="$CARD"} --eval_json="$RUN/eval/results.json" \
  ${G:+--default_guidance=$G} ${S:+--time_shift=$S} ${GI:+--guidance_interval=$GI}
# Cheaper CPU graphs, then whether int8 holds quality on the evaluation cells (recorded in the
# manifest; the runtime defaults to int8 on the CPU only if it did). See ship.sh for why the
# output projections stay fp32.
$PY -m model.packaging.quantize "$PKG" --no-fp32-denoise --keep-fp32 'out/MatMul'
$PY -m model.packaging.compact "$PKG"
$PY -m model.evaluation.eval_corpus --package="$PKG" --corpus="$CORPUS" --precision=fp32,int8 --split=eval --n="$N" --record \
  --out="$RUN/eval-int8"
# Pictures for the docs: the four figures against training time (baselines from the
# evaluation above, dashed) and the evaluation's sample grid.
mkdir -p docs/images
$PY - "$CK" "$RUN/eval/results.json" "docs/images/$NAME-learning-curve.png" <<'PYEOF'
import json, sys
import torch
from model.evaluation.plots import corpus_learning_curve
ck = torch.load(sys.argv[1], weights_only=False, map_location="cpu")
r = json.load(open(sys.argv[2]))["results"]
base = {"describe_heldout_greedy": r["describe_heldout_baseline_top1"]["accuracy"],
        "draw_heldout_top5": r["draw_heldout_copy_top5"]["accuracy"]}
corpus_learning_curve(ck["history"], sys.argv[3], base)
PYEOF
cp "$RUN/eval/samples.png" "docs/images/$NAME-samples.png"
