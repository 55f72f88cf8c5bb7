#!/usr/bin/env python3
"""A receiver of alert notifications for end-to-end tests: answers every POST with 200 and
appends it to --out as one JSON line {"path", "body"} (the path without its query string; the
credentials a sender puts in the URL or headers are the receiver's to get, so they are not kept).
Writes the port it bound on 127.0.0.1 to --port-file."""
import argparse, json, os
from http.server import BaseHTTPRequestHandler, HTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port-file", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()


class Receiver(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(args.out, "a") as f:
            f.write(json.dumps({"path": self.path.split("?")[0], "body": body.decode("utf-8", "replace")}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


server = HTTPServer(("127.0.0.1", 0), Receiver)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
server.serve_forever()
