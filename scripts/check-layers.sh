#!/usr/bin/env bash
# Enforces the include rules of docs/architecture.md: lower layers never include the
# headers of higher layers or of protocol/storage libraries they must not know about.
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
check() {  # check <folder> <forbidden regex> <why>
  local hits
  hits=$(grep -rnE "^#include [<\"]($2)" "src/$1" 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layer rule broken in src/$1 ($3):"
    echo "$hits"
    fail=1
  fi
}
check domain "boost/|sqlite3|openssl/|libpq|http/|store/|services/|agent/|runs/|providers/|auth/" \
  "domain is plain C++"
check services "boost/|sqlite3|openssl/|http/|agent/|runs/|providers/|store/sqlite/" \
  "services reach storage only through store/repo.h"
check store "http/|services/|agent/|runs/|providers/|auth/" "store knows nothing above it"
check auth "http/|services/|agent/|runs/|providers/|store/" "auth is self-contained"
check providers "http/|services/|agent/|runs/|store/|sqlite3" "providers speak HTTP to models only"
check agent "http/|runs/|sqlite3|store/sqlite/|boost/beast" "agent is below runs and http"
check runs "http/|sqlite3|store/sqlite/|boost/beast" "runs is below http"
check views "http/|sqlite3|store/|services/|agent/|runs/|providers/|realtime/" \
  "views only render domain documents"
check realtime "http/|sqlite3|store/sqlite/|boost/beast|agent/|runs/|providers/" \
  "realtime speaks the sync protocol over services and the store interface, not over sockets"
[ $fail -eq 0 ] && echo "layer rules hold"
exit $fail
