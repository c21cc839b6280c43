#!/bin/bash
# Image figures: sizes per format (example system and a bare metal-profile
# system), build time of the whole image from a warm package store, and
# boot time per format under TCG to unit's ready line ("all N services
# running").
# Usage: bench/image.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
make -s build
out=$(mktemp -d)
qpid=""
cleanup() { [ -n "$qpid" ] && kill -- -"$qpid" 2>/dev/null; [ -n "${KEEP:-}" ] && echo "kept $out" || rm -rf "$out"; }
trap cleanup EXIT
sys=examples/hello/system.toml
printf '[system]\nhostname = "metal"\nhardware = "metal"\n' >"$out/metal.toml"

# Warm the package store and download caches once.
bin/unit image build "$sys" -o "$out/warm" --format disk >"$out/warm.log" 2>&1 || { cat "$out/warm.log"; exit 1; }
bin/unit image build "$out/metal.toml" -o "$out/metal" --format disk >"$out/metal.log" 2>&1 || { cat "$out/metal.log"; exit 1; }

# The compressed initramfs parts are cached by content (cache/zstd): a
# rebuild with the same unit binary reuses them, a new binary recompresses
# the base (zstd -19). Both are measured.
cache="${UNIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/unit}"
echo "== build time, warm store (${runs} runs each)"
for fmt in initramfs disk; do
  for zc in warm cold; do
    for i in $(seq "$runs"); do
      rm -rf "$out/$fmt"
      [ "$zc" = cold ] && rm -rf "$cache/zstd"
      s=$(date +%s.%N)
      bin/unit image build "$sys" -o "$out/$fmt" --format "$fmt" >/dev/null 2>&1
      e=$(date +%s.%N)
      printf '%-9s zstd cache %-4s run %d: %.2fs\n' "$fmt" "$zc" "$i" "$(echo "$e - $s" | bc)"
    done
  done
done

size() { stat -c %s "$1"; }
alloc() { du -k "$1" | cut -f1; }
echo "== sizes (bytes)"
echo "unit binary:            $(size bin/unit) raw, $(zstd -19 -c bin/unit | wc -c) zstd -19"
for d in disk metal; do
  m="$out/$d/manifest.json"
  [ "$d" = metal ] && label="metal (bare system)" || label="example (vm)"
  echo "$label:"
  echo "  vmlinuz               $(size "$out/$d/vmlinuz")"
  field() { grep -o "\"$1\": [0-9]*" "$m" | grep -o '[0-9]*$'; }
  echo "  initramfs zstd        $(size "$out/$d/initramfs.cpio.zst") = base $(field initramfs_base_size) (unit, busybox, config) + packages $(field packages_size) + modules $(field modules_size)"
  echo "  initramfs raw         $(zstd -dc "$out/$d/initramfs.cpio.zst" | wc -c)"
  echo "  unit.efi (UKI)        $(size "$out/$d/unit.efi")"
  echo "  disk.img              $(size "$out/$d/disk.img") apparent, $(alloc "$out/$d/disk.img") KiB allocated"
done

# boot DIR FORMAT RUN [ARGS]: wall time from qemu start to the ready line.
boot() {
  local dir=$1 fmt=$2 i=$3 log="$out/console.$2.$3"
  shift 3
  local s e line=""
  s=$(date +%s.%N)
  setsid bin/unit image run "$dir" --format "$fmt" "$@" </dev/null >"$log" 2>&1 &
  qpid=$!
  for _ in $(seq 1800); do
    line=$(grep -m1 -aE 'unit: all [0-9]+ services running' "$log" || true)
    [ -n "$line" ] && break
    sleep 0.05
  done
  e=$(date +%s.%N)
  kill -- -"$qpid" 2>/dev/null || true
  wait "$qpid" 2>/dev/null || true
  qpid=""
  printf '%-9s run %d: wall %.2fs | %s\n' "$fmt" "$i" "$(echo "$e - $s" | bc)" "${line#*unit: }"
}
echo "== boot to all services running, TCG (${runs} runs each)"
for i in $(seq "$runs"); do boot "$out/disk" initramfs "$i"; done
for i in $(seq "$runs"); do boot "$out/disk" disk "$i"; done
echo "== metal profile, bare system, on q35 with AHCI and e1000e (${runs} runs)"
for i in $(seq "$runs"); do boot "$out/metal" disk "$i" --nic e1000e --disk-bus ahci; done
