#!/usr/bin/env python3
"""Failover on PostgreSQL, for bench/pg-failover.sh.

Two `sonda-aggregator serve` replicas share one database and evaluate alerts every second; one
holds the lease. Four signed agents report through them (each to its own replica, to the other
while that one is down) in a scenario that makes alerts fire and resolve over and over: a check
down from every agent, a check failing from one agent, an agent that falls silent. Every
--kill-every seconds the evaluating replica gets SIGKILL and is started again as the standby.

Per kill it measures the time until the other replica logs "evaluates now, lease epoch N", and
until that replica commits its first evaluation round (each round rewrites the alert cursor's row,
so the row's xmin changes), against the time the lease still had to run when it was killed: no
replica may take over before that. A local webhook receiver records every notification; a
duplicate is the same alert episode (fingerprint, startsAt) with the same status received twice.
Renotify intervals are a day, so no reminder is due during a run. A notification the database says
was announced but the receiver never got (its replica was killed between saving the round and
delivering it) is counted as lost.

Prints rows for bench/run and comment lines; writes the receiver's log to WORK/notifications.jsonl.
"""
import argparse, base64, http.client, http.server, json, os, signal, subprocess, sys, threading, time, uuid
from collections import Counter
from datetime import datetime, timezone
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

p = argparse.ArgumentParser()
p.add_argument("--aggregator", required=True)
p.add_argument("--url", required=True, help="postgres://… of an empty database")
p.add_argument("--work", required=True, help="a folder for configurations, logs and pid files")
p.add_argument("--duration", type=float, default=600, help="seconds of scenario")
p.add_argument("--kill-every", type=float, default=120, help="seconds between kills of the evaluating replica")
a = p.parse_args()
if a.kill_every < 20 or a.duration < a.kill_every + 15:
    p.error("--kill-every is at least 20 s (the lease runs 10 s), and --duration at least 15 s longer")


def log(message):
    print(f"# {message}", flush=True)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def psql(sql):
    """One query's rows, fields split on |."""
    out = subprocess.run(["psql", a.url, "-XAtqF", "|", "-c", sql], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"psql: {out.stderr.strip()}")
    return [line.split("|") for line in out.stdout.splitlines() if line]


def milliseconds(timestamp):
    """RFC 3339 with milliseconds, as the aggregator writes it, to Unix milliseconds."""
    parsed = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return round(parsed.timestamp() * 1000)


# --- the webhook receiver ---------------------------------------------------------------------

notifications = []  # (received at, fingerprint, status, startsAt ms, alertname)
received_lock = threading.Lock()
notifications_file = open(os.path.join(a.work, "notifications.jsonl"), "w")


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        at = time.time()
        with received_lock:
            for alert in json.loads(body)["alerts"]:
                notifications.append(
                    (at, alert["fingerprint"], alert["status"], milliseconds(alert["startsAt"]),
                     alert["labels"].get("alertname", "")))
                notifications_file.write(json.dumps({"received": at, **alert}) + "\n")
            notifications_file.flush()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()

# --- agents and the scenario ------------------------------------------------------------------

agents = []
for i in range(4):
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    agents.append({"id": f"agent-{i}", "region": f"region_{i % 2}", "key": key,
                   "public": "ed25519:" + base64.b64encode(public).decode()})
start = time.time()


def failing(agent, check, t):
    """The scenario: `flappy` is down from every agent 20 s in every 70; `steady` fails from
    agent-2 alone 10 s in every 40."""
    if check == "flappy":
        return 25 <= t % 70 < 45
    return agent == "agent-2" and 10 <= t % 40 < 20


def silent(agent, t):
    """agent-3 sends nothing 20 s in every 50."""
    return agent == "agent-3" and 30 <= t % 50 < 50


def uuid7(at):
    n = (int(at * 1000) << 80) | (0x7 << 76) | (uuid.uuid4().int & ((1 << 76) - 1))
    n = (n & ~(0xC << 60)) | (0x8 << 60)
    return str(uuid.UUID(int=n))


def batch(agent, now):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
    results = []
    for check, endpoint_class in (("steady", "authentication"), ("flappy", "patient_data")):
        bad = failing(agent["id"], check, now - start)
        results.append({
            "id": uuid7(now), "check": check, "step": None, "agent": agent["id"], "region": agent["region"],
            "profile": "desktop_brazil", "class": endpoint_class, "started_at": stamp, "ok": not bad,
            "error": {"code": "timeout", "message": "timed out"} if bad else None,
            "phases_ms": {"dns": 0.5, "connect": 1.1, "tls": 4.2, "send": 0.1, "wait": 40, "receive": 0.5, "total": 46.4},
            "http": None if bad else {"status": 200, "version": "1.1", "redirects": 0, "redirect_ms": 0,
                                      "body_bytes": 512, "remote_ip": "127.0.0.1"},
            "tls": None, "assertions": [], "budget": None})
    body = json.dumps({"agent": agent["id"], "batch_id": str(uuid.uuid4()), "sent_at": stamp, "results": results,
                       "heartbeat": {"version": "bench", "config_hash": "x", "spool_depth": 0, "dropped": 0}},
                      separators=(",", ":"), sort_keys=True).encode()
    t = str(int(time.time()))
    signature = base64.b64encode(agent["key"].sign(t.encode() + b"." + body)).decode()
    return body, f"keyid={agent['id']},t={t},sig={signature}"


stopping = threading.Event()
sent = Counter()


def post(port, body, header):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/v1/results", body, {"Content-Type": "application/json", "Sonda-Signature": header})
        return conn.getresponse().status
    except (ConnectionError, http.client.HTTPException, OSError):
        return None
    finally:
        conn.close()


def drive(index, agent):
    """One agent: a batch a second, to its own replica or, while that one is down, the other, until
    one answers 200 (a batch both stored is stored once: results are idempotent by id)."""
    while not stopping.wait(1.0 - (time.time() - start) % 1.0):
        now = time.time()
        if silent(agent["id"], now - start):
            continue
        body, header = batch(agent, now)
        for attempt in range(50):
            if post(ports[(index + attempt) % 2], body, header) == 200:
                sent[agent["id"]] += 1
                break
            if stopping.wait(0.2):
                return


# --- the replicas -----------------------------------------------------------------------------

ports = [free_port(), free_port()]
configs = []
for r, port in enumerate(ports):
    path = os.path.join(a.work, f"replica{r}.yaml")
    agent_lines = "\n".join(
        f'  - {{id: {x["id"]}, region: {x["region"]}, public_key: "{x["public"]}"}}' for x in agents)
    with open(path, "w") as f:
        f.write(f"""listen: 127.0.0.1:{port}
database: "{a.url}"
agents:
{agent_lines}
alerting:
  evaluate_every: 1s
  down: {{quorum: 2, for: 2}}
  agent_silent: {{after: 3, heartbeat: 2s}}
  renotify: {{critical: 24h, high: 24h, medium: 24h, low: 24h}}
  receivers: [{{name: hook, webhook: {{url: "http://127.0.0.1:{receiver.server_address[1]}/"}}}}]
  routes: [{{receiver: hook}}]
""")
    configs.append(path)
check = subprocess.run([a.aggregator, "validate", configs[0]], capture_output=True, text=True)
if check.returncode != 0:
    sys.exit(f"the replicas' configuration is refused: {check.stderr}")

replicas = [None, None]
logs = ["", ""]
starts = [0, 0]


def start_replica(r):
    starts[r] += 1
    logs[r] = os.path.join(a.work, f"replica{r}-{starts[r]}.log")
    replicas[r] = subprocess.Popen([a.aggregator, "serve", "--config", configs[r]],
                                   stdout=open(logs[r], "w"), stderr=subprocess.STDOUT)
    with open(os.path.join(a.work, f"replica{r}.pid"), "w") as f:  # for the wrapper's clean-up
        f.write(str(replicas[r].pid))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", ports[r], timeout=2)
        try:
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except (ConnectionError, http.client.HTTPException, OSError):
            pass
        finally:
            conn.close()
        if replicas[r].poll() is not None:
            sys.exit(f"replica {r} exited: {open(logs[r]).read()[-2000:]}")
        time.sleep(0.1)
    sys.exit(f"replica {r} did not answer /health in 60 s")


def lease():
    """(holder's pid, epoch, seconds the lease still runs) or None."""
    rows = psql("SELECT holder, epoch, extract(epoch FROM expires_at - clock_timestamp()) FROM leases "
                "WHERE name = 'leader'")
    if not rows:
        return None
    holder, epoch, left = rows[0]
    return int(holder.rsplit("-", 2)[1]), int(epoch), float(left)


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {what}")


def watch_log(path, offset, epoch, since, found):
    """Appends to `found` the seconds from `since` until the log at `path` (read from `offset`) says
    this replica evaluates now with an epoch above `epoch`; gives up after 60 s."""
    with open(path) as f:
        f.seek(offset)
        pending = ""
        while time.monotonic() < since + 60:
            pending += f.read()
            lines = pending.split("\n")
            pending = lines.pop()
            for line in lines:
                if "evaluates now, lease epoch" in line and int(line.rsplit(" ", 1)[1]) > epoch:
                    found.append(time.monotonic() - since)
                    return
            time.sleep(0.01)


def stop_all():
    stopping.set()
    for process in replicas:
        if process and process.poll() is None:
            process.terminate()
    for r, process in enumerate(replicas):
        if process:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            os.remove(os.path.join(a.work, f"replica{r}.pid"))


signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

kills = []  # (lease left at the kill, takeover after, first round after)
try:
    start_replica(0)
    wait_for(lambda: (lease() or (0,))[0] == replicas[0].pid, 30, "replica 0 to take the lease")
    start_replica(1)
    start = time.time()
    drivers = [threading.Thread(target=drive, args=(i, agent), daemon=True) for i, agent in enumerate(agents)]
    for thread in drivers:
        thread.start()
    began = time.monotonic()
    next_kill = a.kill_every
    while next_kill <= a.duration - 15:
        time.sleep(max(0, began + next_kill - time.monotonic()))
        next_kill += a.kill_every
        pid, epoch, left = lease()
        leader = [r for r in (0, 1) if replicas[r].pid == pid]
        if not leader:
            sys.exit(f"the lease is held by pid {pid}, not by a replica of this run")
        leader, standby = leader[0], 1 - leader[0]
        queried = time.monotonic()
        with open(logs[standby]) as f:
            f.seek(0, os.SEEK_END)
            offset = f.tell()
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        taken = []
        watch = threading.Thread(target=watch_log, args=(logs[standby], offset, epoch, killed, taken), daemon=True)
        watch.start()
        replicas[leader].wait()
        floor = left - (killed - queried)
        # A commit the dying replica had already sent may still land; after half a second none can.
        time.sleep(0.5)
        cursor = psql("SELECT xmin::text FROM alert_cursor WHERE name = 'results'")
        first_round = None
        deadline = killed + 60
        while first_round is None and time.monotonic() < deadline:
            if psql("SELECT xmin::text FROM alert_cursor WHERE name = 'results'") != cursor:
                first_round = time.monotonic() - killed
            time.sleep(0.05)
        watch.join(max(0, deadline - time.monotonic()))
        takeover = taken[0] if taken else None
        if takeover is None or first_round is None:
            sys.exit(f"kill {len(kills) + 1}: no takeover within 60 s (takeover {takeover}, first round {first_round})")
        kills.append((floor, takeover, first_round))
        log(f"kill {len(kills)} at {next_kill - a.kill_every:.0f} s of replica {leader} (epoch {epoch}): the lease had "
            f"{floor:.1f} s left; replica {standby} took over after {takeover:.1f} s, committed its first round "
            f"after {first_round:.1f} s")
        start_replica(leader)
    time.sleep(max(0, began + a.duration - time.monotonic()))
    stopping.set()
    for thread in drivers:
        thread.join()
    time.sleep(3)
finally:
    stop_all()
    receiver.shutdown()

# --- what the receiver got, against what the database says was announced ----------------------

# An episode is (fingerprint, startsAt). Notifications floor startsAt to the millisecond and the
# stores round it, so an episode restored from the database after a takeover may carry a startsAt
# 1 ms later: within 1 ms is the same episode.
received = {}
for _, fingerprint, status, starts, _ in notifications:
    received.setdefault((fingerprint, status), []).append(starts)
duplicates = 0
for key, starts in received.items():
    starts.sort()
    duplicates += sum(1 for earlier, later in zip(starts, starts[1:]) if later - earlier <= 1)
    for earlier, later in zip(starts, starts[1:]):
        if later - earlier <= 1:
            log(f"duplicate: {key[0]} {key[1]} (startsAt {earlier}) received again (startsAt {later})")
expected = set()
for fingerprint, state, starts, last_sent in psql(
        "SELECT fingerprint, state, starts_at_ms, last_sent_ms FROM alerts WHERE last_sent_ms IS NOT NULL"):
    expected.add((fingerprint, "firing", int(starts)))
    if state == "resolved":
        expected.add((fingerprint, "resolved", int(starts)))


def got(fingerprint, status, starts):
    return any(abs(s - starts) <= 1 for s in received.get((fingerprint, status), []))


lost = sorted(e for e in expected if not got(*e))
unknown = sorted((f, status, s) for (f, status), starts in received.items() for s in starts
                 if not any(e[:2] == (f, status) and abs(e[2] - s) <= 1 for e in expected))
shifted = sum(1 for (f, status), starts in received.items() if status == "resolved"
              for s in starts if s - 1 in received.get((f, "firing"), []))
by_name = Counter((name, status) for _, _, status, _, name in notifications)
log(f"{sum(sent.values())} batches sent; {len(notifications)} notifications for "
    f"{len({f for _, f, _, _, _ in notifications})} alerts: "
    + ", ".join(f"{name} {status} {n}" for (name, status), n in sorted(by_name.items())))
for fingerprint, status, starts in lost:
    log(f"lost: {fingerprint} {status} (startsAt {starts})")
for fingerprint, status, starts in unknown:
    log(f"received but not in the database as announced: {fingerprint} {status} (startsAt {starts})")
if shifted:
    log(f"{shifted} resolutions carried a startsAt 1 ms after their firing's (restored from the database)")
worst = max(kills, key=lambda k: k[1])
slowest = max(kills, key=lambda k: k[2])
print("pg_failover_takeover_ms  %.0f  %.0f  %.2f  <=20000ms" % (worst[1] * 1000, worst[0] * 1000, worst[1] / worst[0]))
print("pg_failover_first_round_ms  %.0f  %.0f  %.2f  <=20000ms"
      % (slowest[2] * 1000, slowest[0] * 1000, slowest[2] / slowest[0]))
print(f"pg_failover_duplicates  {duplicates}  <=0")
print(f"pg_failover_lost  {len(lost)}")
