# Sourced by bench scripts: Debian bookworm installed the Debian way
# (debootstrap --variant=minbase, then apt-get install in a chroot), from
# this machine's own mirror (read from apt's sources, never a host name
# written here), cached under ${UNIT_CACHE:-~/.cache/unit}/bench/ (delete a
# tree to measure afresh).

deb_cache="${UNIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/unit}/bench"

# deb_mirror prints the first Debian archive among apt's sources ("-security"
# for its security archive).
deb_mirror() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
    grep -oE '^(deb|URIs:)\s+\S+' | awk '{print $2}' | grep -E "/debian${1:-}/?\$" | head -1 || true
}

# deb_installed prints the bytes of TREE's files, without apt's package
# lists and download cache (an image would not ship them either).
deb_installed() { du -sxB1 --exclude=var/lib/apt/lists --exclude=var/cache/apt "$1" | cut -f1; }

# deb_minbase TREE LOG: debootstrap --variant=minbase bookworm into TREE
# once; its installed size is kept in TREE.minbase-size.
deb_minbase() {
  local tree=$1 log=$2
  [ -f "$tree.minbase-size" ] && return 0
  command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null
  rm -rf "$tree" "$tree".*
  mkdir -p "$(dirname "$tree")"
  debootstrap --variant=minbase bookworm "$tree" "$(deb_mirror)" >"$log" 2>&1 || { tail "$log"; return 1; }
  # As an installed Debian (and unit's package builds) has them: the
  # point releases' updates and the security archive.
  printf 'deb %s bookworm bookworm-updates main\n' "$(deb_mirror)" >"$tree/etc/apt/sources.list"
  [ -z "$(deb_mirror -security)" ] || printf 'deb %s bookworm-security main\n' "$(deb_mirror -security)" >>"$tree/etc/apt/sources.list"
  chroot "$tree" sh -ec 'apt-get update -q; DEBIAN_FRONTEND=noninteractive apt-get -y -q upgrade; apt-get clean' >>"$log" 2>&1 || { tail "$log"; return 1; }
  deb_installed "$tree" >"$tree.minbase-size"
}

# deb_install TREE STAMP LOG PKG...: apt-get install --no-install-recommends
# PKG... in TREE once (TREE.STAMP marks it done). No daemon starts in the
# chroot (policy-rc.d), as in an image build; /proc is mounted in a mount
# namespace of its own, for postinsts that read it (update-initramfs).
deb_install() {
  local tree=$1 stamp=$2 log=$3
  shift 3
  [ -f "$tree.$stamp" ] && return 0
  printf '#!/bin/sh\nexit 101\n' >"$tree/usr/sbin/policy-rc.d"
  chmod +x "$tree/usr/sbin/policy-rc.d"
  unshare --mount --fork chroot "$tree" sh -ec 'mount -t proc proc /proc
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
    apt-get clean' sh "$@" >"$log" 2>&1 || { tail "$log"; return 1; }
  rm -f "$tree/usr/sbin/policy-rc.d"
  touch "$tree.$stamp"
}

# deb_count prints how many packages TREE has installed.
deb_count() { chroot "$1" dpkg-query -W -f '${db:Status-Abbrev}\n' | grep -c '^ii'; }
