#!/usr/bin/env python3
"""A stand-in for the aggregator's ingest, for agent tests until the aggregator exists.

Verifies `Sonda-Signature` exactly as docs/contract.md specifies (Ed25519 over "<t>." + body, the
agent's public key, a 300 s window), appends every accepted batch as one JSON line to --out (the
body byte for byte, as the agent sent it, when it is one line, as agents' bodies are),
and answers like the aggregator: 200 after the write, 401 bad signature, 409 stale, 400 bad JSON.
--down-for S answers 503 for S seconds from the first request on (an outage the agent always
meets, however long it takes to start); --down-while-exists FILE answers 503 while FILE exists
(an outage the test ends when it chooses). --refuse-check NAME answers 400 to a batch holding a
result of check NAME, as the aggregator does to a malformed one. Listens on 127.0.0.1 only.
"""
import argparse, base64, json, os, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature

parser = argparse.ArgumentParser()
parser.add_argument("--port-file", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--agent", required=True)
parser.add_argument("--public-key", required=True, help="ed25519:BASE64")
parser.add_argument("--down-for", type=float, default=0)
parser.add_argument("--down-while-exists")
parser.add_argument("--refuse-check")
args = parser.parse_args()
key = Ed25519PublicKey.from_public_bytes(base64.b64decode(args.public_key.removeprefix("ed25519:")))
first_request = None  # when the first request came (one request at a time: HTTPServer)


class Ingest(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, status, code="ok", message="ok"):
        body = json.dumps({"error": {"code": code, "message": message}} if status != 200 else {"ok": True}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global first_request
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        first_request = first_request or time.monotonic()
        if time.monotonic() - first_request < args.down_for:
            return self.answer(503, "unavailable", "down for maintenance")
        if args.down_while_exists and os.path.exists(args.down_while_exists):
            return self.answer(503, "unavailable", "down for maintenance")
        if self.path != "/v1/results":
            return self.answer(404, "not_found", self.path)
        fields = dict(p.split("=", 1) for p in self.headers.get("Sonda-Signature", "").split(",") if "=" in p)
        try:
            if fields.get("keyid") != args.agent:
                raise InvalidSignature()
            key.verify(base64.b64decode(fields["sig"]), fields["t"].encode() + b"." + body)
        except (InvalidSignature, KeyError, ValueError):
            return self.answer(401, "bad_signature", "signature does not verify")
        if abs(time.time() - int(fields["t"])) > 300:
            return self.answer(409, "replay", "timestamp outside the window")
        try:
            batch = json.loads(body)
        except ValueError:
            return self.answer(400, "malformed", "body is not JSON")
        for index, result in enumerate(batch.get("results", [])):
            if args.refuse_check and result.get("check") == args.refuse_check:
                return self.answer(400, "malformed", f"$.results[{index}] is refused by the test")
        line = body.decode() if b"\n" not in body else json.dumps(batch)
        with open(args.out, "a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.answer(200)


server = HTTPServer(("127.0.0.1", 0), Ingest)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
server.serve_forever()
