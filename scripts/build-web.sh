#!/usr/bin/env bash
# Builds the web pages (web/dist, embedded into the binary by CMake) from web/src with the npm
# packages pinned in web/package-lock.json (uPlot and swagger-ui-dist for the pages, esbuild,
# playwright-core for the browser test, and @modelcontextprotocol/sdk for the MCP client test): /ui (index.html) and the API viewer /docs (docs.html). Cheap when nothing changed: `npm ci` runs only when the lockfile is newer than the
# installed tree, the bundle only when a source is newer than web/dist/index.html.
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null 2>&1; then
  echo "build-web: npm is missing (scripts/install-deps.sh build installs nodejs and npm)" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -f dist/index.html ] || [ -n "$(find index.html docs.html favicon.svg build.mjs src package-lock.json -newer dist/index.html | head -n 1)" ]; then
  node build.mjs
fi
