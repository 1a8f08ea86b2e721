#!/usr/bin/env bash
# Starts a small local cluster for trying taxi across nodes: one redis-server
# of its own and two hub nodes sharing it, on free loopback ports. It never
# joins a Redis or a node that was already running: a port given below that
# is taken stops it with an error. Ctrl-C stops everything.
#
#   scripts/cluster-local.sh                         # free ports, printed at start
#   REDIS_PORT=7000 BASE_PORT=9001 NODES=3 scripts/cluster-local.sh
#
# Environment: REDIS_PORT (Redis), BASE_PORT (nodes on BASE_PORT,
# BASE_PORT+1, ...), NODES (default 2), TAXI=path/to/taxi to use a built
# binary (default: make build). Logs are in a temporary directory, printed
# at start and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PROG=cluster-local
# shellcheck source=scripts/lib/local.sh
source scripts/lib/local.sh

NODES=${NODES:-2}
[[ $NODES =~ ^[1-9][0-9]*$ ]] || die "NODES=$NODES: want a number of nodes, 1 or more"
for v in REDIS_PORT BASE_PORT; do
	[[ -z ${!v:-} || ${!v} =~ ^[1-9][0-9]{0,4}$ ]] || die "$v=${!v}: want a port number"
done

need_bin redis-server "run scripts/install-test-deps.sh"

# Ports given are checked before anything starts; the others are picked.
if [[ -n ${REDIS_PORT:-} ]]; then
	require_port "$REDIS_PORT" "REDIS_PORT, for redis-server"
	redis_port=$REDIS_PORT
else
	free_port
	redis_port=$REPLY
fi
node_ports=()
for ((i = 0; i < NODES; i++)); do
	if [[ -n ${BASE_PORT:-} ]]; then
		require_port $((BASE_PORT + i)) "BASE_PORT+$i, for node local-$i"
		node_ports+=($((BASE_PORT + i)))
	else
		free_port
		node_ports+=("$REPLY")
	fi
done

LOCAL_LOGS=$(mktemp -d "${TMPDIR:-/tmp}/taxi-cluster.XXXXXX")
trap 'stop_all; rm -rf "$LOCAL_LOGS"' EXIT
if [[ -z ${TAXI:-} ]]; then
	make -s build
	TAXI=$PWD/bin/taxi
fi

start_redis "$redis_port"
redis_url="redis://127.0.0.1:$redis_port/0"
for ((i = 0; i < NODES; i++)); do
	start_node "local-$i" "${node_ports[i]}" --redis-url "$redis_url"
done

first=http://127.0.0.1:${node_ports[0]}
cat <<MSG

Redis:  $redis_url   (redis-cli -p $redis_port)
Nodes:  $(for p in "${node_ports[@]}"; do printf 'http://127.0.0.1:%s  ' "$p"; done)
Logs:   $LOCAL_LOGS

Try:    curl -s -X POST $first/orders -d '{"user_id":"u1","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}}'
        $TAXI monitor --redis-url $redis_url
        $TAXI bench $(for p in "${node_ports[@]}"; do printf -- '--target http://127.0.0.1:%s ' "$p"; done)
Ctrl-C stops the cluster.
MSG

# Until Ctrl-C, or until one of the processes ends by itself.
exited=
wait -n -p exited "${local_pids[@]}" || true
for f in "$LOCAL_LOGS"/*.log; do
	echo "--- ${f##*/}"
	log_tail "$f"
done >&2
die "process $exited of the cluster exited by itself; stopped the others"
