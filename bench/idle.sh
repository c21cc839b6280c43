#!/bin/bash
# Idle wake-ups over minutes, not seconds: the Go runtime's clocks (sysmon
# sleeps at most 60 s; with GOGC on, a collection is forced after 2 idle
# minutes) only show over a window of several minutes. Runs, side by side
# over the same window, each with SERVICES `sleep` services:
#   unit         bin/unit run as it is (GOGC off, paced by a memory limit)
#   unit-gogc    the same with GOGC=100 in its environment: the runtime's default
#   s6, runit    s6-svscan + s6-supervise, runsvdir + runsv (Debian's packages)
#   go-idle      a Go program that collected once and then blocks
# and counts every context switch (voluntary + involuntary) of every thread
# of every supervising process, a minute at a time. Before the window each
# unit answers `status --json` and `metrics` once, as a monitor would: the
# collection that follows starts the runtime's 2-minute clock (a unit that
# never collected has none). With perf, the switches of unit and unit-gogc
# are attributed to sysmon, collections, the scavenger or unit's own code.
# Then, with STORM=CALLS (default 200; 0 skips), both units are restarted
# with STORM_SERVICES (default 1000) services and answer CALLS `status
# --json` + `metrics` calls: peak and settled RSS show the limit bounds the heap.
# Usage: bench/idle.sh [WINDOW_SECONDS] [SERVICES]   (default 300 100)
set -euo pipefail
cd "$(dirname "$0")/.."
window=${1:-300}
n=${2:-100}
storm=${STORM:-200}
stormn=${STORM_SERVICES:-1000}
command -v s6-svscan >/dev/null && command -v runsvdir >/dev/null ||
  apt-get install -y -q --no-install-recommends s6 runit >/dev/null
make -s build
unit=$PWD/bin/unit
out=$(mktemp -d)
roots=()
cleanup() {
  local p
  for p in "${roots[@]}"; do stop "$p"; done
  rm -rf "$out"
}
trap cleanup EXIT
go build -o "$out/idle" ./bench/idle

# descendants PID: every process below PID.
descendants() {
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    echo "$c"
    descendants "$c"
  done
}
# stop PID: TERM (runsvdir: HUP) to a supervisor, then KILL whatever of its
# tree is left.
stop() {
  local p=$1 sig=TERM left
  [ -d /proc/"$p" ] || return 0
  left=$(descendants "$p")
  [ "$(cat /proc/"$p"/comm)" = runsvdir ] && sig=HUP
  kill -"$sig" "$p" 2>/dev/null || true
  for _ in $(seq 50); do [ -d /proc/"$p" ] || break; sleep 0.1; done
  kill -KILL "$p" $left 2>/dev/null || true
}
# sleeping PID: how many `sleep` processes run below PID.
sleeping() {
  local c k=0
  for c in $(descendants "$1"); do [ "$(cat /proc/"$c"/comm 2>/dev/null)" = sleep ] && k=$((k + 1)); done
  echo $k
}
# waitup PID N: until N services run below PID (at most 2 minutes).
waitup() {
  for _ in $(seq 1200); do [ "$(sleeping "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  echo "bench: only $(sleeping "$1") of $2 services up below $1" >&2
  return 1
}

# startunit NAME N [ENV...]: unit run with N services; prints its pid.
startunit() {
  local name=$1 k=$2 d=$out/$1
  shift 2
  mkdir -p "$d/etc"
  for i in $(seq -w 1 "$k"); do printf '[service.s%s]\nexec = ["/bin/sleep", "infinity"]\n' "$i"; done >"$d/etc/bench.toml"
  env "$@" GODEBUG=gctrace=1 setsid "$unit" run --config "$d/etc" --state "$d/state" >"$d/out" 2>"$d/log" </dev/null &
  echo $!
}
# startscan NAME N CMD...: s6-svscan or runsvdir over N run scripts.
startscan() {
  local name=$1 k=$2 d=$out/$1
  shift 2
  for i in $(seq -w 1 "$k"); do
    mkdir -p "$d/scan/s$i"
    printf '#!/bin/sh\nexec /bin/sleep infinity\n' >"$d/scan/s$i/run"
    chmod +x "$d/scan/s$i/run"
  done
  setsid "$@" "$d/scan" >"$d/log" 2>&1 </dev/null &
  echo $!
}
unitwait() { UNIT_SOCKET=$out/$1/state/unit.sock "$unit" is-system-running --wait --timeout 120s >/dev/null; }
unitcall() { UNIT_SOCKET=$out/$1/state/unit.sock "$unit" "${@:2}" >/dev/null; }

# procs NAME ROOT: the supervising processes (not the services).
procs() {
  case $1 in
  s6) echo "$2" $(for c in $(descendants "$2"); do [ "$(cat /proc/"$c"/comm)" = s6-supervise ] && echo "$c"; done) ;;
  runit) echo "$2" $(for c in $(descendants "$2"); do [ "$(cat /proc/"$c"/comm)" = runsv ] && echo "$c"; done) ;;
  *) echo "$2" ;;
  esac
}
# switches PID...: context switches of every thread of the processes.
switches() {
  local p
  for p in "$@"; do cat /proc/"$p"/task/*/status 2>/dev/null; done |
    awk '/^(voluntary|nonvoluntary)_ctxt_switches:/{s+=$2} END{print s+0}'
}
kb() { awk -v k="$2" '$1==k":"{print $2}' /proc/"$1"/"$3"; }
gcs() { grep -c '^gc ' "$out/$1/log" || true; }

echo "$(nproc) cores, $(uname -r), $(go version | cut -d' ' -f3), window ${window} s, $n services, load $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A root
root[unit]=$(startunit unit "$n")
roots+=("${root[unit]}")
root[unit-gogc]=$(startunit unit-gogc "$n" GOGC=100)
roots+=("${root[unit-gogc]}")
root[s6]=$(startscan s6 "$n" s6-svscan -c $((n + 10)))
roots+=("${root[s6]}")
root[runit]=$(startscan runit "$n" runsvdir -P)
roots+=("${root[runit]}")
"$out/idle" baseline &
root[go-idle]=$!
roots+=("${root[go-idle]}")
names=(unit unit-gogc s6 runit go-idle)
for u in unit unit-gogc; do unitwait "$u"; done
for s in unit unit-gogc s6 runit; do waitup "${root[$s]}" "$n"; done
if [ "${TOUCH:-1}" = 1 ]; then
  for u in unit unit-gogc; do unitcall "$u" status --json && unitcall "$u" metrics; done
fi
sleep 3 # the collection after a large reply runs 1 s after it
declare -A pids before gc0
for s in "${names[@]}"; do
  pids[$s]=$(procs "$s" "${root[$s]}")
  before[$s]=$(switches ${pids[$s]})
done
for u in unit unit-gogc; do gc0[$u]=$(gcs "$u"); done
perfpids=()
if command -v perf >/dev/null && [ "${PERF:-1}" = 1 ]; then
  for u in unit unit-gogc; do
    perf record -q -e sched:sched_switch -g -p "${root[$u]}" -o "$out/$u/perf.data" -- sleep "$window" >/dev/null 2>&1 &
    perfpids+=($!)
  done
fi
from=$(cut -d' ' -f1 /proc/uptime)

printf '%-8s' minute
printf ' %10s' "${names[@]}"
echo "   (context switches in that minute, all threads of the supervising processes)"
declare -A last
for s in "${names[@]}"; do last[$s]=${before[$s]}; done
elapsed=0 m=0
while [ "$elapsed" -lt "$window" ]; do
  step=$((window - elapsed < 60 ? window - elapsed : 60))
  sleep "$step"
  elapsed=$((elapsed + step)) m=$((m + 1))
  printf '%-8s' "$m"
  for s in "${names[@]}"; do
    now=$(switches ${pids[$s]})
    printf ' %10s' $((now - last[$s]))
    last[$s]=$now
  done
  echo
done
echo
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %6s %10s %10s %12s %10s %10s\n' "" procs switches "a minute" collections "PSS anon" "RSS"
for s in "${names[@]}"; do
  total=$((last[$s] - before[$s]))
  c=-
  case $s in unit*) c=$(($(gcs "$s") - gc0[$s])) ;; esac
  pss=0 rss=0
  for p in ${pids[$s]}; do
    pss=$((pss + $(kb "$p" Pss_Anon smaps_rollup))) rss=$((rss + $(kb "$p" Rss smaps_rollup)))
  done
  printf '%-10s %6s %10s %10s %12s %9sk %9sk\n' "$s" "$(wc -w <<<"${pids[$s]}")" "$total" \
    "$(awk -v t="$total" -v w="$window" 'BEGIN{printf "%.1f", t*60/w}')" "$c" "$pss" "$rss"
done

for p in "${perfpids[@]}"; do wait "$p" || true; done
for u in unit unit-gogc; do
  [ -s "$out/$u/perf.data" ] || continue
  start=$(awk -v hz="$(getconf CLK_TCK)" '{print $22/hz}' /proc/"${root[$u]}"/stat)
  echo
  echo "== $u: what each switch was (perf sched:sched_switch call graphs)"
  perf script -i "$out/$u/perf.data" -F tid,time,ip,dso 2>/dev/null |
    "$out/idle" attribute -bin "$unit" -start "$start" -from "$from" -gclog "$out/$u/log"
done

[ "$storm" -gt 0 ] || exit 0
for s in "${names[@]}"; do stop "${root[$s]}"; done
roots=()
echo
echo "== storm: $stormn services, $storm x (status --json + metrics), one after the other"
printf '%-10s %10s %10s %10s %10s %12s\n' "" "RSS before" "peak RSS" "RSS after" "anon after" collections
for u in unit unit-gogc; do
  rm -rf "${out:?}/$u"
  env=()
  [ "$u" = unit-gogc ] && env=(GOGC=100)
  r=$(startunit "$u" "$stormn" "${env[@]}")
  roots+=("$r")
  unitwait "$u"
  waitup "$r" "$stormn"
  sleep 3
  rss0=$(kb "$r" VmRSS status) g0=$(gcs "$u")
  peak=$rss0
  for i in $(seq "$storm"); do
    unitcall "$u" status --json
    unitcall "$u" metrics
    rss=$(kb "$r" VmRSS status)
    [ "$rss" -gt "$peak" ] && peak=$rss
  done
  sleep 3 # the last large reply's collection
  printf '%-10s %9sk %9sk %9sk %9sk %12s\n' "$u" "$rss0" "$peak" "$(kb "$r" VmRSS status)" \
    "$(kb "$r" Pss_Anon smaps_rollup)" $(($(gcs "$u") - g0))
  stop "$r"
done
