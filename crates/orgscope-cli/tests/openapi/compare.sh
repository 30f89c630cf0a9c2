#!/usr/bin/env bash
# orgscope vs Spectral (tests/openapi/spectral.yaml), in one run on the same documents: findings
# per rule, Spectral's findings that orgscope also reports (same file and line), and wall time,
# interleaved (orgscope, Spectral, orgscope, Spectral…). Release build; figures in docs/openapi.md.
# Usage: compare.sh [ROUNDS]   (default 3; the time is the median)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
bash crates/orgscope-cli/tests/openapi/setup.sh
cargo build --release --quiet -p orgscope-cli
rounds=${1:-3}
nm=target/openapi-docs/node_modules
out=target/openapi-compare
mkdir -p "$out"
docs=(
  "$nm/@octokit/openapi/generated/api.github.com.json"
  "$nm/@directus/specs/dist/openapi.json"
  "$nm/@blockfrost/openapi/openapi.yaml"
)
for doc in "${docs[@]}"; do
  name=$(basename "$(dirname "$doc")")-$(basename "$doc")
  : > "$out/$name.times"
  for _ in $(seq "$rounds"); do
    s=$(date +%s.%N)
    target/release/orgscope lint openapi --format json "$doc" > "$out/$name.orgscope.jsonl" || true
    m=$(date +%s.%N)
    "$nm/.bin/spectral" lint -q -r crates/orgscope-cli/tests/openapi/spectral.yaml -f json \
      -o "$out/$name.spectral.json" "$doc" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    echo "$s $m $e" >> "$out/$name.times"
  done
  python3 - "$out/$name" "$doc" <<'PY'
import json, sys, statistics, collections
base, doc = sys.argv[1], sys.argv[2]
times = [tuple(map(float, l.split())) for l in open(base + ".times")]
o_t = statistics.median(m - s for s, m, e in times)
s_t = statistics.median(e - m for s, m, e in times)
ours = [json.loads(l) for l in open(base + ".orgscope.jsonl")]
theirs = json.load(open(base + ".spectral.json"))
# Spectral's lines are 0-based.
ours_lines = {r["line"] for r in ours}
covered = sum(1 for t in theirs if t["range"]["start"]["line"] + 1 in ours_lines)
print(f"{doc}")
print(f"  orgscope: {len(ours)} findings {dict(collections.Counter(r['code'] for r in ours))}, {o_t:.3f} s")
print(f"  spectral: {len(theirs)} findings {dict(collections.Counter(t['code'] for t in theirs))}, {s_t:.3f} s")
print(f"  spectral findings also reported by orgscope (same line): {covered}/{len(theirs)}; speed-up {s_t / o_t:.1f}x")
for t in theirs:
    if t["range"]["start"]["line"] + 1 not in ours_lines:
        print(f"    only spectral: line {t['range']['start']['line'] + 1} {t['code']}")
PY
done
