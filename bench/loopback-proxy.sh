# Sourced by the probe-cost benchmarks, with LAB set (a directory removed on exit): Debian's
# tinyproxy on loopback, forwarding anything, as the proxy tests run it, but with TCP_NODELAY on
# its connections (bench/tcp_nodelay.c, as profile-fidelity.sh runs it): stock, it leaves the tail
# of nginx's TLS records to Nagle, and every probe then waits about 40 ms (the client's delayed
# acknowledgement) in `wait`, idle, so each probe starts on cold caches and the cell measures
# that more than the proxy path. Leaves PROXY (its URL) and PROXY_PID, which the caller's EXIT
# trap kills.
command -v tinyproxy >/dev/null || { echo "$(basename "$0"): tinyproxy is missing (apt-get install tinyproxy)" >&2; exit 1; }
PROXY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'Port %s\nListen 127.0.0.1\nTimeout 60\nMaxClients 64\nLogLevel Warning\nLogFile "%s"\n' \
  "$PROXY_PORT" "$LAB/tinyproxy.log" >"$LAB/tinyproxy.conf"
mkdir -p "$ROOT/.build-bench"
cc -O2 -shared -fPIC -o "$ROOT/.build-bench/tcp_nodelay.so" "$ROOT/bench/tcp_nodelay.c" -ldl
LD_PRELOAD=$ROOT/.build-bench/tcp_nodelay.so tinyproxy -d -c "$LAB/tinyproxy.conf" 2>/dev/null & PROXY_PID=$!
PROXY=http://127.0.0.1:$PROXY_PORT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null && break; sleep 0.1; done
