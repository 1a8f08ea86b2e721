#!/usr/bin/env bash
# bench-geo.sh: the geo figures of docs/performance.md, measured here. It
# starts a redis-server and NODES hub nodes sharing it (default 6), on free
# loopback ports, runs `taxi bench geo` against every node and writes under
# OUTDIR:
#
#   OUTDIR/geo.txt, OUTDIR/geo.json   the summary and every figure
#   OUTDIR/redis.txt                  INFO memory and the position keys' sizes
#   OUTDIR/*.log                      the nodes' and redis-server's logs
#
# Usage: scripts/bench-geo.sh OUTDIR [taxi bench geo flags...]
#   e.g. NODES=6 scripts/bench-geo.sh /tmp/geo --drivers 10000 --rate 50 \
#        --radius 2000 --area-km 40 --position-every 5s --duration 60s
# Environment: NODES, TAXI=path/to/taxi to use a built binary (default: go
# build), NOFILE (default: the hard limit), the open-file limit of bench and
# the nodes; bench holds every driver's feed in one process, so it bounds
# --drivers.
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

PROG=bench-geo
# shellcheck source=scripts/lib/local.sh
source "$(dirname "$0")/lib/local.sh"
need_bin redis-server "run scripts/install-test-deps.sh"
NODES=${NODES:-6}
[[ $NODES =~ ^[1-9][0-9]*$ ]] || die "NODES=$NODES: want a number of nodes, 1 or more"
LOCAL_NOFILE=${NOFILE:-$(ulimit -Hn)}
ulimit -n "$LOCAL_NOFILE" || die "cannot raise the open-file limit to $LOCAL_NOFILE (set NOFILE lower)"

LOCAL_LOGS=$out
work=$(mktemp -d)
trap 'stop_all; rm -rf "$work"' EXIT

use_taxi "$work"
taxi=$TAXI

free_port
redis_port=$REPLY
start_redis "$redis_port"
redis_url="redis://127.0.0.1:$redis_port/0"
targets=()
for ((i = 0; i < NODES; i++)); do
	free_port
	start_node "geo-$i" "$REPLY" --redis-url "$redis_url"
	targets+=(--target "http://127.0.0.1:$REPLY")
done

echo "bench-geo: taxi bench geo ${targets[*]} $*" >&2
status=0
"$taxi" bench geo "${targets[@]}" --orders-via all --quiet --json "$out/geo.json" "$@" >"$out/geo.txt" || status=$?
cat "$out/geo.txt"
{
	redis-cli -p "$redis_port" info memory | grep -E '^used_memory(_human)?:'
	for key in driver_locations '{driver_locations}:updated'; do
		echo "$key: $(redis-cli -p "$redis_port" zcard "$key") entries, $(redis-cli -p "$redis_port" memory usage "$key" samples 0) bytes"
	done
	for key in '{drivers_channel}:events' '{users_channel}:events'; do
		echo "$key: $(redis-cli -p "$redis_port" xlen "$key") entries, $(redis-cli -p "$redis_port" memory usage "$key" samples 0) bytes"
	done
} >"$out/redis.txt" 2>&1 || true
echo "bench-geo: reports in $out (geo.txt, geo.json, redis.txt)" >&2
exit "$status"
