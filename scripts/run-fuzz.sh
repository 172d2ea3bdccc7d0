#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/) for SECONDS each, at most two at a time.
#   scripts/run-fuzz.sh SECONDS [target...]      (no target: every one)
# Configures and builds build-fuzz with clang when needed (-DPOLARIS_FUZZ=ON; FUZZ_JOBS build
# jobs, default 1). Each target runs on its own copy of the seed corpus in
# build-fuzz/fuzz-corpus/<target> (seeds from fuzz/corpus/<target> are copied in; the repo's
# corpus is never written), with its dictionary fuzz/dict/<target>.dict when there is one.
# Crashes, leaks, timeouts and OOMs land in build-fuzz/fuzz-artifacts/<target>/; the script
# prints each reproducer and how to replay it, and exits 1 if any target found one.
# Options through the environment: FUZZ_RSS_MB (2048), FUZZ_TIMEOUT (30 s per input),
# FUZZ_PARALLEL (2).
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 SECONDS [target...]" >&2
  exit 2
fi
seconds=$1
shift
all_targets=(fuzz_request_bodies fuzz_http_parser fuzz_sse_stream fuzz_jwt fuzz_paths_tools
             fuzz_sync_session)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  if [[ ! " ${all_targets[*]} " == *" $t "* ]]; then
    echo "unknown fuzz target '$t' (known: ${all_targets[*]})" >&2
    exit 2
  fi
done

build=build-fuzz
rss_mb=${FUZZ_RSS_MB:-2048}
timeout=${FUZZ_TIMEOUT:-30}
parallel=${FUZZ_PARALLEL:-2}

if [[ ! -f $build/build.ninja && ! -f $build/Makefile ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  CC=clang CXX=clang++ cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPOLARIS_FUZZ=ON >/dev/null || exit 1
fi
cmake --build "$build" -j"${FUZZ_JOBS:-1}" --target "${targets[@]}" || exit 1

run_one() {
  local t=$1
  local corpus=$build/fuzz-corpus/$t artifacts=$build/fuzz-artifacts/$t log=$build/fuzz-logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  [[ -d fuzz/corpus/$t ]] && cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
  local dict=()
  [[ -f fuzz/dict/$t.dict ]] && dict=(-dict="fuzz/dict/$t.dict")
  "$build/fuzz/$t" "$corpus" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" \
    -timeout="$timeout" -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
  echo $? >"$log.rc"
}

echo "fuzzing ${targets[*]} for ${seconds}s each, $parallel at a time (logs: $build/fuzz-logs/)"
running=0
for t in "${targets[@]}"; do
  rm -f "$build/fuzz-logs/$t.log.rc"
  run_one "$t" &
  running=$((running + 1))
  if [[ $running -ge $parallel ]]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

status=0
printf '%-22s %10s %12s %8s %8s  %s\n' target runs exec/s cov ft result
for t in "${targets[@]}"; do
  log=$build/fuzz-logs/$t.log
  rc=$(cat "$log.rc" 2>/dev/null || echo "?")
  # The last status line: "#N  DONE  cov: C ft: F ... exec/s: E ..." (or the last pulse).
  line=$(grep -E '^#[0-9]+' "$log" | tail -1)
  runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$line")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$line")
  execs=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
  [[ -z $execs ]] && execs=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$line")
  result=ok
  reproducers=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log")
  if [[ $rc != 0 || -n $reproducers ]]; then
    result="FAILED (exit $rc)"
    status=1
  fi
  printf '%-22s %10s %12s %8s %8s  %s\n' "$t" "${runs:-?}" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
    "$result"
  if [[ $result != ok ]]; then
    grep -E 'ERROR: |SUMMARY: |^fuzz: |deadly signal|Timeout|out-of-memory' "$log" | head -5 |
      sed 's/^/    /'
    for r in $reproducers; do
      echo "    reproducer: $r"
      echo "    replay:     $build/fuzz/$t $r"
    done
    echo "    log:        $log"
  fi
done
exit $status
