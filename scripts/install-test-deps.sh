#!/usr/bin/env bash
# Installs what the tests need beyond Go, from Debian's packages:
#   redis-server, redis-cli  the Redis-backed tests start them on free loopback ports
#   tmux                     the terminal UI's smoke test drives the real binary in it
#   promtool (prometheus)    deploy/ checks and unit-tests the alerting rules
#   buildah                  deploy/ builds and runs the container image's final stage
#   nginx (nginx-light)      deploy/ checks the nginx configurations with nginx -t
#   iproute2 (ss)            the scripts find ports in use without connecting to them
#   chromium                 examples/web's pages are driven headless in it
# The tests need only promtool from the prometheus package and the nginx
# binary: where installing them starts their services (systemd), the
# services are stopped and disabled again.
set -euo pipefail

missing=()
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}
need redis-server redis-server
need redis-cli redis-tools
need tmux tmux
need promtool prometheus
need buildah buildah
need nginx nginx-light
need ss iproute2
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]} and there is no apt-get; install them yourself (Redis 7)" >&2
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-test-deps: not root and no sudo; install ${missing[*]} yourself" >&2
    exit 0
  fi
fi

echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if [[ -d /run/systemd/system ]]; then
  [[ " ${missing[*]} " != *" prometheus "* ]] || $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
  [[ " ${missing[*]} " != *" nginx-light "* ]] || $sudo systemctl disable --now nginx >/dev/null 2>&1 || true
fi
