# Sourced by the PostgreSQL benchmarks: a throwaway cluster (scripts/test-postgres) and the
# processes started against it, all stopped on exit.
#   pg_start              sets PG_DIR and PG_URL (TEST_POSTGRES_FSYNC is passed on)
#   pg_spawn NAME CMD…    starts CMD in the background, output to $WORK/NAME.log, pid in $WORK/NAME.pid
#   pg_stop NAME          SIGTERM, then SIGKILL after 5 s
#   pg_server_cpu_ticks   CPU ticks (user + system) the server has used so far: the postmaster, its live
#                         children, and the children it has reaped (the backends of closed connections)
#   pg_agent_key FILE     writes an Ed25519 agent key (base64 of 32 bytes), prints its public key line
# The caller sets ROOT and WORK, and traps EXIT with pg_cleanup.
PG_DIR=
PG_URL=

pg_start() {
  local out
  out=$("$ROOT/scripts/test-postgres" start)
  PG_DIR=$(sed -n 1p <<<"$out")
  PG_URL=$(sed -n 2p <<<"$out")
}

pg_spawn() {
  local name=$1
  shift
  "$@" >"$WORK/$name.log" 2>&1 &
  echo $! >"$WORK/$name.pid"
}

pg_stop() {
  local pidfile="$WORK/$1.pid" pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  rm -f "$pidfile"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

pg_cleanup() {
  local pidfile
  for pidfile in "$WORK"/*.pid; do [ -f "$pidfile" ] && pg_stop "$(basename "$pidfile" .pid)"; done
  [ -n "$PG_DIR" ] && "$ROOT/scripts/test-postgres" stop "$PG_DIR"
  rm -rf "$WORK"
}

pg_server_cpu_ticks() {
  local master child total
  master=$(head -1 "$PG_DIR/data/postmaster.pid")
  total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$master/stat")
  for child in $(pgrep -P "$master"); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

pg_agent_key() {
  python3 - "$1" <<'PY'
import base64, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization as s
k = Ed25519PrivateKey.generate()
open(sys.argv[1], "w").write(base64.b64encode(k.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())).decode())
print("ed25519:" + base64.b64encode(k.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)).decode())
PY
}
