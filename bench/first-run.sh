#!/usr/bin/env bash
# A newcomer's first run, timed: a fresh clone with an empty .build, then `make demo` phase by phase
# (docs/performance.md, "First run").
#
#   bench/first-run.sh [--rev REV] [--keep] [REPO]
#
# REPO (default: the repository this script is in) is cloned at REV (default: its committed HEAD;
# uncommitted changes are not part of a clone) into a fresh temporary folder. Phases:
#   packages  `make demo-deps`: the apt packages the demo needs. 0 when they are all installed
#             already; this script cannot uninstall system packages, so it says which case it measured.
#   resolve   `swift package resolve` (git fetches from where git's config points, e.g. a mirror).
#   build     the demo's two binaries, as `make demo` builds them (`make demo-build`).
#   demo      scripts/demo from its start until it has printed the budget table.
# Each phase prints wall seconds and CPU seconds (user + system of the processes it waited for).
# FIRST_RUN_SPLIT="TARGET..." builds those targets first, each timed on its own line (where the build
# time goes, e.g. "CCryptoBoringSSL CNIOBoringSSL"); the build phase's total still includes them.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rev=HEAD keep=
while [ $# -gt 0 ]; do
  case $1 in
    --rev) rev=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "first-run: unknown option $1" >&2; exit 64 ;;
    *) break ;;
  esac
done
repo=${1:-$here}
work=$(mktemp -d /tmp/sonda-first-run.XXXXXX)
chmod 755 "$work"  # scripts/demo's nginx workers run unprivileged and must traverse it
trap '[ -n "$keep" ] || rm -rf "$work"' EXIT  # a failed phase sets keep, for its log

# cpu_total: user + system seconds of all children this shell has waited for. `times` runs in
# this shell, not in a command substitution (a forked subshell starts with no children's times).
cpu_total() {
  times >"$work/times"
  cpu=$(tail -n 1 "$work/times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
}
now() { date +%s.%N; }
names=() walls=() cpus=() notes=()
report() {  # report NAME WALL CPU NOTE
  names+=("$1") walls+=("$(printf '%.0f' "$2")") cpus+=("$(printf '%.0f' "$3")") notes+=("$4")
  printf '[first-run] %s: %.0f s wall, %.0f s CPU %s\n' "$1" "$2" "$3" "$4" >&2
}
# run_phase NAME NOTE COMMAND...: runs COMMAND in the clone and reports it.
run_phase() {
  local name=$1 note=$2 start cpu0 status=0
  shift 2
  start=$(now) && cpu_total && cpu0=$cpu
  (cd "$work/sonda" && "$@") >>"$work/${name// /}.log" 2>&1 || status=$?
  cpu_total && report "$name" "$(echo "$(now) - $start" | bc)" "$(echo "$cpu - $cpu0" | bc)" "$note"
  if [ $status -ne 0 ]; then
    echo "first-run: $name failed ($status), see $work/${name// /}.log:" >&2
    tail -n 20 "$work/${name// /}.log" >&2; keep=1; exit 1
  fi
}

sha=$(git -C "$repo" rev-parse "$rev^{commit}")  # in REPO: a worktree's HEAD is not its clone's HEAD
git clone -q --no-local "$repo" "$work/sonda"
git -C "$work/sonda" checkout -q --detach "$sha"
commit=$(git -C "$work/sonda" log -1 --format='%h %s' | cut -c1-70)
cd "$work/sonda"
# Older trees (before the demo had its own targets) install everything and build with plain flags.
if make -n demo-build >/dev/null 2>&1; then
  deps=(make demo-deps) build=(make demo-build)
else
  deps=(make deps) build=(sh -c 'swift build --product sonda-agent && swift build --product sonda-aggregator')
fi
missing=$(make -s -n "${deps[1]}" | grep -o 'for p in [^;]*;' | sed 's/^for p in //; s/;$//')
missing=$(for p in $missing; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done | xargs)
if [ -z "$missing" ]; then
  packages_note="(all installed already: measured 0, see the estimate below)"
else
  packages_note="(installed: $missing)"
fi

echo "first-run: $commit, cloned into $work/sonda; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run_phase packages "$packages_note" "${deps[@]}"
run_phase resolve "" swift package resolve
for target in ${FIRST_RUN_SPLIT:-}; do
  run_phase "build: $target" "(part of build)" swift build --target "$target"
done
run_phase build "" "${build[@]}"
objects=$(find .build/debug/ -name '*.o' | wc -l)
boringssl=$(find .build/debug/CCryptoBoringSSL.build/ .build/debug/CNIOBoringSSL.build/ -name '*.o' 2>/dev/null | wc -l)

# The demo until the budget table: the table is complete when the demo moves on to `uptime`.
start=$(now) table= && cpu_total && cpu0=$cpu
while IFS= read -r line; do
  echo "$line" >>"$work/demo.log"
  case $line in *'$ sonda-aggregator uptime'*) table=$(echo "$(now) - $start" | bc) ;; esac
done < <(DEMO_SECONDS=${DEMO_SECONDS:-60} scripts/demo 2>&1)
wait $! || { echo "first-run: the demo failed, see $work/demo.log" >&2; tail -n 20 "$work/demo.log" >&2; keep=1; exit 1; }
[ -n "$table" ] || { echo "first-run: the demo printed no budget table, see $work/demo.log" >&2; keep=1; exit 1; }
cpu_total && report demo "$table" "$(echo "$cpu - $cpu0" | bc)" "(to the budget table; CPU to the demo's end)"

total_wall=0 total_cpu=0 build_wall=0 build_cpu=0
for i in "${!names[@]}"; do
  total_wall=$((total_wall + walls[i])) total_cpu=$((total_cpu + cpus[i]))
  case ${names[i]} in build*) build_wall=$((build_wall + walls[i])) build_cpu=$((build_cpu + cpus[i])) ;; esac
done

echo
echo "First run of $commit ($(nproc) cores, load average now $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-30s %7s %7s\n' phase "wall s" "CPU s"
for i in "${!names[@]}"; do printf '%-30s %7d %7d   %s\n' "${names[i]}" "${walls[i]}" "${cpus[i]}" "${notes[i]}"; done
printf '%-30s %7d %7d\n' total "$total_wall" "$total_cpu"
echo "object files in .build/debug: $objects ($boringssl of them BoringSSL: swift-crypto's and swift-nio-ssl's copies)"
# On an idle machine the build keeps every core busy nearly all the time (SwiftPM runs one job per
# core), so its wall time is about its CPU time divided by the cores. The other phases wait on
# dpkg, git or the demo's clock more than on the CPU, so their wall time is kept as measured.
others=$((total_wall - build_wall))
estimate=$((build_cpu / $(nproc) + others))
echo "estimated wall time on an idle $(nproc)-core machine: $estimate s ($((estimate / 60)) min $((estimate % 60)) s)"
echo "  = build CPU $build_cpu s / $(nproc) cores + the other phases' wall time as measured ($others s)"
[ -z "$missing" ] && echo "  packages were installed already (0 s here); docs/performance.md gives their install time"
[ -n "$keep" ] && echo "clone kept in $work/sonda"
exit 0
