#!/usr/bin/env python3
"""An HTTP/1.1 proxy in front of the aggregator that can stop answering, for Sonda's fault scenarios.

Modes, read from --control (a file holding one word) for each new request:
  pass     forward the request and its answer (the default, and when the file is missing)
  silent   accept the connection, read the request, never answer (until the client gives up)
  hold:N   forward the request at once (the aggregator commits it) but hold the answer N seconds
Each connection carries one request and is closed after its answer. Counts each request's mode on
stdout. Standard library only.
"""
import argparse
import socket
import socketserver
import sys
import threading
import time


def read_message(stream):
    """One HTTP message (request or response) with a Content-Length body, as bytes; b"" at EOF."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline()
        if not line:
            return b""
        head += line
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return head + stream.read(length)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listen", required=True, metavar="HOST:PORT")
    parser.add_argument("--upstream", required=True, metavar="HOST:PORT")
    parser.add_argument("--control", required=True)
    args = parser.parse_args()
    upstream = args.upstream.rsplit(":", 1)
    lock = threading.Lock()

    def mode():
        try:
            return open(args.control).read().strip() or "pass"
        except FileNotFoundError:
            return "pass"

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            request = read_message(self.rfile)
            if not request:
                return
            current = mode()
            with lock:
                print(current, flush=True)
            if current == "silent":
                while self.connection.recv(4096):  # until the client hangs up
                    pass
                return
            request = request.replace(b"Connection: keep-alive", b"Connection: close")
            with socket.create_connection((upstream[0], int(upstream[1]))) as server:
                server.sendall(request)
                answer = read_message(server.makefile("rb"))
            if current.startswith("hold:"):
                time.sleep(float(current[5:]))
            try:
                self.wfile.write(answer)
            except OSError:
                pass  # the client gave up waiting

    host, port = args.listen.rsplit(":", 1)
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer((host, int(port)), Handler) as server:
        print("ready", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
