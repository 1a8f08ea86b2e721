#!/usr/bin/env bash
# Installs what the tests need beyond Go: redis-server and redis-cli, which
# the Redis-backed tests start on free loopback ports of their own, and tmux,
# in which the terminal UI's smoke test drives the real binary.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && command -v tmux >/dev/null 2>&1; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: redis-server, redis-cli or tmux is missing and there is no apt-get; install Redis 7 and tmux yourself" >&2
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-test-deps: not root and no sudo; install redis-server, redis-tools and tmux yourself" >&2
    exit 0
  fi
fi

echo "install-test-deps: installing redis-server, redis-tools and tmux" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends redis-server redis-tools tmux >/dev/null
