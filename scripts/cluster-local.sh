#!/usr/bin/env bash
# Starts a small local cluster for trying taxi across nodes: one redis-server
# and two hub nodes sharing it. Ctrl-C stops everything.
#
#   scripts/cluster-local.sh            # Redis on 127.0.0.1:6390, nodes on :8081 and :8082
#   REDIS_PORT=7000 NODES=3 scripts/cluster-local.sh
set -euo pipefail
cd "$(dirname "$0")/.."

REDIS_PORT=${REDIS_PORT:-6390}
NODES=${NODES:-2}
BASE_PORT=${BASE_PORT:-8081}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/taxi-cluster.XXXXXX")

command -v redis-server >/dev/null || { echo "redis-server not found: run scripts/install-test-deps.sh" >&2; exit 1; }
make -s build

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
  --logfile "$WORK/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

for i in $(seq 0 $((NODES - 1))); do
  port=$((BASE_PORT + i))
  ./bin/taxi serve --insecure --node-id "local-$i" --addr "127.0.0.1:$port" \
    --redis-url "redis://127.0.0.1:$REDIS_PORT/0" 2> >(sed "s/^/[node $i] /" >&2) &
  pids+=($!)
done
for i in $(seq 0 $((NODES - 1))); do
  port=$((BASE_PORT + i))
  for _ in $(seq 50); do curl -fs "127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done

cat <<MSG

Redis:  redis://127.0.0.1:$REDIS_PORT/0   (redis-cli -p $REDIS_PORT)
Nodes:  $(for i in $(seq 0 $((NODES - 1))); do printf 'http://127.0.0.1:%s  ' $((BASE_PORT + i)); done)

Try:    curl -s -X POST 127.0.0.1:$BASE_PORT/orders -d '{"user_id":"u1","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}}'
        ./bin/taxi monitor --redis-url redis://127.0.0.1:$REDIS_PORT/0
        ./bin/taxi bench --target http://127.0.0.1:$BASE_PORT --target http://127.0.0.1:$((BASE_PORT + 1))
Ctrl-C stops the cluster.
MSG
wait
