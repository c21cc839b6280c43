#!/bin/bash
# Boot figures of the example system under TCG against the floor: a static
# Go /init that only mounts /proc and powers off (bench/helloinit), booted
# by the same kernel with the same qemu arguments, alternately, in the same
# run. Per run, on the guest kernel's clock (seconds since kernel start):
# the kernel's "Run /init", /init's first line, and unit's "all N services
# running" or hello's power off, with the differences and the host's load
# average. Absolute TCG times vary 2-3x between machines; the difference
# between the two is the figure. Usage: bench/boot.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
make -s build
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

bin/unit image build examples/hello/system.toml -o "$out/unit" >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }

# The floor: the same kernel and command line (the manifest), an
# initramfs of /init, /proc and /dev/console only.
mkdir -p "$out/hello" "$out/hello-root/proc" "$out/hello-root/dev"
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$out/hello-root/init" ./bench/helloinit
mknod "$out/hello-root/dev/console" c 5 1
(cd "$out/hello-root" && find . | LC_ALL=C sort | cpio -o -H newc --owner 0:0 --quiet | zstd -q -3 >"$out/hello/initramfs.cpio.zst")
cp "$out/unit/vmlinuz" "$out/unit/manifest.json" "$out/hello/"
echo "initramfs: unit $(stat -c %s "$out/unit/initramfs.cpio.zst") bytes, hello $(stat -c %s "$out/hello/initramfs.cpio.zst") bytes (zstd)"

# boot DIR LOG DONE-REGEX: boot, copy the console to LOG until the line
# shows (or qemu exits), then stop qemu.
go build -o "$out/bootrun" ./bench/bootrun
boot() { "$out/bootrun" -until "$3" "$1" </dev/null >"$2" 2>&1 || true; }

# num LOG REGEX: the first decimal number in LOG's first match of REGEX.
num() { grep -m1 -aoE "$2" "$1" | grep -oE '[0-9]+\.[0-9]+' | head -1 || true; }
ms() { [ -n "$1" ] && [ -n "$2" ] && echo "$(echo "($2 - $1) * 1000" | bc | cut -d. -f1) ms" || echo "?"; }

printf '%-5s %-5s %9s %9s %9s %14s %14s %12s  %s\n' run init "Run /init" "1st line" ready "1st-Run /init" "ready-1st line" "ready-Run" "load average"
for i in $(seq "$runs"); do
  for which in hello unit; do
    log="$out/console.$which.$i"
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    if [ "$which" = hello ]; then
      boot "$out/hello" "$log" 'reboot: Power down'
      ready=$(num "$log" 'hello: power off [0-9.]+s')
    else
      boot "$out/unit" "$log" 'unit: (all [0-9]+|[0-9]+ of [0-9]+) services running'
      ready=$(num "$log" 'services running.*after kernel start')
      phases=$(grep -m1 -aoE 'unit: boot phases: .*' "$log" || true)
    fi
    run=$(num "$log" '\[ *[0-9.]+\] Run /init')
    first=$(num "$log" '(unit|hello): PID 1, started [0-9.]+s')
    if [ "$which" = unit ]; then
      # The summary's "(N ms after /init)" is finer than its seconds.
      after=$(grep -m1 -aoE '\([0-9]+ ms after /init\)' "$log" | grep -oE '[0-9]+' || true)
      [ -n "$after" ] && [ -n "$first" ] && ready=$(echo "scale=3; $first + $after / 1000" | bc)
    fi
    printf '%-5s %-5s %9s %9s %9s %14s %14s %12s  %s\n' "$i" "$which" "${run:-?}" "${first:-?}" "${ready:-?}" \
      "$(ms "$run" "$first")" "$(ms "$first" "$ready")" "$(ms "$run" "$ready")" "$load"
    if [ "$which" = unit ] && [ -n "${phases:-}" ]; then echo "      ${phases#unit: }"; fi
    if [ "$which" = hello ]; then hello_ready=$ready; else
      echo "      unit ready - hello power off: $(ms "$hello_ready" "$ready")"
    fi
  done
done
