#!/bin/bash
# Every figure in docs/figures.md, one script after the other, each side by side
# with its peers (s6, runit, Puppet from Debian's packages) in the same run.
# Installs the peers first. Takes about 15 minutes on 2 cores, and about as
# long again for debian.sh's first run (debootstrap, then TCG boots of unit's
# images and of Debian), and bench/build.sh's cold builds as long again or
# more (N=3 of two systems in two formats, each beside its floor; 9-15 min
# each on 2026-12-06's code at load 10-20).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends s6 runit puppet strace time bc >/dev/null
for b in size boot image pkg build supervise idle cm fleet debian; do
  echo "== bench/$b.sh"
  bash "bench/$b.sh"
done
