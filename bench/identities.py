#!/usr/bin/env python3
"""Prints identities signed the way the gateway signs them for the services behind it
(X-Gateway-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.user.roles.request-id">), one per line:
user, request id and signature, tab-separated.

usage: bench/identities.py SECRET COUNT [PREFIX] [ROLES]
"""
import hashlib, hmac, sys, time, uuid

secret, count = sys.argv[1].encode(), int(sys.argv[2])
prefix = sys.argv[3] if len(sys.argv) > 3 else "load-user-"
roles = sys.argv[4] if len(sys.argv) > 4 else "customer"
now = int(time.time())
for index in range(count):
    user, request_id = f"{prefix}{index}", str(uuid.uuid4())
    mac = hmac.new(secret, f"{now}.{user}.{roles}.{request_id}".encode(), hashlib.sha256).hexdigest()
    print(f"{user}\t{request_id}\tt={now},v1={mac}")
