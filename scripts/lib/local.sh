# shellcheck shell=bash
# scripts/lib/local.sh: sourced by the scripts that start a redis-server and
# taxi nodes on this machine (cluster-local.sh, bench-local.sh, perf.sh).
#
# Every process starts on a port that nothing listens on (checked with ss,
# without connecting to whatever holds it), and is then checked to be the
# one answering there: the redis-server by its process id in INFO, a node by
# its node id in /ws/stats. A port taken, a binary missing or a process that
# does not come up stops the script with a message naming it, and the exit
# trap stops everything the script started.
#
# The sourcing script sets PROG (its name in messages) and LOCAL_LOGS (the
# directory for the processes' logs) before starting anything; LOCAL_NOFILE,
# when set, is the open-file limit of the nodes.

local_pids=()
local_ports=" "

die() {
	echo "$PROG: $*" >&2
	exit 1
}

need_bin() { # need_bin NAME HINT
	command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"
}

# port_in_use PORT: true when a socket listens on PORT on any address.
port_in_use() {
	if command -v ss >/dev/null 2>&1; then
		[[ -n $(ss -Hltn "sport = :$1") ]]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# require_port PORT WHAT: stops the script when PORT is taken.
require_port() {
	if port_in_use "$1"; then
		die "port $1 ($2) is in use by another process: choose another port, or leave it unset to pick a free one"
	fi
	local_ports+="$1 "
}

# free_port sets REPLY to a port nothing listens on and this script has not
# handed out, away from 6379 and from the ephemeral range bench's
# connections use. (It sets a variable rather than printing, so that the
# ports it hands out are remembered: $(free_port) would forget them.)
free_port() {
	local port tries=0
	while ((tries++ < 200)); do
		port=$((20000 + RANDOM % 12000))
		if [[ $local_ports != *" $port "* ]] && ! port_in_use "$port"; then
			local_ports+="$port "
			REPLY=$port
			return
		fi
	done
	die "no free port found between 20000 and 32000"
}

# local_started PID: true while the process PID this script started runs.
local_started() {
	kill -0 "$1" 2>/dev/null
}

# log_tail FILE: the last lines of a log, for error messages.
log_tail() {
	tail -n 5 "$1" 2>/dev/null | sed 's/^/    /'
}

# start_redis PORT [redis-server flags...]: starts a redis-server on
# 127.0.0.1:PORT that keeps nothing on disk, and waits until it answers as
# the process started here.
start_redis() {
	local port=$1 pid i answer log="$LOCAL_LOGS/redis-server.log"
	shift
	need_bin redis-server "run scripts/install-test-deps.sh"
	need_bin redis-cli "run scripts/install-test-deps.sh"
	require_port "$port" "redis-server"
	echo "$PROG: redis-server on 127.0.0.1:$port (log $log)" >&2
	redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$LOCAL_LOGS" --logfile "$log" "$@" &
	pid=$!
	local_pids+=("$pid")
	for ((i = 0; i < 100; i++)); do
		local_started "$pid" || die "redis-server on port $port exited at start:"$'\n'"$(log_tail "$log")"
		answer=$(redis-cli -p "$port" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p' || true)
		if [[ -n $answer ]]; then
			[[ $answer == "$pid" ]] || die "port $port answers as another redis-server (pid $answer), not the one started here"
			return
		fi
		sleep 0.1
	done
	die "redis-server on port $port did not answer within 10 s:"$'\n'"$(log_tail "$log")"
}

# use_taxi WORKDIR: sets TAXI to $TAXI when given, else builds the binary
# of this checkout into WORKDIR.
use_taxi() {
	if [[ -n ${TAXI:-} ]]; then
		return
	fi
	echo "$PROG: building taxi" >&2
	(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && go build -o "$1/taxi" ./cmd/taxi) || die "go build failed"
	TAXI=$1/taxi
}

# start_node NAME PORT [taxi serve flags...]: starts a node without
# authentication on 127.0.0.1:PORT and waits until its /ws/stats answers
# with its node id. TAXI is the binary.
start_node() {
	local name=$1 port=$2 pid log
	log=$LOCAL_LOGS/$name.log
	shift 2
	need_bin curl "install curl"
	require_port "$port" "node $name"
	echo "$PROG: node $name on 127.0.0.1:$port (log $log)" >&2
	(
		[[ -z ${LOCAL_NOFILE:-} ]] || ulimit -n "$LOCAL_NOFILE"
		exec "$TAXI" serve --insecure --addr "127.0.0.1:$port" --node-id "$name" "$@"
	) >"$log" 2>&1 &
	pid=$!
	local_pids+=("$pid")
	wait_node "$name" "$port" "$pid" "$log"
}

# wait_node NAME PORT PID LOG: waits up to 15 s for the node to answer.
wait_node() {
	local name=$1 port=$2 pid=$3 log=$4 i
	for ((i = 0; i < 150; i++)); do
		local_started "$pid" || die "node $name exited at start:"$'\n'"$(log_tail "$log")"
		if curl -fsS "http://127.0.0.1:$port/ws/stats" 2>/dev/null | grep -q "\"node_id\":\"$name\""; then
			return
		fi
		sleep 0.1
	done
	die "node $name did not answer on 127.0.0.1:$port within 15 s:"$'\n'"$(log_tail "$log")"
}

# stop_all stops every process started here and waits for them.
stop_all() {
	local pid
	for pid in "${local_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${local_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	local_pids=()
}

trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
