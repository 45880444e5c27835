#!/usr/bin/env bash
# One prepared GPU run (issue 11): emoji64 trained on from its shipped package, at batch 256
# on one GPU for MINUTES, then scored as on the CPU (eval_corpus.py); the figures, the log and
# the slim checkpoint (in 15 MB parts: the device tool brings back files of 16 MiB at most)
# land in $OUT. The model keeps its size: the package must stay under 30 MB.
#   here:   model/gpu/pack.sh
#   there:  run(command="bash model/gpu/train_emoji.sh", carry=[".gpu"], timeout_s=600)
#   back:   cat <files_at>/slim.pt.part-* > model/runs/gpu/slim.pt, then model/ship_corpus.sh as usual
# A dry run on a CPU checks the script end to end in a minute:
#   OUT=/tmp/gpu-out DEVICE=cpu MINUTES=0.5 WORKERS=1 BATCH=16 EVAL_N=8 PY=.venv/bin/python model/gpu/train_emoji.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD/.gpu/pylib${PYTHONPATH:+:$PYTHONPATH}"   # tyro, packed by pack.sh
OUT=${OUT:?set OUT to a folder for the results}
MINUTES=${MINUTES:-6}
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
RUN=/tmp/emoji-gpu
CORPUS=.gpu/corpus/emoji-core.jsonl
[ "$DEVICE" = cpu ] || nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
rm -rf $RUN
# STEPS more steps (MINUTES caps them) from the shipped package's: a warm restart, the learning
# rate scaled for 8 times the CPU's batch of 32 (about sqrt(8) x 4e-4), a cosine to a tenth of it
INIT=.gpu/emoji64.pt   # packages/emoji64's weights, written by pack.sh
START=$($PY -c 'import sys, torch; print(torch.load(sys.argv[1], map_location="cpu", weights_only=False)["step"])' $INIT)
END=$((START + ${STEPS:-8000}))
$PY -m model.train --device="$DEVICE" --loader_workers="${WORKERS:-12}" --out_dir=$RUN --init_from=$INIT \
  --corpus=$CORPUS --batch_size="${BATCH:-256}" --draw_fraction=0.85 --augment_fraction=0.5 --ema_decay=0.9995 --lr=1e-3 --lr_decay_start=$START \
  --lr_decay_steps=$END --max_steps=$END --minutes="$MINUTES" --eval_every=2000 --ckpt_every=1000 --eval_n=64 \
  > "$OUT/train.log" 2>&1 || { tail -c 4000 "$OUT/train.log"; exit 1; }
grep -a "^step\|stopped at\|model:" "$OUT/train.log" | tail -20 || true
cp $RUN/log.jsonl "$OUT/"
$PY -m model.packaging.slim $RUN/ckpt.pt $RUN/slim.pt
split -b 15M $RUN/slim.pt "$OUT/slim.pt.part-"
$PY -m model.evaluation.eval_corpus --device="$DEVICE" --ckpt=$RUN/slim.pt --corpus=$CORPUS --n="${EVAL_N:-200}" \
  --rank_n="${EVAL_N:-150}" --out="$OUT/eval"
