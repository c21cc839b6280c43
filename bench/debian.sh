#!/bin/bash
# Debian's daemons (nginx, OpenSSH, chrony, haproxy) three ways, in one run:
#   - what a user writes: the lines of examples/debian/system.toml, per
#     [service.*] table and in all (a Debian install needs no file: apt
#     starts each daemon from its package's own unit file);
#   - unit: `unit image build` in both formats, sizes from the manifest and
#     the root, then boot to the console's summary line under TCG;
#   - Debian: debootstrap --variant=minbase bookworm + apt-get install
#     --no-install-recommends of the same daemons (sizes: the tree and a
#     squashfs of it made as unit makes its root), then the same tree with
#     what it takes to boot it (systemd-sysv, the cloud kernel and its
#     initramfs-tools initrd), booted as an ext4 root disk under TCG with
#     Debian's own systemd as init, until `systemctl is-system-running
#     --wait` returns (every start job done).
# Usage: bench/debian.sh [RUNS]   (default 2 boots of each)
# SYSTEM=path/to/system.toml measures another system on unit's side (the
# boot waits for its summary line). The Debian trees are cached (see
# bench/debootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-2}
sys=${SYSTEM:-examples/debian/system.toml}
daemons=(nginx openssh-server chrony haproxy)
units="nginx ssh chrony haproxy" # their systemd services
source bench/debootstrap.sh
make -s build
out=$(mktemp -d)
qemu_group="" # the process group of the qemu running now (see boot)
trap '[ -z "$qemu_group" ] || kill -- "-$qemu_group" 2>/dev/null || true; rm -rf "$out"' EXIT
mb() { awk -v b="$1" 'BEGIN {printf "%.1f MB", b/1e6}'; }

echo "== what a user writes"
if [ -f "$sys" ]; then
  # Lines that are neither blank nor comments, per top-level table kind;
  # a multi-line string's lines count where its key is.
  awk '
    { line = $0 }
    !instr && line ~ /^[ \t]*(#|$)/ { next }
    !instr && line ~ /^[ \t]*\[/ { t = line; sub(/^[ \t]*\[+[ \t]*/, "", t); sub(/[].].*/, "", t); kind = t }
    { all++; n[kind]++; if (kind == "service" && line ~ /^[ \t]*\[service\./) svc++
      c = gsub(/"""/, "&", line); if (c % 2) instr = !instr }
    END {
      printf "%s: %d lines in all; [service.*] %d lines for %d services", FILENAME, all, n["service"], svc
      for (k in n) if (k != "service") printf "; [%s] %d", k, n[k]
      printf "\n"
    }' "$sys"
else
  echo "$sys: not there yet"
fi
echo "Debian: 0 files (apt-get install starts each daemon from its own unit file)"

if [ -f "$sys" ]; then
  echo "== unit: $sys"
  for fmt in initramfs disk; do
    start=$(date +%s.%N)
    bin/unit image build "$sys" -o "$out/$fmt" --format "$fmt" >"$out/$fmt.log" 2>&1 || { cat "$out/$fmt.log"; exit 1; }
    echo "$fmt build: $(echo "$(date +%s.%N) - $start" | bc) s"
  done
  # What the build says it does not honour, as the user sees it.
  echo "keys of unit files not honoured, listed by the build: $(grep -ac " not honoured: " "$out/disk.log" || true)"
  python3 - "$out" <<'PY'
import json, sys
o = sys.argv[1]
i = json.load(open(o + "/initramfs/manifest.json"))
d = json.load(open(o + "/disk/manifest.json"))
print(f"debian packages used {len(i.get('debs', []))}, left out {len(i.get('dropped_debs', []))}")
print(f"initramfs format: {i['initramfs_size']/1e6:.1f} MB zstd (packages {i['packages_size']/1e6:.1f} MB, unit+busybox+config {i['initramfs_base_size']/1e6:.1f} MB, modules {i['modules_size']/1e6:.2f} MB) + kernel")
dd = d['disk']
print(f"disk format: root squashfs {dd['root_size']/1e6:.1f} MB, UKI {dd['uki_size']/1e6:.1f} MB (kernel + stage-1 initramfs {d['initramfs_size']/1e6:.1f} MB)")
PY
  echo "kernel: $(stat -c %s "$out/initramfs/vmlinuz" | awk '{printf "%.1f MB", $1/1e6}')"
  unsquashfs -lls "$out/disk/root.squashfs" | awk '$1 ~ /^-/ {s += $3; n++} END {printf "root: %.1f MB installed, %d files\n", s/1e6, n}'
  echo "disk image allocated: $(du -m "$out/disk/disk.img" | cut -f1) MB of $(( $(stat -c %s "$out/disk/disk.img") / 1000000 )) MB"
fi

echo "== Debian: debootstrap --variant=minbase bookworm + apt-get install --no-install-recommends ${daemons[*]}"
tree="$deb_cache/debootstrap-debian"
deb_minbase "$tree" "$out/debootstrap.log"
deb_install "$tree" daemons "$out/apt.log" "${daemons[@]}"
[ -f "$tree.daemons-size" ] || deb_installed "$tree" >"$tree.daemons-size"
[ -f "$tree.daemons-count" ] || deb_count "$tree" >"$tree.daemons-count"
[ -f "$tree.daemons-files" ] || find "$tree" -xdev -type f -not -path "$tree/var/lib/apt/lists/*" -not -path "$tree/var/cache/apt/*" | wc -l >"$tree.daemons-files"
# The same tree made into a squashfs as unit makes its root (image/rootfs.go's
# mksquashfsArgs, minus -tar: here from the directory).
sqfs() { mksquashfs "$1" "$2" -noappend -quiet -no-progress -comp zstd -Xcompression-level 19 -all-root -no-xattrs -root-mode 755 \
  -e proc sys dev run tmp var/lib/apt/lists var/cache/apt >/dev/null; }
[ -f "$tree.daemons-sqfs" ] || { sqfs "$tree" "$out/deb.sqfs"; stat -c %s "$out/deb.sqfs" >"$tree.daemons-sqfs"; rm -f "$out/deb.sqfs"; }
echo "minbase: $(mb "$(cat "$tree.minbase-size")") installed"
echo "with the daemons: $(mb "$(cat "$tree.daemons-size")") installed, $(cat "$tree.daemons-files") files, $(cat "$tree.daemons-count") packages; squashfs zstd -19 $(mb "$(cat "$tree.daemons-sqfs")")"
deb_install "$tree" boot "$out/apt-boot.log" systemd-sysv linux-image-cloud-amd64
kver=$(basename "$(ls -d "$tree"/lib/modules/*cloud* | head -1)")
[ -f "$tree.boot-size" ] || deb_installed "$tree" >"$tree.boot-size"
[ -f "$tree.boot-sqfs" ] || { sqfs "$tree" "$out/deb.sqfs"; stat -c %s "$out/deb.sqfs" >"$tree.boot-sqfs"; rm -f "$out/deb.sqfs"; }
size=$(cat "$tree.boot-size")
echo "bootable (+ systemd-sysv linux-image-cloud-amd64, kernel $kver): $(mb "$size") installed, $(deb_count "$tree") packages; squashfs zstd -19 $(mb "$(cat "$tree.boot-sqfs")"); of it /boot $(mb "$(du -sB1 "$tree/boot" | cut -f1)") (vmlinuz, initrd.img, System.map, config), modules $(mb "$(du -sB1 "$tree/lib/modules" | cut -f1)")"

# The root disk: the tree on ext4 with one more unit, which prints when
# every start job is done and what the four daemons are then. Type=exec:
# its own start job ends at once, so is-system-running does not wait on it.
cat >"$tree/usr/local/sbin/bench-ready" <<EOF
#!/bin/sh
st=\$(systemctl is-system-running --wait)
echo "BENCH-READY up=\$(cut -d' ' -f1 /proc/uptime)s state=\$st active=\$(systemctl is-active $units | tr '\\n' ' ')" >/dev/console
EOF
chmod 755 "$tree/usr/local/sbin/bench-ready"
cat >"$tree/etc/systemd/system/bench-ready.service" <<EOF
[Unit]
Description=bench: say when the boot is done
[Service]
Type=exec
ExecStart=/usr/local/sbin/bench-ready
[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$tree/etc/systemd/system/multi-user.target.wants"
ln -sf ../bench-ready.service "$tree/etc/systemd/system/multi-user.target.wants/bench-ready.service"
mkfs.ext4 -q -F -L root -d "$tree" "$out/deb.ext4" "$(( size / 1048576 * 13 / 10 + 256 ))M"
rm -f "$tree/usr/local/sbin/bench-ready" "$tree/etc/systemd/system/bench-ready.service" "$tree/etc/systemd/system/multi-user.target.wants/bench-ready.service"
cp "$tree/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$tree/boot/initrd.img-$kver" "$out/initrd.img"

# boot NAME PATTERN CMD...: runs CMD (a qemu, or unit image run and its
# qemu) in a process group of its own with its console in a file until
# PATTERN shows (at most 10 minutes), then ends that group and prints the
# line and the wall time from the start.
boot() {
  local name=$1 pat=$2 log="$out/console.$1" line="" start
  shift 2
  start=$(date +%s.%N)
  setsid "$@" </dev/null >"$log" 2>&1 &
  local pid=$!
  qemu_group=$pid
  for _ in $(seq 6000); do
    line=$(grep -m1 -aoE "$pat" "$log" || true)
    [ -n "$line" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  local wall
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  kill -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  qemu_group=""
  if [ -z "$line" ]; then
    echo "$name: no ready line; the console's end:"; tail -20 "$log"
  else
    echo "$name: $line | wall from qemu start: ${wall} s"
  fi
}

echo "== boot to ready (TCG, 2 vCPUs, 1 GiB; load average now: $(cut -d" " -f1-3 /proc/loadavg))"
for i in $(seq "$runs"); do
  if [ -f "$sys" ]; then
    for fmt in initramfs disk; do
      cp -r "$out/$fmt" "$out/run-$fmt"
      boot "unit $fmt run $i" 'unit: (all [0-9]+|[0-9]+ of [0-9]+) services running.*' bin/unit image run "$out/run-$fmt" -m 1G
      rm -rf "$out/run-$fmt"
    done
  fi
  # As unit image run boots the initramfs format: the same qemu, -kernel.
  boot "debian run $i" 'BENCH-READY .*' qemu-system-x86_64 -accel tcg -m 1G -smp 2 -nographic -no-reboot \
    -device virtio-rng-pci -kernel "$out/vmlinuz" -initrd "$out/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 panic=-1" \
    -drive "if=virtio,format=raw,snapshot=on,file=$out/deb.ext4" -nic user,model=virtio-net-pci
done
echo "(unit's line: kernel start to every service's readiness; Debian's up=: kernel start to systemd's last start job, /proc/uptime)"
