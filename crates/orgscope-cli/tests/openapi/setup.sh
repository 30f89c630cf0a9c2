#!/usr/bin/env bash
# What the OpenAPI tests use, installed once (idempotent): the OpenAPI validator (PyPI), and the
# real public API documents and Spectral (npm) in target/openapi-docs, never committed.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
command -v openapi-spec-validator >/dev/null 2>&1 \
  || python3 -m pip install --quiet 'openapi-spec-validator==0.9.0'
dir=target/openapi-docs
# Pinned: the review in docs/openapi.md is of these versions.
pkgs=(@octokit/openapi@23.0.2 @directus/specs@15.2.0 @blockfrost/openapi@0.1.93 @stoplight/spectral-cli@6.16.3)
stamp="$dir/.installed-$(echo "${pkgs[*]}" | cksum | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
  mkdir -p "$dir"
  (cd "$dir" && echo '{"private":true}' > package.json \
    && npm install --no-audit --no-fund --ignore-scripts --loglevel=error "${pkgs[@]}")
  # @octokit/openapi ships every GitHub flavour (385 MB); the tests read api.github.com.json.
  find "$dir/node_modules/@octokit/openapi/generated" -type f ! -name api.github.com.json -delete
  touch "$stamp"
fi
