#!/usr/bin/env bash
# The whole suite against a ThreadSanitizer build ($1). Every process writes its reports to
# files under $1/tsan-reports; any report fails the run, whatever the tests said.
set -uo pipefail
build=${1:-build-tsan}
cd "$(dirname "$0")/.."
reports="$PWD/$build/tsan-reports"
rm -rf "$reports" && mkdir -p "$reports"
export TSAN_OPTIONS="log_path=$reports/tsan second_deadlock_stack=1 history_size=4 suppressions=$PWD/scripts/tsan.supp ${TSAN_OPTIONS:-}"
POLARIS_SANITIZED=1 bash scripts/run-tests.sh "$build"
status=$?
if compgen -G "$reports/tsan.*" >/dev/null; then
  echo "== ThreadSanitizer reports ($(ls "$reports" | wc -l) files):"
  for f in "$reports"/tsan.*; do
    echo "--- $f"
    head -60 "$f"
  done
  status=1
else
  echo "== ThreadSanitizer: no reports"
fi
exit $status
