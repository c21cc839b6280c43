#!/bin/bash
# Fleet figures (issue 16), one run with every figure side by side: push of
# desired state to N nodes converged, fan-out RPC to N nodes aggregated,
# one agent's RSS and idle wake-ups as its own process, the broker's RSS
# with N nodes following (nats-server v2.15.2 as its own process), and
# MCollective's and Choria's published figures beside them.
# Usage: bench/fleet.sh [NODES] [RUNS]   (default 1000 1; 50 takes under a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/bench" ./bench/fleet
echo "$(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "${2:-1}"); do
  "$out/bench" -nodes "${1:-1000}"
done
