#!/usr/bin/env bash
# Tests the TextMate grammar: installs the two test dependencies (pinned in package-lock.json)
# when they are missing, then tokenizes the shipped policies, the fixtures and the docs' examples.
# Usage: editors/vscode/test/run.sh [-v]      (from anywhere; needs node >= 18 and npm)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
if [ ! -d node_modules/vscode-textmate ] || [ ! -d node_modules/vscode-oniguruma ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
cd ..
exec node test/tokenize.js "$@"
