#!/usr/bin/env python3
"""A lossy, slow packet link between two network namespaces, for Sonda's fault scenarios.

Each namespace holds a TUN device (`ip tuntap add DEV mode tun`); every IP packet one side's
kernel routes into its device is read here and written into the other side's device, after
`delay_ms`, unless it is lost (each packet independently, with probability `loss`). Both ends run
real kernel TCP, so they see what a bad mobile link does to them: retransmissions, timeouts,
back-off. There is no netem qdisc on this kernel; this is the user-space stand-in.

The impairment is read from --control, a JSON file {"loss": 0.3, "delay_ms": 2000}, when the file
changes, so a scenario can heal the link without restarting it. One thread, one `select`: packets
wait in a heap keyed by the time they are due. Prints "ready" once both devices are attached and a
line of counts on SIGTERM. Standard library only; needs root (setns, TUN).
"""
import argparse
import ctypes
import fcntl
import heapq
import json
import os
import random
import select
import signal
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def attach(namespace: str, device: str) -> int:
    """An fd on TUN `device` of `namespace`; the fd stays bound to it whatever namespace we move to."""
    handle = os.open(f"/var/run/netns/{namespace}", os.O_RDONLY)
    try:
        if libc.setns(handle, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {namespace}")
    finally:
        os.close(handle)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", device.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Impairment:
    def __init__(self, path: str):
        self.path, self.stamp, self.loss, self.delay = path, None, 0.0, 0.0

    def refresh(self):
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return
        if stamp == self.stamp:
            return
        try:
            settings = json.load(open(self.path))
        except ValueError:
            return  # caught mid-write; the next look sees the whole file
        self.stamp = stamp
        self.loss = float(settings.get("loss", 0))
        self.delay = float(settings.get("delay_ms", 0)) / 1000
        print(f"impairment: loss {self.loss:.0%}, delay {self.delay * 1000:.0f} ms", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--a", required=True, metavar="NETNS:DEV")
    parser.add_argument("--b", required=True, metavar="NETNS:DEV")
    parser.add_argument("--control", required=True)
    args = parser.parse_args()
    a = attach(*args.a.split(":"))
    b = attach(*args.b.split(":"))
    other = {a: b, b: a}
    impairment = Impairment(args.control)
    impairment.refresh()
    counts = {"forwarded": 0, "lost": 0}
    signal.signal(signal.SIGTERM, lambda *_: (print(f"stopped: {counts}", flush=True), sys.exit(0)))
    due = []  # (time due, sequence, fd to write to, packet)
    sequence = 0
    print("ready", flush=True)
    last_look = 0.0
    while True:
        now = time.monotonic()
        if now - last_look > 0.2:
            impairment.refresh()
            last_look = now
        while due and due[0][0] <= now:
            _, _, target, packet = heapq.heappop(due)
            try:
                os.write(target, packet)
                counts["forwarded"] += 1
            except OSError:
                counts["lost"] += 1  # the device is down or its queue full: a loss like any other
        timeout = min(0.2, max(0.0, due[0][0] - now)) if due else 0.2
        readable, _, _ = select.select([a, b], [], [], timeout)
        for fd in readable:
            while True:
                try:
                    packet = os.read(fd, 65535)
                except BlockingIOError:
                    break
                if random.random() < impairment.loss:
                    counts["lost"] += 1
                    continue
                sequence += 1
                heapq.heappush(due, (time.monotonic() + impairment.delay, sequence, other[fd], packet))


if __name__ == "__main__":
    main()
