#!/bin/bash
# Every figure in docs/figures.md, one script after the other, each side by side
# with its peers (s6, runit, Puppet from Debian's packages) in the same run.
# Installs the peers first. Takes about 15 minutes on 2 cores, and about as
# long again for debian.sh's first run (debootstrap, then TCG boots of unit's
# images and of Debian), and bench/build.sh's cold builds (N=3 of each
# system and format, with the floor beside each) about 30 more.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends s6 runit puppet strace time bc >/dev/null
for b in boot image pkg build supervise cm fleet debian; do
  echo "== bench/$b.sh"
  bash "bench/$b.sh"
done
