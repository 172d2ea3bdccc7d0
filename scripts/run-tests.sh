#!/usr/bin/env bash
# Runs every suite against the binaries in build dir $1: unit tests (ctest) and the black-box
# suites that start the real binary on free ports.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
status=0
echo "== layer rules"
bash scripts/check-layers.sh || status=1
echo "== unit tests"
ctest --test-dir "$build" --output-on-failure --no-tests=error -j2 || status=1
echo "== end-to-end, Convex-client and fault tests (npm ci in tests/convex: the official client)"
(cd tests/convex && npm ci --no-audit --no-fund --loglevel=error) || status=1
POLARIS_BIN="$PWD/$build/polaris" node --test --test-concurrency=2 tests/e2e/ tests/convex/ tests/faults/ \
  || status=1
echo "== end-to-end tests again, on PostgreSQL (a throwaway cluster)"
# Under /tmp: the server runs as the postgres user, who may not reach into this checkout.
pg_dir=$(mktemp -d /tmp/polaris-pg.XXXXXX)
trap 'bash scripts/pg-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true; rm -rf "$pg_dir"' EXIT
if pg_uri=$(bash scripts/pg-cluster.sh start "$pg_dir"); then
  POLARIS_TEST_PG_URI="$pg_uri" "$build/polaris_store_tests" --gtest_filter='*Postgres*:*PgStore*' || status=1
  POLARIS_TEST_PG_URI="$pg_uri" POLARIS_TEST_PG_DIR="$pg_dir" POLARIS_BIN="$PWD/$build/polaris" \
    node --test --test-concurrency=2 tests/e2e/ tests/convex/ tests/faults/ || status=1
  echo "== the database restarts under load (stops the shared cluster: run alone)"
  POLARIS_TEST_PG_URI="$pg_uri" POLARIS_TEST_PG_DIR="$pg_dir" POLARIS_BIN="$PWD/$build/polaris" \
    node --test --test-concurrency=1 tests/pg_restart/ || status=1
else
  echo "could not start the PostgreSQL cluster"
  status=1
fi
bash scripts/pg-cluster.sh stop "$pg_dir" || true
echo "== web page: type check"
(cd web && npx tsc --noEmit -p .) || status=1
echo "== web page in Chromium (playwright-core, Debian's chromium)"
(cd tests/web && npm ci --no-audit --no-fund --loglevel=error) || status=1
POLARIS_BIN="$PWD/$build/polaris" SCREENSHOT_DIR="$PWD/$build/web-screenshots" \
  node --test --test-concurrency=1 tests/web/ || status=1
if [ -n "${POLARIS_FUZZ_SECONDS:-}" ]; then
  echo "== fuzz smoke: every libFuzzer target for ${POLARIS_FUZZ_SECONDS} s (clang build in build-fuzz)"
  FUZZ_JOBS=2 bash scripts/run-fuzz.sh "$POLARIS_FUZZ_SECONDS" || status=1
fi
exit $status
