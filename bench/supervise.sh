#!/bin/bash
# Supervision figures, unit next to s6 and runit (Debian's packages) in the
# same run: restart latency after a crash, N services from start to all up,
# supervisor PSS and idle wake-ups with 100 services.
# Each figure has a floor measured in the same run: a bare Go loop doing
# the same fork/exec work. Usage: bench/supervise.sh [SAMPLES] [SERVICES] [IDLE]
# (default 30 1000 20s)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v s6-svscan >/dev/null && command -v runsvdir >/dev/null ||
  apt-get install -y -q --no-install-recommends s6 runit >/dev/null
make -s build
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/bench" ./bench/supervise
echo "$(nproc) cores, $(uname -r), $(s6-svscan -h 2>&1 | head -1 || true)"
"$out/bench" -unit bin/unit -samples "${1:-30}" -many "${2:-1000}" -idle "${3:-20s}"
