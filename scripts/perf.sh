#!/usr/bin/env bash
# perf.sh: runs every row of the performance table (docs/performance.md) with
# taxi bench on this machine and writes one report. Each row starts fresh hub
# processes (and a redis-server on a free port, never 6379), runs bench with
# the row's target as an --slo, and stops everything when it ends.
#
# Usage: scripts/perf.sh [OUTDIR]        (default perf-results/DATE)
# Environment:
#   TAXI=path/to/taxi   use this binary (default: make build)
#   ROWS="1 2 3"        run only these rows (default: 1-6)
#   FULL=1              also row 7: 100,000 drivers over 6 nodes (several minutes)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-perf-results/$(date -u +%Y-%m-%dT%H%M%SZ)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rows=${ROWS:-1 2 3 4 5 6}
[[ ${FULL:-} == 1 && " $rows " != *" 7 "* ]] && rows="$rows 7"

if [[ -z ${TAXI:-} ]]; then
  make -s build
  TAXI=$PWD/bin/taxi
fi
command -v redis-server >/dev/null || { echo "perf: redis-server is not installed (scripts/install-test-deps.sh)" >&2; exit 1; }

pids=()
work=$(mktemp -d)
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

port() { # a port nothing listens on, away from 6379 and the ephemeral range
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

wait_ready() {
  local i
  for i in $(seq 100); do curl -fs "$1/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "perf: $1 did not become ready" >&2; exit 1
}

redis_url=""
start_redis() {
  local p; p=$(port)
  redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
    --maxclients 20000 --client-output-buffer-limit "pubsub 512mb 128mb 60" \
    --logfile "$work/redis.log" &
  pids+=($!)
  for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis_url="redis://127.0.0.1:$p/0"
}

targets=()
start_nodes() { # start_nodes N memory|redis
  local n=$1 mode=$2 i p
  targets=()
  for i in $(seq 1 "$n"); do
    p=$(port)
    local args=(serve --insecure --addr "127.0.0.1:$p" --node-id "perf-$i" --log-level warn
      --http-rate 100000 --http-burst 100000 --msg-rate 10000 --msg-burst 10000 --send-queue 1024)
    if [[ $mode == memory ]]; then args+=(--memory); else args+=(--redis-url "$redis_url"); fi
    (ulimit -n 20000; exec "$TAXI" "${args[@]}") 2>>"$work/nodes.log" &
    pids+=($!)
    targets+=(--target "http://127.0.0.1:$p")
  done
  for t in "${targets[@]}"; do [[ $t == --target ]] || wait_ready "$t"; done
}

report=$out/report.md
{
  echo "# taxi performance report"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(hostname), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
  echo "- taxi: $("$TAXI" version | head -2 | tr '\n' ' ')"
  echo "- load generator on the same machine, loopback only"
  echo
} >"$report"

row() { # row N "title" bench-args...
  local n=$1 title=$2; shift 2
  echo "perf: row $n: $title" >&2
  {
    echo "## Row $n: $title"
    echo
    echo '```'
    echo "taxi bench $*"
  } >>"$report"
  local rc=0
  (ulimit -n 20000; "$TAXI" bench "$@" --quiet --json "$out/row$n.json") >"$out/row$n.txt" 2>"$out/row$n.log" || rc=$?
  cat "$out/row$n.txt" >>"$report"
  echo '```' >>"$report"
  echo "(exit $rc)" >>"$report"
  echo >>"$report"
  stop_all
}

for r in $rows; do
  case $r in
  1)
    start_nodes 1 memory
    row 1 "memory per idle driver connection (15,000 drivers)" connect "${targets[@]}" \
      --drivers 15000 --users -1 --connect-rate 3000 --duration 10s --slo 'mem_per_conn<=10KiB,dropped=0'
    ;;
  2)
    start_nodes 1 memory
    row 2 "server CPU per delivered frame (5,000 drivers, 10 orders/s)" fanout "${targets[@]}" \
      --drivers 5000 --rate 10 --duration 20s --slo 'cpu_per_delivery<=3us,loss=0'
    ;;
  3)
    start_nodes 1 memory
    row 3 "delivery latency, one node, memory mode (5,000 drivers, 10 orders/s)" fanout "${targets[@]}" \
      --drivers 5000 --rate 10 --duration 20s --slo 'p99<=10ms,p99.9<=25ms,loss=0'
    ;;
  4)
    start_redis
    start_nodes 2 redis
    row 4 "delivery latency, two nodes on Redis (5,000 drivers split, orders through one)" fanout "${targets[@]}" \
      --drivers 5000 --rate 10 --duration 20s --orders-via first --slo 'p99<=15ms,loss=0'
    ;;
  5)
    best=0
    # 1,000 drivers, so that one order's fan-out alone stays well inside
    # the 50 ms; the rate climbs until p99 passes 50 ms or frames are lost.
    for rate in 50 100 150 200 250 300 350 400; do
      start_nodes 1 memory
      row "5-$rate" "sustained fan-out, one node: 1,000 drivers at $rate orders/s" fanout "${targets[@]}" \
        --drivers 1000 --rate "$rate" --duration 10s --slo 'p99<=50ms,loss=0' || true
      if grep -q "BREACHED" "$out/row5-$rate.txt"; then break; fi
      best=$((rate * 1000))
    done
    echo "Highest sustained fan-out with p99 ≤ 50 ms and no loss: $best deliveries/s." >>"$report"
    echo >>"$report"
    ;;
  6)
    start_redis
    start_nodes 2 redis
    row 6 "accept: 1,000 accepts/s (100 orders/s raced by 10 drivers), two nodes on Redis" accept "${targets[@]}" \
      --drivers 100 --rate 100 --racers 10 --duration 20s --orders-via all --slo 'accept_p99<=5ms,bad_orders=0'
    ;;
  7)
    start_redis
    start_nodes 6 redis
    row 7 "100,000 drivers over 6 nodes on one Redis, held 60 s" fanout "${targets[@]}" \
      --procs 6 --drivers 100000 --users 10 --connect-rate 4000 --rate 0.2 --duration 60s \
      --source-ips 127.0.0.1-127.0.0.20 --slo 'connections>=100000,dropped=0,loss=0'
    ;;
  esac
done
echo "perf: report in $report" >&2
