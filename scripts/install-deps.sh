#!/usr/bin/env bash
# Installs the Debian packages Polaris needs, only when missing (fresh Debian 12).
#   install-deps.sh run    what building and running the server needs
#   install-deps.sh test   that, and what the test suites need (the default)
set -euo pipefail
what=${1:-test}
pkgs=(g++ cmake ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
      libssl-dev libsqlite3-dev libpq-dev libcli11-dev openssl libutf8proc-dev libmimalloc-dev)
# Node bundles the web page. It may come from elsewhere than Debian (nodesource, nvm): only
# install it when absent.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [ "$what" = test ]; then
  # libgtest-dev: unit tests. postgresql: a throwaway cluster for the PostgreSQL suites.
  # chromium: Debian's browser for the page's tests (playwright-core drives it; none is
  # downloaded). clang + libclang-rt-14-dev: libFuzzer. clang-format: the format check.
  # sqlite3: PRAGMA integrity_check after the crash loop.
  pkgs+=(libgtest-dev postgresql chromium fonts-dejavu-core clang libclang-rt-14-dev clang-format
         sqlite3)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
