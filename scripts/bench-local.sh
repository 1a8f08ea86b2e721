#!/usr/bin/env bash
# bench-local.sh: measure the hub on this machine, the way the README's result
# table was measured. It starts a redis-server on a free port (never 6379, so
# a developer's own Redis is left alone), one hub node in memory mode and two
# nodes sharing that Redis, runs `taxi bench` against each setup and writes
# the reports under OUTDIR:
#
#   OUTDIR/memory.{txt,md,json}   one node, memory mode
#   OUTDIR/redis.{txt,md,json}    two nodes on Redis, drivers split over both
#   OUTDIR/report.md              both summaries with the machine and commands
#   OUTDIR/*.log                  the nodes' and redis-server's logs
#
# Usage: scripts/bench-local.sh OUTDIR [taxi bench flags...]
#   e.g. scripts/bench-local.sh /tmp/bench --drivers 2000 --rate 20 --duration 20s
# Environment: TAXI=path/to/taxi to use a built binary (default: go build).
# Everything it starts is stopped when it exits, however it exits.
set -euo pipefail

if [[ $# -lt 1 ]]; then
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi
out=$1
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)

for bin in redis-server curl; do
	command -v "$bin" >/dev/null || { echo "bench-local: $bin is not installed" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

taxi=${TAXI:-}
if [[ -z $taxi ]]; then
	echo "bench-local: building taxi" >&2
	(cd "$(dirname "$0")/.." && go build -o "$work/taxi" ./cmd/taxi)
	taxi=$work/taxi
fi

# free_port prints a port nothing listens on; the range stays clear of
# 6379 and of the ephemeral ports bench's own connections use.
free_port() {
	local port tries=0
	while ((tries++ < 100)); do
		port=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	echo "bench-local: no free port found" >&2
	exit 1
}

# wait_ready polls a node's /readyz for up to 15 s.
wait_ready() {
	local url=$1 i
	for ((i = 0; i < 150; i++)); do
		if curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; then
			return
		fi
		sleep 0.1
	done
	echo "bench-local: $url did not become ready; see $out/*.log" >&2
	exit 1
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$work" >"$out/redis-server.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 150; i++)); do
	(exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
	sleep 0.1
done
redis_url="redis://127.0.0.1:$redis_port/0"

start_node() { # name addr [serve flags...]
	local name=$1 addr=$2
	shift 2
	"$taxi" serve --insecure --addr "$addr" --node-id "$name" "$@" >"$out/$name.log" 2>&1 &
	pids+=($!)
}

mem_port=$(free_port)
start_node node-memory "127.0.0.1:$mem_port" --memory
a_port=$(free_port)
start_node node-a "127.0.0.1:$a_port" --redis-url "$redis_url"
b_port=$(free_port)
while [[ $b_port == "$a_port" || $b_port == "$mem_port" ]]; do b_port=$(free_port); done
start_node node-b "127.0.0.1:$b_port" --redis-url "$redis_url"
for port in "$mem_port" "$a_port" "$b_port"; do
	wait_ready "http://127.0.0.1:$port"
done

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
