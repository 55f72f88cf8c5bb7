#!/usr/bin/env python3
"""Hostile and broken HTTP(S) targets on loopback, one port per mode, for Sonda's fault scenarios.

Modes (each listens on its own 127.0.0.1 port; --port-file gets {"mode": port, ...} as JSON):
  trickle          a 200 whose body comes one byte a second
  endless-headers  a status line, then header lines as fast as the client reads them, never a blank line
  huge-body        a 200 with Content-Length 10 GiB, zeros streamed at 1 MiB/s from one 64 KiB buffer
  huge-chunked     a 200 with 10 GiB of zeros in chunks (no length), as fast as the client reads
  invalid-utf8     a 200 whose reason phrase, a header and the body are not UTF-8
  garbage          random bytes instead of HTTP (after reading the request)
  redirects        /r/N answers 302 to /r/N+1 up to /r/1000, which answers 200
  tls-alert        TLS: a handshake_failure alert after the ClientHello (needs --cert/--key)
  tls-reset        TLS: the handshake completes, then the connection is reset (RST) unread
Counts each mode's connections on stdout ("MODE n"). Standard library only.
"""
import argparse
import json
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

ZEROS = bytes(64 * 1024)
HUGE = 10 * 1024**3


def read_head(conn):
    """Reads until the end of the request head (or EOF, or 64 KiB)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def trickle(conn):
    read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n")
    while True:
        conn.sendall(b"x")
        time.sleep(1)


def endless_headers(conn):
    read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    line = b"X-Filler: " + b"a" * 100 + b"\r\n"
    block = line * 600
    while True:
        conn.sendall(block)


def huge_body(conn):
    """Announces 10 GiB and streams it at 1 MiB/s: a client that reads it first learns too late."""
    read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % HUGE)
    for _ in range(HUGE // len(ZEROS)):
        conn.sendall(ZEROS)
        time.sleep(len(ZEROS) / (1024 * 1024))


def huge_chunked(conn):
    """10 GiB in chunks, no length announced, as fast as the client reads."""
    read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n" % len(ZEROS) + ZEROS + b"\r\n"
    for _ in range(HUGE // len(ZEROS)):
        conn.sendall(chunk)
    conn.sendall(b"0\r\n\r\n")


def invalid_utf8(conn):
    read_head(conn)
    body = b'{"status": "\xff\xfe\xc3\x28 ok \xed\xa0\x80"}\n\x80\x81'
    conn.sendall(
        b"HTTP/1.1 200 \xff\xfe\r\nX-Bad: \xc3\x28\xa0\xa1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


def garbage(conn):
    read_head(conn)
    conn.sendall(b"\x00\x16\x03SSH-2.0-nope\r\n" + bytes(random.getrandbits(8) for _ in range(512)))


def redirects(conn):
    head = read_head(conn)
    path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/r/0"
    try:
        hop = int(path.rsplit(b"/", 1)[1])
    except ValueError:
        hop = 0
    if hop >= 1000:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    else:
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /r/%d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                     % (hop + 1))


def tls_alert(conn, context):
    # OpenSSL sends the alert the SNI callback names, mid-handshake, right after the ClientHello.
    try:
        context.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        pass


def tls_reset(conn, context):
    try:
        tls = context.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        return
    tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    tls.close()


def serve(mode, listener, handler, counts, lock):
    while True:
        conn, _ = listener.accept()
        with lock:
            counts[mode] = counts.get(mode, 0) + 1
            print(f"{mode} {counts[mode]}", flush=True)

        def run(conn=conn):
            try:
                handler(conn)
            except (OSError, ssl.SSLError):
                pass
            finally:
                try:
                    conn.close()
                except OSError:
                    pass

        threading.Thread(target=run, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--cert", help="PEM certificate chain for the TLS modes")
    parser.add_argument("--key", help="its key")
    args = parser.parse_args()

    handlers = {
        "trickle": trickle, "endless-headers": endless_headers, "huge-body": huge_body, "huge-chunked": huge_chunked,
        "invalid-utf8": invalid_utf8, "garbage": garbage, "redirects": redirects,
    }
    if args.cert and args.key:
        alerting = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        alerting.load_cert_chain(args.cert, args.key)
        alerting.sni_callback = lambda *_: ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
        plain = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        plain.load_cert_chain(args.cert, args.key)
        handlers["tls-alert"] = lambda conn: tls_alert(conn, alerting)
        handlers["tls-reset"] = lambda conn: tls_reset(conn, plain)

    counts, lock, ports = {}, threading.Lock(), {}
    for mode, handler in handlers.items():
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        ports[mode] = listener.getsockname()[1]
        threading.Thread(target=serve, args=(mode, listener, handler, counts, lock), daemon=True).start()
    with open(args.port_file + ".tmp", "w") as f:
        json.dump(ports, f)
    os.rename(args.port_file + ".tmp", args.port_file)
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
