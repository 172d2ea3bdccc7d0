#!/usr/bin/env bash
# Enforces the include rules of docs/architecture.md as an allow-list: each layer (a folder of
# src/) names the project headers and the libraries it may include; anything else fails.
# The C and C++ standard library is allowed everywhere (<string>, <sys/...>, <unistd.h>, ...).
set -uo pipefail
cd "$(dirname "$0")/.."

# The store's interface, the only part of store/ the layers above it may see.
STORE_API="store/repo.h store/store.h store/store_client.h"
# Third-party headers that are not the standard library.
THIRD_PARTY='^(boost/|openssl/|CLI/|gtest/|utf8proc\.h$|sqlite3\.h$|libpq-fe\.h$)'

fail=0
# allow <layer> "<project prefixes>" "<library regex, or - for none>" "<why>"
# A project prefix ending in / allows a folder; otherwise one header.
allow() {
  local layer=$1 project=$2 libs=$3 why=$4 file line header ok p
  while IFS= read -r file; do
    while IFS= read -r line; do
      header=$(sed -E 's/^#include [<"]([^>"]+)[>"].*/\1/' <<<"$line")
      if [[ $line == '#include "'* ]]; then
        ok=0
        for p in $project; do
          if [[ $p == */ && $header == "$p"* ]] || [[ $header == "$p" ]]; then ok=1; fi
        done
      elif [[ $header =~ $THIRD_PARTY ]]; then
        ok=0
        if [[ $libs != - && $header =~ $libs ]]; then ok=1; fi
      else
        ok=1  # the standard library
      fi
      if [ $ok -eq 0 ]; then
        echo "layer rule broken: $file includes $header ($why)"
        fail=1
      fi
    done < <(grep -E '^#include [<"]' "$file")
  done < <(find "src/$layer" -name '*.h' -o -name '*.cpp' | grep "^src/$layer/")
}

allow domain "domain/" '^utf8proc\.h$' "domain is plain C++"
allow json "json/" '^boost/json' "json reads untrusted JSON, nothing else"
allow auth "auth/ domain/ json/" '^(boost/json|openssl/)' "auth is self-contained"
allow metrics "metrics/ domain/" - "metrics only counts"
allow views "views/ domain/" '^boost/json' "views only render domain documents"
allow store "store/ domain/ cli/options.h" '^(boost/(json|asio)|openssl/|sqlite3\.h$|libpq-fe\.h$)' \
  "store knows nothing above it"
allow services "services/ domain/ $STORE_API" - \
  "services reach storage only through the store interface"
allow providers "providers/ domain/ json/ metrics/" '^boost/(asio|beast|json|url|system)' \
  "providers speak HTTP to models only"
allow agent "agent/ providers/ services/ domain/ json/ $STORE_API" '^boost/(asio|json)' \
  "agent is below runs and http"
allow runs "runs/ agent/ providers/ domain/ metrics/ $STORE_API" '^boost/asio' "runs is below http"
allow app "app/ runs/ agent/ providers/ services/ domain/ $STORE_API" '^boost/(asio|json)' \
  "app holds the use cases: below http, above runs"
allow realtime "realtime/ services/ views/ domain/ json/ auth/ metrics/ $STORE_API" '^boost/(asio|json)' \
  "realtime speaks the sync protocol over services and the store interface, not over sockets"
allow cli "cli/ domain/ store/migrate/db_url.h" '^CLI/' "cli parses the command line"
allow mockllm "mockllm/ http/ domain/ json/ auth/ providers/" '^boost/' "the mock provider is a test tool"
allow http "http/ app/ auth/ domain/ json/ metrics/ realtime/ services/ views/ $STORE_API" \
  '^boost/' "http wires the layers below it, never a store implementation"
[ $fail -eq 0 ] && echo "layer rules hold"
exit $fail
