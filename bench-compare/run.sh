#!/usr/bin/env bash
# Reproduces docs/performance.md: the machine, orgscope vs Cedar vs regorus (one criterion run,
# engines asserted to agree first), `orgscope eval` NDJSON batches (throughput and peak RSS),
# and policy load times. Writes everything to $OUT/results.md and prints it.
#
#   bench-compare/run.sh                    # everything (about 10–15 minutes on 2 cores)
#   BATCH_LINES="1000000" bench-compare/run.sh   # smaller batch only
#   SKIP_BATCH=1 SKIP_LOAD=1 bench-compare/run.sh   # decisions only
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/), OUT (default
# /tmp/orgscope-bench), BATCH_LINES (default "1000000 10000000"; files go to $OUT, never the
# repository), BENCH_SECS / BENCH_SAMPLES (criterion measurement per benchmark).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-/tmp/orgscope-bench}
BATCH_LINES=${BATCH_LINES:-"1000000 10000000"}
mkdir -p "$OUT"
RESULTS=$OUT/results.md
: >"$RESULTS"
say() { echo "$@" | tee -a "$RESULTS"; }

say "## Machine"
say ""
say '```text'
say "date:  $(date -u +%Y-%m-%dT%H:%MZ)"
say "rev:   $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
say "rustc: $(rustc --version)"
say "nproc: $(nproc)"
lscpu | head -n 15 | tee -a "$RESULTS"
say "load:  $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before the run"
say '```'

echo "== build (release): orgscope binary, bench-compare binaries and benchmark" >&2
# The orgscope binary is built on its own, as users get it (the benchmark binary also links
# cedar and regorus, which turn on serde_json's `preserve_order` for everything in it).
cargo build --release --quiet -p orgscope --bin orgscope
cargo bench --quiet -p bench-compare --no-run # builds the binaries too
BIN=$CARGO_TARGET_DIR/release

echo "== decisions: one criterion run (agreement asserted first)" >&2
rm -rf "$CARGO_TARGET_DIR/criterion"
cargo bench --quiet -p bench-compare --bench compare 2>&1 | tee "$OUT/criterion.log" >&2
say ""
say "## Decisions: orgscope, Cedar and regorus in one run"
say ""
say "Agreement checked before timing: $(grep -c '^  agree' "$OUT/criterion.log") requests, every engine answered alike."
"$BIN/report" "$CARGO_TARGET_DIR/criterion" | tee -a "$RESULTS"

say ""
say "## Heap allocations per orgscope decision"
say ""
"$BIN/allocs" | tee -a "$RESULTS"

if [ -z "${SKIP_BATCH:-}" ]; then
  echo "== orgscope eval: NDJSON batches" >&2
  say ""
  say "## \`orgscope eval\` NDJSON, end to end"
  say ""
  say "| requests | input size | wall time | requests/s | peak RSS |"
  say "|---:|---:|---:|---:|---:|"
  for n in $BATCH_LINES; do
    f=$OUT/batch-$n.ndjson
    "$BIN/gen_ndjson" "$n" "$f"
    size=$(du -h "$f" | cut -f1)
    # Warm the page cache, then time the evaluation alone (output counted by wc on the other core).
    cat "$f" >/dev/null
    /usr/bin/time -f '%e %M' -o "$OUT/time-$n.txt" \
      "$BIN/orgscope" eval --policy policies/zuora-multi-org.policy "$f" | wc -l >"$OUT/lines-$n.txt"
    read -r secs rss_kb <"$OUT/time-$n.txt"
    lines=$(cat "$OUT/lines-$n.txt")
    [ "$lines" -eq "$n" ] || { echo "expected $n decisions, got $lines" >&2; exit 1; }
    rate=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
    rss=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f MB", k / 1024 }')
    say "| $(printf "%'d" "$n") | $size | ${secs} s | $(printf "%'d" "$rate") | $rss |"
    rm -f "$f"
  done
fi

if [ -z "${SKIP_LOAD:-}" ]; then
  echo "== policy load" >&2
  say ""
  say "## Policy load (parse + check + compile, \`Policy::from_source\`)"
  say ""
  "$BIN/load" 5 | tee -a "$RESULTS"
fi

echo "== results: $RESULTS" >&2
