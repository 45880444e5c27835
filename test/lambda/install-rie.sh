#!/usr/bin/env bash
# Builds AWS's Lambda Runtime Interface Emulator (the Go module, pinned) into the git-ignored
# .cache/lambda-rie/bin/ for the edge's Lambda test (test/lambda/). Idempotent: a second run
# only checks the version stamp. Needs `go` (the module comes from the Go module proxy).
#   test/lambda/install-rie.sh      prints the binary's path
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The module publishes no tagged release that the proxy serves: a pseudo-version of main
# (2026-10-30), the one the tests were written against.
RIE_VERSION="${RIE_VERSION:-v0.0.0-20261030222936-bef5c4ba774d}"
BIN_DIR="$ROOT/.cache/lambda-rie/bin"
BIN="$BIN_DIR/aws-lambda-rie"
STAMP="$BIN_DIR/aws-lambda-rie.version"

if [[ -x "$BIN" && "$(cat "$STAMP" 2>/dev/null)" == "$RIE_VERSION" ]]; then
  echo "$BIN"
  exit 0
fi
command -v go >/dev/null || { echo "install-rie.sh: go is not installed; the Lambda emulator cannot be built" >&2; exit 3; }
echo "install-rie.sh: building aws-lambda-rie $RIE_VERSION (go install, about a minute)" >&2
mkdir -p "$BIN_DIR"
GOBIN="$BIN_DIR" GOFLAGS=-mod=mod nice go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIE_VERSION" >&2
echo "$RIE_VERSION" >"$STAMP"
echo "$BIN"
