#!/bin/bash
# Metrics figures (issue 17): `unit metrics` response time and the
# textfile's size with 100 services and 10,000 managed files under
# `unit run`, and the daemon's RSS before and after the first renders.
# Usage: bench/metrics.sh [CALLS]   (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-50}
make -s build
w=$(mktemp -d /tmp/metricsbench.XXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$w"' EXIT
mkdir -p "$w/conf" "$w/state"
for ((i = 0; i < 10000; i++)); do
  printf '[file."%s/root/d%03d/f%05d"]\ncontent = "managed file %d\\n"\n' "$w" $((i / 100)) "$i" "$i"
done >"$w/conf/files.toml"
for ((i = 0; i < 100; i++)); do
  printf '[service.s%03d]\nexec = ["sleep", "100000"]\n' "$i"
done >"$w/conf/services.toml"
printf '[metrics]\ntextfile = "%s/unit.prom"\n' "$w" >"$w/conf/metrics.toml"
bin/unit run --config "$w/conf" --state "$w/state" >"$w/run.log" 2>&1 &
pid=$!
sock="$w/state/unit.sock"
until bin/unit status --socket "$sock" 2>/dev/null | grep -c ' running ' | grep -qx 100; do sleep 0.2; done
until grep -q '^unit_cm_passes_total [1-9]' "$w/unit.prom" 2>/dev/null; do sleep 0.2; done
rss() { awk '/^VmRSS/ {print $2 " kB"}' /proc/$pid/status; }
echo "daemon RSS, all up: $(rss)"
times=()
for ((i = 0; i < calls; i++)); do
  s=$(date +%s%N); bin/unit metrics --socket "$sock" >/dev/null; e=$(date +%s%N)
  times+=($(((e - s) / 1000)))
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "unit metrics, %d calls (CLI start included): p50 %.1f ms, p90 %.1f ms, max %.1f ms\n", NR, a[int(NR*0.5)]/1000, a[int(NR*0.9)]/1000, a[NR]/1000}'
s=$(date +%s%N); for ((i = 0; i < calls; i++)); do bin/unit version >/dev/null; done; e=$(date +%s%N)
echo "the CLI alone (unit version): $(((e - s) / calls / 1000)) us a call"
echo "textfile: $(wc -c <"$w/unit.prom") bytes, $(grep -vc '^#' "$w/unit.prom") samples"
echo "daemon RSS after: $(rss)"
