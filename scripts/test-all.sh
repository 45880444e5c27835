#!/usr/bin/env bash
# Every test of the project: the lint of both languages (ruff for Python; biome and knip for TypeScript),
# the model (pytest), the TypeScript services (vitest, including
# the suites against local S3- and SQS-compatible servers, which this script starts and
# stops), and the infrastructure (CDK assertions and cdk-nag).
set -uo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip

status=0
servers_started=0
cleanup() { [ "$servers_started" = 1 ] && bash infra/local/servers.sh stop >/dev/null 2>&1; }
trap cleanup EXIT

echo "== python lint and format (ruff; pyproject.toml configures it)"
.venv/bin/ruff check . || status=1
.venv/bin/ruff format --check . || status=1

echo "== typescript lint and format (biome; biome.jsonc configures it)"
npx biome ci --error-on-warnings || status=1
echo "== unused files, exports and dependencies (knip; knip.jsonc configures it)"
npx knip --no-progress || status=1

echo "== model (pytest)"
.venv/bin/python -m pytest -q model/tests || status=1

if [ -x infra/local/servers.sh ] || [ -f infra/local/servers.sh ]; then
  echo "== local S3/SQS-compatible servers"
  if bash infra/local/servers.sh start; then
    servers_started=1
    eval "$(bash infra/local/servers.sh env)"
  else
    echo "could not start the local S3/SQS servers"; status=1
  fi
fi

echo "== typecheck"
npx tsc -p tsconfig.json || status=1
npx tsc -p edge/playground/tsconfig.json || status=1

echo "== services (vitest)"
npx vitest run || status=1

if [ -f infra/package.json ]; then
  echo "== infra (vitest)"
  (cd infra && npm test) || status=1
fi

exit $status
