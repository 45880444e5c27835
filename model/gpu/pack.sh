#!/usr/bin/env bash
# Packs what model/gpu/train_emoji.sh needs into .gpu/ (ignored by git, carried to the device
# machine): the emoji corpus's manifests and the images they name (about 10 MB of the 40 MB
# cache for the core), and the shipped package's weights as a .pt file (reading the package
# needs onnx, which the device machine may lack).
#   model/gpu/pack.sh [MANIFEST...]   # default .cache/emoji/corpus/emoji-core.jsonl; TASK=conversations
#                                     # wants emoji-core.jsonl and emoji-core+outline.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -gt 0 ] || set -- .cache/emoji/corpus/emoji-core.jsonl
DST=.gpu/corpus
rm -rf "$DST" && mkdir -p "$DST"
for MANIFEST in "$@"; do
  [ -f "$MANIFEST" ] || { echo "no $MANIFEST: build the corpus first (.venv/bin/python -m model.data.corpus_emoji)" >&2; exit 1; }
  SRC=$(dirname "$MANIFEST")
  cp "$MANIFEST" "$DST/"
  # every image path the manifest names, relative to it, copied with its folders
  .venv/bin/python -c 'import json,sys; [print(json.loads(l)["image"]) for l in open(sys.argv[1]) if l.strip()]' "$MANIFEST" \
    | (cd "$SRC" && xargs cp --parents -t "$OLDPWD/$DST")
  echo "$MANIFEST: $(wc -l < "$MANIFEST") rows"
done
echo "$DST: $(du -sh "$DST" | cut -f1)"
.venv/bin/python -m model.packaging.weights packages/emoji64 .gpu/emoji64.pt
# The device machine reaches no package registry: the pure-Python packages that the commands'
# option parser needs (tyro and what it imports) travel in .gpu/pylib, which train_emoji.sh
# puts on PYTHONPATH.
SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -rf .gpu/pylib && mkdir -p .gpu/pylib
cp -r "$SITE/tyro" "$SITE/docstring_parser" "$SITE/typeguard" "$SITE/typing_extensions.py" .gpu/pylib/
echo ".gpu/pylib: $(du -sh .gpu/pylib | cut -f1) (tyro for the commands' options)"
