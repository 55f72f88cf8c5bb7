#!/usr/bin/env bash
# Profile fidelity: Sonda's user-space link emulator against the packet-level reference
# (../shared/reference-shaper: two network namespaces, a delay line, tc tbf), per phase, for
# WebPageTest 3G, 4G and Cable × 10 KB, 100 KB and 500 KB over HTTPS (TLS 1.3).
#
# Both sides use the same nginx configuration, certificate and files, and the same client
# (sonda-agent, one process per probe, so every probe pays DNS as a first visit does):
#   reference: `sonda-agent probe https://probe.test/…` inside the client namespace, unshaped;
#   emulated:  `sonda-agent probe https://localhost:PORT/… --profile P` on loopback.
# Only the namespaces' own addresses and loopback are ever probed.
#
# Through a proxy (PROXY_SIZES, for every profile): tinyproxy on the far side of the link, beside
# nginx, and the probe through it with `--proxy`; the reference's proxy listens in the server
# namespace, the emulated one on loopback, where the profile shapes the link to the proxy. URLs
# and the proxy are addresses, so no side resolves a name (the CONNECT names the origin by its
# address, which the proxy needs no DNS for). tinyproxy runs with TCP_NODELAY on its connections
# (bench/tcp_nodelay.c, as nginx has it): without it, Nagle holds the tail of a TLS record it
# relays for a round trip of the reference's link, which the emulation, whose relay acknowledges
# on loopback, cannot see (PROXY_NODELAY=0 measures stock tinyproxy).
#
# Prints the table on stderr and, on stdout, rows for bench/run:
#   fidelity_total_worst_ratio  R  <=1.03   (max over cells of emulated/reference or its inverse)
#   fidelity_phase_worst        E  <=1.0    (max |emu−ref| / max(5 % of ref, 10 ms) over phases)
#   fidelity_proxy_total_worst_ratio and fidelity_proxy_phase_worst: the same over the proxy cells
# Needs the reference shaper (REFERENCE_SHAPER, by default ../shared/reference-shaper beside the
# clone; it is not part of this repository), root and /dev/net/tun (the reference's own
# requirements); without any of them it says it skipped the fidelity cells, prints a note row for
# bench/run instead of its rows, and exits 0.
# Env: SONDA_AGENT (default .build/release/sonda-agent), RUNS (5 probes per cell, median),
#      PROFILES ("3G 4G Cable"), SIZES ("10000 100000 500000"), PROXY_SIZES ("100000"; "" for no
#      proxy cells; they need Debian's tinyproxy and say they skipped without it),
#      PROXY_NODELAY (1).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=$(realpath -m "${REFERENCE_SHAPER:-$ROOT/../shared/reference-shaper}")
AGENT=$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")
RUNS=${RUNS:-5}
PROFILES=${PROFILES:-"3G 4G Cable"}
SIZES=${SIZES:-"10000 100000 500000"}
PROXY_SIZES=${PROXY_SIZES-100000}
PROXY_NODELAY=${PROXY_NODELAY:-1}
PREFIX=sfid

[ -x "$AGENT" ] || { echo "profile-fidelity: agent binary $AGENT not found (swift build -c release --product sonda-agent)" >&2; exit 1; }
skip() { # REASON
  echo "profile-fidelity: skipped: $1" >&2
  echo "# fidelity_total_worst_ratio and fidelity_phase_worst skipped: $1"
  [ -z "$PROXY_SIZES" ] || echo "# the through-proxy cell (fidelity_proxy_*) skipped: $1"
  exit 0
}
[ -x "$REF/up" ] || skip "no reference shaper at $REF (set REFERENCE_SHAPER)"
[ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] || skip "needs root and /dev/net/tun"


if [ -n "$PROXY_SIZES" ] && ! command -v tinyproxy >/dev/null; then
  echo "profile-fidelity: the through-proxy cell skipped: tinyproxy is missing (apt-get install tinyproxy)" >&2
  echo "# the through-proxy cell (fidelity_proxy_*) skipped: tinyproxy is missing"
  PROXY_SIZES=
fi

W=$(mktemp -d /tmp/sonda-fidelity.XXXXXX)
EMU_PID=
REF_UP=
EMU_PROXY_PID=
REF_PROXY_PID=
cleanup() {
  [ -n "$EMU_PID" ] && nginx -c "$W/emu.conf" -e "$W/emu-error.log" -s quit 2>/dev/null || true
  [ -n "$EMU_PROXY_PID" ] && kill "$EMU_PROXY_PID" 2>/dev/null || true
  if [ -n "$REF_UP" ]; then
    [ -n "$REF_PROXY_PID" ] && kill "$REF_PROXY_PID" 2>/dev/null || true
    ip netns exec $PREFIX-srv nginx -c "$W/ref.conf" -e "$W/ref-error.log" -s quit 2>/dev/null || true
    sleep 0.3
    "$REF/down" --prefix $PREFIX --workdir "$W/link" >/dev/null 2>&1 || true
  fi
  rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/www" "$W/tmp"
chmod 755 "$W" "$W/www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=probe.test \
  -addext subjectAltName=DNS:probe.test,DNS:localhost,IP:10.213.7.1,IP:127.0.0.1 -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
for size in $SIZES $PROXY_SIZES; do head -c "$size" /dev/urandom >"$W/www/f$size"; chmod 644 "$W/www/f$size"; done

# The same server for both sides; only the listen address differs.
server_conf() { # NAME LISTEN
  cat >"$W/$1.conf" <<EOF
pid $W/$1.pid; error_log $W/$1-error.log; worker_processes 1;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp;
       uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
  server { listen $2 ssl; ssl_protocols TLSv1.3; root $W/www;
           ssl_certificate $W/cert.pem; ssl_certificate_key $W/key.pem; } }
EOF
}
EMU_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server_conf emu "127.0.0.1:$EMU_PORT"
server_conf ref "10.213.7.1:443"
nginx -c "$W/emu.conf" -e "$W/emu-error.log"
EMU_PID=1

# The same proxy for both sides; only the listen address differs. Leaves its PID in STARTED.
PRELOAD=
if [ -n "$PROXY_SIZES" ] && [ "$PROXY_NODELAY" = 1 ]; then
  mkdir -p "$ROOT/.build-bench"
  cc -O2 -shared -fPIC -o "$ROOT/.build-bench/tcp_nodelay.so" "$ROOT/bench/tcp_nodelay.c" -ldl
  PRELOAD=$ROOT/.build-bench/tcp_nodelay.so
fi
start_proxy() { # NAME LISTEN PORT [ip netns exec NS]
  local name=$1 listen=$2 port=$3; shift 3
  printf 'Port %s\nListen %s\nTimeout 60\nMaxClients 16\nLogLevel Warning\nLogFile "%s"\n' \
    "$port" "$listen" "$W/$name-proxy.log" >"$W/$name-proxy.conf"
  "$@" env LD_PRELOAD="$PRELOAD" tinyproxy -d -c "$W/$name-proxy.conf" >/dev/null 2>&1 &
  STARTED=$!
}
wait_listening() { # HOST PORT [ip netns exec NS]
  local host=$1 port=$2; shift 2
  for _ in $(seq 100); do
    "$@" bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null && return
    sleep 0.1
  done
  echo "profile-fidelity: no proxy listening on $host:$port" >&2
  exit 1
}
if [ -n "$PROXY_SIZES" ]; then
  EMU_PROXY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  start_proxy emu 127.0.0.1 "$EMU_PROXY_PORT"
  EMU_PROXY_PID=$STARTED
  wait_listening 127.0.0.1 "$EMU_PROXY_PORT"
fi
: >"$W/cells"

probe() { # OUT [ip netns exec NS] URL [--profile P]; one process per probe
  local out=$1; shift
  for _ in $(seq "$RUNS"); do
    "$@" --ca-file "$W/cert.pem" --json --timeout 60s >>"$out" || true
  done
}

profile_args() { # NAME -> rtt down up, from the agent's own table
  "$AGENT" profiles | awk -v n="$1" '$1 == n {
    rtt = $2; down = ($5 ~ /Mbit/ ? $4 * 1000 : $4); up = ($7 ~ /Mbit/ ? $6 * 1000 : $6); print rtt, down, up }'
}

for profile in $PROFILES; do
  read -r rtt down up < <(profile_args "$profile")
  [ -n "$rtt" ] || { echo "profile-fidelity: unknown profile $profile" >&2; exit 1; }
  echo "profile-fidelity: $profile (rtt $rtt ms, $down/$up kbit/s) ..." >&2
  "$REF/up" --rtt-ms "$rtt" --down-kbps "$down" --up-kbps "$up" --prefix $PREFIX --workdir "$W/link" \
    --net 10.213.7 >/dev/null
  REF_UP=1
  ip netns exec $PREFIX-srv nginx -c "$W/ref.conf" -e "$W/ref-error.log"
  for size in $SIZES; do
    probe "$W/ref-$profile-$size.jsonl" ip netns exec $PREFIX-cli "$AGENT" probe "https://probe.test/f$size"
    probe "$W/emu-$profile-$size.jsonl" "$AGENT" probe "https://localhost:$EMU_PORT/f$size" --profile "$profile"
    echo "$profile $size direct" >>"$W/cells"
  done
  if [ -n "$PROXY_SIZES" ]; then
    start_proxy ref 10.213.7.1 3128 ip netns exec $PREFIX-srv
    REF_PROXY_PID=$STARTED
    wait_listening 10.213.7.1 3128 ip netns exec $PREFIX-srv
  fi
  for size in $PROXY_SIZES; do
    probe "$W/ref-$profile-$size-proxy.jsonl" ip netns exec $PREFIX-cli "$AGENT" probe "https://10.213.7.1/f$size" \
      --proxy http://10.213.7.1:3128
    probe "$W/emu-$profile-$size-proxy.jsonl" "$AGENT" probe "https://127.0.0.1:$EMU_PORT/f$size" \
      --proxy "http://127.0.0.1:$EMU_PROXY_PORT" --profile "$profile"
    echo "$profile $size proxy" >>"$W/cells"
  done
  if [ -n "$REF_PROXY_PID" ]; then
    kill "$REF_PROXY_PID"
    wait "$REF_PROXY_PID" 2>/dev/null || true
    REF_PROXY_PID=
  fi
  ip netns exec $PREFIX-srv nginx -c "$W/ref.conf" -e "$W/ref-error.log" -s quit
  sleep 0.3
  "$REF/down" --prefix $PREFIX --workdir "$W/link" >/dev/null
  REF_UP=
done

python3 - "$W" <<'EOF'
import json, statistics, sys
w = sys.argv[1]
phases = {"direct": ["dns", "connect", "tls", "send", "wait", "receive", "total"]}
phases["proxy"] = ["dns", "connect", "proxy", "tls", "send", "wait", "receive", "total"]
def medians(path, kind):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    bad = [r for r in rows if not r.get("ok")]
    if bad: sys.exit(f"profile-fidelity: {path}: {len(bad)} failed probes, e.g. {bad[0].get('error')}")
    return {p: statistics.median(r["phases_ms"].get(p, 0) for r in rows) for p in phases[kind]}
out = sys.stderr
print(f"{'cell':<20}{'phase':<9}{'reference':>11}{'emulated':>11}{'diff':>10}{'ratio':>8}  verdict", file=out)
worst_total, worst_phase = {}, {}
for line in open(f"{w}/cells"):
    profile, size, kind = line.split()
    stem = f"{profile}-{size}" + ("-proxy" if kind == "proxy" else "")
    ref = medians(f"{w}/ref-{stem}.jsonl", kind)
    emu = medians(f"{w}/emu-{stem}.jsonl", kind)
    cell = f"{profile} {int(size)//1000}KB" + (" proxy" if kind == "proxy" else "")
    for p in phases[kind]:
        r, e = ref[p], emu[p]
        ratio = e / r if r > 0 else float("nan")
        if p == "total":
            worst_total[kind] = max(worst_total.get(kind, 1.0), ratio, 1 / ratio)
            ok = max(ratio, 1 / ratio) <= 1.03
        else:
            err = abs(e - r) / max(0.05 * r, 10.0)
            worst_phase[kind] = max(worst_phase.get(kind, 0.0), err)
            ok = err <= 1
        print(f"{cell:<20}{p:<9}{r:>11.1f}{e:>11.1f}{e - r:>+10.1f}{ratio:>8.3f}  {'ok' if ok else 'MISS'}", file=out)
for kind, infix in (("direct", ""), ("proxy", "proxy_")):
    if kind in worst_total:
        print(f"fidelity_{infix}total_worst_ratio  {worst_total[kind]:.3f}  <=1.03")
        print(f"fidelity_{infix}phase_worst  {worst_phase[kind]:.2f}  <=1.0")
EOF
