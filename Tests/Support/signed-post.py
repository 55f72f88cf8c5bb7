#!/usr/bin/env python3
"""POSTs a file to a URL as an agent does, signed with the agent's key, and prints the answer:
its status on the first line, its body after.

    signed-post.py --key agent.key --agent ID URL BODYFILE   signed: Sonda-Signature as docs/contract.md says
    signed-post.py URL BODYFILE                              unsigned
"""
import argparse, base64, sys, time, urllib.error, urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--key", help="the agent's key file (base64 of the Ed25519 private key)")
parser.add_argument("--agent")
parser.add_argument("url")
parser.add_argument("body")
args = parser.parse_args()
body = open(args.body, "rb").read()
request = urllib.request.Request(args.url, data=body, method="POST", headers={"Content-Type": "application/json"})
if args.key:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(open(args.key).read().strip()))
    t = str(int(time.time()))
    sig = base64.b64encode(key.sign(t.encode() + b"." + body)).decode()
    request.add_header("Sonda-Signature", f"keyid={args.agent},t={t},sig={sig}")
try:
    with urllib.request.urlopen(request, timeout=60) as answer:
        status, text = answer.status, answer.read()
except urllib.error.HTTPError as error:
    status, text = error.code, error.read()
sys.stdout.write(f"{status}\n{text.decode()}")
