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
# Prints the table on stderr and, on stdout, rows for bench/run:
#   fidelity_total_worst_ratio  R  <=1.03   (max over cells of emulated/reference or its inverse)
#   fidelity_phase_worst        E  <=1.0    (max |emu−ref| / max(5 % of ref, 10 ms) over phases)
# Needs the reference shaper (REFERENCE_SHAPER, by default ../shared/reference-shaper beside the
# clone; it is not part of this repository), root and /dev/net/tun (the reference's own
# requirements); without any of them it says it skipped the fidelity cells, prints a note row for
# bench/run instead of its rows, and exits 0.
# Env: SONDA_AGENT (default .build/release/sonda-agent), RUNS (5 probes per cell, median),
#      PROFILES ("3G 4G Cable"), SIZES ("10000 100000 500000").
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=$(realpath -m "${REFERENCE_SHAPER:-$ROOT/../shared/reference-shaper}")
AGENT=$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")
RUNS=${RUNS:-5}
PROFILES=${PROFILES:-"3G 4G Cable"}
SIZES=${SIZES:-"10000 100000 500000"}
PREFIX=sfid

[ -x "$AGENT" ] || { echo "profile-fidelity: agent binary $AGENT not found (swift build -c release --product sonda-agent)" >&2; exit 1; }
skip() { # REASON
  echo "profile-fidelity: skipped: $1" >&2
  echo "# fidelity_total_worst_ratio and fidelity_phase_worst skipped: $1"
  exit 0
}
[ -x "$REF/up" ] || skip "no reference shaper at $REF (set REFERENCE_SHAPER)"
[ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] || skip "needs root and /dev/net/tun"


W=$(mktemp -d /tmp/sonda-fidelity.XXXXXX)
EMU_PID=
REF_UP=
cleanup() {
  [ -n "$EMU_PID" ] && nginx -c "$W/emu.conf" -e "$W/emu-error.log" -s quit 2>/dev/null || true
  if [ -n "$REF_UP" ]; then
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
  -addext subjectAltName=DNS:probe.test,DNS:localhost -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
for size in $SIZES; do head -c "$size" /dev/urandom >"$W/www/f$size"; chmod 644 "$W/www/f$size"; done

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
  done
  ip netns exec $PREFIX-srv nginx -c "$W/ref.conf" -e "$W/ref-error.log" -s quit
  sleep 0.3
  "$REF/down" --prefix $PREFIX --workdir "$W/link" >/dev/null
  REF_UP=
done

python3 - "$W" "$PROFILES" "$SIZES" <<'EOF'
import json, statistics, sys
w, profiles, sizes = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
phases = ["dns", "connect", "tls", "send", "wait", "receive", "total"]
def medians(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    bad = [r for r in rows if not r.get("ok")]
    if bad: sys.exit(f"profile-fidelity: {path}: {len(bad)} failed probes, e.g. {bad[0].get('error')}")
    return {p: statistics.median(r["phases_ms"].get(p, 0) for r in rows) for p in phases}
out = sys.stderr
print(f"{'cell':<14}{'phase':<9}{'reference':>11}{'emulated':>11}{'diff':>10}{'ratio':>8}  verdict", file=out)
worst_total, worst_phase = 1.0, 0.0
for profile in profiles:
    for size in sizes:
        ref = medians(f"{w}/ref-{profile}-{size}.jsonl")
        emu = medians(f"{w}/emu-{profile}-{size}.jsonl")
        cell = f"{profile} {int(size)//1000}KB"
        for p in phases:
            r, e = ref[p], emu[p]
            ratio = e / r if r > 0 else float("nan")
            if p == "total":
                worst_total = max(worst_total, ratio, 1 / ratio)
                ok = max(ratio, 1 / ratio) <= 1.03
            else:
                err = abs(e - r) / max(0.05 * r, 10.0)
                worst_phase = max(worst_phase, err)
                ok = err <= 1
            print(f"{cell:<14}{p:<9}{r:>11.1f}{e:>11.1f}{e - r:>+10.1f}{ratio:>8.3f}  {'ok' if ok else 'MISS'}", file=out)
print(f"fidelity_total_worst_ratio  {worst_total:.3f}  <=1.03")
print(f"fidelity_phase_worst  {worst_phase:.2f}  <=1.0")
EOF
