#!/bin/bash
# Boot figures of the example system under TCG: the kernel's own uptime when
# unit reports every service running, wall time from qemu start to that
# line, and initramfs sizes. Usage: bench/boot.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
make -s build
out=$(mktemp -d)
trap 'pkill -f "qemu-system-x86_64.*$out/img" 2>/dev/null || true; rm -rf "$out"' EXIT
bin/unit image build examples/hello/system.toml -o "$out/img" >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
echo "initramfs: $(stat -c %s "$out/img/initramfs.cpio.zst") bytes zstd"
grep -E '"(initramfs_without_modules|initramfs_size|modules_size)[a-z_]*"' "$out/img/manifest.json" || true
for i in $(seq "$runs"); do
  log="$out/console.$i"
  start=$(date +%s.%N)
  bin/unit image run "$out/img" </dev/null >"$log" 2>&1 &
  pid=$!
  # The console goes to a file; look for the ready line until it shows.
  line=""
  for _ in $(seq 1200); do
    line=$(grep -m1 -aE 'unit: all [0-9]+ services running' "$log" || true)
    [ -n "$line" ] && break
    sleep 0.05
  done
  end=$(date +%s.%N)
  kill "$pid" 2>/dev/null || true
  pkill -f "qemu-system-x86_64.*$out/img" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "run $i: ${line#*unit: } | wall to ready line: $(echo "$end - $start" | bc)s"
done
