#!/usr/bin/env bash
# The agent daemon's cost: CPU per probe while `sonda-agent run` runs 50 checks at 10 s intervals
# (scheduling, spooling, signing and reporting included) ÷ the raw C libcurl loop's CPU per
# probe, for HTTPS and plain HTTP; and idle RSS with 50 checks loaded.
# Prints: agent_cpu_https / agent_cpu_http  agent_ms  floor_ms  ratio  target, each also against the
# C loop with its probes 200 ms apart (_vs_spaced_c) and ten back to back every 2 s as the
# agent runs them (_vs_windowed_c), and the RSS it ran in
# (_rss_mb; _private_mb is its anonymous part);  agent_idle_rss_mb  value  <=12 (the median over 40 s),
# agent_idle_peak_rss_mb, agent_idle_private_mb,
# and curl_idle_rss_mb: a C program that only loads libcurl, for scale.
# Env: SONDA_AGENT, SECONDS_PER_RUN (30).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGENT=$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")
RUN_SECONDS=${SECONDS_PER_RUN:-30}
source "$ROOT/bench/daemon-lab.sh"

# The agent's CPU time in ms over RUN_SECONDS, at nanosecond resolution: perf's task-clock, which
# also counts threads that exit within the run (Dispatch's workers do, and libcurl's resolver
# threads); without perf, the sum over the threads alive at both ends (/proc/PID/stat counts 10 ms
# ticks, too coarse for 150 probes of a third of a millisecond).
cpu_over_run() {
  if command -v perf >/dev/null; then
    perf stat -e task-clock -x, -p "$1" -o "$WORK/perf.txt" -- sleep "$RUN_SECONDS"
    awk -F, '/task-clock/ { print $1 }' "$WORK/perf.txt"
  else
    local before; before=$(cpu_ms "$1")
    sleep "$RUN_SECONDS"
    python3 -c "print($(cpu_ms "$1") - $before)"
  fi
}
cpu_ms() { cat /proc/"$1"/task/*/schedstat | awk '{ ns += $1 } END { printf "%.3f\n", ns / 1e6 }'; }
sys_ms() { awk '{ print $15 * 1000 / '"$(getconf CLK_TCK)"' }' "/proc/$1/stat"; }

# The agent binds port 0 and logs the port it got.
metrics_port() { grep -o 'on port [0-9]*' "$WORK/agent.log" | grep -o '[0-9]*$'; }
metric() { curl -s "http://127.0.0.1:$(metrics_port)/metrics" | awk -v name="$1" '$1 == name { print $2 }'; }
rss_mb() { awk -v field="$2:" '$1 == field { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

measure() { # name url floor_count target — steady state, after the workers have loaded the CA store
  rm -rf "$WORK/spool" "$WORK/received.jsonl"
  config "$2" "${INTERVAL:-10s}"
  "$AGENT" run --config "$WORK/agent.yaml" --listen 127.0.0.1:0 --workers "${WORKERS:-4}" >"$WORK/agent.log" 2>&1 &
  local pid=$!
  sleep 11
  kill -0 "$pid" 2>/dev/null || { cat "$WORK/agent.log" >&2; exit 1; }
  local cpu probes0 probes1
  probes0=$(metric sonda_probes_total)
  cpu=$(cpu_over_run "$pid")
  probes1=$(metric sonda_probes_total)
  echo "  $1: $cpu ms of CPU for $((probes1 - probes0)) probes; since start: sys ms $(sys_ms "$pid") of $(cpu_ms "$pid")" >&2
  printf '%s_rss_mb %s\n%s_private_mb %s\n' "$1" "$(rss_mb "$pid" VmRSS)" "$1" "$(rss_mb "$pid" RssAnon)"
  kill -TERM "$pid"; wait "$pid" || true
  local failed; failed=$(grep -c '"ok": false' "$WORK/received.jsonl" || true)
  [ "$failed" = 0 ] || { echo "agent-daemon: $failed probes failed" >&2; exit 1; }
  local floor_cpu spaced_cpu burst_cpu
  floor_cpu=$(median floor_ms "$2" "$3" 0)
  spaced_cpu=$(floor_ms "$2" 60 "$SPACING_MS")
  burst_cpu=$(floor_ms "$2" 60 2000 10)
  python3 -c "a=$cpu/($probes1-$probes0); f=$floor_cpu; s=$spaced_cpu; b=$burst_cpu
print(f'$1 {a:.3f} {f:.3f} {a/f:.2f} <=$4')
print(f'$1_vs_spaced_c {a:.3f} {s:.3f} {a/s:.2f}')
print(f'$1_vs_windowed_c {a:.3f} {b:.3f} {a/b:.2f}')"
}

# The median of three runs of a command that prints a number (the back-to-back C loop lasts
# well under a second, so one run is at the mercy of the VM's neighbours).
median() { for _ in 1 2 3; do "$@"; done | sort -g | sed -n 2p; }

# The C floor's CPU per probe for COUNT probes GAP_MS apart, less one probe's run (process start
# and the CA store), so a short spaced run compares with a long back-to-back one.
floor_ms() { # url count gap_ms [burst]
  python3 - "$FLOOR" "$1" "$2" "$WORK/lab/bundle.pem" "$3" "${4:-1}" <<'PY'
import resource, subprocess, sys
floor, url, count, ca, gap, burst = sys.argv[1:]
def cpu(n):
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([floor, url, str(n), ca, gap, burst], check=True)
    a = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime
print((cpu(int(count)) - cpu(1)) * 1000 / (int(count) - 1))
PY
}

# The agent runs each check every 10 s: 50 checks are a probe every 200 ms, each on cold caches.
# The C loop spaced the same way is the floor for a scheduler that starts every probe on its own;
# windowed, ten back to back every 2 s, it runs the way the agent does (the jobs due within a
# 2 s window, back to back); the back-to-back loop is the issue's.
SPACING_MS=200

measure agent_cpu_https "https://localhost:$(port tls13)/small.txt" 500 1.15
measure agent_cpu_http "http://localhost:$(port http)/small.txt" 1500 2

rm -rf "$WORK/spool"
config "https://localhost:$(port tls13)/small.txt" 1h
"$AGENT" run --config "$WORK/agent.yaml" --listen 127.0.0.1:0 >"$WORK/agent.log" 2>&1 &
pid=$!
# Sampled each second for 40 s once past the two seconds after which the agent unmaps the pages
# only starting it used. Its checks, spread over the hour, still run one every 72 s on average:
# after a probe its code stays mapped until the batch is sent and nothing is due for a minute.
# Printed: the median (idle) and the highest sample (with a probe's pages mapped).
sleep 3
samples=$(for _ in $(seq 40); do rss_mb "$pid" VmRSS; echo; sleep 1; done | sort -g)
anon=$(rss_mb "$pid" RssAnon)
printf 'agent_idle_rss_mb %s <=12\nagent_idle_peak_rss_mb %s\nagent_idle_private_mb %s\n' \
  "$(echo "$samples" | sed -n 20p)" "$(echo "$samples" | tail -1)" "$anon"
kill -TERM "$pid"; wait "$pid" || true
# For scale: a C program that only loads libcurl and makes a handle.
cc -O2 -o "$ROOT/.build-bench/curl_idle" "$ROOT/bench/curl_idle.c" -lcurl
"$ROOT/.build-bench/curl_idle" & pid=$!
sleep 2
printf 'curl_idle_rss_mb %s\n' "$(rss_mb "$pid" VmRSS)"
kill "$pid"; wait "$pid" 2>/dev/null || true
