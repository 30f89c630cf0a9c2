#!/usr/bin/env bash
# The service under load (issue 14): `orgscope serve` (`POST /v1/decide` and Envoy ext_authz over
# gRPC) beside cedar-agent 0.2.0 (`POST /v1/is_authorized`, the same Cedar policy as
# bench-compare), all on loopback, driven by real load generators (wrk for HTTP/1.1, h2load for
# gRPC). Every server's answers are first asserted equal to `orgscope eval`'s; then, in each
# round, every server and path gets the same short burst at three loads (CONNS connections for
# throughput; one connection; one connection with the server and the load generator on the same
# core, for latency), in an order rotated per round, beside a floor (nginx answering a constant,
# over HTTP/1.1 and h2c) for the latency bursts; ratios are computed within a round and reported
# as median (range). Appends its section to $RESULTS (run.sh passes its own); alone, it writes
# $OUT/service.md.
#
#   bench-compare/service.sh
#   SVC_ROUNDS=3 SVC_SECS=2 bench-compare/service.sh
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/), OUT (default
# /tmp/orgscope-bench), SVC_ROUNDS (5), SVC_SECS (seconds per burst, 3), CONNS (32), SVC_PORT
# (first of five loopback ports, 18180). Installs what is missing: wrk, h2load and nginx (Debian
# packages), cedar-agent 0.2.0 (crates.io, into target/bench-tools; built in the background
# while orgscope builds).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-/tmp/orgscope-bench}
ROUNDS=${SVC_ROUNDS:-5}
SECS=${SVC_SECS:-3}
CONNS=${CONNS:-32}
PORT=${SVC_PORT:-18180}
HTTP=127.0.0.1:$PORT
GRPC=127.0.0.1:$((PORT + 1))
CEDAR_PORT=$((PORT + 2))
FLOOR_HTTP=127.0.0.1:$((PORT + 3))
FLOOR_H2=127.0.0.1:$((PORT + 4))
TOOLS=$ROOT/target/bench-tools
CEDAR_AGENT=$TOOLS/bin/cedar-agent
POLICY=policies/zuora-multi-org.policy
WORK=$OUT/service
mkdir -p "$WORK"
if [ -z "${RESULTS:-}" ]; then
  RESULTS=$OUT/service.md
  : >"$RESULTS"
fi
say() { echo "$@" | tee -a "$RESULTS"; }
die() {
  echo "service.sh: $*" >&2
  exit 1
}

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# cedar-agent takes minutes to build: start it first, wait for it after orgscope's builds.
if [ ! -x "$CEDAR_AGENT" ]; then
  echo "== cedar-agent 0.2.0 (background build, log: $WORK/cedar-agent-install.log)" >&2
  cargo install cedar-agent --version 0.2.0 --locked --root "$TOOLS" \
    >"$WORK/cedar-agent-install.log" 2>&1 &
  CEDAR_BUILD=$!
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if ! command -v wrk >/dev/null || ! command -v h2load >/dev/null || [ ! -x "$NGINX" ]; then
  echo "== apt-get install wrk nghttp2-client nginx" >&2
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $SUDO apt-get install -y wrk nghttp2-client nginx >/dev/null
fi

echo "== build (release)" >&2
cargo build --release --quiet -p orgscope-cli --bin orgscope
cargo build --release --quiet -p orgscope --example eval_json_time
cargo bench --quiet -p bench-compare --no-run # the `service` bin
BIN=$CARGO_TARGET_DIR/release
if [ -n "${CEDAR_BUILD:-}" ]; then
  wait "$CEDAR_BUILD" || die "cargo install cedar-agent failed, see $WORK/cedar-agent-install.log"
fi

mapfile -t CASES < <("$BIN/service" write "$WORK")
for c in "${CASES[@]}"; do
  cat >"$WORK/decide-$c.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open("$WORK/decide-$c.json", "rb"))
wrk.body = f:read("*a")
f:close()
EOF
  sed "s/decide-$c.json/cedar-$c.json/" "$WORK/decide-$c.lua" >"$WORK/cedar-$c.lua"
done

echo "== servers" >&2
# A leftover server on these ports would answer in place of the ones started here.
for addr in "$HTTP" "$GRPC" "127.0.0.1:$CEDAR_PORT" "$FLOOR_HTTP" "$FLOOR_H2"; do
  ! (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null || die "$addr is in use (SVC_PORT)"
done
# The configuration a user deploys: the shipped policy and entities, identity from a trusted
# layer's headers (ext_authz), no decision log. cedar-agent logs every decision at its default
# level (info): it runs at `error`, so neither server writes a line per decision.
"$BIN/orgscope" serve --policy $POLICY --entities examples/requests/zuora-entities.ndjson \
  --listen "$HTTP" --grpc-addr "$GRPC" --trust-identity-headers 2>"$WORK/orgscope.log" &
PIDS+=($!)
"$CEDAR_AGENT" --addr 127.0.0.1 --port "$CEDAR_PORT" --log-level error \
  --policies "$WORK/cedar-policies.json" --data "$WORK/cedar-data.json" 2>"$WORK/cedar-agent.log" &
PIDS+=($!)
# The floor: what any server pays on this machine for a request and its answer over loopback.
# nginx answers every request with a constant (one worker, no log), over HTTP/1.1 for wrk and
# over h2c (HTTP/2 without TLS) for h2load; it reads the same request bodies.
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events {}
http {
  access_log off;
  # The load generators keep one connection per burst (nginx would close it every 1,000).
  keepalive_requests 1000000000;
  client_body_temp_path $WORK/nginx;
  server { listen $FLOOR_HTTP; location / { return 200 '{"decision":"allow"}'; } }
  server { listen $FLOOR_H2 http2; location / { return 200 '{"decision":"allow"}'; } }
}
EOF
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>"$WORK/nginx/stderr.log" &
PIDS+=($!)
ready() {
  for _ in $(seq 1 200); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.05
  done
  die "not ready: $1"
}
ready "http://$HTTP/health/ready"
ready "http://127.0.0.1:$CEDAR_PORT/v1/"
ready "http://$FLOOR_HTTP/"
for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || die "a server exited, see $WORK/*.log"; done

echo "== agreement with orgscope eval" >&2
decision() { grep -o '"decision":"[a-z]*"' | cut -d'"' -f4; }
for c in "${CASES[@]}"; do
  want=$("$BIN/orgscope" eval --policy $POLICY "$WORK/decide-$c.json" | decision)
  [ "$want" = "$c" ] || die "orgscope eval answers case $c with \`$want\`"
  got=$(curl -sf -H 'content-type: application/json' --data-binary "@$WORK/decide-$c.json" \
    "http://$HTTP/v1/decide" | decision)
  [ "$got" = "$want" ] || die "/v1/decide answers case $c with \`$got\`, orgscope eval \`$want\`"
  got=$("$BIN/service" check "$GRPC" "$WORK/check-$c.grpc")
  [ "$got" = "$want" ] || die "ext_authz answers case $c with \`$got\`, orgscope eval \`$want\`"
  got=$(curl -sf -H 'content-type: application/json' --data-binary "@$WORK/cedar-$c.json" \
    "http://127.0.0.1:$CEDAR_PORT/v1/is_authorized" | grep -o '"decision":"[A-Za-z]*"' |
    cut -d'"' -f4 | tr '[:upper:]' '[:lower:]')
  [ "$got" = "$want" ] || die "cedar-agent answers case $c with \`$got\`, orgscope eval \`$want\`"
done

# One burst: prints `decisions/s p50_us p99_us`, or fails on any error or non-2xx answer.
wrk_run() { # URL LUA CONNS SECS
  local out
  out=$($ON wrk -t1 -c"$3" -d"$4"s --latency -s "$2" "$1")
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then die "wrk errors: $out"; fi
  awk '
    function us(v) {
      if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1e6
      return v + 0
    }
    /^ +50%/ { p50 = us($2) } /^ +99%/ { p99 = us($2) } /^Requests\/sec:/ { rps = $2 }
    END { printf "%.0f %.1f %.1f\n", rps, p50, p99 }' <<<"$out"
}
h2load_run() { # ADDR BODY CONNS SECS
  local out log=$WORK/h2load.log
  rm -f "$log" # h2load appends to it
  out=$($ON h2load -t1 -c"$3" -m1 -D "$4" -d "$2" -H 'content-type: application/grpc' \
    -H 'te: trailers' --log-file="$log" "http://$1/envoy.service.auth.v3.Authorization/Check")
  grep -qE '^requests: .* 0 failed, 0 errored' <<<"$out" || die "h2load errors: $out"
  awk -F'\t' '$2 != 200 { bad++ } END { exit bad > 0 }' "$log" || die "h2load: a non-200 answer"
  local rps
  rps=$(grep -oE 'finished in [0-9.]+[a-z]+, [0-9.]+ req/s' <<<"$out" | awk '{ print $4 }')
  cut -f3 "$log" | sort -n | awk -v rps="$rps" '{ v[NR] = $1 }
    END { printf "%.0f %.1f %.1f\n", rps, v[int(NR * 0.50) + 1], v[int(NR * 0.99) + 1] }'
}
burst() { # TARGET CASE CONNS SECS
  case $1 in
    decide) wrk_run "http://$HTTP/v1/decide" "$WORK/decide-$2.lua" "$3" "$4" ;;
    ext_authz) h2load_run "$GRPC" "$WORK/check-$2.grpc" "$3" "$4" ;;
    cedar-agent) wrk_run "http://127.0.0.1:$CEDAR_PORT/v1/is_authorized" "$WORK/cedar-$2.lua" "$3" "$4" ;;
    floor-http) wrk_run "http://$FLOOR_HTTP/v1/decide" "$WORK/decide-$2.lua" "$3" "$4" ;;
    floor-h2) h2load_run "$FLOOR_H2" "$WORK/check-$2.grpc" "$3" "$4" ;;
  esac
}

# A lone connection's request wakes an idle virtual core twice (the server's, then the load
# generator's), tens of microseconds each on a KVM guest: that is the hypervisor's latency, paid
# alike by every server, the floor included. The *one core* bursts put every server and the load
# generator on core 0 (the servers' threads re-pinned for the burst, then let go), so a request
# and its answer hand over without waking a core: the latency left is the server's own, plus the
# load generator's.
SERVERS=("${PIDS[@]}")
pin() { # CPUS: every server process and its threads
  local p
  for p in "${SERVERS[@]}" $(pgrep -d ' ' -P "$(
    IFS=,
    echo "${SERVERS[*]}"
  )"); do
    taskset -a -p -c "$1" "$p" >/dev/null
  done
}
ALL_CPUS=0-$(($(nproc) - 1))

TARGETS=()
for t in decide ext_authz cedar-agent floor-http floor-h2; do
  for c in "${CASES[@]}"; do TARGETS+=("$t $c"); done
done
echo "== warm-up" >&2
for t in "${TARGETS[@]}"; do
  # shellcheck disable=SC2086
  ON= burst $t "$CONNS" 1 >/dev/null
done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RUNS=$WORK/runs.tsv
: >"$RUNS"
n=${#TARGETS[@]}
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r/$ROUNDS" >&2
  for i in $(seq 0 $((n - 1))); do
    t=${TARGETS[$(((i + r - 1) % n))]}
    # shellcheck disable=SC2086
    for conns in "$CONNS" 1 core; do
      # The floor is there for latency only.
      if [ "$conns" = "$CONNS" ] && [[ $t == floor* ]]; then continue; fi
      ON=
      if [ "$conns" = core ]; then
        pin 0
        ON="taskset -c 0"
      fi
      printf '%s\t%s\t%s\t%s\n' "$r" "${t// /$'\t'}" "$conns" "$(burst $t "${conns/core/1}" "$SECS" | tr ' ' '\t')" >>"$RUNS"
      if [ "$conns" = core ]; then pin "$ALL_CPUS"; fi
    done
  done
  for c in "${CASES[@]}"; do
    read -r answer ns < <("$BIN/examples/eval_json_time" $POLICY "$WORK/decide-$c.json" 300)
    [ "$answer" = "$c" ] || die "in process, case $c is answered \`$answer\`"
    printf '%s\tin-process\t%s\t0\t0\t%s\t%s\n' "$r" "$c" "$(awk -v n="$ns" 'BEGIN { printf "%.2f", n / 1000 }')" 0 >>"$RUNS"
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

say ""
say "## The service under load"
say ""
say "$(date -u +%Y-%m-%dT%H:%MZ), rev $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores; load $LOAD_BEFORE (1/5/15 min) before the rounds, $LOAD_AFTER after."
say "$ROUNDS rounds; in each, every server and path gets a ${SECS} s burst with $CONNS connections, one with 1 connection, and one with 1 connection with the server and the load generator on the same core (*one core*: core 0, the server's threads re-pinned for the burst), in an order rotated per round; wrk (HTTP/1.1) and h2load (gRPC), one load-generator thread each, share the cores with the server. Both servers run with their default worker threads (the core count). The *floor* is nginx answering every request with a constant (one worker), over HTTP/1.1 (wrk, the \`/v1/decide\` bodies) and h2c (h2load, the \`Check\` bodies), at 1 connection only. Agreement with \`orgscope eval\` checked first: ${#CASES[@]} cases, every server."
say ""
python3 - "$RUNS" "$CONNS" <<'EOF' | tee -a "$RESULTS"
import statistics, sys

runs, conns = sys.argv[1], sys.argv[2]
# (round, target, case, conns) -> (decisions/s, p50 µs, p99 µs)
m = {}
for line in open(runs):
    r, t, c, n, rps, p50, p99 = line.split("\t")
    m[(int(r), t, c, n)] = (float(rps), float(p50), float(p99))
rounds = sorted({k[0] for k in m})
cases = sorted({k[2] for k in m}, key=lambda c: c != "allow")

def med(xs, fmt):
    xs = sorted(xs)
    return f"{fmt(statistics.median(xs))} ({fmt(xs[0])}–{fmt(xs[-1])})"

num = lambda v: f"{v:,.0f}"
us = lambda v: f"{v:,.0f} µs" if v >= 100 else f"{v:.1f} µs"
x = lambda v: f"{v:.2f}×"
print("| server · path | case | decisions/s, %s conn. | p50 | p99 | decisions/s, 1 conn. | p50 | p99 | 1 conn., one core: decisions/s | p50 | p99 |" % conns)
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
names = {"decide": "orgscope `POST /v1/decide` (wrk)", "ext_authz": "orgscope ext_authz `Check` (h2load)",
         "cedar-agent": "cedar-agent `POST /v1/is_authorized` (wrk)",
         "floor-http": "floor: nginx, a constant, HTTP/1.1 (wrk)", "floor-h2": "floor: nginx, a constant, h2c (h2load)"}
floor = {"decide": "floor-http", "ext_authz": "floor-h2"}
for t in names:
    for c in cases:
        cells = []
        for n in [conns, "1", "core"]:
            if (rounds[0], t, c, n) not in m:
                cells += ["–"] * 3
                continue
            v = [m[(r, t, c, n)] for r in rounds]
            cells += [med([a[0] for a in v], num), med([a[1] for a in v], us), med([a[2] for a in v], us)]
        print(f"| {names[t]} | {c} | " + " | ".join(cells) + " |")
print()
short = lambda t: names[t].split(" (")[0]
print("| measure | case | median (range over rounds) | target | met |")
print("|---|---|---:|---|---|")
for t in ["decide", "ext_authz"]:
    for c in cases:
        ratios = [m[(r, t, c, conns)][0] / m[(r, "cedar-agent", c, conns)][0] for r in rounds]
        ok = "yes" if statistics.median(ratios) >= 2 else "**no**"
        print(f"| {short(t)} ÷ cedar-agent, decisions/s at {conns} conn. | {c} | {med(ratios, x)} | ≥ 2× | {ok} |")
inproc = lambda r, c: m[(r, "in-process", c, "0")][1]
for t in ["decide", "ext_authz"]:
    for c in cases:
        added = [m[(r, t, c, "core")][1] - inproc(r, c) for r in rounds]
        ok = "yes" if statistics.median(added) <= 50 else "**no**"
        print(f"| {short(t)}: p50 at 1 conn., one core, − in-process `evaluate_json` | {c} | {med(added, us)} | ≤ 50 µs | {ok} |")
for load, label in [("1", "1 conn."), ("core", "1 conn., one core")]:
    for t in ["decide", "ext_authz"]:
        for c in cases:
            over = [m[(r, t, c, load)][1] - m[(r, floor[t], c, load)][1] for r in rounds]
            print(f"| {short(t)}: p50 at {label} − the floor's | {c} | {med(over, us)} | (what the service adds over a server that decides nothing) | |")
for t in ["decide", "ext_authz"]:
    for c in cases:
        added = [m[(r, t, c, "1")][1] - inproc(r, c) for r in rounds]
        fl = [m[(r, floor[t], c, "1")][1] for r in rounds]
        print(f"| {short(t)}: p50 at 1 conn. − in-process `evaluate_json` | {c} | {med(added, us)} | (the floor alone: {med(fl, us)}) | |")
inp = {c: [inproc(r, c) for r in rounds] for c in cases}
print()
print("In-process `Policy::evaluate_json` of the same request (median of 1,000-call bursts, 0.3 s per round): "
      + "; ".join(f"{c} {med(v, us)}" for c, v in inp.items()) + ".")
EOF
echo "== results: $RESULTS" >&2
