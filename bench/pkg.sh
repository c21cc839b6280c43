#!/bin/bash
# Build figures of the example system's packages (packages/*.toml: busybox,
# kernel, hello, gojq), with bin/unit:
#   cold      fresh cache and store: apt source index, downloads, Go modules
#             and Go's build cache all start empty
#   fresh     fresh store, warm download caches: the builds themselves
#   no-change everything already in the store (best and median of RUNS)
# Usage: bench/pkg.sh [RUNS]   (default 5). UNIT_BIN overrides bin/unit.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bin=${UNIT_BIN:-bin/unit}
[ -n "${UNIT_BIN:-}" ] || make -s build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
recipes=(packages/*.toml)

# timed LABEL CMD...: runs CMD, prints and returns its wall time in seconds.
timed() {
  local label=$1; shift
  local start=$EPOCHREALTIME
  "$@" >"$tmp/out" 2>"$tmp/log" || { cat "$tmp/log"; exit 1; }
  local end=$EPOCHREALTIME
  awk -v s="$start" -v e="$end" -v l="$label" 'BEGIN { printf "%-10s %6.2f s\n", l, e - s }'
}
perpkg() { grep -E ' built ' "$tmp/log" | awk '{ printf "  %-8s %s\n", $1, $(NF) }'; }

echo "packages: ${recipes[*]}"
UNIT_CACHE=$tmp/cache timed cold "$bin" pkg build "${recipes[@]}"
perpkg
UNIT_CACHE=$tmp/cache timed fresh "$bin" pkg build --store "$tmp/store2" "${recipes[@]}"
perpkg
times=()
for i in $(seq "$runs"); do
  t=$(UNIT_CACHE=$tmp/cache timed no-change "$bin" pkg build "${recipes[@]}")
  grep -q 'cached' "$tmp/log" && ! grep -q 'building' "$tmp/log" || { echo "no-change run rebuilt something:"; cat "$tmp/log"; exit 1; }
  times+=("$(echo "$t" | awk '{print $2}')")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "no-change  best %.3f s, median %.3f s of %d\n", a[1], a[int((NR + 1) / 2)], NR }'
echo "keg sizes:"
du -sh "$tmp"/cache/store/*/current/ | sed "s|$tmp/cache/store/||; s|/current/||" | awk '{ printf "  %-8s %s\n", $2, $1 }'
