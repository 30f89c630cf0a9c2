#!/usr/bin/env bash
# Reproduces docs/performance.md in one command, in about 10 minutes once built: the machine;
# orgscope vs Cedar vs regorus (engines asserted to agree, then timed interleaved within each
# round); two threads sharing one Policy; allocations per decision; `orgscope eval` batches
# (one job, two jobs, a serde_json parse floor and one job to /dev/null, interleaved; peak
# memory at two sizes); policy load times; the service under load beside cedar-agent
# (service.sh). Writes everything to $OUT/results.md and prints it.
#
#   bench-compare/run.sh
#   SKIP_BATCH=1 SKIP_LOAD=1 bench-compare/run.sh   # decisions and threads only
#   SKIP_SERVICE=1 bench-compare/run.sh             # without the service load (service.sh)
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/), OUT (default
# /tmp/orgscope-bench), ROUNDS and SAMPLE_MS (decisions: rounds, and ms per engine per round),
# BATCH_LINES (default 1000000: the interleaved throughput runs), BIG_LINES (default 10000000:
# one more run per job count, for peak memory), BATCH_ROUNDS (default 3). Batch files go to
# $OUT, never the repository, and are removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-/tmp/orgscope-bench}
BATCH_LINES=${BATCH_LINES:-1000000}
BIG_LINES=${BIG_LINES:-10000000}
BATCH_ROUNDS=${BATCH_ROUNDS:-3}
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
lscpu | grep -E '^(Architecture|Model name|CPU\(s\)|Thread|Core|Socket|CPU max MHz|L2|L3|Hypervisor)' | tee -a "$RESULTS"
say "load:  $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before the run"
say '```'

echo "== build (release)" >&2
# The orgscope binary and the JSON floor are built on their own, as users get them: the
# benchmark binaries also link cedar and regorus, which turn on serde_json's `preserve_order`.
cargo build --release --quiet -p orgscope-cli --bin orgscope
cargo build --release --quiet -p orgscope --example json_floor
cargo bench --quiet -p orgscope --bench threads --no-run
cargo bench --quiet -p bench-compare --no-run # builds the binaries too
BIN=$CARGO_TARGET_DIR/release

echo "== decisions (agreement asserted first)" >&2
say ""
say "## Decisions: orgscope, Cedar and regorus, interleaved"
say ""
cargo bench --quiet -p bench-compare --bench compare 2>"$OUT/compare.log" | tee -a "$RESULTS"
say ""
say "Agreement checked before timing: $(grep -c '^  agree' "$OUT/compare.log") requests, every engine and input path answered alike."

echo "== threads" >&2
say ""
say "## Two threads sharing one \`Policy\`"
say ""
cargo bench --quiet -p orgscope --bench threads 2>/dev/null | tee -a "$RESULTS"

say ""
say "## Heap allocations per orgscope decision"
say ""
"$BIN/allocs" | tee -a "$RESULTS"

if [ -z "${SKIP_BATCH:-}" ]; then
  echo "== orgscope eval: NDJSON batches" >&2
  POLICY=policies/zuora-multi-org.policy
  # One timed run of a command printing EXPECT lines (counted on the other core, never
  # stored): sets SECS and RSS_KB.
  timed() {
    local expect=$1
    shift
    /usr/bin/time -f '%e %M' -o "$OUT/time.txt" "$@" | wc -l >"$OUT/count.txt"
    [ "$(cat "$OUT/count.txt")" -eq "$expect" ] || {
      echo "expected $expect lines from $*, got $(cat "$OUT/count.txt")" >&2
      exit 1
    }
    read -r SECS RSS_KB <"$OUT/time.txt"
  }
  rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
  f=$OUT/batch-$BATCH_LINES.ndjson
  "$BIN/gen_ndjson" "$BATCH_LINES" "$f"
  cat "$f" >/dev/null
  say ""
  say "## \`orgscope eval\` NDJSON, end to end"
  say ""
  say "$BATCH_LINES requests ($(du -h "$f" | cut -f1)), $BATCH_ROUNDS rounds; in each, one job, two jobs and the JSON floor (\`serde_json::Value\` per line, nothing else) run back to back; the output is counted by \`wc -l\` through a pipe. The last columns run one job once more, its decisions written to \`/dev/null\`: the evaluation without the kernel's copy into the pipe, which the floor, writing nothing, never pays."
  say ""
  say "| round | 1 job | 2 jobs | JSON floor | 1 job ÷ floor | 2 jobs ÷ 1 job | 1 job, to /dev/null | ÷ floor |"
  say "|---:|---:|---:|---:|---:|---:|---:|---:|"
  for r in $(seq 1 "$BATCH_ROUNDS"); do
    timed "$BATCH_LINES" "$BIN/orgscope" eval --policy $POLICY "$f"
    s1=$SECS
    timed "$BATCH_LINES" "$BIN/orgscope" eval --jobs 2 --policy $POLICY "$f"
    s2=$SECS
    timed 1 "$BIN/examples/json_floor" "$f"
    sf=$SECS
    /usr/bin/time -f '%e %M' -o "$OUT/time.txt" "$BIN/orgscope" eval --policy $POLICY "$f" >/dev/null
    read -r sn _ <"$OUT/time.txt"
    r1=$(rate "$BATCH_LINES" "$s1")
    r2=$(rate "$BATCH_LINES" "$s2")
    rf=$(rate "$BATCH_LINES" "$sf")
    rn=$(rate "$BATCH_LINES" "$sn")
    say "| $r | $(printf "%'d" "$r1")/s | $(printf "%'d" "$r2")/s | $(printf "%'d" "$rf")/s | $(awk -v a="$r1" -v b="$rf" 'BEGIN { printf "%.2f×", a / b }') | $(awk -v a="$r2" -v b="$r1" 'BEGIN { printf "%.2f×", a / b }') | $(printf "%'d" "$rn")/s | $(awk -v a="$rn" -v b="$rf" 'BEGIN { printf "%.2f×", a / b }') |"
  done
  say ""
  say "Peak memory (maximum resident set):"
  say ""
  say "| requests | input size | 1 job | 2 jobs |"
  say "|---:|---:|---:|---:|"
  for n in "$BATCH_LINES" "$BIG_LINES"; do
    g=$OUT/batch-$n.ndjson
    [ -f "$g" ] || "$BIN/gen_ndjson" "$n" "$g"
    timed "$n" "$BIN/orgscope" eval --policy $POLICY "$g"
    m1=$RSS_KB
    timed "$n" "$BIN/orgscope" eval --jobs 2 --policy $POLICY "$g"
    m2=$RSS_KB
    say "| $(printf "%'d" "$n") | $(du -h "$g" | cut -f1) | $(awk -v k="$m1" 'BEGIN { printf "%.1f MB", k / 1024 }') | $(awk -v k="$m2" 'BEGIN { printf "%.1f MB", k / 1024 }') |"
    rm -f "$g"
  done
  rm -f "$OUT/count.txt" "$OUT/time.txt"
fi

if [ -z "${SKIP_LOAD:-}" ]; then
  echo "== policy load" >&2
  say ""
  say "## Policy load (parse + check + compile, \`Policy::from_source\`)"
  say ""
  "$BIN/load" 5 | tee -a "$RESULTS"
fi

if [ -z "${SKIP_SERVICE:-}" ]; then
  echo "== the service under load (bench-compare/service.sh)" >&2
  RESULTS=$RESULTS OUT=$OUT bench-compare/service.sh
fi

say ""
say "load:  $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) after the run"
echo "== results: $RESULTS" >&2
