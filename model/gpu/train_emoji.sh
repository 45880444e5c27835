#!/usr/bin/env bash
# One prepared GPU run: emoji64 trained on from its shipped package, at batch 256 on one GPU
# for MINUTES, then scored on validation as on the CPU; the figures, the log and the slim
# checkpoint (in 15 MB parts: the device tool brings back files of 16 MiB at most) land in
# $OUT. The model keeps its size: the package must stay under 30 MB.
#   TASK=draws (default, issue 11): drawing and describing, scored by eval_corpus.py.
#   TASK=conversations (issue 27): the conversation mix of model/data/emoji_dialogues.py (restyle,
#     every style, several turns, refusals) with the recipe of docs/conversations.md's CPU runs,
#     scored by eval_emoji_conversations.py and eval_corpus.py (draws must stay within 2 points).
#   here:   model/gpu/pack.sh                  (conversations: model/gpu/pack.sh CORE CORE+OUTLINE)
#   there:  run(command="bash model/gpu/train_emoji.sh", carry=[".gpu"], timeout_s=600)
#   back:   cat <files_at>/slim.pt.part-* > model/runs/gpu/slim.pt, then model/ship_corpus.sh as usual
# A dry run on a CPU checks the script end to end in a few minutes:
#   OUT=/tmp/gpu-out DEVICE=cpu MINUTES=0.5 WORKERS=1 BATCH=16 EVAL_N=8 PY=.venv/bin/python model/gpu/train_emoji.sh
#   (conversations: TASK=conversations, and EVAL_N also sizes its sets)
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD/.gpu/pylib${PYTHONPATH:+:$PYTHONPATH}"   # tyro, packed by pack.sh
OUT=${OUT:?set OUT to a folder for the results}
MINUTES=${MINUTES:-6}
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
RUN=/tmp/emoji-gpu
CORPUS=.gpu/corpus/emoji-core.jsonl   # the draws' corpus, and the one every evaluation reads
TASK=${TASK:-draws}
case $TASK in
  draws) TRAIN_CORPUS=$CORPUS
    TASK_FLAGS=(--draw_fraction=0.85 --augment_fraction=0.5 --ema_decay=0.9995 --lr=1e-3) ;;
  # OpenMoji's outline style is a restyle source only; the top noise levels for the answers an
  # earlier image or words decide, and a quarter of the draws (docs/conversations.md)
  conversations) TRAIN_CORPUS=.gpu/corpus/emoji-core+outline.jsonl
    TASK_FLAGS=(--conversations=corpus --augmentation=parts --augment_fraction=0.6 --length_buckets=2
      --ema_decay=0.998 --lr=4e-4 --high_noise_from=0.7 --high_noise_share=0.75 --high_noise_draw_share=0.25
      --rollout_fraction=0.75 --rollout_guided=true) ;;
  *) echo "TASK=$TASK: draws or conversations" >&2; exit 2 ;;
esac
[ -f "$TRAIN_CORPUS" ] || { echo "no $TRAIN_CORPUS: pack it first (model/gpu/pack.sh)" >&2; exit 1; }
[ "$DEVICE" = cpu ] || nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
rm -rf $RUN
# STEPS more steps (MINUTES caps them) from the shipped package's: a warm restart, the learning
# rate scaled for 8 times the CPU's batch of 32 (about sqrt(8) x 4e-4), a cosine to a tenth of it
INIT=.gpu/emoji64.pt   # packages/emoji64's weights, written by pack.sh
START=$($PY -c 'import sys, torch; print(torch.load(sys.argv[1], map_location="cpu", weights_only=False)["step"])' $INIT)
END=$((START + ${STEPS:-8000}))
$PY -m model.train --device="$DEVICE" --loader_workers="${WORKERS:-12}" --out_dir=$RUN --init_from=$INIT \
  --corpus="$TRAIN_CORPUS" --batch_size="${BATCH:-256}" "${TASK_FLAGS[@]}" --lr_decay_start=$START \
  --lr_decay_steps=$END --max_steps=$END --minutes="$MINUTES" --eval_every=2000 --ckpt_every=1000 --eval_n=64 \
  > "$OUT/train.log" 2>&1 || { tail -c 4000 "$OUT/train.log"; exit 1; }
grep -a "^step\|stopped at\|model:" "$OUT/train.log" | tail -20 || true
cp $RUN/log.jsonl "$OUT/"
$PY -m model.packaging.slim $RUN/ckpt.pt $RUN/slim.pt
split -b 15M $RUN/slim.pt "$OUT/slim.pt.part-"
if [ "$TASK" = conversations ]; then
  # Validation only: the evaluation split and fluent are scored once, for a candidate to ship.
  $PY -m model.evaluation.eval_emoji_conversations --ckpt=$RUN/slim.pt --corpus=$CORPUS --split=val \
    --n_every="${EVAL_N:-40}" --n_refusals="${EVAL_N:-200}" --out="$OUT/conversations"
  $PY -m model.evaluation.eval_corpus --device="$DEVICE" --ckpt=$RUN/slim.pt --corpus=$CORPUS --split=val \
    --n="${EVAL_N:-200}" --no_rank --out="$OUT/eval"
else
  $PY -m model.evaluation.eval_corpus --device="$DEVICE" --ckpt=$RUN/slim.pt --corpus=$CORPUS --n="${EVAL_N:-200}" \
    --rank_n="${EVAL_N:-150}" --out="$OUT/eval"
fi
