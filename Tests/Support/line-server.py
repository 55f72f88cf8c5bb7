#!/usr/bin/env python3
"""Line-protocol servers for the tcp:// cases, one port per behaviour, on 127.0.0.1.

    line-server.py PORTS_FILE [CERT KEY]

Writes {"banner": port, ...} to PORTS_FILE once every port listens. With CERT and KEY, the
"tls-banner" and "tls-mllp" ports speak the same behind TLS.

    banner   "220 sonda ready\r\n" on connect (an SMTP greeting); a line answers "250 ok\r\n"
    echo     sends back what it receives
    mllp     reads one MLLP block (\x0b ... \x1c\r) and answers an HL7 ACK block
    wrong    "500 go away\r\n" on connect, then holds the connection open
    silent   accepts and never sends
    closing  accepts and closes at once
"""
import json
import os
import socket
import ssl
import sys
import threading

ACK = b"\x0bMSH|^~\\&|SONDA|TEST|||20261205120000||ACK^A01|1|P|2.5\rMSA|AA|1\r\x1c\r"


def banner(conn):
    conn.sendall(b"220 sonda ready\r\n")
    buffered = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return
        buffered += data
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            if line.strip().upper() == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            conn.sendall(b"250 ok\r\n")


def echo(conn):
    while True:
        data = conn.recv(4096)
        if not data:
            return
        conn.sendall(data)


def mllp(conn):
    buffered = b""
    while b"\x1c\r" not in buffered:
        data = conn.recv(4096)
        if not data:
            return
        buffered += data
    conn.sendall(ACK)
    while conn.recv(4096):
        pass


def wrong(conn):
    conn.sendall(b"500 go away\r\n")
    while conn.recv(4096):
        pass


def silent(conn):
    while conn.recv(4096):
        pass


def closing(conn):
    pass


def serve(listener, behaviour, context):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn, behaviour, context), daemon=True).start()


def handle(conn, behaviour, context):
    try:
        if context is not None:
            conn = context.wrap_socket(conn, server_side=True)
        behaviour(conn)
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    ports_file = sys.argv[1]
    behaviours = {"banner": banner, "echo": echo, "mllp": mllp, "wrong": wrong, "silent": silent, "closing": closing}
    servers = [(name, behaviour, None) for name, behaviour in behaviours.items()]
    if len(sys.argv) > 3:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        servers += [("tls-banner", banner, context), ("tls-mllp", mllp, context)]
    ports = {}
    for name, behaviour, context in servers:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        ports[name] = listener.getsockname()[1]
        threading.Thread(target=serve, args=(listener, behaviour, context), daemon=True).start()
    with open(ports_file + ".tmp", "w") as f:
        json.dump(ports, f)
    os.rename(ports_file + ".tmp", ports_file)
    threading.Event().wait()


main()
