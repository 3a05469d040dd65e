#!/usr/bin/env python3
"""Mints visitor tickets the way the gateway does (v1.<id>.<HMAC-SHA256>), joins each visitor
through the gateway, and prints each ticket with the place token the join returned, one visitor
per line: "ticket<TAB>place".

usage: bench/tickets.py SECRET COUNT JOIN_URL
"""
import base64, hashlib, hmac, http.client, json, os, sys, urllib.parse

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")

secret, count, url = sys.argv[1].encode(), int(sys.argv[2]), urllib.parse.urlparse(sys.argv[3])
connection = http.client.HTTPConnection(url.hostname, url.port)
for _ in range(count):
    payload = "v1." + b64url(os.urandom(16))
    ticket = payload + "." + b64url(hmac.new(secret, payload.encode(), hashlib.sha256).digest())
    connection.request("POST", url.path, headers={"Visitor-Ticket": ticket})
    response = connection.getresponse()
    body = response.read()
    if response.status not in (200, 201):
        sys.exit(f"join failed: {response.status}")
    print(ticket + "\t" + (json.loads(body).get("place") or ""))
