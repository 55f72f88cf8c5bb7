# Sourced by the probe-cost benchmarks, with LAB set (a directory removed on exit): Debian's
# tinyproxy on loopback, forwarding anything, as the proxy tests run it. Leaves PROXY (its URL) and
# PROXY_PID, which the caller's EXIT trap kills.
command -v tinyproxy >/dev/null || { echo "$(basename "$0"): tinyproxy is missing (apt-get install tinyproxy)" >&2; exit 1; }
PROXY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'Port %s\nListen 127.0.0.1\nTimeout 60\nMaxClients 64\nLogLevel Warning\nLogFile "%s"\n' \
  "$PROXY_PORT" "$LAB/tinyproxy.log" >"$LAB/tinyproxy.conf"
tinyproxy -d -c "$LAB/tinyproxy.conf" 2>/dev/null & PROXY_PID=$!
PROXY=http://127.0.0.1:$PROXY_PORT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null && break; sleep 0.1; done
