#!/usr/bin/env bash
# bench-local.sh: measure the hub on this machine, the way the README's result
# table was measured. It starts a redis-server, one hub node in memory mode
# and two nodes sharing that Redis, runs `taxi bench` against each setup and
# writes the reports under OUTDIR:
#
#   OUTDIR/memory.{txt,md,json}   one node, memory mode
#   OUTDIR/redis.{txt,md,json}    two nodes on Redis, drivers split over both
#   OUTDIR/report.md              both summaries with the machine and commands
#   OUTDIR/*.log                  the nodes' and redis-server's logs
#
# Redis and the nodes run on free loopback ports (never 6379, so a
# developer's own Redis is left alone); a port taken meanwhile, a missing
# redis-server or a node that does not come up stops the script with an
# error naming it.
#
# Usage: scripts/bench-local.sh OUTDIR [taxi bench flags...]
#   e.g. scripts/bench-local.sh /tmp/bench --drivers 2000 --rate 20 --duration 20s
# Environment: TAXI=path/to/taxi to use a built binary (default: go build).
# Everything it starts is stopped when it exits, however it exits.
set -euo pipefail

if [[ $# -lt 1 ]]; then
	sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'
	exit 2
fi
out=$1
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)

PROG=bench-local
# shellcheck source=scripts/lib/local.sh
source "$(dirname "$0")/lib/local.sh"
need_bin redis-server "run scripts/install-test-deps.sh"

LOCAL_LOGS=$out
work=$(mktemp -d)
trap 'stop_all; rm -rf "$work"' EXIT

use_taxi "$work"
taxi=$TAXI

free_port
redis_port=$REPLY
start_redis "$redis_port"
redis_url="redis://127.0.0.1:$redis_port/0"

free_port
mem_port=$REPLY
start_node node-memory "$mem_port" --memory
free_port
a_port=$REPLY
start_node node-a "$a_port" --redis-url "$redis_url"
free_port
b_port=$REPLY
start_node node-b "$b_port" --redis-url "$redis_url"

# run_bench NAME TARGETS...: one bench run; a breached SLO (exit 1) still
# leaves its report, so the script goes on and returns that status at the end.
status=0
run_bench() {
	local name=$1
	shift
	local targets=()
	for t in "$@"; do targets+=(--target "$t"); done
	echo "bench-local: $name: taxi bench ${targets[*]} ${bench_flags[*]}" >&2
	local rc=0
	"$taxi" bench "${targets[@]}" "${bench_flags[@]}" --quiet \
		--json "$out/$name.json" --markdown "$out/$name.md" >"$out/$name.txt" || rc=$?
	cat "$out/$name.txt"
	if ((rc != 0)); then
		echo "bench-local: $name exited $rc" >&2
		status=$rc
	fi
}

bench_flags=("$@")
run_bench memory "http://127.0.0.1:$mem_port"
run_bench redis "http://127.0.0.1:$a_port" "http://127.0.0.1:$b_port"

{
	echo "## taxi bench on $(hostname), $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) CPUs, $(uname -sr); bench and hubs on the same machine over loopback."
	echo "Command: \`scripts/bench-local.sh OUTDIR ${bench_flags[*]}\`"
	echo
	echo "### One node, memory mode"
	echo
	cat "$out/memory.md"
	echo "### Two nodes on Redis (drivers split over both, orders through the first)"
	echo
	cat "$out/redis.md"
} >"$out/report.md"
echo "bench-local: reports in $out (report.md, memory.*, redis.*)" >&2
exit "$status"
