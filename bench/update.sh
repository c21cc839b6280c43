#!/bin/bash
# Update figures (issue 15): one disk machine through TestUpdateAB under
# TCG with OVMF and systemd-boot: the bundle against the disk image, time
# from `unit update` to committed, and the time back on the old slot after
# an update that never gets ready (its trial is 20 s) and after one whose
# init dies at once. The numbers are the test's own log lines.
# Usage: bench/update.sh [RUNS]   (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
for i in $(seq "$runs"); do
  go test -count=1 -timeout 30m -run '^TestUpdateAB$' -v ./qemu-tests/ 2>&1 |
    grep -E 'sizes:|power cut|good update|never got ready|init dies|^(ok|FAIL|---)' | sed "s/^ *update_test.go:[0-9]*: /run $i: /"
done
