#!/usr/bin/env bash
# `make bench`: runs the benchmarks that compare Polaris with a baseline measured in the same
# run on the same machine, and writes their results into docs/benchmarks.md between
# `<!-- make bench: begin -->` and `<!-- make bench: end -->` (appended at the end the first
# time; everything outside the markers is left as it is).
#
#   bash bench/run-all.sh            # the full run (~5-7 minutes on 2 cores)
#   BENCH_QUICK=1 bash bench/run-all.sh   # short runs, for trying the scripts (noisier)
#   BENCH_ONLY="http stream" bash bench/run-all.sh   # a subset: http stream store abuse
#   BENCH_NO_WRITE=1 ...             # print the section, leave docs/benchmarks.md alone
#
# Needs build/polaris (make build). Installs what is missing: wrk (apt), the baselines
# (bench/CMakeLists.txt -> build-bench/, -O2, -j1), the npm packages of bench/ (npm ci, pinned
# by bench/package-lock.json; the gateway's install scripts are skipped) and the gateway's
# streaming patch (bench/patch-portkey.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${POLARIS_BIN:-$ROOT/build/polaris}
[ -x "$BIN" ] || { echo "run-all: $BIN not found: run make build first" >&2; exit 1; }
export POLARIS_BIN=$BIN
started=$(date +%s)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

# The abuse run holds ~12,000 sockets in one process.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! command -v wrk >/dev/null 2>&1; then
  echo "run-all: installing wrk"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wrk
fi

echo "run-all: building the baselines (build-bench/)"
cmake -S bench -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j1 >/dev/null

echo "run-all: npm ci in bench/"
(cd bench && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
node bench/patch-portkey.mjs

LOGS=$ROOT/build-bench/logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
ONLY=${BENCH_ONLY:-http stream store abuse}
if [ -n "${BENCH_QUICK:-}" ]; then
  HTTP_ARGS="--seconds 3 --rounds 1"; STREAM_ARGS="--rounds 2 --burst 500"
  STORE_ARGS="--seconds 4 --rounds 1 --conversations 1024"; ABUSE_ARGS="--idle 2000 --attack 12 --baseline 4 --after 4 --cap 3000"
else
  HTTP_ARGS="--seconds 10 --rounds 2"; STREAM_ARGS="--rounds 5"
  STORE_ARGS="--seconds 10 --rounds 2"; ABUSE_ARGS="--idle 10000 --attack 40"
fi
declare -A SCRIPT=([http]=http_ceiling [stream]=stream_relay [store]=store_rate [abuse]=abuse_mix)
declare -A ARGS=([http]=$HTTP_ARGS [stream]=$STREAM_ARGS [store]=$STORE_ARGS [abuse]=$ABUSE_ARGS)
status=0
for b in $ONLY; do
  s=${SCRIPT[$b]:-}
  [ -n "$s" ] || { echo "run-all: unknown benchmark $b (http stream store abuse)" >&2; exit 2; }
  echo "run-all: $b: node bench/$s.mjs ${ARGS[$b]}"
  t0=$(date +%s)
  # shellcheck disable=SC2086
  if BENCH_MD=$LOGS/$b.md node "bench/$s.mjs" ${ARGS[$b]} >"$LOGS/$b.out" 2>"$LOGS/$b.err"; then
    echo "run-all: $b done in $(( $(date +%s) - t0 )) s"
  else
    rc=$?
    status=1
    echo "run-all: $b FAILED (exit $rc); see $LOGS/$b.err" >&2
    tail -20 "$LOGS/$b.err" >&2 || true
    { echo "### $b: FAILED"; echo; echo "\`node bench/$s.mjs ${ARGS[$b]}\` failed; the last lines of its error output:"; echo; echo '```'; tail -15 "$LOGS/$b.err"; echo '```'; echo; } >"$LOGS/$b.md"
  fi
  echo "node bench/$s.mjs ${ARGS[$b]}" >"$LOGS/$b.cmd"
done

BENCH_LOGS=$LOGS BENCH_ONLY_RAN="$ONLY" BENCH_SECONDS=$(( $(date +%s) - started )) \
  BENCH_LOAD_AT_START="$load_at_start" BENCH_QUICK="${BENCH_QUICK:-}" \
  node bench/write_results.mjs
exit $status
