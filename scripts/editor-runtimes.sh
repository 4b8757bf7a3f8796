#!/usr/bin/env bash
# Installs the other Node-RED versions the editor tests run on, outside the package's own
# node_modules: <dir>/<name>/node_modules/node-red (and node@22 for Node-RED 5, which needs
# Node >= 22.9). Then: IOTGW_NODE_RED_RUNTIMES=<dir> npm test runs test/editor on each of them
# besides the devDependency's Node-RED.
#   usage: scripts/editor-runtimes.sh <dir>
set -euo pipefail
dir=${1:?usage: scripts/editor-runtimes.sh <dir>}
mkdir -p "$dir"
install() { # <name> <packages...>
  local name=$1; shift
  mkdir -p "$dir/$name"
  [ -f "$dir/$name/package.json" ] || echo '{"private":true}' > "$dir/$name/package.json"
  npm install --prefix "$dir/$name" --no-audit --no-fund --omit=optional --loglevel=error "$@"
}
install node-red-3.1 node-red@3.1.15
install node-red-5.0 node-red@5.0.7 node@22
for d in "$dir"/*/node_modules/node-red; do
  echo "$(node -p "require('$d/package.json').version") in $d"
done
