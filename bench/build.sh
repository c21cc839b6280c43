#!/bin/bash
# Build figures (issue 27), each with the load average beside it, in one run:
#   cold    `unit image build` of examples/web and examples/debian with an
#           empty cache (UNIT_CACHE a fresh directory: downloads, store,
#           every memo), both formats, against the floor measured in the
#           same run, alternately (floor, unit, floor, unit ...) so both see
#           the same mirror and load: `apt-get download` of the same .debs
#           (one call), `dpkg-deb -x` of each into one tree, then
#           `mksquashfs -comp zstd -Xcompression-level 3` (the disk format's
#           floor) and `tar | zstd -3 -T0` (the initramfs format's);
#   warm    the same command again, nothing changed; then one managed file
#           changed (a copy of the system with one [file.*] more, its
#           content edited before each build);
#   store   .deb into the store: `unit pkg build --store EMPTY` of the
#           system's recipes with the download cache warm, the builder's
#           "unpacked NAME/VERSION-HASH in T" lines: median per package, the
#           largest keg, and the wall time of all;
#   run     what `make run` does before it boots: `make initramfs` with an
#           empty UNIT_CACHE (hello from Debian's source with gcc, gojq
#           with Go, in the sandbox), then warm.
# Usage: bench/build.sh
#   N=3                       runs of each figure (cold runs too)
#   SYSTEMS="web debian"      examples/NAME/system.toml
#   FORMATS="initramfs disk"  formats of the cold and warm builds
#   PARTS="cold warm store run"
#   RUN_COLD=1                cold `make initramfs` runs (each builds gcc's
#                             hello and gojq from nothing: minutes)
#   KEEP=1                    keep the temp directory (its path is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3}
SYSTEMS=${SYSTEMS:-web debian}
FORMATS=${FORMATS:-initramfs disk}
PARTS=${PARTS:-cold warm store run}
RUN_COLD=${RUN_COLD:-1}
for t in apt-get dpkg-deb mksquashfs zstd tar python3 make; do
  command -v "$t" >/dev/null || { echo "bench/build.sh: $t is missing (make deps installs the build's tools)" >&2; exit 1; }
done
make -s build
bin=$PWD/bin/unit
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/unit-bench-build.XXXXXX")
# A build writes SYSTEM.ids beside a system that has none: the run leaves
# none behind that was not there.
new_ids=()
for name in $SYSTEMS; do [ -e "examples/$name/system.ids" ] || new_ids+=("examples/$name/system.ids"); done
cleanup() {
  rm -f "${new_ids[@]}"
  if [ -n "${KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

part() { [[ " $PARTS " == *" $1 "* ]]; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
secs() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.2f", e - s }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
# stats V...: "median M s (min–max, K runs)".
stats() {
  printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END {
    m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    if (NR == 1) printf "%.2f s (1 run)", a[1]
    else printf "median %.2f s (%.2f–%.2f, %d runs)", m, a[1], a[NR], NR }'
}
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# timed LOG CMD...: runs CMD with its output in LOG and sets $took to its wall
# seconds; a failure shows LOG's end and stops the script.
took=""
timed() {
  local log=$1; shift
  local s=$EPOCHREALTIME
  if ! "$@" >"$log" 2>&1; then
    echo "bench/build.sh: failed: $*" >&2
    tail -30 "$log" >&2
    exit 1
  fi
  took=$(secs "$s" "$EPOCHREALTIME")
}

# specs SYSTEM: the .debs a cold build of SYSTEM fetches, one apt-get
# download argument a line (NAME[:ARCH]=VERSION, as pkgbuild's debFile asks):
# every [[deb]] of packages/NAME.lock for each package the system names;
# for a recipe without a lock, its [[source]] debs at apt's candidate
# version (a "linux-image-*-cloud-amd64" through what its via depends on).
specs() {
  python3 - "$1" <<'PY'
import glob, subprocess, sys, tomllib, fnmatch
system = sys.argv[1]
with open(system, "rb") as f:
    names = tomllib.load(f).get("system", {}).get("packages", [])
out = set()
def candidate(pkg):
    for line in subprocess.run(["apt-cache", "policy", pkg], capture_output=True, text=True).stdout.splitlines():
        if line.strip().startswith("Candidate:"):
            v = line.split(":", 1)[1].strip()
            if v and v != "(none)":
                return v
    sys.exit(f"bench/build.sh: apt has no candidate for {pkg} (apt-get update?)")
for n in names:
    try:
        with open(f"packages/{n}.lock", "rb") as f:
            lock = tomllib.load(f)
        for d in lock.get("deb", []):
            a = d.get("arch", "")
            out.add(f"{d['name']}{':' + a if a not in ('', 'all') else ''}={d['version']}")
        continue
    except FileNotFoundError:
        pass
    with open(f"packages/{n}.toml", "rb") as f:
        recipe = tomllib.load(f)
    for s in recipe.get("source", []):
        if "deb" not in s:
            print(f"bench/build.sh: {n}: a [[source]] that is not a .deb is not in the floor", file=sys.stderr)
            continue
        deb = s["deb"]
        if any(c in deb for c in "*?["):
            dep = subprocess.run(["apt-cache", "depends", s.get("via", deb)], capture_output=True, text=True).stdout
            hits = [l.split(":", 1)[1].strip() for l in dep.splitlines() if l.strip().startswith("Depends:")]
            hits = [h for h in hits if fnmatch.fnmatch(h, deb)]
            if not hits:
                sys.exit(f"bench/build.sh: {n}: nothing {s.get('via')} depends on matches {deb}")
            deb = hits[0]
        v = s.get("version", "candidate")
        out.add(f"{deb}={candidate(deb) if v == 'candidate' else v}")
print("\n".join(sorted(out)))
PY
}

# floor SPECS: the floor's steps into $tmp/floor; sets fl_dl fl_x fl_sq fl_tz
# (seconds) and prints one line.
floor() {
  local d=$tmp/floor
  rm -rf "$d" && mkdir -p "$d/debs" "$d/tree"
  local s=$EPOCHREALTIME
  # shellcheck disable=SC2046
  if ! (cd "$d/debs" && apt-get download -q $(cat "$1")) >"$d/apt.log" 2>&1; then
    echo "bench/build.sh: apt-get download of the floor's .debs failed (a pin the archive dropped? make update-locks):" >&2
    grep -E '^E:' "$d/apt.log" >&2 || tail -5 "$d/apt.log" >&2
    exit 1
  fi
  local a=$EPOCHREALTIME
  for f in "$d"/debs/*.deb; do dpkg-deb -x "$f" "$d/tree"; done
  local b=$EPOCHREALTIME
  mksquashfs "$d/tree" "$d/out.sqfs" -noappend -quiet -no-progress -comp zstd -Xcompression-level 3 >/dev/null
  local c=$EPOCHREALTIME
  tar -C "$d/tree" -c . | zstd -q -3 -T0 -o "$d/out.tar.zst"
  local e=$EPOCHREALTIME
  fl_dl=$(secs "$s" "$a") fl_x=$(secs "$a" "$b") fl_sq=$(secs "$b" "$c") fl_tz=$(secs "$c" "$e")
  local n size
  n=$(ls "$d"/debs/*.deb | wc -l)
  size=$(cat "$d"/debs/*.deb | wc -c)
  printf '  floor: download %s s (%d .debs, %s), dpkg-deb -x %s s, mksquashfs zstd-3 %s s (%s), tar | zstd -3 %s s (%s) [load %s]\n' \
    "$fl_dl" "$n" "$(mb "$size")" "$fl_x" "$fl_sq" "$(mb "$(stat -c %s "$d/out.sqfs")")" "$fl_tz" "$(mb "$(stat -c %s "$d/out.tar.zst")")" "$(load)"
}

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

for name in $SYSTEMS; do
  sys=examples/$name/system.toml
  [ -f "$sys" ] || { echo "bench/build.sh: no $sys" >&2; exit 1; }
  w=$tmp/$name
  mkdir -p "$w"
  specs "$sys" >"$w/specs"
  echo "== $sys: packages $(python3 -c 'import sys, tomllib; print(" ".join(tomllib.load(open(sys.argv[1], "rb"))["system"]["packages"]))' "$sys"); $(wc -l <"$w/specs") .debs in the locks' closures (and the kernel's, busybox's)"

  if part cold; then
    echo "-- cold build (empty UNIT_CACHE) against the floor, alternately, $N runs; load $(load)"
    declare -A unit_t=() floor_t=()
    for i in $(seq "$N"); do
      for fmt in $FORMATS; do
        floor "$w/specs"
        [ "$fmt" = disk ] && f=$(awk -v a="$fl_dl" -v b="$fl_x" -v c="$fl_sq" 'BEGIN { printf "%.2f", a + b + c }') \
          || f=$(awk -v a="$fl_dl" -v b="$fl_x" -v c="$fl_tz" 'BEGIN { printf "%.2f", a + b + c }')
        rm -rf "$w/cache-$fmt" "$w/img-$fmt"
        l0=$(load)
        UNIT_CACHE=$w/cache-$fmt timed "$w/cold-$fmt.log" "$bin" image build "$sys" -o "$w/img-$fmt" --format "$fmt"
        kegs=$(grep -c ' unpacked ' "$w/cold-$fmt.log" || true)
        printf '  run %d %-9s unit %7.2f s (%d .debs unpacked) | floor %6.2f s | %.2f× [load %s → %s]\n' \
          "$i" "$fmt" "$took" "$kegs" "$f" "$(ratio "$took" "$f")" "$l0" "$(load)"
        unit_t[$fmt]+="$took " floor_t[$fmt]+="$f "
      done
    done
    for fmt in $FORMATS; do
      # shellcheck disable=SC2086
      u=$(median ${unit_t[$fmt]}) fm=$(median ${floor_t[$fmt]})
      # shellcheck disable=SC2086
      echo "  $fmt: unit $(stats ${unit_t[$fmt]}); floor $(stats ${floor_t[$fmt]}); unit / floor (medians) = $(ratio "$u" "$fm")× (target ≤ 2×)"
    done
    unset unit_t floor_t
  fi

  if part warm; then
    for fmt in $FORMATS; do
      c=$w/cache-$fmt
      if [ ! -d "$c" ]; then # no cold part this run: fill a cache first
        UNIT_CACHE=$c timed "$w/fill-$fmt.log" "$bin" image build "$sys" -o "$w/img-$fmt" --format "$fmt"
      fi
      l0=$(load) ts=()
      for i in $(seq "$N"); do
        UNIT_CACHE=$c timed "$w/warm-$fmt.log" "$bin" image build "$sys" -o "$w/img-$fmt" --format "$fmt"
        ts+=("$took")
      done
      echo "-- $fmt warm rebuild, nothing changed: $(stats "${ts[@]}") (target < 0.5 s) [load $l0 → $(load)]"
      # The system's copy, one managed file more, beside its pins; built
      # from the working directory's packages/ (image.findRecipes).
      e=$w/edit-$fmt
      mkdir -p "$e"
      cp "$sys" "$e/system.toml"
      [ -f "examples/$name/system.ids" ] && cp "examples/$name/system.ids" "$e/system.ids"
      printf '\n[file."/etc/bench-edit"]\nmode = "0644"\ncontent = "0\\n"\n' >>"$e/system.toml"
      UNIT_CACHE=$c timed "$e/first.log" "$bin" image build "$e/system.toml" -o "$w/img-edit-$fmt" --format "$fmt"
      first=$took l0=$(load) ts=()
      for i in $(seq "$N"); do
        sed -i "s|^content = \"[0-9]*\\\\n\"\$|content = \"$i\\\\n\"|" "$e/system.toml"
        grep -q "^content = \"$i\\\\n\"" "$e/system.toml" || { echo "bench/build.sh: editing $e/system.toml failed" >&2; exit 1; }
        UNIT_CACHE=$c timed "$e/run.log" "$bin" image build "$e/system.toml" -o "$w/img-edit-$fmt" --format "$fmt"
        ts+=("$took")
      done
      echo "-- $fmt one managed file changed: $(stats "${ts[@]}") (target < 2 s; the copy's first build $first s) [load $l0 → $(load)]"
    done
  fi

  if part store; then
    # The download cache of a cold build (or the user's, warm); a store of
    # its own, empty each run.
    c=$w/cache-$(set -- $FORMATS; echo "$1")
    [ -d "$c" ] || c=${UNIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/unit}
    recipes=()
    for p in $(python3 -c 'import sys, tomllib; print(" ".join(tomllib.load(open(sys.argv[1], "rb"))["system"]["packages"]))' "$sys"); do
      recipes+=("packages/$p.toml")
    done
    l0=$(load) ts=() per=""
    for i in $(seq "$N"); do
      rm -rf "$w/store"
      UNIT_CACHE=$c timed "$w/store.log" "$bin" pkg build --store "$w/store" "${recipes[@]}"
      ts+=("$took")
      # "NAME unpacked NAME/VERSION-HASH in 0.3s" (or 12ms, 850µs): seconds.
      per+=$(awk '$2 == "unpacked" && $4 == "in" {
          t = $5; u = t; sub(/^[0-9.]+/, "", u); sub(/[^0-9.].*$/, "", t)
          f = (u == "ms") ? 1e-3 : (u == "µs" || u == "us") ? 1e-6 : (u == "ns") ? 1e-9 : 1
          printf "%s %.6f\n", $3, t * f }' "$w/store.log")$'\n'
    done
    n=$(grep -c ' unpacked ' "$w/store.log" || true)
    if [ "$n" -eq 0 ]; then
      echo "-- .deb into the store: no \"unpacked\" lines in unit pkg build's output (its format changed?); all $n in $(stats "${ts[@]}")"
    else
      # The largest keg of the last run, and its times over the runs.
      big=$(awk '$2 == "unpacked" { print $3 }' "$w/store.log" | while read -r k; do echo "$(du -sb "$w/store/$k" | cut -f1) $k"; done | sort -n | tail -1)
      bk=${big#* }
      # shellcheck disable=SC2046
      bt=$(median $(echo "$per" | awk -v k="$bk" '$1 == k { print $2 }'))
      # shellcheck disable=SC2046
      pm=$(median $(echo "$per" | awk 'NF == 2 { print $2 }'))
      awk -v m="$pm" -v n="$n" -v k="$bk" -v s="${big%% *}" -v t="$bt" 'BEGIN {
        printf "-- .deb into the store (warm downloads, empty store): median %.1f ms per package over %d packages; the largest, %s (%.1f MB unpacked), %.1f ms\n", m * 1000, n, k, s / 1e6, t * 1000 }'
      echo "   all ${#recipes[@]} recipes' kegs, wall: $(stats "${ts[@]}") [load $l0 → $(load)]"
    fi
  fi
done

if part run; then
  echo "== make run's build: make initramfs (examples/hello: busybox, kernel, hello from Debian's source, gojq with Go)"
  c=$tmp/run-cache
  ts=()
  for i in $(seq "$RUN_COLD"); do
    rm -rf "$c" "$tmp/run-out"
    l0=$(load)
    UNIT_CACHE=$c timed "$tmp/run-cold.log" make -s initramfs OUT="$tmp/run-out"
    echo "  cold run $i: $took s [load $l0 → $(load)]"
    ts+=("$took")
  done
  echo "-- make initramfs, cold (empty UNIT_CACHE): $(stats "${ts[@]}")"
  ts=()
  l0=$(load)
  for i in $(seq "$N"); do
    UNIT_CACHE=$c timed "$tmp/run-warm.log" make -s initramfs OUT="$tmp/run-out"
    ts+=("$took")
  done
  echo "-- make initramfs, warm: $(stats "${ts[@]}") [load $l0 → $(load)]"
fi
