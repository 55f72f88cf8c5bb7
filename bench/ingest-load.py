#!/usr/bin/env python3
"""Load for bench/ingest.sh: N senders POST signed batches of B distinct results to /v1/results
over keep-alive loopback connections and count results acknowledged with 200. With --ports the
senders are spread over several aggregators (replicas on one PostgreSQL database).

Batches are built and signed before the clock starts, so the figure is the aggregator's rate.
Also writes the same result objects, one per line, for the bare-GRDB baseline. With --lazy (for
tests) each sender builds and signs a batch just before sending it, so the load starts at once
however many batches there are; the rate then includes that work.
"""
import argparse, base64, http.client, json, sys, threading, time, uuid
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

p = argparse.ArgumentParser()
where = p.add_mutually_exclusive_group(required=True)
where.add_argument("--port", type=int)
where.add_argument("--ports", help="several aggregators sharing one database, PORT,PORT,…: sender k posts to the k-th (round robin)")
p.add_argument("--key", required=True, action="append",
               help="agent key file (base64 of 32 bytes); given n times, sender k is agent AGENT-(k mod n) with the k-th key")
p.add_argument("--agent", default="bench")
p.add_argument("--senders", type=int, default=8)
p.add_argument("--batch", type=int, default=500)
p.add_argument("--batches", type=int, default=160)
p.add_argument("--rows-out", help="write the result objects, one per line (not with --lazy)")
p.add_argument("--acked-out", help="append the ids of every acknowledged batch, as acknowledged")
p.add_argument("--until-down", action="store_true", help="stop quietly when the aggregator goes away")
p.add_argument("--lazy", action="store_true", help="build and sign each batch as it is sent, not up front")
p.add_argument("--rate", type=float, help="with --lazy: results a second over all senders, at most (the soak's steady load)")
p.add_argument("--seconds", type=float, help="with --lazy: stop sending after this long, however many batches are left")
p.add_argument("--fresh", action="store_true",
               help="with --lazy: results start now, as an agent's would (not spread over the last hour), so retention sees them age")
p.add_argument("--retry", action="store_true",
               help="as an agent would: send a batch again (to the next port) after a connection error or a 5xx, until a 200")
a = p.parse_args()
ports = [int(port) for port in a.ports.split(",")] if a.ports else [a.port]
if a.lazy == bool(a.rows_out):
    p.error("give --rows-out, or --lazy without it")
if (a.rate or a.seconds or a.fresh) and not a.lazy:
    p.error("--rate, --seconds and --fresh need --lazy")
keys = [Ed25519PrivateKey.from_private_bytes(base64.b64decode(open(path).read().strip())) for path in a.key]
def agent_of(b):
    """Batch b goes out from sender b mod senders, which is one agent (as a real agent sends its batches one at a time)."""
    k = b % a.senders % len(keys)
    return (a.agent if len(keys) == 1 else f"{a.agent}-{k}"), keys[k]
def uuid7(at):
    """Time-ordered ids like the agents' UUIDv7 (48-bit Unix milliseconds, then random bits)."""
    n = (int(at * 1000) << 80) | (0x7 << 76) | (uuid.uuid4().int & ((1 << 76) - 1))
    n = (n & ~(0xC << 60)) | (0x8 << 60)
    return str(uuid.UUID(int=n))

classes = ["authentication", "patient_data", "appointment_booking", "reporting"]
profiles = ["desktop_brazil", "mobile_4g_brazil", "mobile_3g_brazil"]
now = time.time()

def build(b):
    """Batch number b: its signed body, its signature header and (not with --lazy) its results as rows."""
    results = []
    agent, key = agent_of(b)
    for i in range(a.batch):
        n = b * a.batch + i
        total = 20 + (n * 7919 % 300)
        # An agent's batch holds its last minute or so of results; batches go back up to an hour.
        started = time.time() - i * 0.001 if a.fresh else now - (b * 7 % 3600) - i * 0.1
        results.append({
            "id": uuid7(started), "check": f"check-{n % 20}", "step": None, "agent": agent,
            "region": "sao_paulo", "profile": profiles[n % 3], "class": classes[n % 4],
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)) + ".%03dZ" % (int(started * 1000) % 1000),
            "ok": n % 50 != 0, "error": None if n % 50 else {"code": "timeout", "message": "timed out"},
            "phases_ms": {"dns": 0.5, "connect": 1.1, "tls": 4.2, "send": 0.1, "wait": total - 6.4, "receive": 0.5, "total": total},
            "http": {"status": 200, "version": "1.1", "redirects": 0, "redirect_ms": 0, "body_bytes": 512, "remote_ip": "10.0.0.1"},
            "tls": None, "assertions": [{"name": "status", "ok": True}], "budget": None})
    rows = [] if a.lazy else [json.dumps(r, separators=(",", ":"), sort_keys=True) for r in results]
    batch = {"agent": agent, "batch_id": str(uuid.uuid4()), "sent_at": results[0]["started_at"], "results": results,
             "heartbeat": {"version": "bench", "config_hash": "x", "spool_depth": 0, "dropped": 0}}
    body = json.dumps(batch, separators=(",", ":"), sort_keys=True).encode()  # keys sorted, as agents write them
    t = str(int(time.time()))
    sig = base64.b64encode(key.sign(t.encode() + b"." + body)).decode()
    return body, f"keyid={agent},t={t},sig={sig}", rows

if not a.lazy:
    built = [build(b) for b in range(a.batches)]
    bodies = [(body, header) for body, header, _ in built]
    with open(a.rows_out, "w") as f:
        f.write("\n".join(row for _, _, rows in built for row in rows) + "\n")
    del built

acknowledged = [0] * a.senders
failures = []
acked_file = open(a.acked_out, "a") if a.acked_out else None
lock = threading.Lock()

retries = [0] * a.senders

def post(k, conn, body, header):
    """Sends one batch; with --retry, again and again (moving to the next port) until it is answered below 500."""
    port = k
    while True:
        try:
            conn.request("POST", "/v1/results", body, {"Content-Type": "application/json", "Sonda-Signature": header})
            r = conn.getresponse()
            answer = r.read()
            if not (a.retry and r.status >= 500):
                return conn, r, answer
        except (ConnectionError, http.client.HTTPException, OSError):
            if not a.retry:
                raise
        retries[k] += 1
        conn.close()
        time.sleep(0.2)
        port += 1
        conn = http.client.HTTPConnection("127.0.0.1", ports[port % len(ports)])

def paced(k, batches):
    """Sender k's batches, each no sooner than its turn at --rate, and none after --seconds."""
    for n, batch in enumerate(batches):
        due = start + n * a.senders * a.batch / a.rate if a.rate else 0
        if a.seconds and max(due, time.monotonic()) - start >= a.seconds:
            return
        time.sleep(max(0, due - time.monotonic()))
        yield batch

def sender(k):
    conn = http.client.HTTPConnection("127.0.0.1", ports[k % len(ports)])
    batches = (build(b)[:2] for b in range(k, a.batches, a.senders)) if a.lazy else bodies[k::a.senders]
    for body, header in paced(k, batches):
        try:
            conn, r, answer = post(k, conn, body, header)
        except (ConnectionError, http.client.HTTPException, OSError):
            if a.until_down:
                return
            raise
        if r.status == 200:
            acknowledged[k] += json.loads(answer)["accepted"]
            if acked_file:
                with lock:
                    ids = [m["id"] for m in json.loads(body)["results"]]
                    acked_file.write("\n".join(ids) + "\n")
                    acked_file.flush()
        else:
            failures.append((r.status, answer[:200]))

start = time.monotonic()
threads = [threading.Thread(target=sender, args=(k,)) for k in range(a.senders)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.monotonic() - start
if failures:
    raise SystemExit(f"{len(failures)} batches refused, first: {failures[0]}")
print(f"{sum(acknowledged)} {elapsed:.3f} {sum(acknowledged) / elapsed:.0f}")
if a.retry:
    print(f"# {sum(retries)} batches sent again", file=sys.stderr)
