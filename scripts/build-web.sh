#!/usr/bin/env bash
# Bundles the web page into OUT: OUT/dist (the files) and OUT/web_assets.cpp (the same files,
# embedded). Installs the page's npm packages from its lockfile first when they are missing or
# older than the lockfile.
set -euo pipefail
out=$1
cd "$(dirname "$0")/../web"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node build.mjs --out "$out/dist" --embed "$out/web_assets.cpp"
