#!/bin/bash
# What PID 1 carries, with the runtime's own tools: the size of unit (every
# image's /init) beside unit-build and a Go "hello" (the floor), raw and at
# zstd -19; how many packages each links; and the package inits it runs at
# start (GODEBUG=inittrace=1, the median of RUNS starts). Usage:
# bench/size.sh [RUNS]   (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
make -s build
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat >"$out/hello.go" <<'GO'
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
GO
(cd "$out" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o hello hello.go)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %12s %12s %9s\n' program bytes zstd-19 packages
for p in unit unit-build hello; do
  bin=bin/$p; [ "$p" = hello ] && bin=$out/hello
  tags=""; [ "$p" = unit-build ] && tags="-tags builders"
  n=$([ "$p" = hello ] && echo 1 || go list -deps $tags ./cmd/unit | wc -l)
  printf '%-12s %12d %12d %9s\n' "$p" "$(stat -c %s "$bin")" "$(zstd -19 -c -q "$bin" | wc -c)" "$n"
done
# Package inits at start: `unit --version` runs every init and little else.
for p in unit unit-build; do
  for i in $(seq "$runs"); do
    GODEBUG=inittrace=1 "bin/$p" --version 2>"$out/$p.$i" >/dev/null
  done
  python3 - "$p" "$out/$p".* <<'PY'
import re, statistics, sys
sums, inits, allocs, byts = [], 0, 0, 0
for fn in sys.argv[2:]:
    t = 0; n = a = b = 0
    for line in open(fn):
        m = re.match(r'init \S+ @\S+ ms, (\S+) ms clock, (\d+) bytes, (\d+) allocs', line)
        if m:
            t += float(m.group(1)); n += 1; b += int(m.group(2)); a += int(m.group(3))
    sums.append(t); inits, allocs, byts = n, a, b
print(f"{sys.argv[1]}: {inits} package inits, {statistics.median(sums):.2f} ms (median of {len(sums)}; min {min(sums):.2f}), {byts} bytes, {allocs} allocations")
PY
done
