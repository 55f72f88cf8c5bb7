# Sourced by the daemon benchmarks, with ROOT and AGENT set: a work directory (removed on exit),
# the TLS lab, an agent key and a receiver that verifies batches as the aggregator does.
# Leaves WORK, port NAME (a lab host's port), receiver_url and config URL INTERVAL.
mkdir -p "$ROOT/.build-bench"
FLOOR=$ROOT/.build-bench/curl_floor
cc -O2 -o "$FLOOR" "$ROOT/bench/curl_floor.c" -lcurl
WORK=$(mktemp -d)
chmod 755 "$WORK"
cleanup() {
  pkill -f "$WORK/agent.yaml" 2>/dev/null || true
  [ -f "$WORK/receiver.pid" ] && kill "$(cat "$WORK/receiver.pid")" 2>/dev/null || true
  "$ROOT/scripts/tls-lab" stop "$WORK/lab" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"$ROOT/scripts/tls-lab" start "$WORK/lab" >/dev/null
port() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"][sys.argv[2]])' "$WORK/lab/lab.json" "$1"; }
public=$("$AGENT" keygen --out "$WORK/agent.key" --id bench | grep -o 'ed25519:[^"]*')
python3 "$ROOT/Tests/Support/test-receiver.py" --port-file "$WORK/receiver.port" --out "$WORK/received.jsonl" \
  --agent bench --public-key "$public" >/dev/null 2>&1 & echo $! >"$WORK/receiver.pid"
for _ in $(seq 100); do [ -f "$WORK/receiver.port" ] && break; sleep 0.1; done
receiver_url="http://127.0.0.1:$(cat "$WORK/receiver.port")"

config() { # url interval → agent.yaml with 50 checks of the URL (trusting the lab's CA for https)
  local tls=""
  case $1 in https:*) tls=", tls: {ca_file: $WORK/lab/bundle.pem}" ;; esac
  { echo "agent: {id: bench, region: sao_paulo}"
    echo "aggregator: {url: \"$receiver_url\", key: agent.key}"
    echo "spool: spool"
    echo "profiles: [none]"
    echo "checks:"
    for i in $(seq 50); do
      echo "  - {name: c$i, class: authentication, interval: $2, timeout: 1s, http: {url: \"$1\"}$tls}"
    done; } >"$WORK/agent.yaml"
}
