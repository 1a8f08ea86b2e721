#!/usr/bin/env bash
# Installs what the tests need beyond Go: redis-server and redis-cli, which
# the Redis-backed tests start on free loopback ports of their own, tmux, in
# which the terminal UI's smoke test drives the real binary, and chromium,
# in which the example web pages are driven headless (examples/web).
set -euo pipefail

have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && command -v tmux >/dev/null 2>&1 && have_chromium; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: redis-server, redis-cli, tmux or chromium is missing and there is no apt-get; install Redis 7, tmux and Chromium yourself" >&2
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-test-deps: not root and no sudo; install redis-server, redis-tools, tmux and chromium yourself" >&2
    exit 0
  fi
fi

echo "install-test-deps: installing redis-server, redis-tools, tmux and chromium" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends redis-server redis-tools tmux chromium >/dev/null
