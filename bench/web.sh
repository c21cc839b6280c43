#!/bin/bash
# Figures of examples/web (nginx, Redis, PostgreSQL 15, dropbear, chrony from
# Debian bookworm, each with its runtime closure only), side by side with the
# same daemons installed by debootstrap --variant=minbase + apt-get install,
# measured in this run:
#   - sizes: compressed (what ships) and installed (the files);
#   - the closure: time from the build's kernel line to packing (selection,
#     ld.so closure, ld.so.cache, overrides) on a warm store;
#   - per format: boot to every service ready under TCG, and RAM in use
#     then (MemTotal - MemAvailable, and Shmem: the initramfs is tmpfs).
# Usage: bench/web.sh [RUNS]  (default 3). The debootstrap tree is cached
# under ${UNIT_CACHE:-~/.cache/unit}/bench/ (delete it to measure afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
make -s build
out=$(mktemp -d)
trap 'pkill -f "qemu-system-x86_64.*$out/" 2>/dev/null || true; rm -rf "$out"' EXIT

# The system plus a probe that prints memory once every service is ready.
sys="$out/web/system.toml"
mkdir -p "$out/web"
cp examples/web/system.toml "$sys"
cat >>"$sys" <<'EOF'

[service.memprobe]
oneshot  = true
requires = ["service:nginx", "service:postgres", "service:redis", "service:ssh", "service:chrony"]
exec = ["/bin/sh", "-c", "echo MEM $(grep -E '^(MemTotal|MemAvailable|Shmem):' /proc/meminfo | tr -s ' ' | tr '\\n' ' ')"]
EOF

ms() { # milliseconds between two slog time= stamps in a build log
  python3 - "$1" "$2" "$3" <<'PY'
import re, sys, datetime
log, a, b = open(sys.argv[1]).read().splitlines(), sys.argv[2], sys.argv[3]
def t(pat):
    for l in log:
        if re.search(pat, l):
            return datetime.datetime.fromisoformat(re.search(r'time=(\S+)', l).group(1).replace('Z', '+00:00'))
print(int((t(b) - t(a)).total_seconds() * 1000))
PY
}

echo "== examples/web"
for fmt in initramfs disk; do
  bin/unit image build "$sys" -o "$out/$fmt" --format "$fmt" >"$out/$fmt.log" 2>&1 || { cat "$out/$fmt.log"; exit 1; }
done
# Warm: again, and time the closure from the log.
for i in $(seq "$runs"); do
  bin/unit image build "$sys" -o "$out/initramfs" >"$out/warm.log" 2>&1
  echo "closure + ld.so.cache + overrides, warm store, run $i: $(ms "$out/warm.log" 'msg=kernel ' 'msg="packing initramfs"') ms"
done
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
echo "installed (the root's files): $(unsquashfs -lls "$out/disk/root.squashfs" | awk '$1 ~ /^-/ {s += $3} END {printf "%.1f MB", s/1e6}')"
echo "disk image allocated: $(du -m "$out/disk/disk.img" | cut -f1) MB of $(( $(stat -c %s "$out/disk/disk.img") / 1000000 )) MB"

echo "== debootstrap --variant=minbase bookworm + apt-get install --no-install-recommends (same daemons)"
source bench/debootstrap.sh
tree="$deb_cache/debootstrap-web"
deb_minbase "$tree" "$out/debootstrap.log"
deb_install "$tree" done "$out/apt.log" nginx redis-server postgresql-15 dropbear-bin chrony
echo "minbase: $(( $(cat "$tree.minbase-size") / 1000000 )) MB installed; with the daemons: $(( $(deb_installed "$tree") / 1000000 )) MB installed, $(deb_count "$tree") packages"
mksquashfs "$tree" "$out/deb.sqfs" -comp zstd -Xcompression-level 19 -noappend -quiet -e proc sys dev run tmp var/lib/apt/lists var/cache/apt >/dev/null
echo "with the daemons, squashfs zstd -19 (as the image root): $(( $(stat -c %s "$out/deb.sqfs") / 1000000 )) MB"
echo "published (base images only, no daemons): gcr.io/distroless/base-debian12 ~20 MB compressed, alpine:3.20 ~3.5 MB compressed"

echo "== boot to every service ready (TCG, 1 GiB guest), RAM in use then"
for fmt in initramfs disk; do
  for i in $(seq "$runs"); do
    log="$out/console.$fmt.$i"
    cp -r "$out/$fmt" "$out/run-$fmt-$i"
    bin/unit image run "$out/run-$fmt-$i" -m 1G </dev/null >"$log" 2>&1 &
    pid=$!
    ready="" mem=""
    for _ in $(seq 3600); do
      ready=$(grep -m1 -aoE 'unit: all [0-9]+ services running [0-9.]+s after kernel start' "$log" || true)
      mem=$(grep -m1 -aoE 'MEM MemTotal: .*' "$log" || true)
      [ -n "$ready" ] && [ -n "$mem" ] && break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    pkill -f "qemu-system-x86_64.*$out/run-$fmt-$i" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$out/run-$fmt-$i"
    used=$(echo "$mem" | awk '{for (i=1;i<=NF;i++) {if ($i=="MemTotal:") t=$(i+1); if ($i=="MemAvailable:") a=$(i+1); if ($i=="Shmem:") s=$(i+1)}} END {printf "used %d MB, shmem %d MB", (t-a)/1024, s/1024}')
    echo "$fmt run $i: ${ready#unit: } | $used"
  done
done
