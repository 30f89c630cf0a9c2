#!/usr/bin/env bash
# Runs one fuzz target with its dictionary and length limit (docs/fuzzing.md).
#
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
#
# TARGET: policy_check | request_eval | fmt_roundtrip | batch_stream | big_inputs. SECONDS
# defaults to 600.
# The working corpus is fuzz/corpus/TARGET (seeded from fuzz/seeds/TARGET and the repository's
# policies and acceptance requests by fuzz/scripts/corpus.py); crash inputs land in
# fuzz/artifacts/TARGET/; the log in fuzz/artifacts/logs/TARGET.log.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}
secs=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
case $target in
  policy_check | fmt_roundtrip) dict=policy; max_len=8192 ;;
  request_eval) dict=request; max_len=4096 ;;
  batch_stream) dict=request; max_len=16384 ;;
  # Its bytes are structure (op, count, length triples): a few go a long way.
  # Each input expands to up to 2 MB, checked and formatted several times: 10 s is too short.
  big_inputs) dict=; max_len=64; timeout=60 ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
python3 scripts/corpus.py corpus >/dev/null
mkdir -p artifacts/logs
# cargo-fuzz passes -Z flags to rustc: RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
# Default profile: optimized, with debug assertions and overflow checks. No sanitizer:
# AddressSanitizer needs a nightly std, and safe Rust needs none to report panics.
RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "$target" -- \
  ${dict:+-dict="dict/$dict.dict"} -max_len="$max_len" -timeout="${timeout:-10}" -rss_limit_mb=2048 \
  -max_total_time="$secs" -print_final_stats=1 "$@" 2>&1 | tee "artifacts/logs/$target.log"
