#!/usr/bin/env bash
# Smoke test of the worker image on a machine with an NVIDIA GPU, Docker and the NVIDIA
# container toolkit (`docker run --gpus all` works). Run from anywhere in the repository:
#
#   gpu-worker/smoke-gpu.sh [--models packages/shapes64[,packages/emoji64]] [--sizes 1,4,16,64] [--no-build]
#   (the steps are timed and the draw made on the first, the default model)
#
# 1. builds the image exactly as `cdk deploy` does (gpu-worker/Dockerfile, repository root as
#    context); the build itself fails when a CUDA library of the provider is missing;
# 2. times one guided denoising step against batch size inside the image, on the GPU
#    (dist/smoke.mjs steps: the table, then one JSON line);
# 3. starts the worker (EXECUTION_PROVIDER=cuda, embedded SQLite queue and file store in a
#    temporary folder mounted at /data), waits for it to be healthy, submits one draw
#    (dist/smoke.mjs draw, what the edge does) and waits for the PNG; copies it out.
# Exit status 0 only when every step passed. Nothing is pushed anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

model=packages/shapes64
sizes=1,4,16,64
build=1
image=unified-model-worker:smoke
while [ $# -gt 0 ]; do
  case "$1" in
    --model|--models) model="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --image) image="$2"; shift 2 ;;
    *) echo "usage: $0 [--models DIR[,DIR...]] [--sizes 1,4,16,64] [--no-build] [--image NAME:TAG]" >&2; exit 2 ;;
  esac
done

say() { printf '\n== %s\n' "$*"; }
command -v docker >/dev/null || { echo "smoke-gpu: docker not found" >&2; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

if [ "$build" = 1 ]; then
  say "build $image (MODELS=$model)"
  docker build --platform linux/amd64 -f gpu-worker/Dockerfile --build-arg "MODELS=$model" -t "$image" .
fi

say "denoising step time against batch size (batches of $sizes jobs, 2 rows each: guided)"
# The image defaults to S3 and SQS, which this timing never touches: the embedded back ends keep
# the configuration check quiet.
docker run --rm --gpus all -e STORE=file -e QUEUE=sqlite --entrypoint node "$image" dist/smoke.mjs steps "--sizes=$sizes"

say "one draw through the worker"
data="$(mktemp -d)"
chmod 0777 "$data"   # the image runs as uid 10001
name="smoke-worker-$$"
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
docker run -d --name "$name" --gpus all -v "$data:/data" \
  -e STORE=file -e QUEUE=sqlite -e WORKER_MAX_BATCH=auto -e LOG_LEVEL=info "$image" >/dev/null

# Healthy once the model is loaded on the GPU and the loop runs (the image's HEALTHCHECK).
for _ in $(seq 1 120); do
  state="$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$name")"
  case "$state" in
    "running healthy") break ;;
    exited*) docker logs "$name" >&2; echo "smoke-gpu: the worker exited ($(docker inspect -f '{{.State.ExitCode}}' "$name"))" >&2; exit 1 ;;
  esac
  # Docker probes every 30 s; ask the health endpoint directly in between.
  if docker exec "$name" node -e "fetch('http://127.0.0.1:9091/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; then break; fi
  sleep 2
done
docker logs "$name" 2>&1 | grep -E '"msg":"(worker ready|WORKER_MAX_BATCH=auto: measured)"' || true

result="$(docker exec "$name" node dist/smoke.mjs draw "a large red circle at the top left and a small blue 7 at the bottom right" --timeout=300)"
echo "$result"
key="$(printf '%s' "$result" | tail -n 1 | sed -n 's/.*"images":\["\([^"]*\)".*/\1/p')"
if [ -z "$key" ]; then
  docker logs "$name" >&2
  echo "smoke-gpu: the draw did not succeed" >&2
  exit 1
fi
# The file store keeps a one-line JSON header before each object's body.
tail -n +2 "$data/store/objects/$key" > smoke-draw.png && echo "smoke-gpu: wrote smoke-draw.png ($key)"
docker stop -t 30 "$name" >/dev/null
say "passed"
