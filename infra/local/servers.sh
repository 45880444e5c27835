#!/usr/bin/env bash
# Local S3- and SQS-compatible servers for tests, on 127.0.0.1 only.
#
#   infra/local/servers.sh start    install (cached in .local-servers/), start, wait until ready
#   infra/local/servers.sh stop     stop what start started (by pid file) and remove its data
#   infra/local/servers.sh env      print export lines for the running servers
#   infra/local/servers.sh status   say what runs
#
# S3:  versitygw (posix backend on a temp dir), path-style requests.
# SQS: ElasticMQ (JSON protocol), queue `jobs` (visibility 30 s) redriving to `jobs-dlq`
#      after 3 receives. Tests make their own short-timeout queues beside these.
# Ports: LOCAL_S3_PORT (7070) and LOCAL_SQS_PORT (9324). Every command is idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$ROOT/.local-servers"
RUN="$DIR/run"
VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"
ELASTICMQ_POM="$ROOT/infra/local/elasticmq/pom.xml"
ELASTICMQ_VERSION="$(sed -n 's:.*<elasticmq.version>\(.*\)</elasticmq.version>.*:\1:p' "$ELASTICMQ_POM")"
S3_PORT="${LOCAL_S3_PORT:-7070}"
SQS_PORT="${LOCAL_SQS_PORT:-9324}"
ACCESS_KEY="local-test-access-key"
SECRET_KEY="local-test-secret-key"
REGION="us-east-1"
BUCKET="unified-local"
ACCOUNT="000000000000"
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
READY_TIMEOUT_S="${LOCAL_SERVERS_READY_TIMEOUT_S:-90}"

log() { echo "servers.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
answers() { curl -s -o /dev/null --max-time 2 "$1"; }

wait_ready() { # name url pidfile logfile
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until answers "$2"; do
    alive "$3" || { tail -n 20 "$4" >&2 || true; die "$1 exited before it was ready (log: $4)"; }
    ((SECONDS < deadline)) || { tail -n 20 "$4" >&2 || true; die "$1 not ready after ${READY_TIMEOUT_S}s (log: $4)"; }
    sleep 0.3
  done
}

install_versitygw() {
  local bin="$DIR/bin/versitygw" stamp="$DIR/bin/versitygw.version"
  [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "$VERSITYGW_VERSION" ]] && return
  command -v go >/dev/null || die "go is needed to install versitygw"
  log "installing versitygw $VERSITYGW_VERSION (go install; a few minutes the first time)"
  mkdir -p "$DIR/bin"
  GOBIN="$DIR/bin" nice go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
  echo "$VERSITYGW_VERSION" >"$stamp"
}

install_elasticmq() {
  local lib="$DIR/elasticmq/lib"
  [[ -f "$lib/elasticmq-server_2.13-$ELASTICMQ_VERSION.jar" ]] && return
  command -v mvn >/dev/null || die "mvn is needed to install ElasticMQ"
  command -v java >/dev/null || die "java is needed to run ElasticMQ"
  log "installing ElasticMQ $ELASTICMQ_VERSION (Maven Central)"
  rm -rf "$lib"
  mvn -q -B -f "$ELASTICMQ_POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib" >&2
}

xattrs_work() { # dir: true when the filesystem takes user xattrs (assumed when python3 is absent)
  command -v python3 >/dev/null || return 0
  python3 -c 'import os,sys; p=os.path.join(sys.argv[1],".xattr-probe"); open(p,"w").close(); os.setxattr(p,"user.probe",b"1"); os.remove(p)' "$1" 2>/dev/null
}

start_versitygw() {
  local pid="$RUN/versitygw.pid" logf="$RUN/versitygw.log" url="http://127.0.0.1:$S3_PORT/"
  # A server started from an older version keeps running its binary: replace it (1.8.0 made
  # conditional writes atomic, which the tests rely on).
  if alive "$pid" && [[ "$(cat "$RUN/versitygw.version" 2>/dev/null)" != "$VERSITYGW_VERSION" ]]; then
    log "versitygw running is not $VERSITYGW_VERSION: restarting it"
    stop_one versitygw
    if [[ -f "$RUN/versitygw.data" ]]; then rm -rf "$(cat "$RUN/versitygw.data")"; rm -f "$RUN/versitygw.data"; fi
  fi
  if alive "$pid"; then wait_ready versitygw "$url" "$pid" "$logf"; return; fi
  answers "$url" && die "port $S3_PORT already answers but not for us; set LOCAL_S3_PORT"
  local data
  data="$(mktemp -d "${TMPDIR:-/tmp}/versitygw.XXXXXX")"
  echo "$data" >"$RUN/versitygw.data"
  mkdir -p "$data/gw"
  # Metadata in xattrs is set on the new file before it is renamed in, so a read racing an
  # overwrite stays consistent; a sidecar folder (for filesystems without user xattrs) is not.
  local meta=()
  if ! xattrs_work "$data/gw"; then
    log "warning: $data has no user xattrs; versitygw keeps metadata in a sidecar folder"
    mkdir -p "$data/sidecar"
    meta=(--sidecar "$data/sidecar")
  fi
  setsid "$DIR/bin/versitygw" --port "127.0.0.1:$S3_PORT" --access "$ACCESS_KEY" --secret "$SECRET_KEY" \
    --region "$REGION" --quiet posix "${meta[@]}" "$data/gw" >"$logf" 2>&1 </dev/null 9>&- &
  echo $! >"$pid"
  echo "$VERSITYGW_VERSION" >"$RUN/versitygw.version"
  wait_ready versitygw "$url" "$pid" "$logf"
  # Create the bucket (200 when new; 409 when it exists: both fine).
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:$REGION:s3" \
    --user "$ACCESS_KEY:$SECRET_KEY" -H "x-amz-content-sha256: $EMPTY_SHA256" "http://127.0.0.1:$S3_PORT/$BUCKET")"
  [[ "$code" == 200 || "$code" == 409 ]] || die "could not create bucket $BUCKET (HTTP $code)"
}

start_elasticmq() {
  local pid="$RUN/elasticmq.pid" logf="$RUN/elasticmq.log" url="http://127.0.0.1:$SQS_PORT/"
  if alive "$pid"; then wait_ready elasticmq "$url" "$pid" "$logf"; return; fi
  answers "$url" && die "port $SQS_PORT already answers but not for us; set LOCAL_SQS_PORT"
  sed "s/@PORT@/$SQS_PORT/g" "$ROOT/infra/local/elasticmq/elasticmq.conf.template" >"$RUN/elasticmq.conf"
  # Small heap and C1 only: it starts faster and leaves the two cores to the tests.
  setsid java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dconfig.file="$RUN/elasticmq.conf" \
    -cp "$DIR/elasticmq/lib/*" org.elasticmq.server.Main >"$logf" 2>&1 </dev/null 9>&- &
  echo $! >"$pid"
  wait_ready elasticmq "$url" "$pid" "$logf"
}

stop_one() { # name
  local pid="$RUN/$1.pid"
  if alive "$pid"; then
    local p
    p="$(cat "$pid")"
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null || true
    log "stopped $1 (pid $p)"
  fi
  rm -f "$pid"
}

print_env() {
  alive "$RUN/versitygw.pid" && alive "$RUN/elasticmq.pid" || die "servers are not running; run: $0 start"
  cat <<EOF
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=$REGION
export AWS_DEFAULT_REGION=$REGION
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$SQS_PORT
export S3_BUCKET=$BUCKET
export S3_FORCE_PATH_STYLE=true
export SQS_QUEUE_URL=http://127.0.0.1:$SQS_PORT/$ACCOUNT/jobs
export SQS_DLQ_URL=http://127.0.0.1:$SQS_PORT/$ACCOUNT/jobs-dlq
EOF
}

cmd="${1:-}"
mkdir -p "$RUN"
# One command at a time: test files that start the servers in parallel must not race.
# (The servers are started with fd 9 closed, so they never hold this lock.)
exec 9>"$DIR/servers.lock"
flock -w 600 9 || die "another servers.sh holds $DIR/servers.lock"
case "$cmd" in
  start)
    install_versitygw
    install_elasticmq
    start_versitygw
    start_elasticmq
    log "ready: S3 on 127.0.0.1:$S3_PORT, SQS on 127.0.0.1:$SQS_PORT (eval \"\$($0 env)\")"
    ;;
  stop)
    stop_one versitygw
    stop_one elasticmq
    if [[ -f "$RUN/versitygw.data" ]]; then rm -rf "$(cat "$RUN/versitygw.data")"; rm -f "$RUN/versitygw.data"; fi
    ;;
  env) print_env ;;
  status)
    for s in versitygw elasticmq; do
      if alive "$RUN/$s.pid"; then echo "$s: running (pid $(cat "$RUN/$s.pid"))"; else echo "$s: stopped"; fi
    done
    ;;
  *) die "usage: $0 start|stop|env|status" ;;
esac
